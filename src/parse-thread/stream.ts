/**
 * One file's bytes → records, on the parse worker: line splitter, parser, and the resume offset of every record.
 * Records are written out as rows of numbers and JSON bytes (ReplyWriter), ready to be sent to the main thread.
 */
import { readSync } from 'node:fs';
import { lineFlags } from '../parse/django.js';
import { REC_MULTILINE, REC_PARSE_ERROR, WrittenRecord, type DocumentPlacement, type ParsedRecord } from '../parse/document.js';
import { createParser, type ParserType } from '../parse/index.js';
import type { EmitRecord, Line, ParserContext, RecordParser } from '../parse/types.js';
import { describeThrown, FailedLineRecords } from './failed.js';
import { LineSplitter } from '../tail/lines.js';
import { digitCount, writeDigits } from '../parse/digits.js';
import { FixedPart, putPart } from '../parse/byte-parts.js';
import type { ItemFraming } from '../sink.js';
import {
  ADVANCE_ROW,
  CARRY_ROW,
  OUTPUT_CHUNK_BYTES,
  ROW_AT,
  ROW_CHUNK,
  ROW_END,
  ROW_FIELDS,
  ROW_FRAME,
  ROW_LENGTH,
  ROW_LINK,
  ROW_SAFE,
  ROW_START,
  type NewChunk,
  type ParsedReply,
  type ParserFailure,
  type StreamState,
} from './protocol.js';

/** The file could not be read: nothing changed, the read may be tried again. (Any other error is a bug.) */
export class ReadFailed extends Error {}

/** Records written out together while a chunk is parsed (see onLine). */
const RELEASE_EVERY = 16;

/**
 * The chunks documents are written into, in shared memory, by id. One is being filled at a time (for every stream:
 * records of different files share chunks); a full one is sealed, and comes back (spare) once the main thread has
 * released every record in it. The set grows only while all chunks are in flight, so it settles at what delivery
 * holds (bounded by delivery's backpressure) and is never freed and re-made.
 */
export class ChunkStore {
  private readonly chunks = new Map<number, Buffer>();
  private readonly free: number[] = [];
  private nextId = 1;
  /** The chunk being filled (0: none), and bytes used in it. */
  current = 0;
  used = 0;

  buffer(id: number): Buffer {
    return this.chunks.get(id)!;
  }

  /** Seals the current chunk and takes one with room for `bytes`: its id and, if it is new, its memory. */
  next(bytes: number, sealed: number[]): { id: number; created: SharedArrayBuffer | null } {
    if (this.current !== 0) sealed.push(this.current);
    let id = bytes <= OUTPUT_CHUNK_BYTES ? (this.free.pop() ?? 0) : 0;
    let created: SharedArrayBuffer | null = null;
    if (id === 0) {
      id = this.nextId++;
      created = new SharedArrayBuffer(Math.max(bytes, OUTPUT_CHUNK_BYTES));
      this.chunks.set(id, Buffer.from(created));
    }
    this.current = id;
    this.used = 0;
    return { id, created };
  }

  /** A sealed chunk whose records were all delivered: fill it again (an oversized one is dropped). */
  giveBack(id: number): void {
    const buffer = this.chunks.get(id);
    if (buffer === undefined) return;
    if (buffer.length === OUTPUT_CHUNK_BYTES) this.free.push(id);
    else this.chunks.delete(id);
  }
}

/** Row buffers: transferred with each reply and given back when the main thread has read them. */
export class RowsPool {
  private readonly rows: Float64Array[] = [];

  take(): Float64Array {
    return this.rows.pop() ?? new Float64Array(4096 * ROW_FIELDS);
  }

  give(buffer: ArrayBuffer): void {
    if (this.rows.length < 4) this.rows.push(new Float64Array(buffer));
  }
}

/** A sink's ItemFraming as the bytes written around each document. */
export class FramingBytes {
  readonly head: FixedPart;
  readonly mid: FixedPart;

  constructor(framing: ItemFraming) {
    this.head = FixedPart.of(framing.head);
    this.mid = FixedPart.of(framing.mid);
  }

  /** Bytes of the item head of a record starting at `start`. */
  headBytes(start: number): number {
    return this.head.length + digitCount(start) + this.mid.length;
  }

  /** Writes the item head of a record starting at `start` at `at`; returns its end (where the document goes). */
  writeHead(buffer: Buffer, at: number, start: number): number {
    return putPart(buffer, writeDigits(buffer, putPart(buffer, at, this.head), start), this.mid);
  }
}

/** The byte after a framed item's document (NDJSON). */
const ITEM_END = 0x0a;

/**
 * The reply being built for one request: rows, and what changed about the chunks.
 *
 * With a framing (the sink's, for the stream being served), each document is written as the sink's item: its head
 * just before the document, a newline just after, so that items of consecutive records lie back to back and a
 * request body is made of a few large copies (see sinks/elasticsearch/encode.ts). The row says how long the head is;
 * the document alone is still what `at` and `length` name, for every other reader.
 */
export class ReplyWriter {
  /** The framing of the stream being served (ParseStream sets it before each request), or null. */
  framing: FramingBytes | null = null;
  private rows: Float64Array | null = null;
  private rowCount = 0;
  /** Where the document last placed went, the bytes of the item head before it (0: none), and the start it names. */
  private placedAt = 0;
  private placedLength = 0;
  private placedFrame = 0;
  private placedStart = -1;
  private newChunks: NewChunk[] = [];
  private sealed: number[] = [];
  private records = 0;
  private parseErrors = 0;
  private multiline = 0;
  private failures: ParserFailure[] | null = null;

  constructor(
    private readonly store: ChunkStore,
    private readonly rowsPool: RowsPool,
  ) {}

  /**
   * Room for a document a parser writes itself (DocumentPlacement.place), of the record starting at `start`;
   * writtenRecord() then names it. With a framing, the item head goes first and a byte is kept for the newline.
   */
  place(bytes: number, start: number): { buffer: Buffer; at: number } {
    const store = this.store;
    const framing = this.framing;
    const head = framing === null ? 0 : framing.headBytes(start);
    const room = framing === null ? bytes : head + bytes + 1;
    if (store.current === 0 || store.used + room > store.buffer(store.current).length) {
      const { id, created } = store.next(room, this.sealed);
      if (created !== null) this.newChunks.push({ id, memory: created });
    }
    const buffer = store.buffer(store.current);
    this.placedAt = framing === null ? store.used : framing.writeHead(buffer, store.used, start);
    this.placedLength = bytes;
    this.placedFrame = head;
    this.placedStart = start;
    store.used += room;
    return { buffer, at: this.placedAt };
  }

  /** The record whose document was written in the room last placed (its first `length` bytes: the rest is unused). */
  writtenRecord(start: number, end: number, flags: number, length = this.placedLength): WrittenRecord {
    const store = this.store;
    // Nothing was placed since: the room's unused end is the chunk's unused start.
    store.used = this.placedAt + length;
    let frame = this.placedFrame;
    if (frame > 0) {
      // A head naming another offset than the record's would give it another id: then the document goes alone.
      if (start === this.placedStart) store.buffer(store.current)[store.used++] = ITEM_END;
      else frame = 0;
    }
    return new WrittenRecord(start, end, flags, store.current, this.placedAt, length, frame);
  }

  record(r: ParsedRecord | WrittenRecord, safe: number): void {
    if (r instanceof WrittenRecord) {
      this.row(r.start, r.end, safe, r.chunk, r.at, r.length, 0, r.frame);
      this.counted(r.flags);
      return;
    }
    const store = this.store;
    // A record begun in the previous generation has that file's id (see tail/carried.ts): not framed here.
    const framing = r.link === 0 ? this.framing : null;
    const head = framing === null ? 0 : framing.headBytes(r.start);
    const end = framing === null ? 0 : 1;
    // Written without measuring first: measuring is a pass over the text of its own (and the write, which must make
    // the concatenated text flat anyway, counts the bytes). A write that left fewer than 4 bytes of room may have
    // been cut short (a UTF-8 character is up to 4 bytes): then it is measured, and written again in a new chunk if
    // it did not fit. What a cut-short write left behind is simply not counted as used.
    let at = store.used;
    let bytes = -1;
    if (store.current !== 0) {
      const chunk = store.buffer(store.current);
      const room = chunk.length - at - head - end;
      if (room > 0) {
        bytes = chunk.write(r.json, at + head, room, 'utf8');
        if (room - bytes < 4 && Buffer.byteLength(r.json) > bytes) bytes = -1;
      }
    }
    if (bytes < 0) {
      const { id, created } = store.next(head + Buffer.byteLength(r.json) + end, this.sealed);
      if (created !== null) this.newChunks.push({ id, memory: created });
      at = 0;
      bytes = store.buffer(id).write(r.json, head, 'utf8');
    }
    if (framing !== null) {
      const chunk = store.buffer(store.current);
      framing.writeHead(chunk, at, r.start);
      chunk[at + head + bytes] = ITEM_END;
    }
    store.used = at + head + bytes + end;
    this.row(r.start, r.end, safe, store.current, at + head, bytes, r.link, head);
    this.counted(r.flags);
  }

  private counted(flags: number): void {
    this.records++;
    if (flags & REC_PARSE_ERROR) this.parseErrors++;
    if (flags & REC_MULTILINE) this.multiline++;
  }

  /** A parser threw (see ParseStream.parserFailed): told to the main thread with the reply, to be logged. */
  failure(f: ParserFailure): void {
    (this.failures ??= []).push(f);
  }

  /** Bytes up to `safe` are finished with no record to come. */
  advance(safe: number): void {
    this.row(0, 0, safe, ADVANCE_ROW, 0, 0, 0, 0);
  }

  /**
   * Bytes [start, end) went to the successor's stream as the first pieces of a record linked by `token`; `previous`
   * is the link they came into this file with (0 when they began here).
   */
  carry(start: number, end: number, safe: number, token: number, previous: number): void {
    this.row(start, end, safe, CARRY_ROW, token, 0, previous, 0);
  }

  /** The reply, and what must be transferred with it; the writer is empty again. */
  finish(request: number, bytesRead: number, lines: number, state: StreamState): { reply: ParsedReply; transfer: ArrayBuffer[] } {
    const rows = this.rows ?? this.rowsPool.take();
    const reply: ParsedReply = {
      request,
      bytesRead,
      lines,
      records: this.records,
      parseErrors: this.parseErrors,
      multiline: this.multiline,
      rows,
      rowCount: this.rowCount,
      newChunks: this.newChunks,
      sealed: this.sealed,
      state,
      ...(this.failures !== null && { failures: this.failures }),
    };
    this.failures = null;
    this.rows = null;
    this.rowCount = 0;
    this.newChunks = [];
    this.sealed = [];
    this.records = this.parseErrors = this.multiline = 0;
    return { reply, transfer: [rows.buffer as ArrayBuffer] };
  }

  private row(start: number, end: number, safe: number, chunk: number, at: number, length: number, link: number, frame: number): void {
    let rows = this.rows ?? (this.rows = this.rowsPool.take());
    const o = this.rowCount * ROW_FIELDS;
    if (o + ROW_FIELDS > rows.length) {
      const wider = new Float64Array(rows.length * 2);
      wider.set(rows);
      this.rows = rows = wider;
    }
    rows[o + ROW_START] = start;
    rows[o + ROW_END] = end;
    rows[o + ROW_SAFE] = safe;
    rows[o + ROW_CHUNK] = chunk;
    rows[o + ROW_AT] = at;
    rows[o + ROW_LENGTH] = length;
    rows[o + ROW_LINK] = link;
    rows[o + ROW_FRAME] = frame;
    this.rowCount++;
  }
}

/** Makes a file's parser (createParser; a test may give another). */
export type ParserFactory = (type: ParserType, context: ParserContext, emit: EmitRecord, placement: DocumentPlacement) => RecordParser;

/**
 * A file's line splitter and parser. Each record is written out with the offset that is safe to resume from once it
 * and all before it are stored: the smallest start of anything still unshipped after it.
 *
 * No line can stop it: a parser that throws on a line is replaced by a fresh one, and the line is shipped as a
 * parse-error record (parserFailed).
 */
export class ParseStream {
  private readonly splitter: LineSplitter;
  /** Readable by the stream of a successor generation, for a handover; replaced by a fresh one after a parser threw. */
  parser: RecordParser;
  private readonly makeParser: () => RecordParser;
  private readonly failed: FailedLineRecords;
  /** Records the parser emitted and not yet written out. */
  private emitted: (ParsedRecord | WrittenRecord)[] = [];
  private lines = 0;
  /** The clock for the lines of the chunk being split: read once per request, not per line. */
  private now = 0;
  /** The file starts with binary content: nothing of it is parsed (see read). */
  private binary = false;
  /**
   * Whether a NUL byte means "not a log": Django text and Docker's JSON (which escapes every control character) never
   * hold one; a CRI log holds the container's raw bytes, where one NUL must not cost the whole file.
   */
  private readonly textOnly: boolean;
  /** How the sink frames this file's records, once known (see ReplyWriter). */
  private framing: FramingBytes | null = null;

  constructor(
    type: ParserType,
    private readonly context: ParserContext,
    maxLineBytes: number,
    startOffset: number,
    private readonly out: ReplyWriter,
    parserFactory: ParserFactory = createParser,
  ) {
    this.textOnly = type !== 'cri';
    // Documents a parser writes itself go straight into the reply's chunks.
    const placement: DocumentPlacement = {
      place: (bytes, start) => out.place(bytes, start),
      written: (start, end, flags, length) => this.emitted.push(out.writtenRecord(start, end, flags, length)),
    };
    const emit: EmitRecord = (r) => this.emitted.push(r);
    this.makeParser = () => parserFactory(type, context, emit, placement);
    this.parser = this.makeParser();
    this.failed = new FailedLineRecords(type, context);
    const takeBytes = this.parser.pushBytes === undefined ? null : this.takeBytes.bind(this);
    this.splitter = new LineSplitter(maxLineBytes, (line) => this.onLine(line), startOffset, takeBytes);
  }

  /** Frame this file's records from now on (its identity, which the item head names, is known). */
  frameWith(framing: ItemFraming | null): void {
    this.framing = framing === null ? null : new FramingBytes(framing);
  }

  get state(): StreamState {
    const state = { position: this.splitter.position, partialLine: this.splitter.hasPartial(), heldFrom: this.parser.heldFrom() ?? -1 };
    return this.binary ? { ...state, binary: true } : state;
  }

  /** Reads up to `bytes` at the stream's position through `fd` into `buffer` and parses them; returns bytes and lines. */
  read(fd: number, buffer: Buffer, bytes: number, now: number): { bytesRead: number; lines: number } {
    if (this.binary) return { bytesRead: 0, lines: 0 };
    this.out.framing = this.framing;
    let bytesRead: number;
    try {
      bytesRead = readSync(fd, buffer, 0, Math.min(bytes, buffer.length), this.splitter.position);
    } catch (err) {
      throw new ReadFailed((err as Error).message);
    }
    this.lines = 0;
    this.now = now;
    if (bytesRead > 0 && this.textOnly && this.splitter.position === 0 && buffer.subarray(0, bytesRead).indexOf(0) >= 0) {
      // A NUL byte in the file's first block: not a log (a compressed rotation, a core dump, UTF-16) that a glob
      // happened to match. Parsed, it would be one garbage record per block; the main thread is told instead
      // (state.binary), skips the file, warns and counts it. Checked only from offset 0, once: a log's text has
      // no NUL bytes, and a file picked up at its end is not read from the start.
      this.binary = true;
      return { bytesRead: 0, lines: 0 };
    }
    if (bytesRead > 0) {
      this.splitter.push(buffer, bytesRead);
      // The next read goes into the same buffer (and the splitter's own for a line across reads).
      this.parser.detach?.();
      this.release();
    }
    return { bytesRead, lines: this.lines };
  }

  /**
   * This file is a rotated generation read to its end: what its parser holds that the next generation continues goes
   * to `successor`'s parser (linked by `token` + the output stream's index); its own rows say so (CARRY_ROW), and
   * everything it read is finished.
   */
  handover(successor: ParseStream, token: number): void {
    const consumed = this.splitter.consumed;
    this.out.framing = this.framing;
    for (const carry of this.parser.exportCarried?.() ?? []) {
      const link = token + carry.index;
      successor.parser.importCarried?.(carry, link, successor.splitter.position);
      this.out.carry(carry.localStart, consumed, consumed, link, carry.link);
    }
    this.release();
  }

  flush(partialLine: boolean, force: boolean, now: number): void {
    this.now = now;
    this.out.framing = this.framing;
    if (partialLine) this.splitter.flushPartial();
    // Not per line: the held start is asked for before, in case the flush throws half-way (see flushFailed).
    const held = this.parser.heldFrom();
    try {
      this.parser.flush(now, force);
    } catch (err) {
      this.flushFailed(err, held);
    }
    this.release();
  }

  private onLine(line: Line): void {
    this.lines++;
    // A try block costs nothing per line in V8 (TurboFan optimises it); the catch work is in a method of its own.
    try {
      this.parser.push(line, this.now);
    } catch (err) {
      this.parserFailed(err, line.start, line.end, line.text, lineFlags(line));
    }
    // Records are written out as they come, a few at a time: kept until a whole 1 MiB chunk was parsed, thousands of
    // them (and their JSON text) lived long enough to be promoted to V8's old generation.
    // Everything up to this line's end has been seen by the parser.
    if (this.emitted.length >= RELEASE_EVERY) this.release(line.end);
  }

  /** A line offered as bytes (see RecordParser.pushBytes); counted and released like onLine's. */
  private takeBytes(buf: Buffer, from: number, to: number, start: number, end: number): boolean {
    let taken: boolean;
    try {
      taken = this.parser.pushBytes!(buf, from, to, start, end, this.now);
    } catch (err) {
      // Room it may have placed in a chunk is simply not used. The bytes are still in `buf` (push() has not returned).
      this.parserFailed(err, start, end, buf.toString('utf8', from, to), 0);
      taken = true;
    }
    if (!taken) return false;
    this.lines++;
    if (this.emitted.length >= RELEASE_EVERY) this.release(end);
    return true;
  }

  /**
   * The parser threw on the line [start, end). Its state is unknown now, and so is what heldFrom() means: a record it
   * was finishing may already count as not held (the checkpoint would pass bytes never shipped), or one may stay
   * "held" for ever (the checkpoint would never move again). So:
   * 1. what it holds from earlier lines is flushed out once, if it can (their records keep their text);
   * 2. records it made from this line (start >= this line's) are dropped: the line becomes one record, step 4;
   * 3. the parser is replaced by a fresh one, which holds nothing;
   * 4. the line is shipped as a parse-error record, and the failure is reported with the reply (logged by the agent).
   * Should step 1 fail, the record of step 4 starts where the old parser's held bytes did, so that the checkpoint
   * never passes them unshipped: their text is lost, their bytes are counted in a record and the failure is logged.
   */
  private parserFailed(err: unknown, start: number, end: number, text: string, flags: number): void {
    const old = this.parser;
    this.parser = this.makeParser();
    let from = start;
    try {
      old.flush(this.now, true);
      const stillHeld = old.heldFrom();
      if (stillHeld !== null && stillHeld < start) from = stillHeld;
    } catch {
      const held = safeHeldFrom(old);
      if (held !== null && held < start) from = held;
    }
    this.emitted = this.emitted.filter((r) => r.start < start);
    if (from < start && this.emitted.some((r) => r.start === from)) from = start; // ids are by start: never two alike
    this.emitted.push(this.failed.record(from, end, text, flags, this.now));
    this.out.failure({ path: this.context.path, start: from, end, error: describeThrown(err) });
  }

  /**
   * The parser threw while flushing what it held (from `held`; e.g. Docker pieces joined and parsed at a timeout):
   * the text is gone, but the bytes are not let go silently. They become a parse-error record saying so, from the
   * first held byte no record emitted before the throw starts at, to what the splitter has handed out.
   */
  private flushFailed(err: unknown, held: number | null): void {
    this.parser = this.makeParser();
    const end = this.splitter.consumed;
    let from = held ?? end;
    for (let moved = true; moved; ) {
      moved = false;
      for (const r of this.emitted) {
        if (r.start === from && r.end > from) {
          from = r.end;
          moved = true;
        }
      }
    }
    const error = describeThrown(err);
    if (from < end) {
      const text = `logship: the parser failed on bytes ${from}-${end} of this file (${error}); their text is not in this record`;
      this.emitted.push(this.failed.record(from, end, text, 0, this.now));
    }
    this.out.failure({ path: this.context.path, start: from, end, error });
  }

  private release(consumed: number = this.splitter.consumed): void {
    const held = this.parser.heldFrom();
    let safe = held === null ? consumed : Math.min(held, consumed);
    const emitted = this.emitted;
    if (emitted.length === 0) {
      this.out.advance(safe);
      return;
    }
    this.emitted = [];
    const safeOffsets = new Array<number>(emitted.length);
    for (let i = emitted.length - 1; i >= 0; i--) {
      safeOffsets[i] = safe;
      safe = Math.min(safe, emitted[i]!.start);
    }
    for (let i = 0; i < emitted.length; i++) this.out.record(emitted[i]!, safeOffsets[i]!);
  }
}

/** heldFrom() of a parser that threw, which may throw too. */
function safeHeldFrom(parser: RecordParser): number | null {
  try {
    return parser.heldFrom();
  } catch {
    return null;
  }
}
