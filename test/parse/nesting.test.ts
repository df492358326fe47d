/**
 * Deeply nested JSON lines (issue #13, item 1): a 40 KB line of 20,000 nested arrays overflowed the stack in
 * JSON.stringify of a parsed member and ended the agent on every restart. Nesting is bounded at MAX_JSON_DEPTH: a
 * line within it is parsed as before, a deeper one ships as its text, tagged. Property tests over depth and shape.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createDjangoParser, type DjangoMode } from '../../src/parse/django.js';
import { createDockerParser } from '../../src/parse/docker.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../src/parse/json-members.js';
import type { Line, ParsedRecord } from '../../src/parse/types.js';
import { parserContext } from '../support/parsing.js';

const NOW = Date.UTC(2026, 10, 27, 13, 0, 0);
const TIME = '2026-11-27T12:00:00.000000001Z';

/** How deep objects and arrays nest in a parsed value (the value itself is level 1 if it is one), without recursion. */
function depthOf(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    max = Math.max(max, d);
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/** Strings full of what could fool a bracket counter: brackets, quotes, backslashes. */
const trickyString = fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a', ' ', ':', ',', 'é', '\n'), maxLength: 12 });

/**
 * A JSON value nested `depth` levels, each level an array or an object (some with a string member beside the nested
 * one, before or after it), cycling through `kinds`; built as text, without recursion (depths up to 20,000).
 */
function nested(depth: number, kinds: readonly number[], strings: readonly string[], leaf: string): string {
  const open: string[] = [];
  const close: string[] = [];
  for (let i = 0; i < depth; i++) {
    const s = JSON.stringify(strings[i % strings.length] ?? '');
    switch (kinds[i % kinds.length]) {
      case 0: open.push('['); close.push(']'); break;
      case 1: open.push(`{"k${i}":`); close.push('}'); break;
      case 2: open.push(`[${s}, `); close.push(']'); break;
      case 3: open.push(`{"s": ${s}, "v":`); close.push('}'); break;
      default: open.push('['); close.push(`, ${s}]`); break;
    }
  }
  return open.join('') + JSON.stringify(leaf) + close.reverse().join('');
}

const shape = fc.record({
  kinds: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 6 }),
  strings: fc.array(trickyString, { minLength: 1, maxLength: 4 }),
  leaf: trickyString,
});

describe('nestsDeeperThan', () => {
  it('counts objects and arrays, not brackets inside strings or after escaped quotes', () => {
    assert.equal(nestsDeeperThan('{"a":1}', 1), false);
    assert.equal(nestsDeeperThan('{"a":[1]}', 1), true);
    assert.equal(nestsDeeperThan('{"a":"[[[[{{{{"}', 1), false);
    assert.equal(nestsDeeperThan('{"a\\"[":"\\\\", "b":"[\\"["}', 1), false);
    assert.equal(nestsDeeperThan('{"a":"\\\\\\"[[[", "b":[]}', 1), true);
    assert.equal(nestsDeeperThan('[[[]]]', 3), false);
    assert.equal(nestsDeeperThan('[[[[]]]]', 3), true);
    assert.equal(nestsDeeperThan('{"a":"unterminated [[[[', 1), false);
  });

  it('agrees with the depth of the parsed value, for any JSON value (fast-check)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 10 }), (value, limit) => {
        const text = JSON.stringify(value);
        assert.equal(nestsDeeperThan(text, limit), depthOf(value) > limit, text);
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with the depth of the parsed value, for nested shapes around the limit (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 * MAX_JSON_DEPTH }), shape, (depth, s) => {
        const text = nested(depth, s.kinds, s.strings, s.leaf);
        const parsed: unknown = JSON.parse(text);
        assert.equal(depthOf(parsed), depth);
        assert.equal(nestsDeeperThan(text, MAX_JSON_DEPTH), depth > MAX_JSON_DEPTH);
        assert.equal(nestsDeeperThan(text, depth), false);
        assert.equal(nestsDeeperThan(text, depth - 1), true);
      }),
      { numRuns: 500 },
    );
  });
});

/** Lines as the splitter hands them out. */
function toLines(texts: readonly string[]): Line[] {
  let offset = 0;
  return texts.map((text) => {
    const start = offset;
    offset += Buffer.byteLength(text) + 1;
    return { text, start, end: offset, truncated: false, invalidUtf8: false, partial: false };
  });
}

interface Doc {
  message: string;
  tags?: string[];
  django?: Record<string, unknown>;
  log: { level?: string; offset: number };
  stream?: string;
}

/** Feeds the lines to a fresh parser, flushes it, and checks every line is in exactly one record. */
function parseAll(kind: DjangoMode | 'docker', texts: readonly string[]): { records: ParsedRecord[]; docs: Doc[] } {
  const records: ParsedRecord[] = [];
  const ctx = parserContext('/logs/' + 'a'.repeat(64) + '-json.log', { maxRecordBytes: 1 << 20 });
  const parser = kind === 'docker' ? createDockerParser(ctx, null, (r) => records.push(r)) : createDjangoParser(ctx, (r) => records.push(r), kind);
  const lines = toLines(texts);
  for (const l of lines) parser.push(l, NOW);
  parser.flush(NOW, true);
  assert.equal(parser.heldFrom(), null);
  const covered = lines.every((l) => records.some((r) => r.start <= l.start && l.end <= r.end));
  assert.ok(covered, 'every line is in a record');
  assert.equal(new Set(records.map((r) => r.start)).size, records.length, 'no two records start alike');
  // What the sinks do with a document (parse it, walk it, write it again) works on every one.
  const docs = records.map((r) => JSON.parse(r.json) as Doc);
  for (const d of docs) JSON.stringify(d);
  return { records, docs };
}

const djangoLine = (value: string): string => `{"asctime": "2026-11-27 12:00:00,000", "levelname": "ERROR", "message": "deep", "a": ${value}}`;

describe('a deeply nested JSON line', () => {
  for (const kind of ['file', 'stream', 'docker'] as const) {
    it(`${kind}: within the limit it is parsed; deeper, it ships as its text tagged _logship_too_deep (fast-check)`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 3 * MAX_JSON_DEPTH }), shape, (depth, s) => {
          const value = nested(depth, s.kinds, s.strings, s.leaf);
          const line = djangoLine(value); // the line's own object is one level more
          const text = kind === 'docker' ? JSON.stringify({ log: line + '\n', stream: 'stderr', time: TIME }) : line;
          const { docs } = parseAll(kind, ['before', text, 'after']);
          const doc = docs.find((d) => d.log.offset === 'before'.length + 1)!;
          if (depth + 1 <= MAX_JSON_DEPTH) {
            assert.equal(doc.tags, undefined);
            assert.equal(doc.message, 'deep');
            assert.equal(doc.log.level, 'ERROR');
            assert.deepEqual(doc.django!['a'], JSON.parse(value));
          } else {
            // Its time is not read from it: Docker's time, else the last one seen, tagged.
            const tags = ['_logship_parse_error', '_logship_too_deep', ...(kind === 'docker' ? [] : ['_logship_timestamp_missing'])];
            assert.deepEqual(doc.tags, tags);
            assert.equal(doc.message, line);
          }
        }),
        { numRuns: 150 },
      );
    });
  }

  it('20,000 levels, in a Django file and in a container line cut into 16 KiB pieces: shipped as text, tagged', () => {
    const value = '['.repeat(20_000) + ']'.repeat(20_000);
    const line = `{"a":${value}}`;
    const file = parseAll('file', ['[2026-11-27 12:00:00,000] INFO before', '  continued', djangoLine(value), 'plain after']);
    assert.equal(file.docs.length, 3);
    assert.equal(file.docs[0]!.message, 'before\n  continued', 'the record held before it is finished first');
    assert.deepEqual(file.docs[1]!.tags, ['_logship_parse_error', '_logship_too_deep', '_logship_timestamp_missing']);
    assert.equal(file.docs[1]!.message, djangoLine(value));

    // Docker cuts a line longer than 16 KiB into pieces; the last one ends in "\n".
    const pieces: string[] = [];
    const whole = line + '\n';
    for (let i = 0; i < whole.length; i += 16 * 1024) pieces.push(whole.slice(i, i + 16 * 1024));
    const entries = pieces.map((log) => JSON.stringify({ log, stream: 'stdout', time: TIME }));
    const docker = parseAll('docker', [...entries, JSON.stringify({ log: 'after\n', stream: 'stdout', time: TIME })]);
    assert.equal(docker.docs.length, 2);
    assert.equal(docker.docs[0]!.message, line);
    assert.deepEqual(docker.docs[0]!.tags, ['_logship_parse_error', '_logship_too_deep']);
    assert.equal(docker.docs[0]!.stream, 'stdout');
    assert.equal(docker.docs[1]!.message, 'after');
  });
});
