/**
 * Django text layouts without `format`: detected per file and sticky, a file nothing matches never glued into one
 * record, records bounded by max_line_bytes — and, property-based, random records Python's logging wrote in each of
 * the nine layouts read back one for one.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { createDjangoParser } from '../../src/parse/django.js';
import type { Line, ParserContext } from '../../src/parse/types.js';
import type { EcsDocument } from '../../src/record.js';
import { PYTHON } from '../support/agent.js';
import { ambiguousLocalTime, FORMATTER_WRITER, NINE, shows } from '../support/formatter-logs.js';
import { parserContext, runPython } from '../support/parsing.js';

const TZ = 'Europe/Paris';
const NOW = Date.UTC(2026, 10, 27, 13, 0, 0);

/** The documents a file-mode parser makes of `text` (without `format`). */
function parse(text: string, over: Partial<ParserContext> = {}): { docs: EcsDocument[]; starts: number[]; ends: number[] } {
  const docs: EcsDocument[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const p = createDjangoParser(parserContext('/logs/django.log', { timezone: TZ, ...over }), (r) => {
    docs.push(r.doc);
    starts.push(r.start);
    ends.push(r.end);
  });
  let at = 0;
  const parts = text.split('\n');
  if (parts.at(-1) === '') parts.pop();
  for (const t of parts) {
    const end = at + Buffer.byteLength(t) + 1;
    const line: Line = { text: t, start: at, end, truncated: false, invalidUtf8: false, partial: false };
    p.push(line, NOW);
    at = end;
  }
  p.flush(NOW, true);
  // Every byte in exactly one record.
  let covered = 0;
  starts.forEach((s, i) => {
    assert.equal(s, covered);
    covered = ends[i]!;
  });
  assert.equal(covered, at);
  return { docs, starts, ends };
}

const TB = ['Traceback (most recent call last):', '  File "/app/views.py", line 10, in get', '    return data["missing"]', "KeyError: 'missing'"].join('\n');

describe('layouts, detected', () => {
  it("the issue's file: 15,000 logger.exception() calls with %(asctime)s %(levelname)s %(name)s %(message)s are 15,000 records", () => {
    const log = runPython(String.raw`
import io, logging, sys
buf = io.StringIO()
h = logging.StreamHandler(buf)
h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
log = logging.getLogger("django.request"); log.handlers = [h]; log.propagate = False
for i in range(15000):
    try:
        {}["missing"]
    except KeyError:
        log.exception("Internal Server Error: /api/items/%d", i)
sys.stdout.write(buf.getvalue())
`);
    assert.ok(log !== null, 'python3');
    const { docs } = parse(log);
    assert.equal(docs.length, 15_000);
    docs.forEach((d, i) => {
      assert.equal(d.message, `Internal Server Error: /api/items/${i}`);
      assert.equal(d.log.logger, 'django.request');
      assert.equal(d.error?.type, 'KeyError');
      assert.equal(d.tags, undefined);
    });
  });

  it('is sticky: once a layout is known, a line of another weak shape continues the record', () => {
    const { docs } = parse(
      [
        'ERROR Internal Server Error: /x', // {levelname} {message}: learned
        'WARNING: this line is in the message', // "LEVEL:" is another weak shape: not a first line here
        '2026-11-27 12:00:00,000 a timestamp first, no level', // weak too
        'INFO next record',
        'WARNING:django.request:basicConfig shape', // weak
      ].join('\n'),
    );
    assert.deepEqual(
      docs.map((d) => [d.log.level, d.message]),
      [
        ['ERROR', 'Internal Server Error: /x\nWARNING: this line is in the message\n2026-11-27 12:00:00,000 a timestamp first, no level'],
        ['INFO', 'next record\nWARNING:django.request:basicConfig shape'],
      ],
    );
  });

  it('a strong layout (timestamp and level) always starts a record: handlers with different formatters in one file', () => {
    const { docs } = parse(
      [
        'WARNING:django.security.csrf:Forbidden', // basicConfig, learned
        '[2026-11-27 12:00:00,000] ERROR django.request: boom',
        TB,
        '2026-11-27 12:00:01,000 - django.db - INFO - (0.001) SELECT 1',
        'WARNING:django.security.csrf:again',
      ].join('\n'),
    );
    assert.deepEqual(
      docs.map((d) => [d.log.level, d.log.logger, d.message, d.error?.type]),
      [
        ['WARNING', 'django.security.csrf', 'Forbidden', undefined],
        ['ERROR', 'django.request', 'boom', 'KeyError'],
        ['INFO', 'django.db', '(0.001) SELECT 1', undefined],
        ['WARNING', 'django.security.csrf', 'again', undefined],
      ],
    );
  });

  it('while no layout is known, a line is a record of its own; a traceback and indented lines join the line before', () => {
    const { docs } = parse(['Starting development server', 'Quit with CONTROL-C.', 'something failed:', TB, '  indented detail', 'plain again'].join('\n'));
    assert.deepEqual(
      docs.map((d) => [d.message, d.error?.type, d.tags]),
      [
        ['Starting development server', undefined, ['_logship_parse_error', '_logship_timestamp_missing']],
        ['Quit with CONTROL-C.', undefined, ['_logship_parse_error', '_logship_timestamp_missing']],
        ['something failed:', 'KeyError', ['_logship_parse_error', '_logship_timestamp_missing']],
        ['plain again', undefined, ['_logship_parse_error', '_logship_timestamp_missing']],
      ],
    );
    assert.equal(docs[2]!.error!.stack_trace, `${TB}\n  indented detail`);
  });

  it('a file nothing matches is never one record; consecutive tracebacks are one record each', () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `output line ${i}: [x] - y`);
    assert.equal(parse(lines.join('\n')).docs.length, 1000);
    const crashes = parse([TB, TB, TB.replace('KeyError', 'ValueError')].join('\n')).docs;
    assert.deepEqual(crashes.map((d) => d.error?.type), ['KeyError', 'KeyError', 'ValueError']);
  });

  it("learns runserver's timestamp layout; reads ISO timestamps with zones, levels with any separator", () => {
    const server = parse(['[27/Nov/2026 12:00:00] "GET / HTTP/1.1" 200 1234', '[27/Nov/2026 12:00:01] "GET /x HTTP/1.1" 404 5', '  indented'].join('\n')).docs;
    assert.deepEqual(server.map((d) => [d['@timestamp'], d.message]), [
      ['2026-11-27T12:00:00.000+01:00', '"GET / HTTP/1.1" 200 1234'],
      ['2026-11-27T12:00:01.000+01:00', '"GET /x HTTP/1.1" 404 5\n  indented'],
    ]);
    const iso = parse(['2026-11-27T12:00:00.5Z INFO django.server: up', '2026-11-27T12:00:01+02:00 [ERROR] root: down'].join('\n')).docs;
    assert.deepEqual(iso.map((d) => [d['@timestamp'], d.log.level, d.log.logger, d.message]), [
      ['2026-11-27T12:00:00.500Z', 'INFO', 'django.server', 'up'],
      ['2026-11-27T12:00:01.000+02:00', 'ERROR', 'root', 'down'],
    ]);
    const sep = parse(['ERROR: disk full', 'ERROR: again', 'INFO:fine', 'WARNING| pipe', 'INFO no colon: a line of the message'].join('\n')).docs;
    assert.deepEqual(sep.map((d) => [d.log.level, d.message]), [
      ['ERROR', 'disk full'],
      ['ERROR', 'again'],
      ['INFO', 'fine'],
      ['WARNING', 'pipe\nINFO no colon: a line of the message'],
    ]);
  });

  it('a held record never grows past max_line_bytes, also while no layout is known', () => {
    const indented = Array.from({ length: 200 }, (_, i) => `  indented line ${String(i).padStart(3, '0')} ${'x'.repeat(80)}`);
    const { docs } = parse(['head', ...indented].join('\n'), { maxRecordBytes: 4096 });
    assert.ok(docs.length > 1);
    for (const d of docs) assert.ok(Buffer.byteLength(d.message) <= 4096);
    assert.equal(docs.map((d) => d.message).join('\n'), ['head', ...indented].join('\n'));
    assert.deepEqual(docs.slice(0, -1).map((d) => d.tags?.includes('_logship_truncated')), docs.slice(0, -1).map(() => true));
  });
});

describe('layouts, detected: property, against Python', () => {
  it("random records in each of the nine layouts, with tracebacks, read back one for one", () => {
    const piece = fc.constantFrom('a', 'Z', ' ', ': ', ' - ', '[', ']', ':', '|', '{', '}', '%', 'é', '"', 'ERROR', 'django.request', '2026-11-27 12:00:00,000', '\t', '42');
    const text = fc.array(piece, { maxLength: 12 }).map((p) => p.join(''));
    // Lines after a message's first: anything, but not a first line of the layout (those cannot be told apart).
    const more = fc.array(text.map((t) => `m${t}`), { maxLength: 2 });
    const message = fc.tuple(text, more).map(([first, rest]) => [first, ...rest].join('\n'));
    const record = fc.record({
      name: fc.constantFrom('django.request', 'django.security.csrf', 'root', 'myapp.api.views', 'django'),
      level: fc.constantFrom('DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'),
      message,
      exc: fc.option(message, { nil: null }),
      created: fc.integer({ min: 946_684_800_000, max: 1_924_991_999_999 }).map((ms) => ms / 1000),
    });
    const files = fc.sample(fc.tuple(fc.nat(NINE.length - 1), fc.array(record, { minLength: 1, maxLength: 6 })), { numRuns: 120, seed: 3 });
    const items = files.flatMap(([layout, records]) =>
      records.map((r) => ({ ...NINE[layout]!, ...r, lineno: 12, funcName: 'get' })),
    );
    const formatted = JSON.parse(execFileSync(PYTHON, [FORMATTER_WRITER, '--records'], { input: JSON.stringify(items), encoding: 'utf8', env: { ...process.env, TZ } })) as string[];
    let k = 0;
    for (const [layout, records] of files) {
      const c = NINE[layout]!;
      const texts = formatted.slice(k, k + records.length);
      k += records.length;
      // What cannot be told apart: {levelname} {asctime} {module} {message} with a message "12 34 …" is the verbose
      // layout; {levelname} {message} with a message that starts with a timestamp is "LEVEL asctime …".
      if (c.format.includes('{module} {message}') && records.some((r) => /^\d+ \d+(?: |$)/.test(r.message))) continue;
      if (c.format === '{levelname} {message}' && records.some((r) => /^\d{4}-/.test(r.message))) continue;
      const { docs } = parse(texts.join('\n') + '\n');
      const at = `${c.format}: ${JSON.stringify(texts)}`;
      assert.equal(docs.length, records.length, at);
      docs.forEach((d, i) => {
        const r = records[i]!;
        assert.equal(d.log.level, r.level, at);
        assert.equal(d.message, r.message, at);
        if (shows(c, 'name')) assert.equal(d.log.logger, r.name, at);
        if (shows(c, 'asctime') && !ambiguousLocalTime(r.created * 1000, TZ)) assert.equal(Date.parse(d['@timestamp']), Math.floor(r.created) * 1000 + Math.floor((r.created - Math.floor(r.created)) * 1000), at);
        assert.equal(d.error?.type, r.exc === null ? undefined : 'ValueError', at);
      });
    }
  });
});
