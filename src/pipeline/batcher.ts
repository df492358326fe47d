import type { SourceRef } from '../record.js';
import type { ArenaChunk } from './arena.js';
import { ColumnBatch, ColumnPool, RECORD_OVERHEAD_BYTES, type OwnedBatch } from './batch.js';

export interface BatchLimits {
  readonly maxEvents: number;
  readonly maxBytes: number;
  readonly flushIntervalMs: number;
}

/**
 * Collects records into batches: a batch closes when it reaches maxEvents or maxBytes, or flushIntervalMs after
 * its first record arrived (so a quiet file still ships within the interval). Records arrive as fields, not
 * objects: they become rows of a ColumnBatch, their JSON text left where it is, in its chunk (see batch.ts for why).
 */
export class Batcher {
  private readonly columns: ColumnPool;
  private batch: ColumnBatch;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly limits: BatchLimits,
    private readonly onBatch: (batch: OwnedBatch) => void,
  ) {
    this.columns = new ColumnPool(Math.min(limits.maxEvents, 4096));
    this.batch = this.newBatch();
  }

  /** Records waiting in the open batch. */
  get size(): number {
    return this.batch.size;
  }

  /**
   * Adds a record of `source` covering bytes [start, end), whose document JSON is `length` bytes at `at` in `chunk`
   * (after `frame` bytes of the sink's item head, when framed: see ItemFraming).
   * A record that would push the batch over max_bytes starts the next batch (a lone oversized record still goes).
   */
  add(source: SourceRef, start: number, end: number, seq: number, chunk: ArenaChunk, at: number, length: number, frame = 0): void {
    if (this.batch.size > 0 && this.batch.bytes + length + RECORD_OVERHEAD_BYTES > this.limits.maxBytes) this.flush();
    this.batch.add(source, start, end, seq, chunk, at, length, frame);
    if (this.batch.size >= this.limits.maxEvents || this.batch.bytes >= this.limits.maxBytes) {
      this.flush();
    } else if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, this.limits.flushIntervalMs);
    }
  }

  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.batch.size === 0) return;
    const batch = this.batch;
    this.batch = this.newBatch();
    this.onBatch(batch);
  }

  private newBatch(): ColumnBatch {
    return new ColumnBatch(this.columns);
  }
}
