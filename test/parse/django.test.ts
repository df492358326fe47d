import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  createDjangoParser,
  LINE_PARTIAL,
  truncateUtf8,
  type DjangoMode,
  type DjangoParser,
} from '../../src/parse/django.js';
import { createParser } from '../../src/parse/index.js';
import type { EcsDocument } from '../../src/record.js';
import type { Line, ParserContext } from '../../src/parse/types.js';

const PATH = '/srv/app/logs/django.log';
const NOW = Date.UTC(2026, 10, 27, 13, 0, 0); // 2026-11-27T13:00:00.000Z
const NOW_ISO = '2026-11-27T13:00:00.000Z';

const context = (over: Partial<ParserContext> = {}): ParserContext => parserContext(PATH, over);

/** Splits text into Lines as the tailer would: byte offsets, the newline counted in `end`. */
function toLines(text: string, from = 0): Line[] {
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  const lines: Line[] = [];
  let offset = from;
  for (const t of parts) {
    const end = offset + Buffer.byteLength(t) + 1;
    lines.push({ text: t, start: offset, end, truncated: false, invalidUtf8: false, partial: false });
    offset = end;
  }
  return lines;
}

interface Harness {
  parser: DjangoParser;
  records: DecodedRecord[];
  feed(text: string, now?: number): Line[];
  /** Offset after the last line fed. */
  offset: number;
}

function harness(mode: DjangoMode = 'file', over: Partial<ParserContext> = {}, decoration?: string): Harness {
  const records: DecodedRecord[] = [];
  const parser = createDjangoParser(context(over), (r) => records.push(decoded(r)), mode, decoration);
  const h: Harness = {
    parser,
    records,
    offset: 0,
    feed(text, now = NOW) {
      const lines = toLines(text, h.offset);
      for (const l of lines) parser.push(l, now);
      if (lines.length > 0) h.offset = lines[lines.length - 1]!.end;
      return lines;
    },
  };
  return h;
}

/** Every byte of [0, total) is in exactly one record. */
function assertCoverage(records: readonly DecodedRecord[], total: number): void {
  const sorted = [...records].sort((a, b) => a.start - b.start);
  let at = 0;
  for (const r of sorted) {
    assert.equal(r.start, at, `record at ${r.start} should start at ${at}`);
    assert.ok(r.end > r.start, `record at ${r.start} is empty`);
    assert.equal(r.doc.log.offset, r.start);
    at = r.end;
  }
  assert.equal(at, total);
}

const python = runPython;

/**
 * A Django-style log written by the real `logging` module with the formats Django projects use. The clock is pinned
 * (asctime 2026-11-27 12:00:00,123) and so are process and thread ids.
 */
const PY_DJANGO_LOG = String.raw`
import calendar, io, json, logging, sys, time

CREATED = calendar.timegm((2026, 11, 27, 12, 0, 0)) + 0.123
linenos = []
class Fix(logging.Filter):
    def filter(self, r):
        r.created = CREATED; r.msecs = 123.0; r.process = 4242; r.thread = 140245
        linenos.append(r.lineno)
        return True
logging.Formatter.converter = time.gmtime
buf = io.StringIO()
def logger(name, fmt, style="%"):
    h = logging.StreamHandler(buf)
    h.setFormatter(logging.Formatter(fmt, style=style))
    h.addFilter(Fix())
    l = logging.getLogger(name)
    l.handlers = [h]; l.propagate = False; l.setLevel(logging.DEBUG)
    return l
req = logger("django.request", "[%(asctime)s] %(levelname)s [%(name)s:%(lineno)d] %(message)s")
csrf = logger("django.security.csrf", "[%(asctime)s] %(levelname)s %(name)s: %(message)s")
plain = logger("plain", "[%(asctime)s] %(levelname)s %(message)s")
verbose = logger("app.views", "{levelname} {asctime} {module} {process:d} {thread:d} {message}", "{")

def inner():
    return {}["missing"]
def view():
    try:
        inner()
    except KeyError as e:
        raise ValueError("bad value") from e

plain.info("Starting up")
try:
    try:
        view()
    except ValueError:
        1/0
except Exception:
    exc = sys.exc_info()
    req.error("Internal Server Error: /api/x", exc_info=exc)
    tb = logging.Formatter().formatException(exc)
csrf.warning("Forbidden (CSRF cookie not set.): /api/y")
verbose.error("Internal Server Error: /api/z")
plain.info("multi\nline message")
verbose.warning("done")
print(json.dumps({"log": buf.getvalue(), "tb": tb, "linenos": linenos}))
`;
import { decoded, parserContext, runPython, type DecodedRecord } from '../support/parsing.js';

const pyOut = python(PY_DJANGO_LOG);
const FIXTURE = pyOut === null ? null : (JSON.parse(pyOut) as { log: string; tb: string; linenos: number[] });
const noPython = FIXTURE === null ? 'python3 >= 3.11 not available' : false;

/** A hand-written chained traceback in Python 3.11+ style, for tests that must not depend on python3. */
const TB = [
  'Traceback (most recent call last):',
  '  File "/app/views.py", line 10, in get',
  '    return data["missing"]',
  '           ~~~~^^^^^^^^^^^',
  "KeyError: 'missing'",
  '',
  'During handling of the above exception, another exception occurred:',
  '',
  'Traceback (most recent call last):',
  '  File "/app/views.py", line 12, in get',
  '    raise ValueError("boom")',
  'ValueError: boom',
].join('\n');

describe('django text records (file mode)', () => {
  it('parses a log written by Python logging: both header formats, chained traceback, multi-line message', { skip: noPython }, () => {
    const { log, tb, linenos } = FIXTURE!;
    assert.match(tb, /\^\^\^\^/); // 3.11+ markers are really in the fixture
    const h = harness();
    const lines = h.feed(log);
    h.parser.flush(NOW, true);
    assert.equal(h.parser.heldFrom(), null);
    const ts = '2026-11-27T12:00:00.123+01:00';
    const tbLines = tb.split('\n').length;
    const at = (i: number) => lines[i]!.start;
    const expected: DecodedRecord[] = [
      {
        start: at(0),
        end: lines[0]!.end,
        doc: { '@timestamp': ts, message: 'Starting up', log: { file: { path: PATH }, offset: at(0), level: 'INFO' }, host: { name: 'web-1' } },
      },
      {
        start: at(1),
        end: lines[1 + tbLines]!.end,
        doc: {
          '@timestamp': ts,
          message: 'Internal Server Error: /api/x',
          log: {
            file: { path: PATH },
            offset: at(1),
            level: 'ERROR',
            logger: 'django.request',
            origin: { file: { line: linenos[1]! } },
          },
          error: { stack_trace: tb, type: 'ZeroDivisionError', message: 'division by zero' },
          host: { name: 'web-1' },
        },
      },
      {
        start: at(2 + tbLines),
        end: lines[2 + tbLines]!.end,
        doc: {
          '@timestamp': ts,
          message: 'Forbidden (CSRF cookie not set.): /api/y',
          log: { file: { path: PATH }, offset: at(2 + tbLines), level: 'WARNING', logger: 'django.security.csrf' },
          host: { name: 'web-1' },
        },
      },
      {
        start: at(3 + tbLines),
        end: lines[3 + tbLines]!.end,
        doc: {
          '@timestamp': ts,
          message: 'Internal Server Error: /api/z',
          log: { file: { path: PATH }, offset: at(3 + tbLines), level: 'ERROR', origin: { file: { name: 'app' } } },
          process: { pid: 4242, thread: { id: 140245 } },
          host: { name: 'web-1' },
        },
      },
      {
        start: at(4 + tbLines),
        end: lines[5 + tbLines]!.end,
        doc: {
          '@timestamp': ts,
          message: 'multi\nline message',
          log: { file: { path: PATH }, offset: at(4 + tbLines), level: 'INFO' },
          host: { name: 'web-1' },
        },
      },
      {
        start: at(6 + tbLines),
        end: lines[6 + tbLines]!.end,
        doc: {
          '@timestamp': ts,
          message: 'done',
          log: { file: { path: PATH }, offset: at(6 + tbLines), level: 'WARNING', origin: { file: { name: 'app' } } },
          process: { pid: 4242, thread: { id: 140245 } },
          host: { name: 'web-1' },
        },
      },
    ];
    assert.deepEqual(h.records, expected);
    assert.equal(lines.length, 7 + tbLines);
    assertCoverage(h.records, Buffer.byteLength(log));
  });

  it('reads the header variants', () => {
    const h = harness();
    h.feed(
      [
        '[2026-11-27 12:00:00,123] ERROR [django.request:241] Internal Server Error: /x',
        '[2026-11-27 12:00:01.5] WARN note: this is a logger',
        '[2026-11-27T12:00:02] CRITICAL',
        '[2026-11-27 12:00:03,000] FATAL http://example.com: not a logger',
        '[2026-11-27 12:00:04,000+00:00] NOTSET [weird name:7] x',
        'DEBUG 2026-07-01 09:00:00,001 models 1 2 ',
        'INFO 2026-07-01 09:00:00,002 models 1 2',
      ].join('\n'),
    );
    h.parser.flush(NOW, true);
    const pick = (r: DecodedRecord) => [r.doc['@timestamp'], r.doc.log.level, r.doc.log.logger, r.doc.log.origin, r.doc.message];
    assert.deepEqual(h.records.map(pick), [
      ['2026-11-27T12:00:00.123+01:00', 'ERROR', 'django.request', { file: { line: 241 } }, 'Internal Server Error: /x'],
      ['2026-11-27T12:00:01.500+01:00', 'WARN', 'note', undefined, 'this is a logger'],
      ['2026-11-27T12:00:02.000+01:00', 'CRITICAL', undefined, undefined, ''],
      ['2026-11-27T12:00:03.000+01:00', 'FATAL', undefined, undefined, 'http://example.com: not a logger'],
      // "weird name" has a space: not a logger, the bracket stays in the message
      ['2026-11-27T12:00:04.000Z', 'NOTSET', undefined, undefined, '[weird name:7] x'],
      ['2026-07-01T09:00:00.001+02:00', 'DEBUG', undefined, { file: { name: 'models' } }, ''],
      ['2026-07-01T09:00:00.002+02:00', 'INFO', undefined, { file: { name: 'models' } }, ''],
    ]);
    assert.equal(h.records.every((r) => r.doc.tags === undefined), true);
  });

  it('does not take lowercase levels, unknown levels or bad dates for headers', () => {
    const h = harness();
    h.feed(['[2026-11-27 12:00:00,123] INFO first', '[2026-11-27 12:00:00,123] info x', 'ERR 2026-11-27 12:00:00,123 m 1 2 x'].join('\n'));
    // A header shape with an impossible date still starts a record, with a guessed timestamp, tagged.
    h.feed('[2026-13-45 12:00:00,123] ERROR broken clock');
    h.parser.flush(NOW, true);
    assert.deepEqual(
      h.records.map((r) => [r.doc.message, r.doc['@timestamp'], r.doc.tags]),
      [
        ['first\n[2026-11-27 12:00:00,123] info x\nERR 2026-11-27 12:00:00,123 m 1 2 x', '2026-11-27T12:00:00.123+01:00', undefined],
        ['broken clock', '2026-11-27T12:00:00.123+01:00', ['_logship_timestamp_missing']],
      ],
    );
  });

  it('holds a record until the next header, the timeout, or a forced flush', () => {
    const h = harness('file', { multilineTimeoutMs: 1000 });
    const l1 = h.feed('[2026-11-27 12:00:00,123] ERROR [django.request:241] Internal Server Error: /x', 10_000);
    assert.equal(h.parser.heldFrom(), 0);
    const l2 = h.feed(TB, 10_400); // continuation lines restart the clock
    assert.equal(h.records.length, 0);
    h.parser.flush(11_000, false);
    assert.equal(h.records.length, 0, 'only 600 ms since the last line');
    assert.equal(h.parser.heldFrom(), 0);
    h.parser.flush(11_400, false);
    assert.equal(h.records.length, 1);
    assert.equal(h.parser.heldFrom(), null);
    assert.deepEqual(h.records[0], {
      start: 0,
      end: l2[l2.length - 1]!.end,
      doc: {
        '@timestamp': '2026-11-27T12:00:00.123+01:00',
        message: 'Internal Server Error: /x',
        log: { file: { path: PATH }, offset: 0, level: 'ERROR', logger: 'django.request', origin: { file: { line: 241 } } },
        error: { stack_trace: TB, type: 'ValueError', message: 'boom' },
        host: { name: 'web-1' },
      },
    });
    assert.equal(l1.length, 1);

    // A late continuation has nothing to join: it becomes its own record, tagged, with the previous timestamp.
    const late = h.feed('  a late line', 20_000);
    assert.equal(h.parser.heldFrom(), late[0]!.start);
    h.parser.flush(20_000, true);
    assert.deepEqual(h.records[1]!.doc, {
      '@timestamp': '2026-11-27T12:00:00.123+01:00',
      message: '  a late line',
      log: { file: { path: PATH }, offset: late[0]!.start },
      host: { name: 'web-1' },
      tags: ['_logship_parse_error', '_logship_timestamp_missing'],
    });
    assertCoverage(h.records, h.offset);
  });

  it('keeps lines between the header and the traceback in the message, the rest in the stack trace', () => {
    const h = harness();
    h.feed(['[2026-11-27 12:00:00,123] ERROR boom', 'details: {"a": 1}', "{'python': 'dict'}", TB, 'printed after'].join('\n'));
    h.parser.flush(NOW, true);
    assert.equal(h.records.length, 1);
    assert.equal(h.records[0]!.doc.message, 'boom\ndetails: {"a": 1}\n{\'python\': \'dict\'}');
    assert.equal(h.records[0]!.doc.error!.stack_trace, TB + '\nprinted after');
    assert.equal(h.records[0]!.doc.error!.type, 'ValueError');
    assert.equal(h.records[0]!.doc.tags, undefined);
  });

  it('makes a traceback at file start one record, named after its exception', () => {
    const h = harness();
    const lines = h.feed(TB + '\n[2026-11-27 12:00:05,000] INFO after');
    h.parser.flush(NOW, true);
    assert.deepEqual(h.records, [
      {
        start: 0,
        end: lines[11]!.end,
        doc: {
          '@timestamp': NOW_ISO,
          message: 'ValueError: boom',
          log: { file: { path: PATH }, offset: 0 },
          error: { stack_trace: TB, type: 'ValueError', message: 'boom' },
          host: { name: 'web-1' },
          tags: ['_logship_parse_error', '_logship_timestamp_missing'],
        },
      },
      {
        start: lines[12]!.start,
        end: lines[12]!.end,
        doc: {
          '@timestamp': '2026-11-27T12:00:05.000+01:00',
          message: 'after',
          log: { file: { path: PATH }, offset: lines[12]!.start, level: 'INFO' },
          host: { name: 'web-1' },
        },
      },
    ]);
  });

  it('tags a line it cannot read, and malformed JSON, as parse errors', () => {
    const h = harness();
    h.feed('hello\n  world');
    h.parser.flush(NOW, true);
    h.feed('{"broken": ');
    h.parser.flush(NOW, true);
    assert.deepEqual(
      h.records.map((r) => [r.start, r.end, r.doc.message, r.doc['@timestamp'], r.doc.tags]),
      [
        [0, 14, 'hello\n  world', NOW_ISO, ['_logship_parse_error', '_logship_timestamp_missing']],
        [14, 26, '{"broken": ', NOW_ISO, ['_logship_parse_error', '_logship_timestamp_missing']],
      ],
    );
  });

  it('ships a record at maxRecordBytes and goes on with the rest as records of their own, nothing dropped', () => {
    const h = harness('file', { maxRecordBytes: 60 });
    // 26 + 1 + 20 = 47 bytes; the traceback's first line (34) does not fit: the record is shipped there.
    const lines = h.feed(['[2026-11-27 12:00:00] INFO', 'line two is 20 bytes', 'Traceback (most recent call last):', '  File "a.py", line 1', 'ValueError: kept'].join('\n'));
    h.parser.flush(NOW, true);
    const ts = '2026-11-27T12:00:00.000+01:00';
    const pick = (r: DecodedRecord) => [r.start, r.end, r.doc['@timestamp'], r.doc.log.level, r.doc.message, r.doc.error?.stack_trace, r.doc.tags];
    assert.deepEqual(h.records.map(pick), [
      [0, lines[1]!.end, ts, 'INFO', '\nline two is 20 bytes', undefined, ['_logship_truncated']],
      // 34 + 1 + 21 = 56: the exception line (16) does not fit either.
      [lines[2]!.start, lines[3]!.end, ts, 'INFO', '', 'Traceback (most recent call last):\n  File "a.py", line 1', ['_logship_truncated']],
      [lines[4]!.start, lines[4]!.end, ts, 'INFO', '', 'ValueError: kept', ['_logship_truncated']],
    ]);
    assertCoverage(h.records, h.offset);
    // Every byte of text is in a record.
    const shipped = h.records.map((r) => [r.doc.message, r.doc.error?.stack_trace ?? ''].join('')).join('');
    for (const l of lines.slice(1)) assert.ok(shipped.includes(l.text), l.text);

    const h2 = harness('file', { maxRecordBytes: 40 });
    h2.feed('[2026-11-27 12:00:00] INFO\nabcdefghijkéé\nmore\n[2026-11-27 12:00:01] INFO next');
    h2.parser.flush(NOW, true);
    // 26 + 1 + 15 = 42 > 40: the header alone, then the rest of its message, then the next record as usual.
    assert.deepEqual(
      h2.records.map((r) => [r.doc.message, r.doc.tags]),
      [
        ['', ['_logship_truncated']],
        ['abcdefghijkéé\nmore', ['_logship_truncated']],
        ['next', undefined],
      ],
    );
    assertCoverage(h2.records, h2.offset);
  });

  it('carries line flags into tags, event.original when asked, and no tags key otherwise', () => {
    const records: DecodedRecord[] = [];
    const p = createDjangoParser(context({ includeOriginal: true }), (r) => records.push(decoded(r)), 'file');
    const base = { truncated: false, invalidUtf8: false, partial: false };
    p.push({ ...base, text: '[2026-11-27 12:00:00,000] INFO a', start: 0, end: 33 }, NOW);
    p.push({ ...base, text: 'b\uFFFD', start: 33, end: 37, invalidUtf8: true }, NOW);
    p.push({ ...base, text: '[2026-11-27 12:00:01,000] INFO c', start: 37, end: 70, truncated: true }, NOW);
    p.push({ ...base, text: '[2026-11-27 12:00:02,000] INFO d', start: 70, end: 102 }, NOW);
    p.push({ ...base, text: 'tail', start: 102, end: 106, partial: true }, NOW);
    p.push({ ...base, text: '[2026-11-27 12:00:03,000] INFO e\r', start: 106, end: 141 }, NOW);
    p.flush(NOW, true);
    assert.deepEqual(
      records.map((r) => [r.doc.message, r.doc.event, r.doc.tags]),
      [
        ['a\nb\uFFFD', { original: '[2026-11-27 12:00:00,000] INFO a\nb\uFFFD' }, ['_logship_invalid_utf8']],
        ['c', { original: '[2026-11-27 12:00:01,000] INFO c' }, ['_logship_truncated']],
        ['d\ntail', { original: '[2026-11-27 12:00:02,000] INFO d\ntail' }, ['_logship_partial_line_timeout']],
        ['e', { original: '[2026-11-27 12:00:03,000] INFO e' }, undefined],
      ],
    );
    assert.equal('tags' in records[3]!.doc, false);
    assertCoverage(records, 141);
  });
});

describe('django partial lines', () => {
  it('ships the rest of a line shipped at partial_line_timeout as a record of its own, tagged, at its offset', () => {
    const records: DecodedRecord[] = [];
    const p = createDjangoParser(context(), (r) => records.push(decoded(r)), 'file');
    const base = { truncated: false, invalidUtf8: false, partial: false };
    p.push({ ...base, text: '[2026-11-27 12:00:00,000] ERROR first', start: 0, end: 38 }, NOW);
    p.push({ ...base, text: '[2026-11-27 12:00:01,000] INFO half a li', start: 38, end: 77, partial: true }, NOW);
    p.push({ ...base, text: 'ne, the rest', start: 77, end: 90, partialTail: true }, NOW);
    p.push({ ...base, text: '  an indented line after it', start: 90, end: 118 }, NOW);
    p.push({ ...base, text: '', start: 118, end: 119, partialTail: true }, NOW); // only the newline came: nothing to ship
    p.flush(NOW, true);
    assert.deepEqual(
      records.map((r) => [r.start, r.end, r.doc['@timestamp'], r.doc.message, r.doc.tags]),
      [
        [0, 38, '2026-11-27T12:00:00.000+01:00', 'first', undefined],
        [38, 77, '2026-11-27T12:00:01.000+01:00', 'half a li', ['_logship_partial_line_timeout']],
        [77, 90, '2026-11-27T12:00:01.000+01:00', 'ne, the rest', ['_logship_timestamp_missing', '_logship_partial_line_tail']],
        [90, 118, '2026-11-27T12:00:01.000+01:00', '  an indented line after it', ['_logship_parse_error', '_logship_timestamp_missing']],
      ],
    );
    assert.equal(records[2]!.doc.log.offset, 77);
  });
});

describe('django JSON records', () => {
  const line = (obj: Record<string, unknown>) => JSON.stringify(obj);

  it('maps python-json-logger keys to ECS and keeps the rest under django', () => {
    const h = harness('file', { includeOriginal: true });
    const text = line({
      asctime: '2026-11-27 12:00:00,123',
      levelname: 'ERROR',
      name: 'django.request',
      message: 'Internal Server Error: /api/x',
      exc_info: TB,
      filename: 'views.py',
      module: 'views',
      lineno: 241,
      funcName: 'get',
      process: 4242,
      thread: 140245,
      threadName: 'MainThread',
      request_id: 'b6f0c2',
      status_code: 500,
      user: { id: 7 },
      taskName: null,
    });
    h.feed(text);
    assert.equal(h.records.length, 1, 'a JSON line is emitted at once');
    assert.equal(h.parser.heldFrom(), null);
    assert.deepEqual(h.records[0], {
      start: 0,
      end: Buffer.byteLength(text) + 1,
      doc: {
        '@timestamp': '2026-11-27T12:00:00.123+01:00',
        message: 'Internal Server Error: /api/x',
        log: {
          file: { path: PATH },
          offset: 0,
          level: 'ERROR',
          logger: 'django.request',
          origin: { file: { name: 'views.py', line: 241 }, function: 'get' },
        },
        error: { stack_trace: TB, type: 'ValueError', message: 'boom' },
        process: { pid: 4242, thread: { id: 140245, name: 'MainThread' } },
        django: { request_id: 'b6f0c2', status_code: 500, user: { id: 7 }, taskName: null, module: 'views' },
        host: { name: 'web-1' },
        event: { original: text },
      },
    });
  });

  it('uses the alternative keys and created; keeps what it could not use', () => {
    const h = harness();
    h.feed(
      [
        line({ timestamp: '2026-11-27T11:00:00.123456+00:00', level: 'info', logger: 'app', msg: 'alt keys', created: 1795780800.5 }),
        line({ asctime: '27/Nov/2026 12:00:00', created: 1795780800.5, message: 'created wins over unreadable asctime', lineno: 'x' }),
        line({ '@timestamp': '2026-11-27T12:00:00Z', time: 'later', message: 42, stack_info: 'Stack (most recent call last):\n  File "a.py", line 1, in <module>' }),
        '{"message": "no time at all", "__proto__": "kept", "exc_info": null}',
      ].join('\n'),
    );
    const docs = h.records.map((r) => r.doc);
    assert.deepEqual(docs[0], {
      '@timestamp': '2026-11-27T11:00:00.123Z',
      message: 'alt keys',
      log: { file: { path: PATH }, offset: 0, level: 'info', logger: 'app' },
      django: { created: 1795780800.5 },
      host: { name: 'web-1' },
    });
    assert.deepEqual(docs[1]!['@timestamp'], '2026-11-27T12:00:00.500Z');
    assert.deepEqual(docs[1]!.django, { asctime: '27/Nov/2026 12:00:00', lineno: 'x' });
    assert.equal(docs[1]!.tags, undefined);
    assert.deepEqual(docs[2], {
      '@timestamp': '2026-11-27T12:00:00.000Z',
      message: '42',
      log: { file: { path: PATH }, offset: h.records[2]!.start },
      error: { stack_trace: 'Stack (most recent call last):\n  File "a.py", line 1, in <module>' },
      django: { time: 'later' },
      host: { name: 'web-1' },
    });
    // No timestamp anywhere: the previous record's, tagged.
    assert.equal(docs[3]!['@timestamp'], '2026-11-27T12:00:00.000Z');
    assert.deepEqual(docs[3]!.tags, ['_logship_timestamp_missing']);
    assert.equal(Object.getPrototypeOf(docs[3]!.django), Object.prototype);
    assert.deepEqual(Object.entries(docs[3]!.django!), [
      ['__proto__', 'kept'],
      ['exc_info', null],
    ]);
    assertCoverage(h.records, h.offset);
  });

  it('emits the held text record before a JSON line', () => {
    const h = harness();
    const lines = h.feed(['[2026-11-27 12:00:00,000] INFO text', 'continued', line({ message: 'json', asctime: '2026-11-27 12:00:01,000' })].join('\n'));
    assert.deepEqual(
      h.records.map((r) => [r.start, r.end, r.doc.message]),
      [
        [0, lines[1]!.end, 'text\ncontinued'],
        [lines[2]!.start, lines[2]!.end, 'json'],
      ],
    );
    assert.equal(h.parser.heldFrom(), null);
  });
});

describe('django stream mode', () => {
  it('joins only traceback lines; other lines are records of their own, untagged', () => {
    const h = harness('stream');
    const lines = h.feed(
      [
        'Watching for file changes with StatReloader', // 0: plain, first: timestamp is now
        '[2026-11-27 12:00:00,123] ERROR [django.request:241] Internal Server Error: /x', // 1
        TB, // 2..13
        '172.18.0.1 - - "GET / HTTP/1.1" 200', // 14: ends the traceback
        '[2026-11-27 12:00:01,000] INFO not followed', // 15
        'continuation-looking line', // 16: not a traceback line: own record
        '{bad json', // 17
        'Traceback (most recent call last):', // 18: a bare traceback on stderr
        '  File "manage.py", line 22, in <module>', // 19
        'KeyboardInterrupt', // 20
      ].join('\n'),
    );
    assert.equal(h.parser.heldFrom(), lines[18]!.start);
    h.parser.flush(NOW, true);
    const prev = '2026-11-27T12:00:01.000+01:00';
    assert.deepEqual(
      h.records.map((r) => [r.start, r.end, r.doc['@timestamp'], r.doc.message, r.doc.error?.type, r.doc.tags]),
      [
        [lines[0]!.start, lines[0]!.end, NOW_ISO, 'Watching for file changes with StatReloader', undefined, ['_logship_timestamp_missing']],
        [lines[1]!.start, lines[13]!.end, '2026-11-27T12:00:00.123+01:00', 'Internal Server Error: /x', 'ValueError', undefined],
        [lines[14]!.start, lines[14]!.end, '2026-11-27T12:00:00.123+01:00', '172.18.0.1 - - "GET / HTTP/1.1" 200', undefined, ['_logship_timestamp_missing']],
        [lines[15]!.start, lines[15]!.end, prev, 'not followed', undefined, undefined],
        [lines[16]!.start, lines[16]!.end, prev, 'continuation-looking line', undefined, ['_logship_timestamp_missing']],
        [lines[17]!.start, lines[17]!.end, prev, '{bad json', undefined, ['_logship_parse_error', '_logship_timestamp_missing']],
        [lines[18]!.start, lines[20]!.end, prev, 'KeyboardInterrupt', 'KeyboardInterrupt', ['_logship_timestamp_missing']],
      ],
    );
    assert.equal(h.records[1]!.doc.error!.stack_trace, TB);
    assertCoverage(h.records, h.offset);
  });

  it('takes per-line timestamps and decorations through pushText', () => {
    const records: DecodedRecord[] = [];
    const p = createDjangoParser(context(), (r) => records.push(decoded(r)), 'stream', ',"stream":"stderr","container":{"id":"c0ffee"}');
    p.pushText('[2026-11-27 12:00:00,123] ERROR boom', 0, 10, 0, NOW, '2026-11-27T11:00:00.124Z');
    p.pushText('Traceback (most recent call last):', 10, 20, 0, NOW, '2026-11-27T11:00:00.125Z');
    assert.equal(p.heldFrom(), 0);
    p.pushText('  File "a.py", line 1, in <module>', 20, 30, 0, NOW, '2026-11-27T11:00:00.126Z');
    p.pushText('ValueError: x', 30, 40, LINE_PARTIAL, NOW, '2026-11-27T11:00:00.127Z');
    p.pushText('plain', 40, 50, 0, NOW, '2026-11-27T11:00:01.000Z');
    assert.equal(p.heldFrom(), null);
    assert.deepEqual(records, [
      {
        start: 0,
        end: 40,
        doc: {
          '@timestamp': '2026-11-27T11:00:00.124Z',
          message: 'boom',
          log: { file: { path: PATH }, offset: 0, level: 'ERROR' },
          error: {
            stack_trace: 'Traceback (most recent call last):\n  File "a.py", line 1, in <module>\nValueError: x',
            type: 'ValueError',
            message: 'x',
          },
          host: { name: 'web-1' },
          stream: 'stderr',
          container: { id: 'c0ffee' },
          tags: ['_logship_partial_line_timeout'],
        },
      },
      {
        start: 40,
        end: 50,
        doc: {
          '@timestamp': '2026-11-27T11:00:01.000Z',
          message: 'plain',
          log: { file: { path: PATH }, offset: 40 },
          host: { name: 'web-1' },
          stream: 'stderr',
          container: { id: 'c0ffee' },
        },
      },
    ]);
  });
});

describe('truncateUtf8', () => {
  it('never splits a character', () => {
    assert.equal(truncateUtf8('abc', 10), 'abc');
    assert.equal(truncateUtf8('aé', 2), 'a');
    assert.equal(truncateUtf8('aé', 3), 'aé');
    assert.equal(truncateUtf8('a😀b', 4), 'a');
    assert.equal(truncateUtf8('a😀b', 5), 'a😀');
    assert.equal(truncateUtf8('abc', 0), '');
  });
});

describe('createParser', () => {
  it('gives a file-mode Django parser for type django', () => {
    const records: DecodedRecord[] = [];
    const p = createParser('django', context(), (r) => records.push(decoded(r)));
    for (const l of toLines('[2026-11-27 12:00:00,000] INFO a\nnot a header')) p.push(l, NOW);
    p.flush(NOW, true);
    assert.deepEqual(records.map((r) => r.doc.message), ['a\nnot a header']);
  });
});
