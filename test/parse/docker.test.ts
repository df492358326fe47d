import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { containerIdFromPath, createDockerParser } from '../../src/parse/docker.js';
import { createParser } from '../../src/parse/index.js';
import type { Line, ParserContext, RecordParser } from '../../src/parse/types.js';
import { decoded, parserContext, type DecodedRecord } from '../support/parsing.js';

const CID = 'a'.repeat(8) + '0123456789abcdef'.repeat(3) + 'b'.repeat(8);
const PATH = `/var/lib/docker/containers/${CID}/${CID}-json.log`;
const NOW = Date.UTC(2026, 10, 27, 13, 0, 0);
/** Docker's json-file driver cuts a line into pieces of this many bytes. */
const PIECE = 16 * 1024;

const context = (over: Partial<ParserContext> = {}): ParserContext => parserContext(PATH, over);

type Stream = 'stdout' | 'stderr';

/** Docker's RFC3339Nano time for the n-th entry: distinct nanoseconds, as Docker writes them. */
function dockerTime(n: number): string {
  return `2026-11-27T12:00:00.${String(123456789 + n * 1000).padStart(9, '0')}Z`;
}

/** The millisecond ISO form of dockerTime(n). */
function iso(n: number): string {
  return `2026-11-27T12:00:00.${String(123456789 + n * 1000).padStart(9, '0').slice(0, 3)}Z`;
}

/** One json-file entry, byte for byte as the driver writes it. */
function entry(log: string, stream: Stream, n: number): string {
  return JSON.stringify({ log, stream, time: dockerTime(n) }) + '\n';
}

/** A line's entries: pieces of PIECE bytes (all ASCII here), the last one ending in "\n". */
function pieces(text: string): string[] {
  const out: string[] = [];
  const full = text + '\n';
  for (let i = 0; i < full.length; i += PIECE) out.push(full.slice(i, i + PIECE));
  return out;
}

class File {
  readonly lines: Line[] = [];
  offset = 0;
  n = 0;
  /** Appends one raw line (with its "\n"); returns it. */
  raw(text: string): Line {
    const body = text.endsWith('\n') ? text.slice(0, -1) : text;
    const end = this.offset + Buffer.byteLength(body) + 1;
    const line: Line = { text: body, start: this.offset, end, truncated: false, invalidUtf8: false, partial: false };
    this.lines.push(line);
    this.offset = end;
    return line;
  }
  /** Appends an entry with the next time; returns the line. */
  log(log: string, stream: Stream): Line {
    return this.raw(entry(log, stream, this.n++));
  }
}

function setup(over: Partial<ParserContext> = {}, cid: string | null = CID): { parser: RecordParser; records: DecodedRecord[]; file: File } {
  const records: DecodedRecord[] = [];
  return { parser: createDockerParser(context(over), cid, (r) => records.push(decoded(r))), records, file: new File() };
}

/** Every byte of [0, total) lies in some record's range; records cover whole lines only. */
function assertAccounted(records: readonly DecodedRecord[], lines: readonly Line[]): void {
  const starts = new Set(lines.map((l) => l.start));
  const ends = new Set(lines.map((l) => l.end));
  for (const r of records) {
    assert.ok(starts.has(r.start) && ends.has(r.end), `record [${r.start}, ${r.end}) is not on line boundaries`);
    assert.equal(r.doc.log.offset, r.start);
  }
  for (const l of lines) {
    assert.ok(
      records.some((r) => r.start <= l.start && l.end <= r.end),
      `line [${l.start}, ${l.end}) is in no record`,
    );
  }
  // Records never start twice at one offset: each is its own id.
  assert.equal(new Set(records.map((r) => r.start)).size, records.length);
}

describe('containerIdFromPath', () => {
  it('reads the id from the json-file path and its rotations', () => {
    assert.equal(containerIdFromPath(PATH), CID);
    assert.equal(containerIdFromPath(PATH + '.1'), CID);
    assert.equal(containerIdFromPath(`/mnt/docker-data/containers/${CID}/${CID}-json.log`), CID);
    assert.equal(containerIdFromPath('/var/log/app.log'), null);
    assert.equal(containerIdFromPath(`/x/${CID.slice(1)}-json.log`), null);
    assert.equal(containerIdFromPath(`/x/${CID.toUpperCase()}-json.log`), null);
    assert.equal(containerIdFromPath(`${PATH}.gz`), null);
  });
});

describe('docker json-file parser', () => {
  it('joins 40 KiB lines split into pieces, per stream, while the streams interleave', () => {
    const { parser, records, file } = setup();
    const out = 'o'.repeat(40 * 1024 - 7) + 'stdout!';
    const err = 'E'.repeat(40 * 1024 - 7) + 'stderr!';
    const [o1, o2, o3] = pieces(out);
    const [e1, e2, e3] = pieces(err);
    assert.equal(o1!.length, PIECE);
    assert.equal(o3!.endsWith('\n'), true);

    const l: Line[] = [];
    const push = (log: string, stream: Stream) => {
      const line = file.log(log, stream);
      l.push(line);
      parser.push(line, NOW);
    };
    push(o1!, 'stdout'); // 0
    assert.equal(parser.heldFrom(), l[0]!.start);
    push(e1!, 'stderr'); // 1
    push(o2!, 'stdout'); // 2
    push(e2!, 'stderr'); // 3
    assert.equal(parser.heldFrom(), l[0]!.start);
    push(e3!, 'stderr'); // 4: stderr's line completes while stdout's is still in pieces
    assert.equal(records.length, 1);
    assert.equal(parser.heldFrom(), l[0]!.start);
    push(o3!, 'stdout'); // 5
    assert.equal(parser.heldFrom(), null);

    assert.deepEqual(
      records.map((r) => [r.start, r.end, r.doc.stream, r.doc['@timestamp'], r.doc.message.length, r.doc.tags]),
      [
        [l[1]!.start, l[4]!.end, 'stderr', iso(1), err.length, undefined],
        [l[0]!.start, l[5]!.end, 'stdout', iso(0), out.length, undefined],
      ],
    );
    assert.equal(records[0]!.doc.message, err);
    assert.equal(records[1]!.doc.message, out);
    assert.deepEqual(records[1]!.doc.container, { id: CID });
    assert.deepEqual(records[1]!.doc.log, { file: { path: PATH }, offset: l[0]!.start });
    assertAccounted(records, file.lines);
  });

  it('keeps interleaved complete lines of the other stream separate, emitting them first', () => {
    const { parser, records, file } = setup();
    const out = 'x'.repeat(40 * 1024);
    const [o1, o2, o3] = pieces(out);
    const l = [
      file.log(o1!, 'stdout'),
      file.log('[2026-11-27 12:00:00,000] WARNING django.security.csrf: Forbidden (CSRF)\n', 'stderr'),
      file.log(o2!, 'stdout'),
      file.log('second stderr line\n', 'stderr'),
      file.log(o3!, 'stdout'),
    ];
    l.forEach((line, i) => {
      parser.push(line, NOW);
      if (i === 2) assert.equal(parser.heldFrom(), l[0]!.start, 'stdout pieces and the stderr record are held');
    });
    parser.flush(NOW, true);
    assert.deepEqual(records, [
      {
        start: l[1]!.start,
        end: l[1]!.end,
        doc: {
          '@timestamp': iso(1),
          message: 'Forbidden (CSRF)',
          log: { file: { path: PATH }, offset: l[1]!.start, level: 'WARNING', logger: 'django.security.csrf' },
          host: { name: 'web-1' },
          stream: 'stderr',
          container: { id: CID },
        },
      },
      {
        start: l[3]!.start,
        end: l[3]!.end,
        doc: {
          '@timestamp': iso(3),
          message: 'second stderr line',
          log: { file: { path: PATH }, offset: l[3]!.start },
          host: { name: 'web-1' },
          stream: 'stderr',
          container: { id: CID },
        },
      },
      {
        start: l[0]!.start,
        end: l[4]!.end,
        doc: {
          '@timestamp': iso(0),
          message: out,
          log: { file: { path: PATH }, offset: l[0]!.start },
          host: { name: 'web-1' },
          stream: 'stdout',
          container: { id: CID },
        },
      },
    ]);
    assertAccounted(records, file.lines);
  });

  it('parses a Django JSON line inside `log`, with Docker time as @timestamp', () => {
    const { parser, records, file } = setup({ includeOriginal: true });
    const json = JSON.stringify({
      asctime: '2026-11-27 13:00:00,999',
      levelname: 'INFO',
      name: 'django.server',
      message: '"GET /health HTTP/1.1" 200 2',
      status_code: 200,
      request_id: 'r-1',
    });
    const line = file.log(json + '\n', 'stdout');
    parser.push(line, NOW);
    assert.deepEqual(records, [
      {
        start: 0,
        end: line.end,
        doc: {
          '@timestamp': iso(0),
          message: '"GET /health HTTP/1.1" 200 2',
          log: { file: { path: PATH }, offset: 0, level: 'INFO', logger: 'django.server' },
          django: { status_code: 200, request_id: 'r-1' },
          host: { name: 'web-1' },
          event: { original: json },
          stream: 'stdout',
          container: { id: CID },
        },
      },
    ]);
  });

  it('joins a Django text record and its traceback, one entry per line, across interleaved stdout', () => {
    const { parser, records, file } = setup();
    const tb = [
      'Traceback (most recent call last):',
      '  File "/app/views.py", line 10, in get',
      '    return data["missing"]',
      '           ~~~~^^^^^^^^^^^',
      "KeyError: 'missing'",
      '',
      'The above exception was the direct cause of the following exception:',
      '',
      'Traceback (most recent call last):',
      '  File "/app/views.py", line 12, in get',
      '    raise ValueError("boom") from e',
      'ValueError: boom',
    ];
    const l: Line[] = [];
    l.push(file.log('ERROR 2026-11-27 13:00:00,000 views 7 139 Internal Server Error: /api/x\r\n', 'stderr'));
    tb.forEach((t, i) => {
      l.push(file.log(t + '\n', 'stderr'));
      if (i === 3) l.push(file.log('172.18.0.1 - - "GET / HTTP/1.1" 200\n', 'stdout'));
    });
    l.push(file.log('[2026-11-27 13:00:01,000] INFO after\n', 'stderr'));
    for (const line of l) parser.push(line, NOW);
    assert.equal(parser.heldFrom(), l[l.length - 1]!.start);
    parser.flush(NOW, true);
    assert.equal(parser.heldFrom(), null);
    assert.deepEqual(records, [
      {
        start: l[5]!.start,
        end: l[5]!.end,
        doc: {
          '@timestamp': iso(5),
          message: '172.18.0.1 - - "GET / HTTP/1.1" 200',
          log: { file: { path: PATH }, offset: l[5]!.start },
          host: { name: 'web-1' },
          stream: 'stdout',
          container: { id: CID },
        },
      },
      {
        start: 0,
        end: l[13]!.end,
        doc: {
          '@timestamp': iso(0),
          message: 'Internal Server Error: /api/x',
          log: { file: { path: PATH }, offset: 0, level: 'ERROR', origin: { file: { name: 'views' } } },
          error: { stack_trace: tb.join('\n'), type: 'ValueError', message: 'boom' },
          process: { pid: 7, thread: { id: 139 } },
          host: { name: 'web-1' },
          stream: 'stderr',
          container: { id: CID },
        },
      },
      {
        start: l[14]!.start,
        end: l[14]!.end,
        doc: {
          '@timestamp': iso(14),
          message: 'after',
          log: { file: { path: PATH }, offset: l[14]!.start, level: 'INFO' },
          host: { name: 'web-1' },
          stream: 'stderr',
          container: { id: CID },
        },
      },
    ]);
    assertAccounted(records, file.lines);
  });

  it('makes a record of a line that is not a Docker entry', () => {
    const { parser, records, file } = setup();
    const a = file.raw('not json at all\n');
    const b = file.log('ok\n', 'stdout');
    const c = file.raw('{"stream":"stdout","time":"2026-11-27T12:00:00Z"}\n');
    const d = { ...file.raw('{"log":"cut off by max_line_by'), truncated: true };
    for (const line of [a, b, c, d]) parser.push(line, NOW);
    assert.deepEqual(
      records.map((r) => [r.start, r.end, r.doc['@timestamp'], r.doc.message, r.doc.stream, r.doc.tags]),
      [
        [a.start, a.end, '2026-11-27T13:00:00.000Z', 'not json at all', undefined, ['_logship_parse_error', '_logship_timestamp_missing']],
        [b.start, b.end, iso(0), 'ok', 'stdout', undefined],
        [c.start, c.end, iso(0), c.text, undefined, ['_logship_parse_error', '_logship_timestamp_missing']],
        [d.start, d.end, iso(0), d.text, undefined, ['_logship_parse_error', '_logship_timestamp_missing', '_logship_truncated']],
      ],
    );
    assert.deepEqual(records[0]!.doc, {
      '@timestamp': '2026-11-27T13:00:00.000Z',
      message: 'not json at all',
      log: { file: { path: PATH }, offset: 0 },
      host: { name: 'web-1' },
      container: { id: CID },
      tags: ['_logship_parse_error', '_logship_timestamp_missing'],
    });
  });

  it('flushes pieces whose end did not come in time, tagged', () => {
    const { parser, records, file } = setup({ multilineTimeoutMs: 1000 });
    const p1 = file.log('[2026-11-27 13:00:00,000] INFO a long line whose end', 'stdout');
    parser.push(p1, 5000);
    const p2 = file.log(' never comes', 'stdout');
    parser.push(p2, 5500);
    parser.flush(6400, false);
    assert.equal(records.length, 0, '900 ms since the last piece');
    assert.equal(parser.heldFrom(), p1.start);
    parser.flush(6500, false);
    assert.equal(parser.heldFrom(), null);
    assert.deepEqual(records, [
      {
        start: p1.start,
        end: p2.end,
        doc: {
          '@timestamp': iso(0),
          message: 'a long line whose end never comes',
          log: { file: { path: PATH }, offset: p1.start, level: 'INFO' },
          host: { name: 'web-1' },
          stream: 'stdout',
          container: { id: CID },
          tags: ['_logship_partial_line_timeout'],
        },
      },
    ]);
    // The rest of the line, arriving late, is a line of its own.
    const p3 = file.log(' after all\n', 'stdout');
    parser.push(p3, 7000);
    assert.deepEqual(records[1]!.doc.message, ' after all');
    assertAccounted(records, file.lines);
  });

  it('caps joined pieces at maxRecordBytes and accounts all their bytes', () => {
    const { parser, records, file } = setup({ maxRecordBytes: 20_000 });
    const text = 'z'.repeat(40 * 1024);
    const l = pieces(text).map((p) => file.log(p, 'stderr'));
    for (const line of l) parser.push(line, NOW);
    assert.equal(records.length, 1);
    assert.equal(records[0]!.start, l[0]!.start);
    assert.equal(records[0]!.end, l[2]!.end);
    assert.equal(records[0]!.doc.message, 'z'.repeat(20_000));
    assert.deepEqual(records[0]!.doc.tags, ['_logship_truncated']);

    // A single entry over the cap, too.
    const one = setup({ maxRecordBytes: 10 });
    const line = one.file.log('0123456789abcdef\n', 'stdout');
    one.parser.push(line, NOW);
    assert.deepEqual([one.records[0]!.doc.message, one.records[0]!.doc.tags], ['0123456789', ['_logship_truncated']]);
  });

  it('ships the rest of an entry shipped at partial_line_timeout as its own record, tagged; a bare newline adds none', () => {
    const { parser, records } = setup();
    const whole = entry('hello\n', 'stdout', 0);
    const cut = whole.length - 10;
    const head: Line = { text: whole.slice(0, cut), start: 0, end: cut, truncated: false, invalidUtf8: false, partial: true };
    const tail: Line = { text: whole.slice(cut, -1), start: cut, end: whole.length, truncated: false, invalidUtf8: false, partial: false, partialTail: true };
    const newline: Line = { text: '', start: whole.length, end: whole.length + 1, truncated: false, invalidUtf8: false, partial: false, partialTail: true };
    for (const l of [head, tail, newline]) parser.push(l, NOW);
    parser.flush(NOW, true);
    assert.deepEqual(
      records.map((r) => [r.start, r.end, r.doc.message, r.doc.tags]),
      [
        [0, cut, whole.slice(0, cut), ['_logship_parse_error', '_logship_timestamp_missing', '_logship_partial_line_timeout']],
        [cut, whole.length, whole.slice(cut, -1), ['_logship_parse_error', '_logship_timestamp_missing', '_logship_partial_line_tail']],
      ],
    );
    assert.equal(parser.heldFrom(), null);
  });

  it('reports the lowest held offset of both streams', () => {
    const { parser, records, file } = setup();
    const a = file.log('[2026-11-27 13:00:00,000] ERROR stderr record\n', 'stderr'); // held: a traceback may follow
    parser.push(a, NOW);
    assert.equal(parser.heldFrom(), a.start);
    const b = file.log('partial stdout', 'stdout');
    parser.push(b, NOW);
    assert.equal(parser.heldFrom(), a.start);
    const c = file.log('[2026-11-27 13:00:01,000] ERROR next stderr record\n', 'stderr'); // emits a, holds c
    parser.push(c, NOW);
    assert.equal(parser.heldFrom(), b.start);
    const d = file.log(' done\n', 'stdout');
    parser.push(d, NOW);
    assert.equal(parser.heldFrom(), c.start);
    parser.flush(NOW, true);
    assert.equal(parser.heldFrom(), null);
    assert.deepEqual(
      records.map((r) => [r.start, r.end, r.doc.message]),
      [
        [a.start, a.end, 'stderr record'],
        [b.start, d.end, 'partial stdout done'],
        [c.start, c.end, 'next stderr record'],
      ],
    );
  });

  it('has no container.id when the id is unknown; createParser takes it from the path', () => {
    const { parser, records, file } = setup({}, null);
    parser.push(file.log('x\n', 'stdout'), NOW);
    assert.equal('container' in records[0]!.doc, false);

    const viaIndex: DecodedRecord[] = [];
    const p = createParser('docker', context(), (r) => viaIndex.push(decoded(r)));
    p.push(new File().log('y\n', 'stderr'), NOW);
    assert.deepEqual([viaIndex[0]!.doc.container, viaIndex[0]!.doc.stream, viaIndex[0]!.doc.message], [{ id: CID }, 'stderr', 'y']);
  });
});

describe('docker plain lines (passed on as the JSON text Docker wrote)', () => {
  it('gives each whole plain line the document the decoding path gives it, whatever its characters', () => {
    const texts = [
      '10.0.0.1 - - [27/Nov/2026:12:00:00 +0000] "GET /a?q=\\"x\\" HTTP/1.1" 200 5120 "-" "Mozilla/5.0"',
      'caf\u00e9 \u2603 \u{1F600} <html> & </html>', // Docker escapes <, > and & as \u003c…
      'ends in a backslash \\',
      'a literal backslash-n: \\n and a tab\t',
      'windows line\r',
      '0',
      '',
      'lowercase start',
      '{"not": "django json"} inside braces',
      '[bracketed] not a header',
      'Traceback (most recent call last):',
      '  File "a.py", line 1, in <module>',
      'ValueError: boom',
      '$ shell prompt',
    ];
    // Lines 10-12 are one traceback: one stream.
    const streamOf = (i: number): Stream => (i % 3 === 0 && (i < 10 || i > 12) ? 'stderr' : 'stdout');
    const { parser, records, file } = setup();
    const lines = texts.map((t, i) => {
      // Docker's own escaping for HTML characters, as Go's encoding/json writes it.
      const entryLine = entry(t + '\n', streamOf(i), i).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
      const line = file.raw(entryLine);
      parser.push(line, NOW);
      return line;
    });
    parser.flush(NOW, true);
    assertAccounted(records, lines);
    const byStart = new Map(records.map((r) => [r.start, r]));
    texts.forEach((t, i) => {
      const r = byStart.get(lines[i]!.start);
      if (t.startsWith('  File') || t.startsWith('ValueError')) return; // joined to the traceback before them
      assert.ok(r, `no record for ${JSON.stringify(t)}`);
      if (t.startsWith('Traceback')) {
        assert.equal(r.doc.error?.type, 'ValueError');
        return;
      }
      assert.equal(r.doc.message, t.replace(/\r$/, ''), `message of ${JSON.stringify(t)}`);
      assert.equal(r.doc.stream, streamOf(i));
      assert.deepEqual(r.doc.container, { id: CID });
      assert.equal(r.doc['@timestamp'], iso(i));
      // A "{" line that is not JSON is tagged, as by the decoding path; the rest are plain.
      assert.deepEqual(r.doc.tags, t.startsWith('{') ? ['_logship_parse_error'] : undefined, JSON.stringify(t));
    });
  });
});
