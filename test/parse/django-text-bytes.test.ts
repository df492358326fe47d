/**
 * Django text records of the "verbose" layout made into documents on their bytes (src/parse/django-text-bytes.ts)
 * must give, record for record, what the string way gives (the layout detector, a held record of strings,
 * DocumentWriter): same documents byte for byte, same ranges, same flags — however the file arrives in reads, and
 * whenever the multi-line timeout falls. Compared on hand-picked lines, on what Python's own logging.Formatter writes,
 * and on generated files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { createDjangoParser } from '../../src/parse/django.js';
import { readBothWays as readBoth, type Arrival, type Emitted } from '../support/both-ways.js';
import { FORMATTER_WRITER } from '../support/formatter-logs.js';
import { PYTHON } from '../support/agent.js';
import { parserContext } from '../support/parsing.js';

const PATH = '/app/backend/logs/django.log';
const NOW = Date.UTC(2026, 10, 27, 13, 0, 0);
/** parserContext's multi-line timeout. */
const MULTILINE_TIMEOUT_MS = parserContext(PATH).multilineTimeoutMs;

function readBothWays(file: Buffer | string, arrival?: Arrival, includeOriginal = false): { strings: Emitted[]; bytes: Emitted[]; taken: number } {
  const context = parserContext(PATH, { includeOriginal });
  const data = typeof file === 'string' ? Buffer.from(file, 'utf8') : file;
  return readBoth(data, (emit, placement) => createDjangoParser(context, emit, 'file', '', placement), NOW, arrival);
}

/** Both ways give the same records; returns how many lines the byte way took. */
function assertSame(file: Buffer | string, arrival?: Arrival): number {
  const { strings, bytes, taken } = readBothWays(file, arrival);
  assert.deepEqual(bytes, strings);
  for (const r of bytes) JSON.parse(r.json);
  return taken;
}

const FIRST = 'INFO 2026-11-27 12:00:00,000 views 4242 140245123456 the file layout is learned from this line\n';
const NEXT = 'INFO 2026-11-27 12:00:09,999 views 4242 140245123456 the record before is complete\n';
/** `line` between two plain verbose lines: the first teaches the file its layout, the last completes `line`'s record. */
const between = (line: string): string => FIRST + line + NEXT;

test('verbose lines the byte way takes give the documents the string way gives', () => {
  const lines = [
    'INFO 2026-11-27 12:00:01,001 views 4242 140245123456 GET /api/items/1/ 200',
    'DEBUG 2026-11-27 12:00:01,001 views 1 2 debug',
    'WARNING 2026-11-27 12:00:01,001 csrf 4242 140245123456 Forbidden (CSRF cookie not set.): /api/login/',
    'WARN 2026-11-27 12:00:01,001 views 4242 140245123456 short level name',
    'ERROR 2026-11-27 12:00:01,001 views 4242 140245123456 an error without a traceback',
    'CRITICAL 2026-11-27 12:00:01,001 views 4242 140245123456 critical',
    'FATAL 2026-11-27 12:00:01,001 views 4242 140245123456 fatal',
    'NOTSET 2026-11-27 12:00:01,001 views 4242 140245123456 notset',
    'INFO 2026-11-27T12:00:01.123456 views 4242 140245123456 ISO T and microseconds',
    'INFO 2026-11-27 12:00:01 views 4242 140245123456 no fraction',
    'INFO 2026-11-27 12:00:01,001Z views 4242 140245123456 Z',
    'INFO 2026-11-27 12:00:01,001+0100 views 4242 140245123456 offset without colon',
    'INFO 2026-11-27 12:00:01,001-05:30 views 4242 140245123456 offset with colon',
    'INFO 2026-11-27 13:00:01,001 views 4242 140245123456 the next hour',
    'INFO 2026-11-27 12:00:01,001 views 0042 0 leading zeros are not the number Python wrote, but the string way reads them so',
    'INFO 2026-11-27 12:00:01,001 views 4242 999999999999999 fifteen digits',
    'INFO 2026-11-27 12:00:01,001 views 4242 140245123456',
    'INFO 2026-11-27 12:00:01,001 views 4242 140245123456 ',
    'INFO 2026-11-27 12:00:01,001 views 4242 140245123456 "GET /api/ HTTP/1.1" 200 a "quote", a \\ backslash, a\ttab',
    'INFO 2026-11-27 12:00:01,001 views 4242 140245123456 controls \u0001 \u001f \u0008 \u000c \r and DEL \u007f',
    'INFO 2026-11-27 12:00:01,001 views 4242 140245123456 é, 日本, 😀, \u2028',
    'INFO 2026-11-27 12:00:01,001 vi"ew\\s 4242 140245123456 a module to escape',
    'INFO 2026-11-27 12:00:01,001 модуль 4242 140245123456 a module not in ASCII',
    'INFO 2026-11-27 12:00:01,001 views 4242 140245123456 ' + 'long '.repeat(2000),
  ];
  for (const line of lines) {
    const taken = assertSame(between(line + '\n'));
    assert.ok(taken >= 2, `the byte way did not take ${JSON.stringify(line.slice(0, 80))}`);
  }
});

test('lines the byte way declines take the string way, and the records are the same', () => {
  const lines = [
    'INFO 2026-11-27 12:00:01,001 views 4242 1402451234567890 sixteen digits: the string way reads what a Number holds',
    'INFO 2026-11-27 12:00:01,001 views 4242 140245123456 a CR before the CRLF\r\r',
    'INFO 2026-13-45 12:00:01,001 views 4242 140245123456 a time that does not read',
    'INFO 2026-11-27 12:00:01,001 a message, no ids',
    'INFO 2026-11-27 12:00:01,001 views 4242',
    'INFO 2026-11-27 12:00:01,001',
    'INFO 2026-11-27 12:00:01,001 views 4242 12x45 an id that is not digits',
    'INFOS 2026-11-27 12:00:01,001 views 4242 140245123456 not a level',
    'INFOX2026-11-27 12:00:01,001 views 4242 140245123456 no space after the level',
    'INFO:2026-11-27 12:00:01,001 views 4242 140245123456 a colon after the level',
    'INFO: a weak layout line',
    'Info 2026-11-27 12:00:01,001 views 4242 140245123456 lowercase',
    '{"message": "a JSON line"}',
    'Traceback (most recent call last):',
    '  File "/app/x.py", line 1, in <module>',
    'ValueError: boom',
    '',
    '   an indented line',
  ];
  for (const line of lines) assertSame(between(line + '\n'));
  // Invalid UTF-8 in the message: tagged by the string way.
  assertSame(Buffer.concat([Buffer.from(FIRST + 'INFO 2026-11-27 12:00:01,001 views 4242 140245123456 bad '), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('\n' + NEXT)]));
});

test('records with tracebacks, message lines, JSON between, a first line not yet known, and CRLF', () => {
  const traceback = [
    'Traceback (most recent call last):',
    '  File "/app/backend/api/views.py", line 88, in retrieve',
    '    profile = Profile.objects.get(user_id=request.user.id)',
    'INFO 2026-11-27 12:00:02,000 views 4242 140245123456 a first line inside the frames is a frame',
    'api.models.Profile.DoesNotExist: Profile matching query does not exist.',
  ].join('\n');
  const file =
    'output before any first line: its own record\n' +
    FIRST +
    'ERROR 2026-11-27 12:00:01,000 views 4242 140245123456 Internal Server Error: /api/profile/\n' +
    traceback +
    '\n' +
    'INFO 2026-11-27 12:00:03,000 views 4242 140245123456 a message\nof two lines\n' +
    'INFO 2026-11-27 12:00:04,000 views 4242 140245123456 then JSON\n' +
    '{"asctime": "2026-11-27 12:00:05,000", "levelname": "INFO", "message": "json"}\n' +
    'INFO 2026-11-27 12:00:06,000 views 4242 140245123456 crlf\r\n' +
    'INFO 2026-11-27 12:00:07,000 views 4242 140245123456 after crlf\r\n' +
    'WARNING 2026-11-27 12:00:08,000 views 4242 140245123456 the last line, held until the end\n';
  const taken = assertSame(file);
  assert.ok(taken >= 4, `the byte way took ${taken} lines`);
  // A last line without its line feed comes as text, with a verbose line held before it.
  assertSame(file + 'a last line never ended');
  // Every read size, and the timeout falling between any two reads.
  for (let read = 1; read <= 120; read += 7) {
    assertSame(file, { reads: [read], stepMs: 0 });
    assertSame(file, { reads: [read], stepMs: MULTILINE_TIMEOUT_MS });
    assertSame(file, { reads: [read, 3 * read], stepMs: MULTILINE_TIMEOUT_MS / 3 });
  }
});

const HEADER = 'ERROR 2026-11-27 12:00:01,000 views 4242 140245123456 Internal Server Error: /api/profile/';
const FRAMES = ['Traceback (most recent call last):', '  File "/app/backend/api/views.py", line 88, in retrieve', '    profile = Profile.objects.get(user_id=1)'];

test('tracebacks the byte way takes give the documents the string way gives', () => {
  const tracebacks: string[][] = [
    [...FRAMES, 'api.models.Profile.DoesNotExist: Profile matching query does not exist.'],
    [...FRAMES, 'KeyboardInterrupt'],
    [...FRAMES, 'ValueError:'],
    [...FRAMES, '_Private2.sub_3.Error9: a: b: c'],
    [...FRAMES, 'KeyError: \'"quoted" \\ back\tslash \u0001 \u001f é 日本 😀 \u2028 \u0085 end\''],
    ['Traceback (most recent call last): and more text', '\tFile "tab.py", line 1, in <module>', '              ^^^^^^^^^^^^^^', '   ', 'RuntimeError: x'],
    [...FRAMES, '  File "/x.py", line 2, in g', '    ' + 'long_call(argument) + '.repeat(40), 'TypeError: ' + 'm'.repeat(300)],
    [...FRAMES, 'ValueError: café'],
    [...FRAMES, 'INFO: an exception line that starts like a level'],
  ];
  for (const tb of tracebacks) {
    const file = FIRST + HEADER + '\n' + tb.join('\n') + '\n' + NEXT;
    const taken = assertSame(file);
    // FIRST teaches the layout the string way; the header, every traceback line and NEXT are taken.
    assert.equal(taken, 2 + tb.length, `the byte way did not take all of ${JSON.stringify(tb.at(-1)!.slice(0, 60))}`);
    for (let read = 1; read <= 200; read += 13) {
      assertSame(file, { reads: [read], stepMs: MULTILINE_TIMEOUT_MS / 2 });
      assertSame(file, { reads: [read], stepMs: MULTILINE_TIMEOUT_MS });
    }
  }
});

test('tracebacks of other shapes go the string way, and the records are the same', () => {
  const spaces = ['\u00a0', '\u1680', '\u2000', '\u2005', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff', ' ', '\t', '\u000b', '\u000c'];
  const tracebacks: string[][] = [
    [...FRAMES, '', 'ValueError: a blank line in the frames'],
    [...FRAMES, 'Traceback (most recent call last):', '  File "/y.py", line 1, in h', 'ValueError: a second start in the frames'],
    [...FRAMES, 'Stack (most recent call last):', '  File "/y.py", line 1, in h'],
    [...FRAMES, 'not a type: x'],
    [...FRAMES, ': x'],
    [...FRAMES, 'Bad-Type'],
    [...FRAMES, '9Error: x'],
    [...FRAMES, 'a..b: x'],
    [...FRAMES, 'ValueError: x', '', 'The above exception was the direct cause of the following exception:', '', ...FRAMES, 'RuntimeError: y'],
    [...FRAMES, 'psycopg2.OperationalError: could not connect', '\tIs the server running?'],
    [...FRAMES, 'django.db.utils.ProgrammingError: syntax error', 'LINE 1: SELECT', 'a plain line after the exception line'],
    [...FRAMES, 'ValueError: x', '{"json": "after the exception line"}'],
    [...FRAMES],
    ['a message line before the traceback', ...FRAMES, 'ValueError: x'],
    ...spaces.map((w) => [...FRAMES, `ValueError: ends with ${JSON.stringify(w)}${w}`]),
  ];
  for (const tb of tracebacks) {
    const file = FIRST + HEADER + '\n' + tb.join('\n') + '\n' + NEXT;
    assertSame(file);
    assertSame(file, { reads: [7], stepMs: MULTILINE_TIMEOUT_MS / 2 });
    assertSame(file + tb.join('\n') + '\n'); // lines of a traceback after a whole record: the string way's
  }
  // Invalid UTF-8 in a frame; a CR the string way strips; a traceback past max_line_bytes; one cut by the timeout.
  assertSame(Buffer.concat([Buffer.from(FIRST + HEADER + '\n' + FRAMES.join('\n') + '\n  bad '), Buffer.from([0xc3, 0x28]), Buffer.from('\nValueError: x\n' + NEXT)]));
  assertSame(FIRST + HEADER + '\n' + FRAMES.join('\n') + '\r\r\nValueError: x\n' + NEXT);
  const long = FIRST + HEADER + '\n' + FRAMES.join('\n') + '\n' + '  frame\n'.repeat(9000) + 'ValueError: long\n' + NEXT;
  assertSame(long);
  // Cut at a max_line_bytes of 4 KiB: the pieces are the same both ways.
  const small = readBoth(Buffer.from(long), (emit, placement) => createDjangoParser(parserContext(PATH, { maxRecordBytes: 4096 }), emit, 'file', '', placement), NOW);
  assert.deepEqual(small.bytes, small.strings);
  assert.ok(small.strings.length > 10, `${small.strings.length} records`);
  const cut = FIRST + HEADER + '\n' + FRAMES.join('\n') + '\n';
  assertSame(cut + NEXT, { reads: [cut.length, 10_000], stepMs: MULTILINE_TIMEOUT_MS });
  assertSame(cut + 'ValueError: late\n' + NEXT, { reads: [cut.length, 10_000], stepMs: MULTILINE_TIMEOUT_MS });
});

test('the bench corpus: every line taken by the byte way but those of the first record, tracebacks included', () => {
  const records: string[] = [];
  for (let i = 0; i < 400; i++) {
    const seconds = String(i % 60).padStart(2, '0');
    records.push(`${i % 20 === 0 ? 'ERROR' : 'INFO'} 2026-11-27 12:${String(Math.floor(i / 60)).padStart(2, '0')}:${seconds},${String(i).padStart(3, '0')} views 4242 140245123456 GET /api/accreditations/${i}/ seq=${i}\n`);
    if (i % 20 === 0) records.push('Traceback (most recent call last):\n  File "/app/x.py", line 1, in f\n    g()\nKeyError: \'missing\'\n');
  }
  const file = records.join('');
  const { strings, bytes, taken } = readBothWays(file);
  assert.deepEqual(bytes, strings);
  assert.equal(strings.length, 400);
  // The first record's lines go the string way (its first line teaches the file its layout); every other line is
  // taken, the 4 of each of the other 19 tracebacks too.
  assert.equal(taken, 399 + 19 * 4);
  assert.equal(strings.filter((r) => r.json.includes('"stack_trace"')).length, 20);
});

/** Formats records with Python's own logging.Formatter and Django's "verbose" format (formatter_writer.py --records). */
function pythonVerbose(items: readonly { level: string; message: string; exc: string | null; created: number }[]): string {
  const formatted = JSON.parse(
    execFileSync(PYTHON, [FORMATTER_WRITER, '--records'], {
      input: JSON.stringify(
        items.map((it) => ({
          format: '{levelname} {asctime} {module} {process:d} {thread:d} {message}',
          style: '{',
          datefmt: null,
          name: 'django.request',
          level: it.level,
          message: it.message,
          lineno: 88,
          funcName: 'retrieve',
          created: it.created,
          exc: it.exc,
        })),
      ),
      encoding: 'utf8',
      env: { ...process.env, TZ: 'Europe/Paris' },
    }),
  ) as string[];
  return formatted.map((line) => line + '\n').join('');
}

test("what Python's logging.Formatter writes in Django's verbose format, with tracebacks, across a DST change", () => {
  const items = [];
  // Paris leaves summer time at 2026-10-25 03:00 (+02:00 → +01:00): records every 7 minutes across it.
  const start = Date.UTC(2026, 9, 24, 23, 30) / 1000;
  for (let i = 0; i < 60; i++) {
    items.push({
      level: ['INFO', 'WARNING', 'ERROR', 'DEBUG', 'CRITICAL'][i % 5]!,
      message: i % 9 === 4 ? `two lines ${i}\nsecond line` : `"GET /api/items/${i}/ HTTP/1.1" 200 é 日本 \\ \t ${i}`,
      exc: i % 7 === 3 ? `boom ${i}` : null,
      created: start + i * 420 + 0.123,
    });
  }
  const file = pythonVerbose(items);
  const taken = assertSame(file);
  assert.ok(taken > 30, `the byte way took ${taken} lines`);
  assertSame(file, { reads: [333, 17], stepMs: MULTILINE_TIMEOUT_MS / 2 });
});

/** A verbose first line, with what a message holds and times and ids the byte way declines. */
const VERBOSE = fc
  .record({
    level: fc.constantFrom('DEBUG', 'INFO', 'WARNING', 'WARN', 'ERROR', 'CRITICAL'),
    time: fc.constantFrom('2026-11-27 12:00:01,001', '2026-11-27 13:59:59,999', '2026-11-27T12:00:01.5Z', '2026-02-30 12:00:00,000', '2026-11-27 12:60:00,000'),
    module: fc.constantFrom('views', 'm"od', 'модуль', 'x'),
    pid: fc.constantFrom('4242', '0', '007', '1234567890123456'),
    message: fc.string({ unit: fc.oneof(fc.constantFrom('"', '\\', '\t', '\u0001', '\r', 'é', '😀', ' '), fc.string({ minLength: 1, maxLength: 1 })), maxLength: 40 }),
  })
  .map((r) => `${r.level} ${r.time} ${r.module} ${r.pid} 140245123456 ${r.message}`);

/** A line of a generated file, drawn from what a Django text log holds. */
const LINE = fc.oneof(
  VERBOSE,
  fc.constantFrom('Traceback (most recent call last):', '  File "/app/x.py", line 1, in f', '    g()', "KeyError: 'missing'", '', '  indented', 'plain text'),
  fc.constantFrom('{"asctime": "2026-11-27 12:00:02,000", "levelname": "INFO", "message": "json"}', '{not json'),
);

/** Text with what escapes, trims or decodes differently. */
const TEXT = fc.string({ unit: fc.oneof(fc.constantFrom('"', '\\', '\t', '\u0001', '\r', 'é', '😀', ' ', '\u00a0', '\u3000', ':', ': '), fc.string({ minLength: 1, maxLength: 1 })), maxLength: 30 });
/** A line between a traceback's start and its exception line: mostly frames, sometimes what ends the byte way. */
const FRAME = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('  File "/app/x.py", line 1, in f', '    g()', '\treturn {}["k"]', '              ^^^^^^^^') },
  { weight: 3, arbitrary: TEXT.map((t) => '  ' + t) },
  { weight: 1, arbitrary: fc.constantFrom('', '   ', 'Traceback (most recent call last):', 'Stack (most recent call last):', '  INFO 2026-11-27 12:00:01,001 views 1 2 indented') },
);
/** An exception line: named types, bare ones, and lines that name none. */
const EXCEPTION = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom('ValueError', 'api.models.Profile.DoesNotExist', '_x1', 'KeyError'), TEXT).map(([t, m]) => `${t}: ${m}`) },
  { weight: 2, arbitrary: fc.constantFrom('KeyboardInterrupt', 'ValueError:', 'StopIteration ') },
  { weight: 2, arbitrary: fc.oneof(TEXT, VERBOSE, fc.constantFrom('not a type: x', ': x', 'a..b: c', '9x: y')) },
);
/** A record: a verbose first line, and maybe a traceback (maybe cut short, maybe with lines after it). */
const RECORD = fc
  .record({
    header: VERBOSE,
    traceback: fc.option(
      fc.record({
        frames: fc.array(FRAME, { maxLength: 5 }),
        exception: fc.option(EXCEPTION, { freq: 6 }),
        after: fc.oneof({ weight: 4, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(LINE, { minLength: 1, maxLength: 2 }) }),
      }),
      { freq: 2 },
    ),
  })
  .map(({ header, traceback }) =>
    traceback === null ? [header] : [header, 'Traceback (most recent call last):', ...traceback.frames, ...(traceback.exception === null ? [] : [traceback.exception]), ...traceback.after],
  );

test('property: generated verbose files, in any reads, with any timeouts, give the same records both ways', () => {
  let files = 0;
  let filesTaken = 0;
  fc.assert(
    fc.property(
      fc.array(LINE, { minLength: 1, maxLength: 30 }),
      fc.constantFrom('\n', '\r\n'),
      fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 4 }),
      fc.constantFrom(0, MULTILINE_TIMEOUT_MS / 2, MULTILINE_TIMEOUT_MS),
      fc.boolean(),
      (lines, eol, reads, stepMs, lastEnds) => {
        // Without its line feed the last line is handed out at the end as it is (partial), never as bytes.
        const file = FIRST + lines.map((l) => l + eol).join('').slice(0, lastEnds ? undefined : -eol.length);
        files++;
        if (assertSame(file, { reads, stepMs }) > 0) filesTaken++;
      },
    ),
    { numRuns: 1500 },
  );
  // Not vacuous: the byte way took lines in a good part of the generated files, not only in hand-picked ones.
  assert.ok(filesTaken > files / 3, `the byte way took lines in ${filesTaken} of ${files} generated files`);
});

test('property: generated records with tracebacks, in any reads, with any timeouts and record limits, give the same records both ways', () => {
  let files = 0;
  let tracebacksTaken = 0;
  fc.assert(
    fc.property(
      fc.array(RECORD, { minLength: 1, maxLength: 12 }),
      fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 4 }),
      fc.constantFrom(0, MULTILINE_TIMEOUT_MS / 2, MULTILINE_TIMEOUT_MS),
      fc.constantFrom(64 * 1024, 400, 150),
      (records, reads, stepMs, maxRecordBytes) => {
        const file = Buffer.from(FIRST + records.map((lines) => lines.join('\n') + '\n').join(''), 'utf8');
        const context = parserContext(PATH, { maxRecordBytes });
        const { strings, bytes, taken } = readBoth(file, (emit, placement) => createDjangoParser(context, emit, 'file', '', placement), NOW, { reads, stepMs });
        assert.deepEqual(bytes, strings);
        files++;
        // A line taken beyond one per record is a traceback's.
        if (taken > records.length) tracebacksTaken++;
      },
    ),
    { numRuns: 1500 },
  );
  // Not vacuous: traceback lines were taken as bytes in a good part of the generated files.
  assert.ok(tracebacksTaken > files / 5, `the byte way took traceback lines in ${tracebacksTaken} of ${files} generated files`);
});

test('with event.original wanted the byte way takes nothing (lines are text then)', () => {
  const file = FIRST + 'INFO 2026-11-27 12:00:01,001 views 4242 140245123456 a\n' + 'INFO 2026-11-27 12:00:01,002 views 4242 140245123456 b\n';
  assert.equal(readBothWays(file).taken, 2);
  // With event.original wanted, lines are text: nothing is taken.
  assert.equal(readBothWays(file, undefined, true).taken, 0);
});
