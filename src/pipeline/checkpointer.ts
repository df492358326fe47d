/**
 * Makes acknowledgements durable: writes the registry (the tailer's checkpoints, through RegistryWriter) when asked,
 * coalescing requests — every caller waiting while a write runs shares the next one — and retrying a failed write
 * (ENOSPC, EIO) with backoff until it succeeds, so a disk that fills up and empties again needs no operator.
 *
 * While a write fails, `fault` says why: delivery stops accepting batches (reading pauses), /health turns failing,
 * and nothing further of a log is sent to a sink that cannot deduplicate (see lanes.ts). registry.json itself is
 * never touched by a failed write (temp file + rename).
 */
import type { PipelineEvents } from '../events.js';
import type { Logger } from '../log.js';
import { backoffDelay, sleep, type RetryPolicy } from './backoff.js';
import type { RegistrySnapshot, RegistryWriter } from './registry.js';

/** What the registry is written from: its content, and a number that changes whenever the content does. */
export interface RegistrySource {
  version(): number;
  snapshot(): RegistrySnapshot;
}

/** Retries of a write to data_dir: soon at first, then every few seconds until the disk takes it. */
export const DISK_RETRY: RetryPolicy = { initialBackoffMs: 100, maxBackoffMs: 5_000, maxAttempts: 0 };

/** What delivery needs to know about the durability of acknowledgements (Checkpointer provides it). */
export interface AckDurability {
  /** Resolves true once every acknowledgement made before the call is on disk; false if the agent stopped first. */
  persist(): Promise<boolean>;
  /** Why acknowledgements cannot be made durable now, or null. */
  readonly fault: string | null;
  /** `listener` is called whenever `fault` changes. */
  onFaultChange(listener: () => void): void;
}

/** For delivery without a registry (tests, tools): everything is durable at once. */
export const NO_REGISTRY: AckDurability = { persist: () => Promise.resolve(true), fault: null, onFaultChange: () => undefined };

export class Checkpointer implements AckDurability {
  /** A write asked for and not started yet: later callers join it. */
  private pending: Promise<boolean> | null = null;
  /** The write running now. */
  private running: Promise<boolean> | null = null;
  private failure: string | null = null;
  private readonly listeners: (() => void)[] = [];
  private readonly stopped = new AbortController();

  /** The source's version at the last successful write (-1: none yet). */
  private writtenVersion = -1;

  constructor(
    private readonly writer: RegistryWriter,
    private readonly source: RegistrySource,
    private readonly dataDir: string,
    private readonly events: PipelineEvents,
    private readonly logger: Logger,
  ) {}

  get fault(): string | null {
    return this.failure;
  }

  onFaultChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  persist(): Promise<boolean> {
    if (this.pending) return this.pending;
    const previous = this.running ?? Promise.resolve(true);
    const run: Promise<boolean> = previous.then(async () => {
      // From here on, acknowledgements not yet taken into this write need the next one.
      this.pending = null;
      this.running = run;
      try {
        return await this.writeUntilDone();
      } finally {
        if (this.running === run) this.running = null;
      }
    });
    this.pending = run;
    return run;
  }

  /** No more retries: waiting persist() calls resolve false. The final write is flush()'s. */
  stop(): void {
    this.stopped.abort();
  }

  /** After stop(): one last write, once any write still running has ended. Null when written, else why not. */
  async flush(): Promise<string | null> {
    await this.running?.catch(() => undefined);
    return (await this.writeOnce()) ? null : this.failure;
  }

  private async writeUntilDone(): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      if (this.stopped.signal.aborted) return false;
      if (await this.writeOnce()) return true;
      await sleep(backoffDelay(DISK_RETRY, attempt), this.stopped.signal);
    }
  }

  private async writeOnce(): Promise<boolean> {
    try {
      const version = this.source.version();
      // Nothing changed since the last write: nothing to build (a host with thousands of idle files).
      if (version === this.writtenVersion && this.failure === null) return true;
      const { checkpoints, losses } = this.source.snapshot();
      const wrote = await this.writer.write(checkpoints, losses);
      this.writtenVersion = version;
      if (wrote || this.failure !== null) this.events.checkpointWritten(true);
      if (this.failure !== null) this.logger.info('checkpoints written again; reading resumes', { data_dir: this.dataDir });
      this.setFault(null);
      return true;
    } catch (err) {
      const reason = `cannot write the registry in ${this.dataDir}: ${(err as Error).message}`;
      this.events.checkpointWritten(false, reason);
      if (this.failure === null) {
        this.logger.error('cannot write checkpoints: reading is paused until they can be (retrying)', { data_dir: this.dataDir, error: err });
      }
      this.setFault(reason);
      return false;
    }
  }

  private setFault(reason: string | null): void {
    if (reason === this.failure) return;
    const changed = (reason === null) !== (this.failure === null);
    this.failure = reason;
    if (changed) for (const l of this.listeners) l();
  }
}
