import { stat } from 'node:fs/promises';
import type { FSWatcher } from 'chokidar';
import type { InputConfig } from '../config/types.js';
import type { PipelineEvents } from '../events.js';
import type { Logger } from '../log.js';
import { LOSSES_KEPT, type Checkpoint } from '../pipeline/registry.js';
import type { ParserContext } from '../parse/types.js';
import { ParseThread, ParseThreadFailed } from '../parse-thread/thread.js';
import { ContainerCatalog } from '../containers/catalog.js';
import { CarriedRecords } from './carried.js';
import type { FileStart, Loss, LossReason, TailContext, TailerOptions } from './context.js';
import { Discovery, type EmptyPattern } from './discovery.js';
import { FileSet, statusOf, type FileStatus } from './file-set.js';
import { TrackedFile } from './file.js';
import { TrackingFailed, type ChangeCount, type EmitLogRecord } from './file-deps.js';
import { Keeper } from './keeper.js';
import { Reader, type Pacing } from './reader.js';
import { KnownCheckpoints } from './resume.js';
import { Upkeep } from './upkeep.js';
import type { ItemFraming } from '../sink.js';

export type { TailerOptions, Loss, LossReason } from './context.js';
export type { Pacing } from './reader.js';

/** One tracked file as monitoring sees it (a snapshot; sizes are as of the last read or look). */
export interface FileState {
  readonly path: string;
  readonly originPath: string;
  readonly input: InputConfig;
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly readOffset: number;
  /** Every record before this offset is acknowledged. */
  readonly committed: number;
  readonly outstanding: number;
  readonly open: boolean;
  readonly placement: 'active' | 'moved';
  /** At its path, renamed away, or deleted while open. */
  readonly status: FileStatus;
  /** Why it cannot be opened, or null. */
  readonly openError: string | null;
  readonly ackedAt: string | null;
}

/** How often timeouts, idle closes and releases are looked at. */
const UPKEEP_INTERVAL_MS = 250;
/** Past this many followed files, file-system events are not watched (see startWatching). */
const WATCH_MAX_FILES = 1_000;
/** A scan is never more than this share of the time: the next waits at least this many times the last one's length. */
const SCAN_DUTY = 10;
/** A scan asked for by the watcher waits this long, so that a burst of entries makes one scan. */
const SCAN_SOON_MS = 50;

/**
 * Follows every file the inputs match, through rotation, truncation and deletion, and feeds their records to
 * `emit`. Three parts, each on its own schedule: the keeper sees and holds files (scan_interval, and sooner when
 * the watcher sees an entry come or go), the reader reads them as fast as delivery takes records, and the upkeep
 * handles timeouts and lets go of drained files. Backpressure pauses the reader only.
 *
 * Files are known by identity (device + inode + first-line fingerprint), not by path: the file at `django.log`
 * after a rotation is another file, read from its start.
 */
export class Tailer {
  private readonly fileSet: FileSet;
  private readonly carried = new CarriedRecords();
  /** Splits and parses every file's lines, on a thread of its own. */
  private readonly parse: ParseThread;
  private readonly discovery: Discovery;
  /** Which containers' files to follow, and what their documents say of the container. */
  private readonly containers: ContainerCatalog;
  private readonly known: KnownCheckpoints;
  private readonly keeper: Keeper;
  private readonly upkeep: Upkeep;
  private readonly ctx: TailContext;
  private readonly lossLog: Loss[] = [];
  /** Moves with anything the registry holds: checkpoints are rebuilt only when it has (thousands of idle files). */
  private readonly changes: ChangeCount = { n: 0 };
  private reader: Reader | null = null;
  private watcher: FSWatcher | null = null;
  private stopping = false;
  private failure: unknown = null;
  /** Wakes the sleeping loops (stop, or a scan asked for). */
  private readonly wakers = new Map<'scan' | 'upkeep', () => void>();

  constructor(
    private readonly options: TailerOptions,
    checkpoints: readonly Checkpoint[],
    /** The losses the registry kept from earlier runs: reported on (and still in the registry) until newer ones push them out. */
    losses: readonly Loss[],
    private readonly emit: EmitLogRecord,
    private readonly events: PipelineEvents,
    private readonly logger: Logger,
    /** The sink's framing of items, when it reads records framed (see ItemFraming). */
    private readonly itemFraming?: (idPrefix: string) => ItemFraming,
  ) {
    this.lossLog.push(...losses.slice(-LOSSES_KEPT));
    this.fileSet = new FileSet(options.maxOpenFiles, events, this.changes);
    this.parse = new ParseThread(logger);
    this.containers = new ContainerCatalog(options.inputs, logger);
    this.discovery = new Discovery(options.inputs, logger, (input, path) => this.containers.selects(input, path));
    this.known = new KnownCheckpoints(checkpoints);
    this.ctx = {
      options,
      events,
      logger,
      files: this.fileSet,
      carried: this.carried,
      newFile: (path, input, dev, ino, start, now, originPath) => this.newFile(path, input, dev, ino, start, now, originPath),
      lost: (path, bytes, reason, fields) => this.lost(path, bytes, reason, fields),
    };
    this.keeper = new Keeper(this.ctx, this.discovery, this.known);
    this.upkeep = new Upkeep(this.ctx, this.keeper);
  }

  /** Every file's durable progress, plus registry entries not yet matched (kept, not forgotten). */
  checkpoints(): Checkpoint[] {
    const out: Checkpoint[] = this.known.all();
    for (const f of this.fileSet.all()) {
      const c = f.checkpoint();
      if (c) out.push(c);
    }
    return out;
  }

  /** A number that changes whenever checkpoints() or losses() would (an unchanged registry is not written again). */
  version(): number {
    return this.changes.n;
  }

  /** The losses counted (this run's, after the registry's earlier ones), newest last, at most LOSSES_KEPT. */
  losses(): readonly Loss[] {
    return this.lossLog;
  }

  /** A read-only view of every tracked file, for monitoring and `status`. Cheap: no I/O. */
  files(): FileState[] {
    const out: FileState[] = [];
    for (const f of this.fileSet.all()) {
      out.push({
        path: f.path,
        originPath: f.originPath,
        input: f.input,
        dev: f.dev,
        ino: f.ino,
        size: f.size,
        readOffset: f.readOffset,
        committed: f.committed,
        outstanding: f.outstanding,
        open: f.isOpen,
        placement: f.placement,
        status: statusOf(f),
        openError: f.openError,
        ackedAt: f.ackedAt,
      });
    }
    return out;
  }

  /** Patterns that match no file at the last scan. */
  emptyPatterns(): readonly EmptyPattern[] {
    return this.keeper.unmatched.current;
  }

  /** When the last scan finished (0: none yet). A scan stuck for long means the agent is stuck. */
  lastScanAt(): number {
    return this.keeper.lastScanAt;
  }

  /** When the read under way began (0: none). A read that does not end means the agent is stuck. */
  readingSince(): number {
    return this.reader?.readingSince ?? 0;
  }

  /** Records handed to delivery and not yet acknowledged, across all files. */
  outstanding(): number {
    let n = 0;
    for (const f of this.fileSet.all()) n += f.outstanding;
    return n;
  }

  /** Follow the files until stop(). */
  async run(pacing: Pacing): Promise<void> {
    await this.keeper.scan(Date.now(), true);
    if (this.stopping) return; // stopped during the first scan: no reader was there to be told
    const reader = (this.reader = new Reader(this.ctx, this.keeper, this.upkeep, pacing));
    this.startWatching(reader);
    try {
      await Promise.all([
        this.every('scan', this.options.scanIntervalMs, async () => {
          await this.keeper.scan(Date.now(), false);
          if (this.watcher !== null && this.fileSet.size > WATCH_MAX_FILES) await this.stopWatching();
        }),
        this.every('upkeep', UPKEEP_INTERVAL_MS, () => this.upkeep.run(Date.now())),
        reader.run().catch((err: unknown) => this.fail(err)),
      ]);
    } finally {
      await this.watcher?.close();
      this.watcher = null;
    }
    if (this.failure !== null) throw this.failure;
  }

  /**
   * Read every matched file to its current end and ship all of it (for `run --once`). An unfinished last line is
   * shipped only if the file has not changed for partial_line_timeout (a writer mid-line would otherwise be cut).
   */
  async runOnce(pacing: Pacing): Promise<void> {
    await this.keeper.scan(Date.now(), true);
    if (this.stopping) return;
    const reader = (this.reader = new Reader(this.ctx, this.keeper, this.upkeep, pacing));
    for (;;) {
      await pacing.ready();
      if (this.stopping) return; // a signal: what is held stays for the next run, like in follow mode
      if (await reader.pass()) continue;
      // Files still wait for a descriptor, held by files read to their end whose parser holds something (an
      // unfinished last line): ship what those hold now, as at the end of the run, so that they can give way.
      if (!this.keeper.hasWaiting() || !(await this.finishReadFiles())) break;
    }
    if (this.stopping) return;
    for (const g of [...this.fileSet.moved]) await this.upkeep.handOverIfReady(g, Date.now());
    const now = Date.now();
    for (const f of [...this.fileSet.all()]) await f.finish(now, f.placement === 'moved' || (await this.quiet(f, now)));
  }

  /**
   * Hints from the file system: a change read at once (rather than at the next pass), an entry coming or going scanned
   * at once (a quick rotation). chokidar watches every file of a watched directory one by one (an inotify watch and
   * ~14 KiB each): past WATCH_MAX_FILES files the agent follows by its scans alone.
   */
  private startWatching(reader: Reader): void {
    if (this.fileSet.size > WATCH_MAX_FILES) {
      this.logger.info('many files: following them by scans alone, without file-system events', { files: this.fileSet.size, watch_max_files: WATCH_MAX_FILES });
      return;
    }
    this.watcher = this.discovery.watch(
      this.options.usePolling,
      (path) => {
        const f = this.fileSet.active.get(path);
        if (f !== undefined) f.poked = true;
        reader.wake();
      },
      () => this.wakers.get('scan')?.(),
    );
  }

  private async stopWatching(): Promise<void> {
    const watcher = this.watcher;
    this.watcher = null;
    this.logger.info('many files: following them by scans alone, without file-system events', { files: this.fileSet.size, watch_max_files: WATCH_MAX_FILES });
    await watcher?.close();
  }

  stop(): void {
    this.stopping = true;
    this.reader?.stop();
    for (const wake of this.wakers.values()) wake();
  }

  /** Close every descriptor and stop the parse thread (after stop()). */
  async close(): Promise<void> {
    for (const f of [...this.fileSet.all()]) await this.fileSet.close(f);
    await this.parse.terminate();
  }

  /** Runs `work` every `ms` until stop(); a fatal error stops the tailer, any other is logged and the loop goes on. */
  private async every(name: 'scan' | 'upkeep', intervalMs: number, work: () => Promise<void>): Promise<void> {
    while (!this.stopping) {
      // With thousands of files a round takes long: the next waits SCAN_DUTY times as long (a few % of a core at most).
      // Not with a few files, where a round is long only because the machine is busy: then it is no time to look less.
      const started = Date.now();
      let ms = intervalMs;
      try {
        await work();
        if (this.fileSet.size > WATCH_MAX_FILES) ms = Math.max(intervalMs, (Date.now() - started) * SCAN_DUTY);
      } catch (err) {
        if (err instanceof ParseThreadFailed || err instanceof TrackingFailed) {
          this.fail(err);
          return;
        }
        this.logger.error(`${name} failed`, { error: err });
      }
      if (this.stopping) return;
      await new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout;
        const done = (): void => {
          clearTimeout(timer);
          this.wakers.delete(name);
          resolve();
        };
        timer = setTimeout(done, ms);
        // A wake-up for a scan waits a moment, so that a burst of entries coming and going makes one scan.
        this.wakers.set(name, () => {
          clearTimeout(timer);
          timer = setTimeout(done, this.stopping ? 0 : Math.min(ms, SCAN_SOON_MS));
        });
      });
    }
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    this.stop();
  }

  /** Ship what files read to their end hold, so they can give their descriptor to a waiting file; true if any did. */
  private async finishReadFiles(): Promise<boolean> {
    const now = Date.now();
    let any = false;
    for (const f of [...this.fileSet.active.values()]) {
      if (!f.isOpen || !f.readToEnd || f.parseIdle) continue;
      await f.finish(now, await this.quiet(f, now));
      any ||= f.parseIdle;
    }
    return any;
  }

  /** Has the file at `f`'s path not changed for partial_line_timeout? */
  private async quiet(f: TrackedFile, now: number): Promise<boolean> {
    const mtime = await stat(f.path).then((s) => s.mtimeMs).catch(() => 0);
    return now - mtime >= this.options.partialLineTimeoutMs;
  }

  private lost(path: string, bytes: number, reason: LossReason, fields: Record<string, unknown> = {}): void {
    this.events.bytesLost(path, bytes, reason);
    this.logger.warn('bytes lost: a file could not be read to its end', { path, lost_bytes: bytes, reason, ...fields });
    this.lossLog.push({ path, bytes, reason, at: new Date().toISOString() });
    this.changes.n++;
    if (this.lossLog.length > LOSSES_KEPT) this.lossLog.shift();
  }

  private newFile(
    path: string,
    input: InputConfig,
    dev: number,
    ino: number,
    start: FileStart,
    now: number,
    originPath: string = path,
  ): TrackedFile {
    const parserContext: Omit<ParserContext, 'path'> = {
      hostName: this.options.hostName,
      timezone: input.timezone,
      includeOriginal: input.includeOriginal,
      formatter: input.formatter,
      multilineTimeoutMs: this.options.multilineTimeoutMs,
      maxRecordBytes: this.options.maxLineBytes,
      container: this.containers.infoFor(input, path),
    };
    const deps = {
      input,
      parserContext,
      maxLineBytes: this.options.maxLineBytes,
      events: this.events,
      logger: this.logger,
      emit: this.emit,
      parse: this.parse,
      carried: this.carried,
      changes: this.changes,
      ...(this.itemFraming !== undefined && { itemFraming: this.itemFraming }),
    };
    return new TrackedFile(path, dev, ino, start.identity, start.offset, deps, now, originPath, start.resumed);
  }
}
