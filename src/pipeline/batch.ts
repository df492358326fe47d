/**
 * Batches as delivery owns them: a Batch (what a sink reads) that can also acknowledge its records one by one and
 * give the batch of the records still owed.
 *
 * Two kinds:
 * - ColumnBatch, what the batcher makes from the tailer's records: one row per record in typed arrays, the JSON
 *   text in arena chunks (filled by the parse thread). No object per record. Why: records live until acknowledged, long enough to be
 *   promoted to V8's old generation; an object per record (~130 bytes with its array slots) was most of what the
 *   old generation received, and with the heap kept small (see memory.ts) every promoted byte costs a share of a
 *   full mark-compact. The typed arrays live outside the JS heap.
 * - ListBatch, over LogRecord objects: for records made elsewhere (tests, tools), same behaviour.
 * A sink that wants record objects reads `records`; a ColumnBatch makes light views on first use. The
 * Elasticsearch sink reads the columns (framed runs, or id, jsonBytes, writeJson) and never makes them.
 */
import { documentJson, recordId, type EcsDocument, type LogRecord, type SourceRef } from '../record.js';
import type { Batch } from '../sink.js';
import type { ArenaChunk } from './arena.js';

/** Bytes a sink adds around a document (an Elasticsearch action line with its id). For batch sizing only. */
export const RECORD_OVERHEAD_BYTES = 64;

export interface OwnedBatch extends Batch {
  /** Record i is stored or dead-lettered: its checkpoint may move, and its memory is freed. Once per record. */
  acknowledge(i: number): void;
  /** The records at these indexes, as a batch of their own (the rest were acknowledged). */
  subset(indexes: readonly number[]): OwnedBatch;
  /** Delivery is done with this batch (its records are acknowledged or in a subset): its storage may be reused. */
  dispose(): void;
  /** The files the batch holds records of, each once. */
  sourceRefs(): readonly SourceRef[];
}

export class ListBatch implements OwnedBatch {
  readonly bytes: number;

  constructor(readonly records: readonly LogRecord[]) {
    let bytes = 0;
    for (const r of records) bytes += r.bytes;
    this.bytes = bytes;
  }

  get size(): number {
    return this.records.length;
  }
  id(i: number): string {
    return recordId(this.records[i]!);
  }
  idPrefix(i: number): string {
    return this.records[i]!.source.idPrefix;
  }
  offset(i: number): number {
    return this.records[i]!.start;
  }
  jsonBytes(i: number): number {
    return Buffer.byteLength(documentJson(this.records[i]!));
  }
  writeJson(i: number, target: Buffer, offset: number): number {
    return target.write(documentJson(this.records[i]!), offset, 'utf8');
  }
  acknowledge(i: number): void {
    const r = this.records[i]!;
    r.source.ack(r.seq);
  }
  subset(indexes: readonly number[]): OwnedBatch {
    return new ListBatch(indexes.map((i) => this.records[i]!));
  }
  dispose(): void {
    // Nothing to reuse: the records are objects.
  }
  sourceRefs(): readonly SourceRef[] {
    return [...new Set(this.records.map((r) => r.source))];
  }
}

/** A batch of these records. */
export function batchOf(records: readonly LogRecord[]): ListBatch {
  return new ListBatch(records);
}

/** The columns of a ColumnBatch. */
class Columns {
  readonly start: Float64Array;
  readonly end: Float64Array;
  readonly seq: Float64Array;
  readonly at: Int32Array;
  readonly length: Int32Array;
  readonly sourceIndex: Uint16Array;
  readonly chunkIndex: Uint16Array;
  /** Bytes of the sink's item head before the document (0: not framed; see ItemFraming). */
  readonly frame: Uint16Array;

  constructor(readonly capacity: number) {
    this.start = new Float64Array(capacity);
    this.end = new Float64Array(capacity);
    this.seq = new Float64Array(capacity);
    this.at = new Int32Array(capacity);
    this.length = new Int32Array(capacity);
    this.sourceIndex = new Uint16Array(capacity);
    this.chunkIndex = new Uint16Array(capacity);
    this.frame = new Uint16Array(capacity);
  }

  /** A copy with room for `capacity` rows. */
  widened(capacity: number): Columns {
    const c = new Columns(capacity);
    c.start.set(this.start);
    c.end.set(this.end);
    c.seq.set(this.seq);
    c.at.set(this.at);
    c.length.set(this.length);
    c.sourceIndex.set(this.sourceIndex);
    c.chunkIndex.set(this.chunkIndex);
    c.frame.set(this.frame);
    return c;
  }
}

/**
 * Column sets of one size, reused from batch to batch: typed arrays live outside the JS heap and are freed only when
 * a full collection finds them dead, so a new set per batch (36 KB for 1,000 rows) piled up tens of MB between
 * collections.
 */
export class ColumnPool {
  private readonly free: Columns[] = [];

  constructor(
    readonly capacity: number,
    private readonly keep = 16,
  ) {}

  take(): Columns {
    return this.free.pop() ?? new Columns(this.capacity);
  }

  give(columns: Columns): void {
    if (columns.capacity === this.capacity && this.free.length < this.keep) this.free.push(columns);
  }
}

/**
 * Rows: start, end and seq (Float64: offsets pass 2^31), where the JSON text is (chunk, at, length), and the
 * record's source. Sources and chunks repeat for long runs of rows, so each row holds a small index into this
 * batch's own list of them.
 */
export class ColumnBatch implements OwnedBatch {
  private count = 0;
  private totalBytes = 0;
  private cols: Columns;
  private readonly sources: SourceRef[] = [];
  private readonly chunks: ArenaChunk[] = [];
  private views: LogRecord[] | null = null;

  constructor(private readonly pool: ColumnPool) {
    this.cols = pool.take();
  }

  get size(): number {
    return this.count;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  id(i: number): string {
    return `${this.sourceOf(i).idPrefix}-${this.cols.start[i]!}`;
  }

  idPrefix(i: number): string {
    return this.sourceOf(i).idPrefix;
  }

  offset(i: number): number {
    return this.cols.start[i]!;
  }

  jsonBytes(i: number): number {
    return this.cols.length[i]!;
  }

  writeJson(i: number, target: Buffer, offset: number): number {
    const at = this.cols.at[i]!;
    const length = this.cols.length[i]!;
    target.set(this.chunkOf(i).bytes.subarray(at, at + length), offset);
    return length;
  }

  /**
   * Framed items lie in their chunk as the parse thread wrote them: head, document, newline, the next record's head.
   * A run is the records from i on whose items follow each other in one chunk; it is copied at once.
   */
  framedRun(i: number): number {
    const c = this.cols;
    if (c.frame[i] === 0) return 0;
    const chunk = c.chunkIndex[i]!;
    let end = c.at[i]! + c.length[i]! + 1;
    let j = i + 1;
    for (; j < this.count && c.frame[j] !== 0 && c.chunkIndex[j] === chunk && c.at[j]! - c.frame[j]! === end; j++) {
      end = c.at[j]! + c.length[j]! + 1;
    }
    return j - i;
  }

  framedBytes(i: number): number {
    const frame = this.cols.frame[i]!;
    return frame === 0 ? 0 : frame + this.cols.length[i]! + 1;
  }

  writeFramed(i: number, count: number, target: Buffer, offset: number): number {
    const c = this.cols;
    const last = i + count - 1;
    const from = c.at[i]! - c.frame[i]!;
    const to = c.at[last]! + c.length[last]! + 1;
    target.set(this.chunkOf(i).bytes.subarray(from, to), offset);
    return offset + to - from;
  }

  /** Record i's document JSON, decoded. */
  json(i: number): string {
    const at = this.cols.at[i]!;
    return this.chunkOf(i).buffer.toString('utf8', at, at + this.cols.length[i]!);
  }

  get records(): readonly LogRecord[] {
    if (this.views === null) {
      const c = this.cols;
      this.views = [];
      for (let i = 0; i < this.count; i++) this.views.push(new RowRecord(this, i, this.sourceOf(i), c.start[i]!, c.end[i]!, c.seq[i]!));
    }
    return this.views;
  }

  acknowledge(i: number): void {
    const chunk = this.chunks[this.cols.chunkIndex[i]!];
    if (chunk === undefined) throw new Error(`record ${i} of a batch acknowledged twice`);
    this.sourceOf(i).ack(this.cols.seq[i]!);
    // A row's bytes are freed with its chunk's count; the row is marked by forgetting its chunk index.
    this.cols.chunkIndex[i] = RELEASED;
    chunk.release();
  }

  subset(indexes: readonly number[]): OwnedBatch {
    const part = new ColumnBatch(this.pool);
    const c = this.cols;
    for (const i of indexes) part.add(this.sourceOf(i), c.start[i]!, c.end[i]!, c.seq[i]!, this.chunkOf(i), c.at[i]!, c.length[i]!, c.frame[i]!);
    return part;
  }

  dispose(): void {
    const cols = this.cols;
    // Every later read finds no rows and no chunk: it fails instead of reading another batch's rows.
    this.cols = EMPTY;
    this.count = 0;
    this.chunks.length = 0;
    this.views = null;
    this.pool.give(cols);
  }

  sourceRefs(): readonly SourceRef[] {
    return this.sources;
  }

  /**
   * Adds a record whose document JSON is in `chunk` (`length` bytes at `at`; the chunk counts it as live), framed as
   * the sink's item when `frame` (the head's bytes before `at`) is not 0.
   */
  add(source: SourceRef, start: number, end: number, seq: number, chunk: ArenaChunk, at: number, length: number, frame = 0): void {
    const i = this.count;
    if (i === this.cols.capacity) this.cols = this.cols.widened(Math.max(16, i * 2));
    const c = this.cols;
    c.start[i] = start;
    c.end[i] = end;
    c.seq[i] = seq;
    c.at[i] = at;
    c.length[i] = length;
    c.sourceIndex[i] = indexIn(this.sources, source);
    c.chunkIndex[i] = indexIn(this.chunks, chunk);
    // A head longer than the column holds (not expected: ~50 bytes) would simply not be used: the document goes alone.
    c.frame[i] = frame <= 0xffff ? frame : 0;
    this.totalBytes += length + RECORD_OVERHEAD_BYTES;
    this.count = i + 1;
    this.views = null;
  }

  private sourceOf(i: number): SourceRef {
    return this.sources[this.cols.sourceIndex[i]!]!;
  }

  private chunkOf(i: number): ArenaChunk {
    const chunk = this.chunks[this.cols.chunkIndex[i]!];
    // Reading a released row would read whatever record reuses its bytes: fail loudly instead.
    if (chunk === undefined) throw new Error(`record ${i} of a batch read after it was acknowledged`);
    return chunk;
  }
}

/** The columns of a disposed batch: none. */
const EMPTY = new Columns(0);

/** The chunk index of an acknowledged row. */
const RELEASED = 0xffff;

/** Index of `item` in a short list, appended when new; the last entry is checked first (runs of rows share one). */
function indexIn<T>(list: T[], item: T): number {
  const last = list.length - 1;
  if (last >= 0 && list[last] === item) return last;
  const found = list.indexOf(item);
  if (found >= 0) return found;
  if (list.length === RELEASED) throw new Error('a batch refers to more sources or chunks than it can index');
  list.push(item);
  return list.length - 1;
}

/** A row of a ColumnBatch seen as a LogRecord, for sinks that read records as objects. */
class RowRecord implements LogRecord {
  constructor(
    private readonly batch: ColumnBatch,
    private readonly row: number,
    readonly source: SourceRef,
    readonly start: number,
    readonly end: number,
    readonly seq: number,
  ) {}

  get bytes(): number {
    return this.batch.jsonBytes(this.row) + RECORD_OVERHEAD_BYTES;
  }

  get json(): string {
    return this.batch.json(this.row);
  }

  get doc(): EcsDocument {
    return JSON.parse(this.json) as EcsDocument;
  }
}
