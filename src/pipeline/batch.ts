/**
 * Batches as delivery owns them: a Batch (what a sink reads) that can also acknowledge its records one by one and
 * give the batch of the records still owed.
 *
 * Two kinds:
 * - ColumnBatch, what the batcher makes from the tailer's records: one row per record in typed arrays, the JSON
 *   text in DocumentArena chunks. No object per record. Why: records live until acknowledged, long enough to be
 *   promoted to V8's old generation; an object per record (~130 bytes with its array slots) was most of what the
 *   old generation received, and with the heap kept small (see memory.ts) every promoted byte costs a share of a
 *   full mark-compact. The typed arrays live outside the JS heap.
 * - ListBatch, over LogRecord objects: for records made elsewhere (tests, tools), same behaviour.
 * A sink that wants record objects reads `records`; a ColumnBatch makes light views on first use. The
 * Elasticsearch sink reads the columns (id, jsonBytes, writeJson) and never makes them.
 */
import { documentJson, recordId, type EcsDocument, type LogRecord, type SourceRef } from '../record.js';
import type { Batch } from '../sink.js';
import type { ArenaChunk, DocumentArena } from './arena.js';

/** Bytes a sink adds around a document (an Elasticsearch action line with its id). For batch sizing only. */
export const RECORD_OVERHEAD_BYTES = 64;

export interface OwnedBatch extends Batch {
  /** Record i is stored or dead-lettered: its checkpoint may move, and its memory is freed. Once per record. */
  acknowledge(i: number): void;
  /** The records at these indexes, as a batch of their own (the rest were acknowledged). */
  subset(indexes: readonly number[]): OwnedBatch;
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
}

/** A batch of these records. */
export function batchOf(records: readonly LogRecord[]): ListBatch {
  return new ListBatch(records);
}

/**
 * Rows: start, end and seq (Float64: offsets pass 2^31), where the JSON text is (chunk, at, length), and the
 * record's source. Sources and chunks repeat for long runs of rows, so each row holds a small index into this
 * batch's own list of them.
 */
export class ColumnBatch implements OwnedBatch {
  private count = 0;
  private totalBytes = 0;
  private start: Float64Array;
  private end: Float64Array;
  private seq: Float64Array;
  private at: Int32Array;
  private length: Int32Array;
  private sourceIndex: Uint16Array;
  private chunkIndex: Uint16Array;
  private readonly sources: SourceRef[] = [];
  private readonly chunks: ArenaChunk[] = [];
  private views: LogRecord[] | null = null;

  constructor(
    private readonly arena: DocumentArena,
    capacity: number,
  ) {
    capacity = Math.max(1, capacity);
    this.start = new Float64Array(capacity);
    this.end = new Float64Array(capacity);
    this.seq = new Float64Array(capacity);
    this.at = new Int32Array(capacity);
    this.length = new Int32Array(capacity);
    this.sourceIndex = new Uint16Array(capacity);
    this.chunkIndex = new Uint16Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Adds a record: its document JSON (`jsonBytes` UTF-8 bytes) is copied into the arena. */
  add(source: SourceRef, start: number, end: number, seq: number, json: string, jsonBytes: number): void {
    const chunk = this.arena.store(json, jsonBytes);
    this.addRow(source, start, end, seq, chunk, chunk.used - jsonBytes, jsonBytes);
  }

  id(i: number): string {
    return `${this.sourceOf(i).idPrefix}-${this.start[i]!}`;
  }

  jsonBytes(i: number): number {
    return this.length[i]!;
  }

  writeJson(i: number, target: Buffer, offset: number): number {
    const at = this.at[i]!;
    return this.chunkOf(i).buffer.copy(target, offset, at, at + this.length[i]!);
  }

  /** Record i's document JSON, decoded. */
  json(i: number): string {
    const at = this.at[i]!;
    return this.chunkOf(i).buffer.toString('utf8', at, at + this.length[i]!);
  }

  get records(): readonly LogRecord[] {
    if (this.views === null) {
      this.views = [];
      for (let i = 0; i < this.count; i++) this.views.push(new RowRecord(this, i, this.sourceOf(i), this.start[i]!, this.end[i]!, this.seq[i]!));
    }
    return this.views;
  }

  acknowledge(i: number): void {
    const chunk = this.chunks[this.chunkIndex[i]!];
    if (chunk === undefined) throw new Error(`record ${i} of a batch acknowledged twice`);
    this.sourceOf(i).ack(this.seq[i]!);
    // A row's bytes are freed with its chunk's count; the row is marked by forgetting its chunk index.
    this.chunkIndex[i] = RELEASED;
    this.arena.release(chunk);
  }

  subset(indexes: readonly number[]): OwnedBatch {
    const part = new ColumnBatch(this.arena, indexes.length);
    for (const i of indexes) part.addRow(this.sourceOf(i), this.start[i]!, this.end[i]!, this.seq[i]!, this.chunkOf(i), this.at[i]!, this.length[i]!);
    return part;
  }

  private addRow(source: SourceRef, start: number, end: number, seq: number, chunk: ArenaChunk, at: number, length: number): void {
    const i = this.count;
    if (i === this.start.length) this.grow();
    this.start[i] = start;
    this.end[i] = end;
    this.seq[i] = seq;
    this.at[i] = at;
    this.length[i] = length;
    this.sourceIndex[i] = indexIn(this.sources, source);
    this.chunkIndex[i] = indexIn(this.chunks, chunk);
    this.totalBytes += length + RECORD_OVERHEAD_BYTES;
    this.count = i + 1;
    this.views = null;
  }

  private sourceOf(i: number): SourceRef {
    return this.sources[this.sourceIndex[i]!]!;
  }

  private chunkOf(i: number): ArenaChunk {
    const chunk = this.chunks[this.chunkIndex[i]!];
    // Reading a released row would read whatever record reuses its bytes: fail loudly instead.
    if (chunk === undefined) throw new Error(`record ${i} of a batch read after it was acknowledged`);
    return chunk;
  }

  private grow(): void {
    const n = this.start.length * 2;
    const widen = <T extends Float64Array | Int32Array | Uint16Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.start = widen(this.start, (k) => new Float64Array(k));
    this.end = widen(this.end, (k) => new Float64Array(k));
    this.seq = widen(this.seq, (k) => new Float64Array(k));
    this.at = widen(this.at, (k) => new Int32Array(k));
    this.length = widen(this.length, (k) => new Int32Array(k));
    this.sourceIndex = widen(this.sourceIndex, (k) => new Uint16Array(k));
    this.chunkIndex = widen(this.chunkIndex, (k) => new Uint16Array(k));
  }
}

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
