/**
 * Django JSON lines made into documents on their bytes (src/parse/django-json-bytes.ts) must give, line for line,
 * the records the string way gives (DjangoJsonLines with ScannedObject or JSON.parse): same documents byte for byte,
 * same ranges, same flags. Compared on hand-picked lines, on python-json-logger's own output, and on generated lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createDjangoParser } from '../../src/parse/django.js';
import { createTimestampReader } from '../../src/parse/time.js';
import { TimestampBytes } from '../../src/parse/timestamp-bytes.js';
import { REC_MULTILINE } from '../../src/parse/document.js';
import { ChunkStore, ReplyWriter, RowsPool } from '../../src/parse-thread/reply-writer.js';
import { ROW_AT, ROW_FIELDS, ROW_LENGTH } from '../../src/parse-thread/protocol.js';
import { readBothWays as readBoth, type Emitted } from '../support/both-ways.js';
import { parserContext, runPython } from '../support/parsing.js';

const PATH = '/app/backend/logs/django.log';
const NOW = Date.UTC(2026, 10, 27, 13, 0, 0);

/** The records of a Django log read both ways (test/support/both-ways.ts), and how many lines the byte way took. */
function readBothWays(file: Buffer | string, includeOriginal = false): { strings: Emitted[]; bytes: Emitted[]; taken: number } {
  const context = parserContext(PATH, { includeOriginal });
  const data = typeof file === 'string' ? Buffer.from(file, 'utf8') : file;
  return readBoth(data, (emit, placement) => createDjangoParser(context, emit, 'file', '', placement), NOW);
}

function assertSame(file: Buffer | string): number {
  const { strings, bytes, taken } = readBothWays(file);
  assert.deepEqual(bytes, strings);
  for (const r of bytes) JSON.parse(r.json); // each is JSON
  return taken;
}

const line = (members: Record<string, unknown>): string => JSON.stringify(members) + '\n';
/** As python-json-logger writes: json.dumps's separators, with spaces. */
const spaced = (members: Record<string, unknown>): string => JSON.stringify(members).replace(/","/g, '", "').replace(/":"/g, '": "') + '\n';

const BASE = { asctime: '2026-11-27 12:00:00,123', levelname: 'INFO', name: 'django.request', message: 'GET /api/items/1 200' };

test('lines the byte way takes give the documents the string way gives', () => {
  const taken = [
    line(BASE),
    spaced(BASE),
    spaced({ ...BASE, module: 'log', funcName: 'log_response', lineno: 241, process: 4242, thread: 140245123456, threadName: 'MainThread' }),
    line({ ...BASE, filename: 'views.py', lineno: 0, status_code: 200, request_id: 'r-1', user_id: 977, duration_ms: 1.25, ok: true, gone: null, no: false }),
    line({ ...BASE, filename: 'views.py' }),
    line({ ...BASE, lineno: 12 }),
    line({ ...BASE, funcName: 'get' }),
    line({ ...BASE, thread: 7 }),
    line({ ...BASE, threadName: 'T-1' }),
    line({ ...BASE, process: 1, threadName: 'T-1' }),
    line({ ...BASE, message: 'two\nlines and a tab\t, a "quote", \\ and é, 日本, 😀' }),
    line({ ...BASE, message: 'escaped line feed \u000a here' }).replace('\\n', '\\u000a'),
    line({ levelname: 'INFO', message: 'created only', created: 1764244800.123456 }),
    line({ ...BASE, created: 1764244800.123456, extra: 'after' }),
    line({ timestamp: '2026-11-27T12:00:00.123456+00:00', level: 'WARNING', logger: 'app', msg: 'msg key' }),
    line({ time: '2026-11-27 12:00:00', message: 'time key' }),
    line({ '@timestamp': '2026-11-27T12:00:00Z', message: '@timestamp key' }),
    line({ ...BASE, 'ключ': 'значение', '': 'empty key' }),
    '{ "asctime" : "2026-11-27 12:00:00,123" , "message" : "spaces around" }  \n',
    line({ ...BASE, big: 12345678901234567890, neg: -5, exp: 1e21, frac: 0.5 }),
  ];
  for (const l of taken) assert.equal(assertSame(l), 1, `taken: ${l}`);
});

test('lines the byte way declines go the string way, and come out the same', () => {
  const declined = [
    line({ ...BASE, exc_info: 'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\nValueError: boom' }),
    line({ ...BASE, exc_info: null }),
    line({ ...BASE, stack_info: 'Stack (most recent call last):\n  File "x.py", line 1' }),
    line({ ...BASE, exc_text: 'x' }),
    line({ ...BASE, msg: 'both message and msg' }),
    line({ ...BASE, message: 42 }),
    line({ ...BASE, levelname: 20 }),
    line({ ...BASE, level: 'INFO' }),
    line({ ...BASE, logger: 'other' }),
    line({ ...BASE, filename: 'a.py', module: 'a' }),
    line({ ...BASE, lineno: -1 }),
    line({ ...BASE, lineno: '12' }),
    line({ ...BASE, process: 1.5 }),
    line({ ...BASE, funcName: null }),
    line({ ...BASE, timestamp: '2026-11-27T12:00:00Z' }),
    line({ ...BASE, asctime: 'not a time' }),
    line({ ...BASE, asctime: '2026-11-27 12:00:00\\u002c123' }).replace('\\\\u002c', '\\u002c'),
    line({ levelname: 'INFO', message: 'no time at all' }),
    line({ message: 'created not a number', created: 'yesterday' }),
    line({ ...BASE, nested: { a: 1 } }),
    line({ ...BASE, list: [1, 2] }),
    '{"asctime": "2026-11-27 12:00:00,123", "message": "dup", "message": "key"}\n',
    '{"asctime": "2026-11-27 12:00:00,123", "message": "a raw\ttab"}\n',
    '{"asctime": "2026-11-27 12:00:00,123", "mess\\u0061ge": "escaped key"}\n',
    '{"asctime": "2026-11-27 12:00:00,123", "message": "bad escape \\x"}\n',
    '{"asctime": "2026-11-27 12:00:00,123", "message": "unterminated}\n',
    '{"asctime": "2026-11-27 12:00:00,123", "message": "trailing"} x\n',
    '{"asctime": "2026-11-27 12:00:00,123", "message": "leading zero", "n": 012}\n',
    ' {"asctime": "2026-11-27 12:00:00,123", "message": "leading space"}\n',
    'INFO 2026-11-27 12:00:00,123 views 4242 140245 a text line\n',
    '{"asctime": "2026-11-27 12:00:00,123", "message": "carriage return"}\r\r\n',
  ];
  for (const l of declined) assert.equal(assertSame(l), 0, `declined: ${l}`);
  // Invalid UTF-8 inside a string: the string way tags it.
  const invalid = Buffer.concat([Buffer.from('{"asctime": "2026-11-27 12:00:00,123", "message": "bad '), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]);
  assert.equal(assertSame(invalid), 0);
});

test('a whole file mixing both ways keeps every record in order, and event.original turns the byte way off', () => {
  const file = [
    line(BASE),
    'ERROR 2026-11-27 12:00:01,000 views 4242 140245 a text record\n',
    'Traceback (most recent call last):\n',
    '  File "/app/views.py", line 12, in get\n',
    'ValueError: boom\n',
    line({ ...BASE, message: 'after a held text record' }),
    line({ ...BASE, nested: { a: 1 } }),
    spaced({ ...BASE, message: 'last' }),
  ].join('');
  assert.equal(assertSame(file), 2); // the first line and the last: the one after a held record is finished the string way
  const { strings, bytes, taken } = readBothWays(file, true);
  assert.equal(taken, 0);
  assert.deepEqual(bytes, strings);
});

test('python-json-logger output, as Python writes it, gives the same documents both ways', (t) => {
  const out = runPython(String.raw`
import json, logging, sys
logger = logging.getLogger("django.request")
h = logging.StreamHandler(sys.stdout)
class Json(logging.Formatter):
    def format(self, r):
        d = {"asctime": self.formatTime(r), "levelname": r.levelname, "name": r.name, "module": r.module,
             "funcName": r.funcName, "lineno": r.lineno, "process": r.process, "thread": r.thread,
             "threadName": r.threadName, "message": r.getMessage(), "status_code": 200, "created": r.created}
        return json.dumps(d)
h.setFormatter(Json())
logger.addHandler(h)
logger.setLevel(logging.INFO)
for i in range(200):
    logger.info('"GET /api/items/%d HTTP/1.1" 200 %d é ✓ "q" \\ \t', i, i * 7)
`);
  if (out === null) {
    t.skip('python3 is not available');
    return;
  }
  assert.equal(assertSame(out), 200);
});

/** JSON values of every kind the scanner meets, including the ones it declines. */
const jsonValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.nat(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(true, false, null),
  fc.constant({ nested: 1 }),
);
const knownKey = fc.constantFrom(
  'asctime', 'timestamp', 'time', '@timestamp', 'created', 'levelname', 'level', 'name', 'logger', 'message', 'msg',
  'exc_info', 'exc_text', 'stack_info', 'filename', 'module', 'lineno', 'funcName', 'process', 'thread', 'threadName',
);
const timeText = fc.constantFrom('2026-11-27 12:00:00,123', '2026-11-27T12:00:00.5Z', '2026-11-27 12:00:00', 'nope', '');
/** A member: mostly the fields python-json-logger writes, with values of their usual type, sometimes not. */
const member: fc.Arbitrary<[string, unknown]> = fc.oneof(
  { arbitrary: fc.tuple(fc.constantFrom('asctime', 'timestamp', 'time', '@timestamp'), timeText), weight: 3 },
  { arbitrary: fc.tuple(fc.constantFrom('levelname', 'name', 'module', 'funcName', 'filename', 'threadName', 'message', 'msg'), fc.string({ unit: 'binary', maxLength: 20 })), weight: 4 },
  { arbitrary: fc.tuple(fc.constantFrom('lineno', 'process', 'thread'), fc.oneof(fc.nat(), fc.integer(), fc.maxSafeNat())), weight: 2 },
  { arbitrary: fc.tuple(fc.constant('created'), fc.oneof(fc.double({ min: 0, max: 4e9, noNaN: true }), fc.constant('x'))), weight: 1 },
  { arbitrary: fc.tuple(knownKey, jsonValue), weight: 1 },
  { arbitrary: fc.tuple(fc.string({ maxLength: 8 }), jsonValue), weight: 3 },
);

test('property: on generated lines the byte way and the string way give the same records', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(member, { maxLength: 14 }), { minLength: 1, maxLength: 8 }),
      fc.constantFrom(JSON.stringify, (o: unknown) => JSON.stringify(o, null, 1).replace(/\n */g, ' ')),
      (lines, stringify) => {
        const file = lines.map((members) => stringify(Object.fromEntries(members)) + '\n').join('');
        assertSame(file);
      },
    ),
    { numRuns: 2000 },
  );
});

test('property: most generated python-json-logger lines are taken as bytes', () => {
  // Not a check of equality (above) but that the byte way is the way most lines go: a scanner that declined
  // everything would pass the test above.
  let taken = 0;
  const runs = 300;
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 60 }), fc.nat(), fc.nat({ max: 1e6 }), (message, lineno, user) => {
      const l = line({ ...BASE, module: 'views', funcName: 'get', lineno, process: 42, thread: 7, message, user_id: user, ms: user / 7 });
      taken += assertSame(l);
    }),
    { numRuns: runs },
  );
  assert.equal(taken, runs);
});

test('lines whose level, logger, origin, process or thread differ from the line before by one value of the same length', () => {
  // The part of a document from the level to `process` is reused when those members are the texts of the line
  // before (FieldsMade): each variant below differs from the first line in one such value only, its length kept.
  const first = { ...BASE, module: 'views', funcName: 'get', lineno: 88, process: 4242, thread: 140245123456, threadName: 'MainThread' };
  const variants: Record<string, unknown>[] = [
    { levelname: 'WARN' },
    { name: 'django.reqwest' },
    { module: 'viewz' },
    { funcName: 'put' },
    { lineno: 89 },
    { process: 4243 },
    { thread: 140245123457 },
    { threadName: 'MainThreaD' },
    { module: undefined, filename: 'views' },
    { levelname: undefined, level: 'INFO' },
  ];
  let file = '';
  for (const v of variants) file += line(first) + line({ ...first, ...v }) + line(first);
  const taken = assertSame(file);
  assert.equal(taken, variants.length * 3);
});

test('multi-line messages carry the multiline flag on the byte way too', () => {
  const { bytes, taken } = readBothWays(line({ ...BASE, message: 'a\nb' }) + line(BASE));
  assert.equal(taken, 2);
  assert.deepEqual(bytes.map((r) => (r.flags & REC_MULTILINE) !== 0), [true, false]);
});

test('a document written in less room than placed gives the rest back: the next one starts right after it', () => {
  const store = new ChunkStore();
  const writer = new ReplyWriter(store, new RowsPool());
  const first = writer.place(100, 0);
  first.buffer.write('{"a":1}', first.at);
  writer.record(writer.writtenRecord(0, 10, 0, 7), 10);
  const second = writer.place(50, 10);
  assert.equal(second.at, first.at + 7);
  second.buffer.write('{"b":2}', second.at);
  writer.record(writer.writtenRecord(10, 20, 0), 20);
  const { reply } = writer.finish(1, 20, 2, { position: 20, partialLine: false, heldFrom: -1 });
  const rows = reply.rows;
  assert.deepEqual([rows[ROW_AT], rows[ROW_LENGTH], rows[ROW_FIELDS + ROW_AT], rows[ROW_FIELDS + ROW_LENGTH]], [0, 7, 7, 50]);
});

test('property: timestamps written as bytes are what the reader reads, across DST changes and in zones that change mid-hour', () => {
  const zones = ['UTC', 'Europe/Paris', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata'];
  // Around Paris's and New York's autumn changes, and Lord Howe's (a 30-minute shift at 02:00 local); a few hours of
  // each, so that hours repeat (and are reused), with minutes and seconds out of range too.
  const days = ['2026-10-25', '2026-11-01', '2026-04-05', '2026-03-29', '2026-11-27'];
  const asctime = fc
    .tuple(fc.constantFrom(...days), fc.constantFrom(0, 1, 2, 3, 12, 23), fc.integer({ min: 0, max: 69 }), fc.integer({ min: 0, max: 69 }), fc.integer({ min: 0, max: 999 }), fc.constantFrom(',', '.', ' '))
    .map(([d, h, m, s, ms, sep]) => `${d} ${pad(h)}:${pad(m)}:${pad(s)}${sep}${String(ms).padStart(3, '0')}`);
  const text = fc.oneof({ arbitrary: asctime, weight: 8 }, { arbitrary: fc.constantFrom('2026-11-27T12:00:00Z', '2026-11-27 12:61:00,000', 'x', '2026-11-27 12:00:00,12é'), weight: 1 });
  fc.assert(
    fc.property(fc.constantFrom(...zones), fc.array(text, { minLength: 1, maxLength: 40 }), (zone, texts) => {
      const reader = createTimestampReader(zone);
      const bytes = new TimestampBytes(createTimestampReader(zone));
      let expected: string | null = null;
      for (const t of texts) {
        const read = reader(t);
        const buf = Buffer.from(`"${t}"`);
        assert.equal(bytes.readText(buf, 1, buf.length - 1), read !== null, t);
        if (read !== null) expected = read;
        assert.equal(bytes.text(), expected, t);
        const out = Buffer.alloc(64);
        assert.equal(out.toString('latin1', 0, bytes.copyTo(out, 0)), expected ?? '');
      }
    }),
    { numRuns: 500 },
  );
});

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
