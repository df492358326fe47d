/**
 * Reading, paced by delivery: a loop over the open files that reads what each has beyond its read offset, a budget
 * per file per pass so every file gets its turn, and waits (outside any file's lane) while delivery has no capacity.
 * Backpressure pauses only this: the keeper goes on seeing and holding files meanwhile.
 */
import type { TailContext } from './context.js';
import type { TrackedFile } from './file.js';
import { READ_CHUNK_BYTES, TrackingFailed, type ReadOutcome } from './file-deps.js';
import { olderFirst, spansRotation, waitsForOlder } from './generations.js';
import type { Keeper } from './keeper.js';
import type { Upkeep } from './upkeep.js';
import { ParseThreadFailed } from '../parse-thread/thread.js';

/** How reading learns whether delivery can take more. */
export interface Pacing {
  /** Resolves when delivery can take another batch. */
  ready(): Promise<void>;
  hasCapacity(): boolean;
}

/**
 * Bytes one file may read per pass before the others get a turn: ~40,000 lines, 0.1 s of parsing. Each pass over a
 * file ends with the parse worker's queue drained (its last reads are answered before the next file's first is
 * asked, after an fstat): with 4 MiB the worker waited ~8% of a catch-up there, with 16 MiB ~3%.
 */
const READ_BUDGET_PER_PASS = 16 * READ_CHUNK_BYTES;
/** Idle sleep between passes when nothing was read and the watcher said nothing. */
const IDLE_POLL_MS = 250;

export class Reader {
  private stopping = false;
  /** When the read under way began (0: none): a read that never ends (a hung file system) shows in liveness. */
  readingSince = 0;
  private woken = false;
  private wakeUp: (() => void) | null = null;
  private readonly proceed = (): boolean => !this.stopping && this.pacing.hasCapacity();

  constructor(
    private readonly ctx: TailContext,
    private readonly keeper: Keeper,
    private readonly upkeep: Upkeep,
    private readonly pacing: Pacing,
  ) {}

  /** Read until stop(). */
  async run(): Promise<void> {
    while (!this.stopping) {
      await this.pacing.ready();
      if (this.stopping) break;
      if (!(await this.pass()) && !this.stopping) await this.idle();
    }
  }

  stop(): void {
    this.stopping = true;
    this.wake();
  }

  /** Something changed (the watcher saw a write, a scan found a file): read now rather than after the idle sleep. */
  wake(): void {
    this.woken = true;
    const wake = this.wakeUp;
    this.wakeUp = null;
    wake?.();
  }

  /** One pass over the files, older generations first; true if any bytes were read or any file was opened. */
  async pass(): Promise<boolean> {
    let progressed = false;
    for (const f of this.order()) {
      if (this.stopping) return progressed;
      if (!this.pacing.hasCapacity()) return true; // come back once delivery can take more
      if (!f.isOpen || waitsForOlder(f, this.ctx.files)) continue;
      // A live file is read when it has bytes beyond what was read, as its last look (a read, the scan's stat) saw,
      // or the watcher saw it change: an idle file costs no fstat() per pass (a host may follow thousands).
      if (f.placement === 'active' && f.readToEnd && !f.poked) continue;
      const n = await this.readFile(f);
      if (n === 'truncated') {
        if (f.placement === 'active') await this.keeper.restartTruncated(f, 'file shrank below the read offset');
        progressed = true;
        continue;
      }
      if (n > 0) progressed = true;
      if (f.placement === 'moved' && spansRotation(f.input) && f.readToEnd && !f.handedOver) {
        await this.upkeep.handOverIfReady(f, Date.now());
        if (f.handedOver) progressed = true; // its successor may be read now
      }
    }
    if (await this.keeper.admitWaiting(Date.now())) progressed = true;
    return progressed;
  }

  private async readFile(f: TrackedFile): Promise<ReadOutcome> {
    this.readingSince = Date.now();
    try {
      return await f.read(READ_BUDGET_PER_PASS, this.readingSince, this.proceed);
    } catch (err) {
      if (err instanceof ParseThreadFailed || err instanceof TrackingFailed) throw err;
      this.ctx.logger.error('read failed', { path: f.path, error: err });
      return 0;
    } finally {
      this.readingSince = 0;
    }
  }

  /** Rotated generations first, oldest first (their bytes may soon be gone; records stay in order), then live files. */
  private order(): TrackedFile[] {
    const moved = [...this.ctx.files.moved].sort(olderFirst);
    return moved.length === 0 ? [...this.ctx.files.active.values()] : [...moved, ...this.ctx.files.active.values()];
  }

  private idle(): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, IDLE_POLL_MS);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.wakeUp = null;
        self.woken = false;
        resolve();
      }
      this.wakeUp = done;
    });
  }
}
