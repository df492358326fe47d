/**
 * Properties of the Docker partial joiner (src/parse/docker.ts), on json-file logs written exactly as dockerd writes
 * them (test/support/docker-json-file.ts: the copier's piece cutting, Go's escaping, time stamps): random output on
 * stdout and stderr — NUL, CR, invalid UTF-8 (which dockerd turns into U+FFFD per byte), multi-byte characters cut
 * between pieces — with lines longer than the copier's buffer, so they come as partial entries interleaved with the
 * other stream's; read in random reads through the line splitter (whole plain lines also taken as bytes, as the parse
 * thread does), the container maybe gone with a line unfinished (EOF).
 *
 * - Every line the container wrote is exactly one record: its stream, its whole text (or a prefix, tagged
 *   _logship_truncated, past max_line_bytes), the byte range from its first entry to the end of its last; a line
 *   cut by EOF is shipped tagged _logship_partial_line_timeout. No piece is a record of its own.
 * - At every read, what the parser holds starts no later than heldFrom(): a checkpoint at that offset loses nothing.
 * - Across a rotation (pieces of a line in two files): the same, once the rejoining across files lands (issue 11 §2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createDockerParser } from '../../src/parse/docker.js';
import type { DocumentPlacement } from '../../src/parse/document.js';
import type { ParserContext, RecordParser } from '../../src/parse/types.js';
import { TAG_PARTIAL_TIMEOUT, TAG_TRUNCATED } from '../../src/record.js';
import { LineSplitter } from '../../src/tail/lines.js';
import { chunks, cuts, logBytes, rawCuts } from '../support/bytes-arbitrary.js';
import { DockerContainer, MemoryJsonLog, type DockerStream, type WrittenLine } from '../support/docker-json-file.js';
import { parserContext } from '../support/parsing.js';

const CID = '0123456789abcdef'.repeat(4);
const PATH = `/var/lib/docker/containers/${CID}/${CID}-json.log`;
const NOW = Date.UTC(2026, 10, 27, 13, 0, 0);

interface Write {
  readonly stream: DockerStream;
  readonly data: Buffer;
}

/**
 * What the container writes: a few writes per stream, each whole lines of random bytes (every line starting with
 * "x", so that the stream's Django parser ships it as plain text and its message can be compared byte for byte),
 * the last line of a write maybe unfinished (continued by the next write to that stream).
 */
const writes: fc.Arbitrary<Write[]> = fc.array(
  fc.record({
    stream: fc.constantFrom<DockerStream>('stdout', 'stderr'),
    lines: fc.array(logBytes(60).map((b) => Buffer.concat([Buffer.from('x'), b.filter((c) => c !== 0x0a)])), { minLength: 1, maxLength: 4 }),
    finished: fc.boolean(),
  }).map(({ stream, lines, finished }) => {
    const data = Buffer.concat(lines.map((l) => Buffer.concat([l, Buffer.from('\n')])));
    return { stream, data: finished ? data : data.subarray(0, -1) };
  }),
  { maxLength: 12 },
);

/**
 * A container's log: `writes` through dockerd's copier with a `bufSize`-byte buffer, rotated at `maxSize` bytes.
 * `lines`: every line as a reader must see it — with `eof` the container exited (its unfinished lines went out as
 * partials); without, a long line still being written is in the log as its first pieces, which the reader ships
 * when the partial-line timeout passes.
 */
function containerLog(ws: Write[], bufSize: number, eof: boolean, maxSize = -1): { log: MemoryJsonLog; lines: WrittenLine[] } {
  const log = new MemoryJsonLog(maxSize);
  const c = new DockerContainer(log, { bufSize });
  for (const w of ws) c.write(w.stream, w.data);
  if (eof) c.close();
  return { log, lines: [...c.lines, ...c.pending()] };
}

interface Got {
  readonly start: number;
  readonly end: number;
  readonly stream: string;
  readonly message: string;
  readonly tags: string[];
}

/**
 * A parser for one file, its documents collected (`start` is the document's log.offset); whole plain lines written
 * through a placement, as on the parse thread. A record is at the offset it says, except one whose first pieces came
 * from the previous generation (`carried`): its log.offset is where it began there.
 */
function parserFor(ctx: ParserContext, out: Got[], carried = false): RecordParser {
  const collect = (start: number, end: number, json: string): void => {
    const doc = JSON.parse(json) as { stream: string; message: string; tags?: string[]; log: { offset: number } };
    if (!carried) assert.equal(doc.log.offset, start);
    out.push({ start: doc.log.offset, end, stream: doc.stream, message: doc.message, tags: doc.tags ?? [] });
  };
  let room: Buffer | null = null;
  const placement: DocumentPlacement = {
    place: (bytes) => ({ buffer: (room = Buffer.alloc(bytes)), at: 0 }),
    written: (start, end) => collect(start, end, room!.toString('utf8')),
  };
  return createDockerParser(ctx, CID, (r) => collect(r.start, r.end, r.json), placement);
}

/**
 * Reads one file's bytes in reads cut at `at`, checking after each read that nothing the parser holds starts before
 * heldFrom(); at the end of the `last` file, flushes (EOF: the partial-line and multi-line timeouts have passed).
 */
function readFile(parser: RecordParser, bytes: Buffer, at: number[], maxLine: number, expected: WrittenLine[], got: Got[], generation: number, last = true): void {
  const now = NOW;
  const splitter = new LineSplitter(maxLine, (l) => parser.push(l, now), 0, (buf, from, to, start, end) => parser.pushBytes!(buf, from, to, start, end, now));
  let read = 0;
  for (const chunk of chunks(bytes, at)) {
    splitter.push(chunk);
    read += chunk.length;
    const held = parser.heldFrom();
    const shipped = new Set(got.map((g) => g.start));
    // Lines of this file whose first entry was read but that are not out yet are held: heldFrom is at or before them.
    for (const line of expected) {
      if (line.first.generation !== generation || line.first.offset >= splitter.consumed || shipped.has(line.first.offset)) continue;
      assert.ok(held !== null && held <= line.first.offset, `a line started at ${line.first.offset} is held, but heldFrom is ${held} (read ${read})`);
    }
  }
  if (!last) return; // a rotated file read to its end: what it holds goes on in the next one (nextGeneration)
  splitter.flushPartial();
  parser.flush(now + 3_600_000, true);
  assert.equal(parser.heldFrom(), null);
}

/** The record a written line must become, in the form of Got (start/end within its one file). */
function expectedRecord(line: WrittenLine, maxRecord: number): Got {
  let text = line.text;
  if (text.endsWith('\r')) text = text.slice(0, -1); // a CR before the line feed is not the line's
  const tags = [];
  if (Buffer.byteLength(text) > maxRecord) tags.push(TAG_TRUNCATED);
  if (line.unterminated) tags.push(TAG_PARTIAL_TIMEOUT);
  return { start: line.first.offset, end: line.last.offset, stream: line.stream, message: text, tags };
}

function compare(got: Got[], expected: Got[]): void {
  const byStart = (a: Got, b: Got): number => a.start - b.start;
  const g = [...got].sort(byStart);
  const e = [...expected].sort(byStart);
  assert.deepEqual(
    g.map((r) => ({ ...r, message: r.tags.includes(TAG_TRUNCATED) ? '(truncated)' : r.message, tags: [...r.tags].sort() })),
    e.map((r) => ({ ...r, message: r.tags.includes(TAG_TRUNCATED) ? '(truncated)' : r.message, tags: [...r.tags].sort() })),
  );
  for (let i = 0; i < g.length; i++) {
    if (g[i]!.tags.includes(TAG_TRUNCATED)) assert.ok(e[i]!.message.startsWith(g[i]!.message), 'a truncated record keeps the start of its line');
  }
}

const bufSize = fc.oneof(fc.integer({ min: 4, max: 64 }), fc.constant(16 * 1024));
const maxRecord = fc.oneof(fc.constant(64 * 1024), fc.integer({ min: 8, max: 80 }));

test('json-file pieces of both streams: every line written is exactly one record, whole, however the file is read', () => {
  fc.assert(
    fc.property(writes, bufSize, fc.boolean(), rawCuts, maxRecord, (ws, size, eof, raw, mr) => {
      const { log, lines } = containerLog(ws, size, eof);
      const bytes = log.bytes(0);
      const got: Got[] = [];
      readFile(parserFor(parserContext(PATH, { maxRecordBytes: mr }), got), bytes, cuts(bytes.length, raw), 1024 * 1024, lines, got, 0);
      compare(got, lines.map((l) => expectedRecord(l, mr)));
    }),
    { numRuns: 400 },
  );
});

/** A parser that can hand the pieces it holds to the parser of the next generation (issue 11 §2). */
interface Carrier {
  exportCarried?(): unknown[];
  importCarried?(carried: unknown, link: number, localStart: number): void;
}

/**
 * How the reader of a rotated container log goes on in the next file, as the parse thread does at a handover: the
 * rotated file's parser, read to its end, exports the pieces it holds and the next file's parser (not read yet, so
 * its part begins at 0) imports them.
 */
function nextGeneration(previous: RecordParser | null, ctx: ParserContext, got: Got[], link: number): RecordParser {
  const next = parserFor(ctx, got, true);
  for (const c of (previous as Carrier | null)?.exportCarried?.() ?? []) (next as Carrier).importCarried?.(c, link++, 0);
  return next;
}

test(
  'pieces of a line split by a max-size rotation come out as one record, with the offset where it began',
  () => {
    fc.assert(
      fc.property(writes, fc.integer({ min: 4, max: 64 }), fc.integer({ min: 50, max: 400 }), fc.boolean(), (ws, size, maxSize, eof) => {
        const { log, lines } = containerLog(ws, size, eof, maxSize);
        const got: Got[] = [];
        let parser: RecordParser | null = null;
        const n = log.generations.length;
        log.generations.forEach((_, g) => {
          parser = nextGeneration(parser, parserContext(g === n - 1 ? PATH : `${PATH}.${n - 1 - g}`), got, 1 + 2 * g);
          readFile(parser, log.bytes(g), [], 1024 * 1024, lines, got, g, g === n - 1);
        });
        // Compared on stream, text and where each line began (its first piece's offset, in the file it began in).
        const key = (r: Got): string => JSON.stringify([r.stream, r.message, r.start]);
        assert.deepEqual(got.map(key).sort(), lines.map((l) => key(expectedRecord(l, 64 * 1024))).sort());
      }),
      { numRuns: 300 },
    );
  },
);

test(
  'a line of exactly max_line_bytes and a CR is not truncated when it comes in pieces (found by the property above)',
  () => {
    const { log } = containerLog([{ stream: 'stdout', data: Buffer.from('xyz\r\n') }], 2, true);
    const got: Got[] = [];
    readFile(parserFor(parserContext(PATH, { maxRecordBytes: 3 }), got), log.bytes(0), [], 1024 * 1024, [], got, 0);
    assert.deepEqual(got.map((r) => [r.message, r.tags]), [['xyz', []]]);
  },
);
