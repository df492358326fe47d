/**
 * The parse worker's replies as they are built: the chunks of shared memory documents are written into, the rows
 * that say where each record is, and the sink's framing of each document as its item (see ReplyWriter).
 */
import { REC_MULTILINE, REC_PARSE_ERROR, WrittenRecord, type ParsedRecord } from '../parse/document.js';
import type { FramingBytes } from '../pipeline/item-framing.js';
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
