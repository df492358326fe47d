/**
 * One file's bytes → records, on the parse worker: line splitter, parser, and the resume offset of every record.
 * Records are written out as rows of numbers and JSON bytes (ReplyWriter), ready to be sent to the main thread.
 */
import { readSync } from 'node:fs';
import { REC_MULTILINE, REC_PARSE_ERROR, type ParsedRecord } from '../parse/document.js';
import { createParser, type ParserType } from '../parse/index.js';
import type { Line, ParserContext, RecordParser } from '../parse/types.js';
import { LineSplitter } from './lines.js';
import {
  ADVANCE_ROW,
  OUTPUT_CHUNK_BYTES,
  ROW_AT,
  ROW_CHUNK,
  ROW_END,
  ROW_FIELDS,
  ROW_LENGTH,
  ROW_SAFE,
  ROW_START,
  type ParsedReply,
  type StreamState,
} from './parse-protocol.js';

/** The file could not be read: nothing changed, the read may be tried again. (Any other error is a bug.) */
export class ReadFailed extends Error {}

/** Records written out together while a chunk is parsed (see onLine). */
const RELEASE_EVERY = 16;

/**
 * Buffers that travel to the main thread and back. A few are kept, not dropped: a dropped buffer is garbage outside
 * the heap until a full collection, and new ones pile up meanwhile. A few only: the chunks in use are those whose
 * records are in flight, and the main thread gives each back once they are delivered (measured: 4 spares peak ~4 MiB
 * lower than 16, no slower).
 */
export class BufferPool {
  private readonly chunks: Buffer[] = [];
  private readonly rows: Float64Array[] = [];

  constructor(private readonly keep = 4) {}

  chunk(bytes: number): Buffer {
    if (bytes <= OUTPUT_CHUNK_BYTES) return this.chunks.pop() ?? Buffer.allocUnsafeSlow(OUTPUT_CHUNK_BYTES);
    return Buffer.allocUnsafeSlow(bytes);
  }

  rowsFor(count: number): Float64Array {
    const found = this.rows.pop();
    return found !== undefined && found.length >= count ? found : new Float64Array(Math.max(count, 4096) * ROW_FIELDS);
  }

  giveChunk(buffer: ArrayBuffer): void {
    if (buffer.byteLength === OUTPUT_CHUNK_BYTES && this.chunks.length < this.keep) this.chunks.push(Buffer.from(buffer));
  }

  giveRows(buffer: ArrayBuffer): void {
    if (this.rows.length < 4) this.rows.push(new Float64Array(buffer));
  }
}

/** The reply being built for one request: rows, and the chunks the documents are written into. */
export class ReplyWriter {
  private rows: Float64Array | null = null;
  private rowCount = 0;
  private readonly chunks: Buffer[] = [];
  private chunk: Buffer | null = null;
  private used = 0;
  private records = 0;
  private parseErrors = 0;
  private multiline = 0;

  constructor(private readonly pool: BufferPool) {}

  record(r: ParsedRecord, safe: number): void {
    if (this.chunk === null || this.used + r.bytes > this.chunk.length) {
      this.chunk = this.pool.chunk(r.bytes);
      this.chunks.push(this.chunk);
      this.used = 0;
    }
    const at = this.used;
    this.used += this.chunk.write(r.json, at, r.bytes, 'utf8');
    this.row(r.start, r.end, safe, this.chunks.length - 1, at, r.bytes);
    this.records++;
    if (r.flags & REC_PARSE_ERROR) this.parseErrors++;
    if (r.flags & REC_MULTILINE) this.multiline++;
  }

  /** Bytes up to `safe` are finished with no record to come. */
  advance(safe: number): void {
    this.row(0, 0, safe, ADVANCE_ROW, 0, 0);
  }

  /** The reply, and what must be transferred with it; the writer is empty again. */
  finish(request: number, bytesRead: number, lines: number, state: StreamState): { reply: ParsedReply; transfer: ArrayBuffer[] } {
    const rows = this.rows ?? this.pool.rowsFor(0);
    const chunks = this.chunks.map((c) => c.buffer as ArrayBuffer);
    const reply: ParsedReply = {
      request,
      bytesRead,
      lines,
      records: this.records,
      parseErrors: this.parseErrors,
      multiline: this.multiline,
      rows,
      rowCount: this.rowCount,
      chunks,
      state,
    };
    this.rows = null;
    this.rowCount = 0;
    this.chunks.length = 0;
    this.chunk = null;
    this.records = this.parseErrors = this.multiline = 0;
    return { reply, transfer: [rows.buffer as ArrayBuffer, ...chunks] };
  }

  private row(start: number, end: number, safe: number, chunk: number, at: number, length: number): void {
    let rows = this.rows ?? (this.rows = this.pool.rowsFor(0));
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
    this.rowCount++;
  }
}

/**
 * A file's line splitter and parser. Each record is written out with the offset that is safe to resume from once it
 * and all before it are stored: the smallest start of anything still unshipped after it.
 */
export class ParseStream {
  private readonly splitter: LineSplitter;
  private readonly parser: RecordParser;
  /** Records the parser emitted and not yet written out. */
  private emitted: ParsedRecord[] = [];
  private lines = 0;
  /** The clock for the lines of the chunk being split: read once per request, not per line. */
  private now = 0;

  constructor(
    type: ParserType,
    context: ParserContext,
    maxLineBytes: number,
    startOffset: number,
    private readonly out: ReplyWriter,
  ) {
    this.splitter = new LineSplitter(maxLineBytes, (line) => this.onLine(line), startOffset);
    this.parser = createParser(type, context, (r) => this.emitted.push(r));
  }

  get state(): StreamState {
    return { position: this.splitter.position, partialLine: this.splitter.hasPartial(), heldFrom: this.parser.heldFrom() ?? -1 };
  }

  /** Reads up to `bytes` at the stream's position through `fd` into `buffer` and parses them; returns bytes and lines. */
  read(fd: number, buffer: Buffer, bytes: number, now: number): { bytesRead: number; lines: number } {
    let bytesRead: number;
    try {
      bytesRead = readSync(fd, buffer, 0, Math.min(bytes, buffer.length), this.splitter.position);
    } catch (err) {
      throw new ReadFailed((err as Error).message);
    }
    this.lines = 0;
    this.now = now;
    if (bytesRead > 0) {
      this.splitter.push(buffer, bytesRead);
      this.release();
    }
    return { bytesRead, lines: this.lines };
  }

  flush(partialLine: boolean, force: boolean, now: number): void {
    this.now = now;
    if (partialLine) this.splitter.flushPartial();
    this.parser.flush(now, force);
    this.release();
  }

  private onLine(line: Line): void {
    this.lines++;
    this.parser.push(line, this.now);
    // Records are written out as they come, a few at a time: kept until a whole 1 MiB chunk was parsed, thousands of
    // them (and their JSON text) lived long enough to be promoted to V8's old generation.
    // Everything up to this line's end has been seen by the parser.
    if (this.emitted.length >= RELEASE_EVERY) this.release(line.end);
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
