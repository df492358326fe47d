/**
 * Properties of the multi-line joiner (the Django parser, src/parse/django.ts) in file mode (a Django log file) and
 * stream mode (a container's output), fed as the agent feeds it: bytes through the line splitter in random reads,
 * a clock that moves, flushes on the multi-line timeout between reads, and EOF with a line left unfinished.
 *
 * The input mixes python-json-logger lines, both text header formats, Python tracebacks, continuation text, blank
 * lines, CRLF, and random bytes (NUL, invalid UTF-8, lone CRs).
 *
 * - Every byte is in exactly one record: the records' [start, end) tile the input without gap or overlap, at the end
 *   and at every moment up to what the parser holds (heldFrom) — the offset a checkpoint may reach.
 * - Nothing of a line is dropped silently: a record holds the text of each of its lines, or says it does not
 *   (_logship_truncated); a line with invalid UTF-8 or flushed without newline tags its record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createDjangoParser, type DjangoMode } from '../../src/parse/django.js';
import type { Line } from '../../src/parse/types.js';
import { TAG_INVALID_UTF8, TAG_PARTIAL_TIMEOUT, TAG_TRUNCATED } from '../../src/record.js';
import { LineSplitter } from '../../src/tail/lines.js';
import { chunks, cuts, logBytes, rawCuts } from '../support/bytes-arbitrary.js';
import { parserContext } from '../support/parsing.js';

const NOW = Date.UTC(2026, 10, 27, 13, 0, 0);
const MULTILINE_TIMEOUT = 1000;

/** Message text: any characters but line feeds (a Django message with a newline is a multi-line record, made below). */
const messageText = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replace(/[\n\r]/g, ' '));

/** One line (or a few) of Django output, as text. */
const djangoLines: fc.Arbitrary<string[]> = fc.oneof(
  messageText.map((m) => [JSON.stringify({ asctime: '2026-11-27 12:00:00,123', levelname: 'INFO', name: 'django.request', message: m })]),
  messageText.map((m) => [`ERROR 2026-11-27 12:00:00,123 views 4242 140245 ${m}`]),
  messageText.map((m) => [`[2026-11-27 12:00:00,123] WARNING [django.request:241] ${m}`]),
  messageText.map((m) => [`[2026-11-27 12:00:00,123] ERROR django.security.csrf: ${m}`]),
  fc.tuple(messageText, messageText).map(([a, b]) => [
    'Traceback (most recent call last):',
    `  File "/app/views.py", line 12, in get`,
    `    ${a}`,
    `ValueError: ${b}`,
  ]),
  fc.tuple(messageText, messageText).map(([a, b]) => [
    '',
    'During handling of the above exception, another exception occurred:',
    '',
    'Traceback (most recent call last):',
    `  File "/app/${a}.py", line 3, in <module>`,
    `KeyError: '${b}'`,
  ]),
  messageText.map((m) => [`continued ${m}`]),
  messageText.map((m) => [`    indented ${m}`]),
  fc.constant<string[]>(['']),
);

/** A log: Django lines ending in LF or CRLF, with stretches of random bytes, the last line maybe unfinished. */
const djangoLog: fc.Arbitrary<Buffer> = fc
  .tuple(
    fc.array(fc.oneof({ arbitrary: djangoLines.map((ls) => ({ ls })), weight: 5 }, { arbitrary: logBytes(20).map((b) => ({ b })), weight: 1 }), { maxLength: 25 }),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([parts, crlf, finished]) => {
    const bufs = parts.map((p) => ('b' in p ? p.b : Buffer.from(p.ls.map((l) => l + (crlf ? '\r\n' : '\n')).join(''))));
    const all = Buffer.concat(bufs);
    return finished || all.length === 0 ? all : all.subarray(0, all.length - 1);
  });

interface Emitted {
  readonly start: number;
  readonly end: number;
  readonly doc: { message: string; log: { offset: number }; error?: { stack_trace?: string }; tags?: string[]; '@timestamp': string };
}

/**
 * Feeds `bytes` in reads cut at `at` through a splitter into a parser, moving the clock by `steps` between reads
 * and flushing on the timeout as the agent does; checks the checkpoint invariant after every read. Returns the
 * records and the lines.
 */
function parse(mode: DjangoMode, bytes: Buffer, at: number[], steps: number[], maxLine: number, maxRecord: number): { records: Emitted[]; lines: Line[] } {
  const records: Emitted[] = [];
  const lines: Line[] = [];
  const parser = createDjangoParser(
    parserContext('/srv/app/logs/django.log', { multilineTimeoutMs: MULTILINE_TIMEOUT, maxRecordBytes: maxRecord }),
    (r) => records.push({ start: r.start, end: r.end, doc: JSON.parse(r.json) as Emitted['doc'] }),
    mode,
  );
  let now = NOW;
  const splitter = new LineSplitter(maxLine, (l) => {
    lines.push(l);
    parser.push(l, now);
  }, 0);
  const checkpointSafe = (): void => {
    // What is emitted tiles [0, x); x is where the parser holds from, or everything pushed when it holds nothing.
    const held = parser.heldFrom();
    const covered = records.length === 0 ? 0 : records.at(-1)!.end;
    if (held === null) assert.equal(covered, lines.length === 0 ? 0 : lines.at(-1)!.end, 'nothing held: every line pushed is in a record');
    else assert.equal(held, covered, 'heldFrom is the first byte not in an emitted record');
  };
  chunks(bytes, at).forEach((chunk, i) => {
    splitter.push(chunk);
    checkpointSafe();
    now += steps[i % steps.length] ?? 0;
    parser.flush(now, false);
    checkpointSafe();
  });
  splitter.flushPartial(); // EOF: the last line has waited partial_line_timeout
  parser.flush(now, true);
  assert.equal(parser.heldFrom(), null, 'a forced flush leaves nothing held');
  return { records, lines };
}

function checkRecords(mode: DjangoMode, bytes: Buffer, records: Emitted[], lines: Line[]): void {
  // Tiling, in the order emitted.
  let at = 0;
  for (const r of records) {
    assert.equal(r.start, at, `record at ${r.start}: expected to start at ${at}`);
    assert.ok(r.end > r.start);
    assert.equal(r.doc.log.offset, r.start);
    assert.equal(typeof r.doc['@timestamp'], 'string');
    at = r.end;
  }
  assert.equal(at, bytes.length, 'every byte is in a record');

  // Each line's text is in its record, or the record says it was cut; line facts become tags.
  let li = 0;
  for (const r of records) {
    const tags = r.doc.tags ?? [];
    const content = `${r.doc.message}\n${r.doc.error?.stack_trace ?? ''}`;
    for (let first = true; li < lines.length && lines[li]!.end <= r.end; li++, first = false) {
      const l = lines[li]!;
      if (l.truncated) assert.ok(tags.includes(TAG_TRUNCATED), `a truncated line tags its record: ${JSON.stringify(r)}`);
      if (l.invalidUtf8) assert.ok(tags.includes(TAG_INVALID_UTF8), 'invalid UTF-8 tags its record');
      if (l.partial) assert.ok(tags.includes(TAG_PARTIAL_TIMEOUT), 'a line flushed without newline tags its record');
      if (tags.includes(TAG_TRUNCATED)) continue;
      const text = (l.text.endsWith('\r') ? l.text.slice(0, -1) : l.text).trimEnd();
      // A first line's header is parsed into fields; a continuation line (or a first line of plain text) is kept whole.
      if (!first || /^[a-z ]/.test(text)) assert.ok(content.includes(text), `${mode}: line ${JSON.stringify(text)} is in its record ${JSON.stringify(content)}`);
    }
  }
  assert.equal(li, lines.length);
}

const steps = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 * MULTILINE_TIMEOUT })), { minLength: 1, maxLength: 8 });
const maxLine = fc.oneof(fc.constant(1024 * 1024), fc.integer({ min: 8, max: 64 }));
const maxRecord = fc.oneof(fc.constant(64 * 1024), fc.integer({ min: 16, max: 256 }));

for (const mode of ['file', 'stream'] as const) {
  test(`${mode} mode: every byte in exactly one record, at every read and at EOF; nothing dropped unsaid`, () => {
    fc.assert(
      fc.property(djangoLog, rawCuts, steps, maxLine, maxRecord, (bytes, raw, st, ml, mr) => {
        const { records, lines } = parse(mode, bytes, cuts(bytes.length, raw), st, ml, mr);
        checkRecords(mode, bytes, records, lines);
      }),
      { numRuns: 400 },
    );
  });

  test(`${mode} mode: records do not depend on where the reads were cut`, () => {
    fc.assert(
      fc.property(djangoLog, rawCuts, (bytes, raw) => {
        // Without clock steps the timeout never fires between reads: the reads' boundaries are the only difference.
        const whole = parse(mode, bytes, [], [0], 1024 * 1024, 64 * 1024).records;
        const cut = parse(mode, bytes, cuts(bytes.length, raw), [0], 1024 * 1024, 64 * 1024).records;
        assert.deepEqual(cut, whole);
      }),
      { numRuns: 300 },
    );
  });
}
