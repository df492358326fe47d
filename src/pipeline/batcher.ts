import type { LogRecord } from '../record.js';
import type { Batch } from '../sink.js';

export interface BatchLimits {
  readonly maxEvents: number;
  readonly maxBytes: number;
  readonly flushIntervalMs: number;
}

/**
 * Collects records into batches: a batch closes when it reaches maxEvents or maxBytes, or flushIntervalMs after
 * its first record arrived (so a quiet file still ships within the interval).
 */
export class Batcher {
  private records: LogRecord[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly limits: BatchLimits,
    private readonly onBatch: (batch: Batch) => void,
  ) {}

  get size(): number {
    return this.records.length;
  }

  add(record: LogRecord): void {
    // A record that would push the batch over max_bytes starts the next batch (a lone oversized record still goes).
    if (this.records.length > 0 && this.bytes + record.bytes > this.limits.maxBytes) this.flush();
    this.records.push(record);
    this.bytes += record.bytes;
    if (this.records.length >= this.limits.maxEvents || this.bytes >= this.limits.maxBytes) {
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
    if (this.records.length === 0) return;
    const batch: Batch = { records: this.records, bytes: this.bytes };
    this.records = [];
    this.bytes = 0;
    this.onBatch(batch);
  }
}
