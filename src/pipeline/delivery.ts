import PQueue from 'p-queue';
import type { PipelineEvents } from '../events.js';
import type { Logger } from '../log.js';
import type { Sink, SendResult } from '../sink.js';
import type { OwnedBatch } from './batch.js';
import { backoffDelay, sleep, type RetryPolicy } from './backoff.js';
import { DISK_RETRY, NO_REGISTRY, type AckDurability } from './checkpointer.js';
import type { DeadLetters } from './dead-letters.js';
import { Lanes } from './lanes.js';
import type { LogRecord } from '../record.js';

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
 * stored or its dead letter is on disk; never before.
 *
 * For a sink that cannot deduplicate, a batch of a log waits until the earlier ones of that log are acknowledged and
 * their checkpoints written (lanes.ts), so a crash repeats at most one batch per log. While acknowledgements cannot be
 * made durable (the registry or the dead letters cannot be written: a full data_dir), no batch is accepted, so
 * reading pauses; failed writes are retried until the disk takes them.
 */
export class Delivery {
  private readonly queue: PQueue;
  private outstanding = 0;
  private readonly waiting: OwnedBatch[] = [];
  private capacityWaiters: (() => void)[] = [];
  private readonly abort = new AbortController();
  private abortTimer: NodeJS.Timeout | null = null;
  private fatalReason: string | null = null;
  /** Why dead letters cannot be written now, or null. */
  private deadLetterFault: string | null = null;
  /** Lanes per log, for a sink that cannot deduplicate; null for one that can. */
  private readonly lanes: Lanes | null;
  /** Records dead-lettered because max_attempts ran out (not refused by the sink: given up on). */
  private givenUpRecords = 0;
  /** Consecutive failed sends (for health reporting), reset by any success. */
  failingSince: number | null = null;

  constructor(
    private readonly sink: Sink,
    private readonly options: DeliveryOptions,
    private readonly deadLetters: DeadLetters,
    private readonly events: PipelineEvents,
    private readonly logger: Logger,
    private readonly onFatal: (reason: string) => void,
    private readonly durability: AckDurability = NO_REGISTRY,
  ) {
    this.queue = new PQueue({ concurrency: options.concurrency });
    this.lanes = sink.deduplicates ? null : new Lanes();
    durability.onFaultChange(() => this.releaseWaiters());
    // Stopped: nothing will be sent any more, so nobody waits for room (the reader is stopping too).
    this.abort.signal.addEventListener('abort', () => {
      for (const release of this.capacityWaiters.splice(0)) release();
    });
  }

  get fatal(): string | null {
    return this.fatalReason;
  }

  /** Why acknowledgements cannot be made durable now (data_dir full or failing), or null. */
  get storageFault(): string | null {
    return this.durability.fault ?? this.deadLetterFault;
  }

  /** Records dead-lettered after max_attempts ran out. */
  get givenUp(): number {
    return this.givenUpRecords;
  }

  /**
   * Prepare the sink (templates, …), retrying like a send, at most retry.max_attempts times (when set). False if it
   * failed for good, ran out of attempts (both fatal: the agent exits 2) or was aborted.
   */
  async start(): Promise<boolean> {
    const { maxAttempts } = this.options.retry;
    for (let attempt = 1; ; attempt++) {
      const result = await untilAborted(this.sink.start(), this.abort.signal);
      if (result === null) return false; // stopped while the sink was still answering: no need to hear it out
      if (result.kind === 'delivered') return true;
      if (result.kind === 'fatal') {
        this.fail(result.reason);
        return false;
      }
      const reason = result.reason;
      if (maxAttempts > 0 && attempt >= maxAttempts) {
        this.fail(`sink not ready after ${attempt} attempts (delivery.retry.max_attempts): ${reason}`);
        return false;
      }
      this.logger.warn('sink not ready, retrying', { sink: this.sink.name, attempt, reason });
      await sleep(backoffDelay(this.options.retry, attempt, result.delayMs), this.abort.signal);
      if (this.abort.signal.aborted) return false;
    }
  }

  /** Stop now: the sink's preparation, retries and backoffs end at once (a signal before the sink was ready). */
  abortNow(): void {
    this.abort.abort();
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

  /**
   * Resolves when another batch may be submitted without exceeding maxPendingBatches, and acknowledgements can be
   * made durable (no storage fault).
   */
  waitForCapacity(): Promise<void> {
    if (this.hasCapacity() || this.abort.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.capacityWaiters.push(resolve));
  }

  hasCapacity(): boolean {
    return this.outstanding < this.options.maxPendingBatches && this.storageFault === null;
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
    while (this.capacityWaiters.length > 0 && this.hasCapacity()) {
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
    if (this.lanes === null) return this.send(batch);
    // Entered before any await: batches take their lanes in the order they were submitted.
    const leave = await this.lanes.enter(batch.sourceRefs());
    let acked = false;
    try {
      await this.send(batch, () => (acked = true));
    } finally {
      // The lane is left once the acknowledgements are on disk; the queue slot is free already.
      if (acked) void this.durability.persist().then(leave, leave);
      else leave();
    }
  }

  /** Send until every record is acknowledged (or given up, or delivery stops). `onAck`: some were acknowledged. */
  private async send(batch: OwnedBatch, onAck?: () => void): Promise<void> {
    let pending = batch;
    for (let attempt = 1; pending.size > 0; attempt++) {
      if (this.abort.signal.aborted) return;
      const started = Date.now();
      const result: SendResult = await this.sink.send(pending);
      switch (result.kind) {
        case 'delivered':
          this.acknowledge(pending, allIndexes(pending.size));
          onAck?.();
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
            // Stopped before they could be written: none of this batch is acknowledged; all of it is read again.
            if (!(await this.writeDeadLetters(rejected))) return;
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
          onAck?.();
          this.events.batchSent(this.sink.name, stored.length, Date.now() - started);
          const owed = pending.subset(all.filter((i) => retryIndexes.has(i)));
          pending.dispose();
          pending = owed;
          if (pending.size === 0) {
            pending.dispose();
            return;
          }
          this.events.recordsRetried(this.sink.name, pending.size);
          // A sink that keeps every copy gets the rest of this log only once what it stored is checkpointed.
          if (this.lanes !== null && !(await this.durability.persist())) return;
          if (await this.gaveUp(pending, attempt, result.reason, result.delayMs, onAck)) return;
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
          if (await this.gaveUp(pending, attempt, result.reason, result.delayMs, onAck)) return;
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
    onAck: (() => void) | undefined,
  ): Promise<boolean> {
    const { maxAttempts } = this.options.retry;
    if (maxAttempts > 0 && attempt >= maxAttempts) {
      const why = `gave up after ${attempt} attempts: ${reason}`;
      if (!(await this.writeDeadLetters(pending.records.map((record) => ({ record, reason: why }))))) return true;
      this.events.recordsDeadLettered(this.sink.name, pending.size);
      this.givenUpRecords += pending.size;
      this.acknowledge(pending, allIndexes(pending.size));
      onAck?.();
      this.logger.error('records dead-lettered after retries', { sink: this.sink.name, count: pending.size, reason });
      pending.dispose();
      return true;
    }
    await sleep(backoffDelay(this.options.retry, attempt, delayMs), this.abort.signal);
    return this.abort.signal.aborted;
  }

  /**
   * Write dead letters, retrying with backoff while the disk refuses (reading pauses meanwhile: storageFault). False
   * when delivery stopped first: then the records are not acknowledged, and a restart reads them again.
   */
  private async writeDeadLetters(entries: readonly { record: LogRecord; reason: string }[]): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deadLetters.write(this.sink.name, entries);
        if (this.deadLetterFault !== null) {
          this.logger.info('dead letters written again; reading resumes', { dead_letters: this.deadLetters.path });
          this.events.deadLettersWritten(true);
          this.deadLetterFault = null;
          this.releaseWaiters();
        }
        return true;
      } catch (err) {
        const reason = `cannot write dead letters to ${this.deadLetters.path}: ${(err as Error).message}`;
        this.events.deadLettersWritten(false, reason);
        if (this.deadLetterFault === null) {
          this.logger.error('cannot write dead letters: their records are not acknowledged, reading is paused (retrying)', {
            dead_letters: this.deadLetters.path,
            records: entries.length,
            error: err,
          });
        }
        this.deadLetterFault = reason;
        await sleep(backoffDelay(DISK_RETRY, attempt), this.abort.signal);
        if (this.abort.signal.aborted) return false;
      }
    }
  }

  /** Stored or dead-lettered: the checkpoint may pass them, and nothing reads them again. */
  private acknowledge(batch: OwnedBatch, indexes: readonly number[]): void {
    for (const i of indexes) batch.acknowledge(i);
    this.events.recordsAcked(this.sink.name, indexes.length);
  }
}

/** What `work` resolves to, or null as soon as `signal` aborts (work that cannot be cancelled is left to finish). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | null> {
  if (signal.aborted) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** 0, 1, …, n - 1. */
function allIndexes(n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}
