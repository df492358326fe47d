/**
 * The parse thread's last line of defence (issue #13, item 1): a parser that throws on a line never stops the
 * stream. The line ships as a parse-error record, what the parser held from earlier lines is shipped too, the stream
 * goes on with a fresh parser, and the resume offsets never pass a byte no record covers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createParser } from '../../src/parse/index.js';
import type { Line, RecordParser } from '../../src/parse/types.js';
import { ParseStream, type ParserFactory } from '../../src/parse-thread/stream.js';
import { ChunkStore, ReplyWriter, RowsPool } from '../../src/parse-thread/reply-writer.js';
import { ADVANCE_ROW, ROW_AT, ROW_CHUNK, ROW_END, ROW_FIELDS, ROW_LENGTH, ROW_SAFE, ROW_START, type ParsedReply } from '../../src/parse-thread/protocol.js';
import { silentLogger } from '../../src/log.js';
import { ParserFailureLog } from '../../src/parse-thread/thread.js';
import { tempDir } from '../support/agent.js';
import { parserContext } from '../support/parsing.js';

const NOW = Date.UTC(2026, 10, 27, 13, 0, 0);
const CID = 'c0ffee'.padEnd(64, '0');

interface Row {
  start: number;
  end: number;
  safe: number;
  doc: { message: string; tags?: string[]; log: { offset: number }; container?: { id: string } } | null;
}

function rowsOf(store: ChunkStore, reply: ParsedReply): Row[] {
  const out: Row[] = [];
  for (let o = 0; o < reply.rowCount * ROW_FIELDS; o += ROW_FIELDS) {
    const r = reply.rows;
    const chunk = r[o + ROW_CHUNK]!;
    const at = r[o + ROW_AT]!;
    const doc = chunk === ADVANCE_ROW ? null : JSON.parse(store.buffer(chunk).toString('utf8', at, at + r[o + ROW_LENGTH]!));
    out.push({ start: r[o + ROW_START]!, end: r[o + ROW_END]!, safe: r[o + ROW_SAFE]!, doc });
  }
  return out;
}

/**
 * The real parser for `type`, wrapped so that it misbehaves on marked lines:
 * - BOOM-FIRST: throws before doing anything;
 * - BOOM-AFTER: throws after the real parser took the line (its record may be out, or held);
 * - BOOM-ON-FLUSH: taken by the real parser, but the next flush throws;
 * - BOOM-CORRUPT: the parser's state is left wrong — it claims to hold bytes from `corruptFrom` and its flush throws.
 */
function misbehaving(corruptFrom: { at: number | null }): ParserFactory {
  return (type, context, emit, placement) => {
    const real = createParser(type, context, emit, placement);
    let corrupt = false;
    let flushThrows = false;
    const wrapped: RecordParser = {
      push(line: Line, now: number) {
        if (line.text.includes('BOOM-FIRST')) throw new TypeError('first');
        if (line.text.includes('BOOM-CORRUPT')) {
          corrupt = true;
          corruptFrom.at = line.start - 7; // somewhere in an earlier line
          throw new RangeError('corrupt');
        }
        real.push(line, now);
        if (line.text.includes('BOOM-ON-FLUSH')) flushThrows = true;
        if (line.text.includes('BOOM-AFTER')) throw new Error('after\nwith a second line');
      },
      flush(now, force) {
        if (corrupt) throw new Error('flush of a corrupt parser');
        if (flushThrows) throw new Error('flush');
        real.flush(now, force);
      },
      heldFrom: () => (corrupt ? corruptFrom.at : real.heldFrom()),
    };
    // BOOM-BYTES: a line offered as bytes (Docker's plain lines) throws there.
    if (real.pushBytes !== undefined) {
      wrapped.pushBytes = (buf, from, to, start, end, now) => {
        if (buf.toString('latin1', from, to).includes('BOOM-BYTES')) throw new Error('bytes');
        return real.pushBytes!(buf, from, to, start, end, now);
      };
    }
    return wrapped;
  };
}

function streamOver(text: string, type: 'django' | 'docker' = 'django') {
  const dir = tempDir();
  const path = join(dir, type === 'docker' ? `${CID}-json.log` : 'django.log');
  writeFileSync(path, text);
  const store = new ChunkStore();
  const out = new ReplyWriter(store, new RowsPool());
  const corrupt = { at: null as number | null };
  const stream = new ParseStream(type, parserContext(path, { timezone: 'UTC' }), 1 << 20, 0, out, misbehaving(corrupt));
  const fd = openSync(path, 'r');
  const buffer = Buffer.alloc(1 << 16);
  stream.read(fd, buffer, buffer.length, NOW);
  const read = out.finish(1, 0, 0, stream.state).reply;
  stream.flush(false, true, NOW);
  const flushed = out.finish(2, 0, 0, stream.state).reply;
  closeSync(fd);
  const rows = [...rowsOf(store, read), ...rowsOf(store, flushed)];
  return { rows, records: rows.filter((r) => r.doc !== null), read, flushed, state: stream.state, corrupt };
}

const header = (n: number, text: string): string => `[2026-11-27 12:00:0${n},000] INFO [app:1] ${text}`;
const json = (text: string): string => JSON.stringify({ asctime: '2026-11-27 12:00:00,000', levelname: 'INFO', message: text });

/** Every line in a record, no two records starting alike, resume offsets never ahead of an unshipped byte. */
function assertAccounted(text: string, rows: Row[]): void {
  const records = rows.filter((r) => r.doc !== null);
  let offset = 0;
  for (const line of text.split('\n').slice(0, -1)) {
    const end = offset + Buffer.byteLength(line) + 1;
    assert.ok(records.some((r) => r.start <= offset && end <= r.end), `line at ${offset} (${line.slice(0, 30)}) is in no record`);
    offset = end;
  }
  assert.equal(new Set(records.map((r) => r.start)).size, records.length, 'no two records start alike');
  for (let i = 0; i < rows.length; i++) {
    const later = rows.slice(i + 1).filter((r) => r.doc !== null).map((r) => r.start);
    for (const s of later) assert.ok(rows[i]!.safe <= s, `row ${i} resumes at ${rows[i]!.safe}, past a later record at ${s}`);
  }
  assert.equal(rows.at(-1)!.safe, Buffer.byteLength(text), 'at the end everything is shipped');
}

test('a parser that throws on a line: the line ships as a parse error, held records ship, parsing goes on', () => {
  const text = [
    header(1, 'held record'),
    '  its continuation',
    'BOOM-FIRST line one',
    json('json after'),
    header(2, 'held again'),
    json('BOOM-AFTER emitted then threw'),
    header(3, 'still parsed'),
    '',
  ].join('\n');
  const { rows, records, read, state } = streamOver(text);
  assertAccounted(text, rows);
  const messages = records.map((r) => r.doc!.message);
  assert.deepEqual(messages, [
    'held record\n  its continuation',
    'BOOM-FIRST line one',
    'json after',
    'held again',
    json('BOOM-AFTER emitted then threw'),
    'still parsed',
  ]);
  const failed = records.filter((r) => r.doc!.tags?.includes('_logship_parse_error'));
  assert.equal(failed.length, 2);
  for (const r of failed) assert.deepEqual(r.doc!.tags, ['_logship_parse_error', '_logship_timestamp_missing']);
  assert.equal(read.parseErrors, 2, 'counted as parse errors');
  assert.deepEqual(
    read.failures?.map((f) => f.error),
    ['TypeError: first', 'Error: after with a second line'],
  );
  assert.equal(read.failures![0]!.start, records[1]!.start);
  assert.equal(state.heldFrom, -1);
});

test('a parser left in a wrong state (its flush throws, it claims stale held bytes): the record covers them', () => {
  const text = [json('one'), json('two'), 'BOOM-CORRUPT', json('three'), ''].join('\n');
  const { rows, records, read, corrupt } = streamOver(text);
  assertAccounted(text, rows);
  const failed = records.find((r) => r.doc!.tags?.includes('_logship_parse_error'))!;
  // It claimed to hold bytes from inside the line before: the failure record starts there (a second record over
  // those bytes, with its own id), so the checkpoint cannot pass them on its word.
  assert.equal(failed.start, corrupt.at);
  assert.equal(failed.doc!.message, 'BOOM-CORRUPT');
  assert.deepEqual(records.map((r) => r.doc!.message), ['one', 'two', 'BOOM-CORRUPT', 'three']);
  assert.equal(read.failures?.length, 1);
});

test('a Docker parser that throws: the raw entry ships, the container is named, the next entries parse', () => {
  const entry = (log: string) => JSON.stringify({ log, stream: 'stdout', time: '2026-11-27T12:00:00.000000001Z' });
  const text = [entry('before\n'), entry('BOOM-FIRST\n'), entry('BOOM-BYTES\n'), entry('after\n'), ''].join('\n');
  const { rows, records, read } = streamOver(text, 'docker');
  assertAccounted(text, rows);
  assert.deepEqual(records.map((r) => r.doc!.message), ['before', entry('BOOM-FIRST\n'), entry('BOOM-BYTES\n'), 'after']);
  assert.deepEqual(records.map((r) => r.doc!.container?.id), [CID, CID, CID, CID]);
  assert.deepEqual(read.failures?.map((f) => f.error), ['TypeError: first', 'Error: bytes']);
});

test('a parser whose flush throws: the bytes it held ship as a parse-error record saying so', () => {
  const text = [json('one'), header(1, 'BOOM-ON-FLUSH held'), '  continued', ''].join('\n');
  const { rows, records, flushed } = streamOver(text);
  assertAccounted(text, rows);
  assert.equal(records.length, 2);
  const failed = records[1]!;
  assert.equal(failed.start, Buffer.byteLength(json('one')) + 1);
  assert.equal(failed.end, Buffer.byteLength(text));
  assert.match(failed.doc!.message, /^logship: the parser failed on bytes \d+-\d+ of this file \(Error: flush\)/);
  assert.deepEqual(failed.doc!.tags, ['_logship_parse_error', '_logship_timestamp_missing']);
  assert.equal(flushed.failures?.length, 1);
  assert.equal(flushed.state.heldFrom, -1);
});

test('the Django parser throwing while it hands lines it held as bytes to the string way: those lines are shipped', () => {
  // A verbose first line and its traceback are held as bytes (django-text-bytes.ts); a blank line in the frames makes
  // the parser replay them the string way, and the string way throws on the second of them. The bytes of the lines
  // not replayed yet must still end in a record (the failure's), not be passed by the checkpoint unshipped.
  const verbose = (n: number, text: string): string => `INFO 2026-11-27 12:00:0${n},000 views 4242 140245123456 ${text}`;
  const text = [verbose(1, 'teaches the layout'), verbose(2, 'held as bytes'), 'Traceback (most recent call last):', '  BOOM-REPLAY frame', '  another frame', '', verbose(3, 'after'), ''].join('\n');
  const dir = tempDir();
  const path = join(dir, 'django.log');
  writeFileSync(path, text);
  const store = new ChunkStore();
  const out = new ReplyWriter(store, new RowsPool());
  const factory: ParserFactory = (type, context, emit, placement) => {
    const real = createParser(type, context, emit, placement) as RecordParser & { pushText(text: string, ...rest: unknown[]): void };
    const pushText = real.pushText.bind(real);
    real.pushText = (line: string, ...rest: unknown[]) => {
      if (line.includes('BOOM-REPLAY')) throw new Error('replay');
      pushText(line, ...rest);
    };
    return real;
  };
  const stream = new ParseStream('django', parserContext(path, { timezone: 'UTC' }), 1 << 20, 0, out, factory);
  const fd = openSync(path, 'r');
  stream.read(fd, Buffer.alloc(1 << 16), 1 << 16, NOW);
  const read = out.finish(1, 0, 0, stream.state).reply;
  stream.flush(false, true, NOW);
  const flushed = out.finish(2, 0, 0, stream.state).reply;
  closeSync(fd);
  const rows = [...rowsOf(store, read), ...rowsOf(store, flushed)];
  assertAccounted(text, rows);
  assert.deepEqual(read.failures?.map((f) => f.error), ['Error: replay']);
  const messages = rows.filter((r) => r.doc !== null).map((r) => r.doc!.message);
  assert.equal(messages[0], 'teaches the layout');
  assert.equal(messages.at(-1), 'after');
});

test('parser failures are logged at once, then at most once per interval with the count in between', () => {
  const lines: Record<string, unknown>[] = [];
  const logger = { ...silentLogger, error: (msg: string, fields?: Record<string, unknown>) => lines.push({ msg, ...fields }) };
  let now = 1_000;
  const log = new ParserFailureLog(logger, 10_000, () => now);
  const failure = (start: number) => ({ path: '/logs/a.log', start, end: start + 10, error: 'RangeError: x' });
  log.report([failure(0)]);
  now += 100;
  log.report([failure(10), failure(20)]);
  now += 5_000;
  log.report([failure(30)]);
  assert.equal(lines.length, 1);
  now += 5_000;
  log.report([failure(40)]);
  assert.equal(lines.length, 2);
  assert.deepEqual(lines.map((l) => [l['offset'], l['failed_lines']]), [[0, 1], [40, 4]]);
  assert.equal(lines[1]!['path'], '/logs/a.log');
  assert.equal(lines[1]!['error'], 'RangeError: x');
});
