import PQueue from 'p-queue';
import type { PipelineEvents } from '../events.js';
import type { Logger } from '../log.js';
import type { Sink, SendResult } from '../sink.js';
import type { OwnedBatch } from './batch.js';
import { backoffDelay, sleep, type RetryPolicy } from './backoff.js';
import type { DeadLetters } from './dead-letters.js';

export interface DeliveryOptions {
  readonly concurrency: number;
  /** Batches queued or in flight before waitForCapacity() holds the reader back. */
  readonly maxPendingBatches: number;
  readonly retry: RetryPolicy;
}

/**
 * Sends batches to the sink with bounded concurrency and owns everything that happens after a send: backoff and
 * retry (forever by default: reading pauses meanwhile, through waitForCapacity), dead letters for what the sink
 * refuses for good, and acknowledgements, which move checkpoints. A record is acknowledged exactly when it is
 * stored or dead-lettered; never before.
 */
export class Delivery {
  private readonly queue: PQueue;
  private outstanding = 0;
  private readonly waiting: OwnedBatch[] = [];
  private capacityWaiters: (() => void)[] = [];
  private readonly abort = new AbortController();
  private abortTimer: NodeJS.Timeout | null = null;
  private fatalReason: string | null = null;
  /** Consecutive failed sends (for health reporting), reset by any success. */
  failingSince: number | null = null;

  constructor(
    private readonly sink: Sink,
    private readonly options: DeliveryOptions,
    private readonly deadLetters: DeadLetters,
    private readonly events: PipelineEvents,
    private readonly logger: Logger,
    private readonly onFatal: (reason: string) => void,
  ) {
    this.queue = new PQueue({ concurrency: options.concurrency });
  }

  get fatal(): string | null {
    return this.fatalReason;
  }

  /** Prepare the sink (templates, …), retrying like a send. False if it failed for good or we were aborted. */
  async start(): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      const result = await this.sink.start();
      if (result.kind === 'delivered') return true;
      if (result.kind === 'fatal') {
        this.fail(result.reason);
        return false;
      }
      const reason = result.reason;
      this.logger.warn('sink not ready, retrying', { sink: this.sink.name, attempt, reason });
      await sleep(backoffDelay(this.options.retry, attempt, result.delayMs), this.abort.signal);
      if (this.abort.signal.aborted) return false;
    }
  }

  submit(batch: OwnedBatch): void {
    this.outstanding++;
    // The batch waits in our own FIFO, not in p-queue's task closure: p-queue 9 keeps the contexts of finished
    // tasks reachable for a while, and a heap snapshot showed 57 finished batches (57,000 records) held that way.
    this.waiting.push(batch);
    void this.queue
      .add(() => this.deliver(this.waiting.shift()!))
      .catch((err: unknown) => this.fail(`unexpected error in delivery: ${(err as Error).message}`))
      .finally(() => {
        this.outstanding--;
        this.releaseWaiters();
      });
  }

  /** Resolves when another batch may be submitted without exceeding maxPendingBatches. */
  waitForCapacity(): Promise<void> {
    if (this.outstanding < this.options.maxPendingBatches) return Promise.resolve();
    return new Promise((resolve) => this.capacityWaiters.push(resolve));
  }

  hasCapacity(): boolean {
    return this.outstanding < this.options.maxPendingBatches;
  }

  get pendingBatches(): number {
    return this.outstanding;
  }

  /**
   * Stop retrying after `ms` (shutdown_timeout): unacknowledged records stay unacknowledged and are read again
   * after a restart. The first call sets the deadline.
   */
  abortRetriesAfter(ms: number): void {
    if (this.abortTimer !== null || this.abort.signal.aborted) return;
    this.abortTimer = setTimeout(() => this.abort.abort(), ms);
    this.abortTimer.unref();
  }

  /** Resolves when everything submitted is acknowledged or given up (after abortRetriesAfter's deadline). */
  async drain(): Promise<void> {
    await Promise.race([
      this.queue.onIdle(),
      new Promise<void>((resolve) => this.abort.signal.addEventListener('abort', () => resolve(), { once: true })),
    ]);
  }

  private releaseWaiters(): void {
    while (this.capacityWaiters.length > 0 && this.outstanding < this.options.maxPendingBatches) {
      this.capacityWaiters.shift()?.();
    }
  }

  private fail(reason: string): void {
    if (this.fatalReason !== null) return;
    this.fatalReason = reason;
    this.abort.abort();
    this.logger.error('sink failed and cannot recover without an operator', { sink: this.sink.name, reason });
    this.onFatal(reason);
  }

  private async deliver(batch: OwnedBatch): Promise<void> {
    let pending = batch;
    for (let attempt = 1; pending.size > 0; attempt++) {
      if (this.abort.signal.aborted) return;
      const started = Date.now();
      const result: SendResult = await this.sink.send(pending);
      switch (result.kind) {
        case 'delivered':
          this.acknowledge(pending, allIndexes(pending.size));
          this.events.batchSent(this.sink.name, pending.size, Date.now() - started);
          this.failingSince = null;
          pending.dispose();
          return;
        case 'fatal':
          this.events.sendFailed(this.sink.name, result.reason);
          this.fail(result.reason);
          return;
        case 'partial': {
          const retryIndexes = new Set(result.retry);
          const rejectedIndexes = new Set(result.rejected.map((r) => r.index));
          if (result.rejected.length > 0) {
            const records = pending.records;
            const rejected = result.rejected.map((r) => ({ record: records[r.index]!, reason: r.reason }));
            await this.deadLetters.write(this.sink.name, rejected);
            this.events.recordsDeadLettered(this.sink.name, rejected.length);
            this.logger.warn('records rejected by the sink, written to dead letters', {
              sink: this.sink.name,
              count: rejected.length,
              first_reason: rejected[0]?.reason,
              dead_letters: this.deadLetters.path,
            });
          }
          const all = allIndexes(pending.size);
          const stored = all.filter((i) => !retryIndexes.has(i) && !rejectedIndexes.has(i));
          this.acknowledge(pending, stored);
          this.acknowledge(pending, [...rejectedIndexes]);
          this.events.batchSent(this.sink.name, stored.length, Date.now() - started);
          const owed = pending.subset(all.filter((i) => retryIndexes.has(i)));
          pending.dispose();
          pending = owed;
          if (pending.size === 0) {
            pending.dispose();
            return;
          }
          this.events.recordsRetried(this.sink.name, pending.size);
          if (await this.gaveUp(pending, attempt, result.reason, result.delayMs)) return;
          break;
        }
        case 'retry':
          this.events.sendFailed(this.sink.name, result.reason);
          this.events.recordsRetried(this.sink.name, pending.size);
          this.failingSince ??= started;
          this.logger.warn('send failed, will retry', {
            sink: this.sink.name,
            attempt,
            records: pending.size,
            reason: result.reason,
          });
          if (await this.gaveUp(pending, attempt, result.reason, result.delayMs)) return;
          break;
      }
    }
  }

  /** Back off before the next attempt; past max_attempts, dead-letter what is left. True when done with it. */
  private async gaveUp(
    pending: OwnedBatch,
    attempt: number,
    reason: string,
    delayMs: number | undefined,
  ): Promise<boolean> {
    const { maxAttempts } = this.options.retry;
    if (maxAttempts > 0 && attempt >= maxAttempts) {
      const why = `gave up after ${attempt} attempts: ${reason}`;
      await this.deadLetters.write(
        this.sink.name,
        pending.records.map((record) => ({ record, reason: why })),
      );
      this.events.recordsDeadLettered(this.sink.name, pending.size);
      this.acknowledge(pending, allIndexes(pending.size));
      this.logger.error('records dead-lettered after retries', { sink: this.sink.name, count: pending.size, reason });
      pending.dispose();
      return true;
    }
    await sleep(backoffDelay(this.options.retry, attempt, delayMs), this.abort.signal);
    return this.abort.signal.aborted;
  }

  /** Stored or dead-lettered: the checkpoint may pass them, and nothing reads them again. */
  private acknowledge(batch: OwnedBatch, indexes: readonly number[]): void {
    for (const i of indexes) batch.acknowledge(i);
    this.events.recordsAcked(this.sink.name, indexes.length);
  }
}

/** 0, 1, …, n - 1. */
function allIndexes(n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}
