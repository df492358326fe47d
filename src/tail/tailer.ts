import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FSWatcher } from 'chokidar';
import type { InputConfig, StartAt } from '../config/types.js';
import type { PipelineEvents } from '../events.js';
import type { Logger } from '../log.js';
import type { Checkpoint } from '../pipeline/registry.js';
import type { ParserContext } from '../parse/types.js';
import { Discovery, type MatchedFile } from './discovery.js';
import { READ_CHUNK_BYTES, TrackedFile, TrackingFailed, type EmitLogRecord } from './file.js';
import { ParseThread, ParseThreadFailed } from '../parse-thread/thread.js';
import { findBeside, sameInode, startsLike, type FileIdentity } from './identity.js';

export interface TailerOptions {
  readonly inputs: readonly InputConfig[];
  readonly hostName: string;
  readonly maxLineBytes: number;
  readonly maxOpenFiles: number;
  readonly partialLineTimeoutMs: number;
  readonly multilineTimeoutMs: number;
  readonly scanIntervalMs: number;
  readonly closeInactiveMs: number;
  readonly rotateWaitMs: number;
  readonly usePolling: boolean;
}

/** One tracked file as monitoring sees it (a snapshot; sizes are as of the last read). */
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
  readonly ackedAt: string | null;
}

/** Bytes one file may read per pass before the others get a turn. */
const READ_BUDGET_PER_PASS = 4 * READ_CHUNK_BYTES;
/** How many released files are remembered (a few rotations' worth for every file of a large host). */
const RELEASED_MEMORY = 10_000;
/** Rotated generations that are compressed are not log text: skip them. */
const COMPRESSED = /\.(gz|bz2|xz|zst|zip|lz4)$/;
/** Idle sleep between passes when nothing was read and the watcher said nothing. */
const IDLE_POLL_MS = 250;

/**
 * Follows every file the inputs match, through rotation, truncation and deletion, and feeds their records to
 * `emit`. It never lets go of a file with unread bytes: a renamed or deleted file is read through its open
 * descriptor to its end, and released only after rotate_wait without growth.
 *
 * Files are known by identity (device + inode + first-line fingerprint), not by path: the file at `django.log`
 * after a rotation is another file, read from its start.
 */
export class Tailer {
  /** The live file at each matched path. */
  private readonly byPath = new Map<string, TrackedFile>();
  /** Renamed away, deleted, or superseded by a truncation: read to the end, then kept until acknowledged. */
  private readonly draining = new Set<TrackedFile>();
  /** Checkpoints from the registry not yet matched to a file. */
  private known: Checkpoint[];
  private readonly discovery: Discovery;
  /** Splits and parses every file's lines, on a thread of its own. */
  private readonly parse: ParseThread;
  private watcher: FSWatcher | null = null;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private stopping = false;
  private lastScanAt = 0;
  private readonly released = new Map<string, FileIdentity | null>();
  /**
   * Per matched path, the mtime (at first sight) of the newest file we started following there. Any rotated
   * generation written after it is one we must have read, or must read now. Seeded from the checkpoints.
   */
  private readonly pathMtime = new Map<string, number>();
  private openCount = 0;

  constructor(
    private readonly options: TailerOptions,
    checkpoints: readonly Checkpoint[],
    private readonly emit: EmitLogRecord,
    private readonly events: PipelineEvents,
    private readonly logger: Logger,
  ) {
    this.known = [...checkpoints];
    for (const c of checkpoints) {
      this.pathMtime.set(c.path, Math.max(this.pathMtime.get(c.path) ?? 0, c.mtimeMs ?? 0));
    }
    this.discovery = new Discovery(options.inputs);
    this.parse = new ParseThread(logger);
  }

  /** Every file's durable progress, plus registry entries not yet matched (kept, not forgotten). */
  checkpoints(): Checkpoint[] {
    const out: Checkpoint[] = [...this.known];
    for (const f of this.allFiles()) {
      const c = f.checkpoint();
      if (c) out.push(c);
    }
    return out;
  }

  /** A read-only view of every tracked file, for monitoring and `status`. Cheap: no I/O. */
  files(): FileState[] {
    const out: FileState[] = [];
    for (const f of this.allFiles()) {
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
        ackedAt: f.ackedAt,
      });
    }
    return out;
  }

  /** Records handed to delivery and not yet acknowledged, across all files. */
  outstanding(): number {
    let n = 0;
    for (const f of this.allFiles()) n += f.outstanding;
    return n;
  }

  /** Follow the files until stop(). `ready` resolves when delivery can take more (backpressure). */
  async run(ready: () => Promise<void>): Promise<void> {
    await this.scan(Date.now(), true);
    this.watcher = this.discovery.watch(this.options.usePolling, () => this.wake());
    while (!this.stopping) {
      const now = Date.now();
      if (now - this.lastScanAt >= this.options.scanIntervalMs) await this.scan(now, false);
      const progressed = await this.readPass(ready);
      await this.maintain(Date.now());
      if (!progressed && !this.stopping) await this.idle();
    }
    await this.watcher.close();
    this.watcher = null;
  }

  /**
   * Read every matched file to its current end and ship all of it (for `run --once`). An unfinished last line is
   * shipped only if the file has not changed for partial_line_timeout (a writer mid-line would otherwise be cut).
   */
  async runOnce(ready: () => Promise<void>): Promise<void> {
    await this.scan(Date.now(), true);
    while (!this.stopping && (await this.readPass(ready))) {
      /* until no file has more */
    }
    if (this.stopping) return; // a signal: what is held stays for the next run, like in follow mode
    const now = Date.now();
    for (const f of this.allFiles()) {
      const quiet = now - (await stat(f.path).then((s) => s.mtimeMs).catch(() => 0)) >= this.options.partialLineTimeoutMs;
      await f.finish(now, quiet || f.placement === 'moved');
    }
  }

  stop(): void {
    this.stopping = true;
    this.wake();
  }

  /** Close every descriptor and stop the parse thread (after stop()). */
  async close(): Promise<void> {
    for (const f of this.allFiles()) await this.closeFile(f);
    await this.parse.terminate();
  }

  private *allFiles(): Iterable<TrackedFile> {
    yield* this.byPath.values();
    yield* this.draining;
  }

  private wake(): void {
    this.woken = true;
    const wake = this.wakeUp;
    this.wakeUp = null;
    wake?.();
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

  /** One pass over the open files; true if any bytes were read. */
  private async readPass(ready: () => Promise<void>): Promise<boolean> {
    let progressed = false;
    const proceed = async (): Promise<boolean> => {
      if (this.stopping) return false;
      await ready();
      return !this.stopping;
    };
    for (const f of [...this.allFiles()]) {
      if (!f.isOpen || this.stopping) continue;
      const n = await f.read(READ_BUDGET_PER_PASS, Date.now(), proceed).catch((err: unknown) => {
        if (err instanceof ParseThreadFailed) throw err;
        this.logger.error('read failed', { path: f.path, error: err });
        return 0;
      });
      if (n === 'truncated') {
        await this.restartTruncated(f, 'file shrank below the read offset');
        progressed = true;
      } else if (n > 0) {
        progressed = true;
      }
    }
    return progressed;
  }

  /** Time-driven work: timeouts, idle closes, letting go of drained files. */
  private async maintain(now: number): Promise<void> {
    for (const f of this.allFiles()) await f.tick(now, this.options.partialLineTimeoutMs);
    for (const f of this.byPath.values()) {
      if (f.isOpen && f.settled && f.readOffset >= f.size && now - f.lastGrowthAt >= this.options.closeInactiveMs) {
        await this.closeFile(f); // reopened by scan() when it changes
      }
    }
    for (const f of [...this.draining]) {
      if (f.isOpen && f.readOffset >= f.size && now - f.lastGrowthAt >= this.options.rotateWaitMs) {
        await f.finish(now, true);
        await this.closeFile(f);
        this.remember(f);
        this.logger.debug('released a rotated or deleted file read to its end', { path: f.path, offset: f.readOffset });
      }
      if (!f.isOpen && f.outstanding === 0) {
        this.draining.delete(f);
        f.dispose();
      }
    }
  }

  /**
   * Files read to their end and let go, by device:inode → fingerprint, so a rotated generation is not adopted
   * twice. The fingerprint matters: deleting old generations frees inodes that the kernel hands to the next new
   * file at once. Bounded.
   */
  private remember(f: TrackedFile): void {
    this.released.set(f.key, f.identity);
    if (this.released.size > RELEASED_MEMORY) this.released.delete(this.released.keys().next().value!);
  }

  private async wasReleased(path: string, s: { dev: number; ino: number; size: number }): Promise<boolean> {
    const key = `${s.dev}:${s.ino}`;
    if (!this.released.has(key)) return false;
    const identity = this.released.get(key);
    // A file let go before it had a line has no fingerprint: it is the same file only if it is still empty.
    if (!identity) return s.size === 0;
    return startsLike(path, { ...identity, path });
  }

  private async closeFile(f: TrackedFile): Promise<void> {
    if (!f.isOpen) return;
    await f.close();
    this.openCount--;
    this.events.fileClosed(f.path);
  }

  /**
   * Open a descriptor within max_open_files, closing the least recently active idle file if needed. 'replaced': the
   * path holds another file than `f` by now (rotated between the stat and the open).
   */
  private async openFile(f: TrackedFile): Promise<'ok' | 'replaced' | 'unavailable'> {
    if (this.openCount >= this.options.maxOpenFiles) {
      let victim: TrackedFile | null = null;
      for (const g of this.byPath.values()) {
        if (g.isOpen && g.settled && g.readOffset >= g.size && (!victim || g.lastGrowthAt < victim.lastGrowthAt)) victim = g;
      }
      if (!victim) return 'unavailable'; // every open file has unread data; this one waits for a slot
      await this.closeFile(victim);
    }
    try {
      const fh = await open(f.path, 'r');
      const s = await fh.stat();
      if (!sameInode(s, f)) {
        await fh.close(); // the next scan sees the new file; the caller looks for this one beside the path
        return 'replaced';
      }
      f.attach(fh);
      this.openCount++;
      this.events.fileOpened(f.path);
      return 'ok';
    } catch (err) {
      this.logger.warn('cannot open file', { path: f.path, error: err });
      return 'unavailable';
    }
  }

  /**
   * Reconcile what the patterns match with what is tracked: new files, rotated files, files gone, and files
   * closed while idle that have changed since.
   */
  private async scan(now: number, initial: boolean): Promise<void> {
    this.lastScanAt = now;
    const matched = await this.discovery.scan();
    const previouslyTracked = new Set(this.byPath.keys());

    // A path whose file is gone or replaced: that file was rotated or deleted. Read it to its end via its descriptor.
    for (const [path, f] of this.byPath) {
      const m = matched.get(path);
      if (m && sameInode(m.stat, f)) continue;
      this.byPath.delete(path);
      f.placement = 'moved';
      this.draining.add(f);
      this.events.rotationSeen(path);
      if (!f.isOpen) await this.reopenMoved(f, now);
    }

    for (const [path, m] of matched) {
      const current = this.byPath.get(path);
      if (current) {
        await this.checkActive(current, m, now);
        continue;
      }
      // Renamed into another matched path (e.g. `django.log.1` matched by `django.log*`): the same file, still live.
      const moved = [...this.draining].find((f) => f.placement === 'moved' && f.isOpen && sameInode(m.stat, f));
      if (moved) {
        this.draining.delete(moved);
        moved.path = path;
        moved.originPath = path;
        moved.placement = 'active';
        this.byPath.set(path, moved);
        continue;
      }
      // A new file at a path we followed before: the writer may have rotated more than once since we last looked.
      const since = this.pathMtime.get(path);
      if (since !== undefined) await this.adoptGenerations(path, since, matched, now);
      this.pathMtime.set(path, m.stat.mtimeMs);
      await this.track(m, now, initial, previouslyTracked.has(path) || this.known.some((c) => c.path === path), matched);
    }

    if (initial) await this.findRotatedWhileStopped(now, matched);
  }

  /** A live file: reopen it if it was closed while idle and has changed since, and catch copytruncate. */
  private async checkActive(f: TrackedFile, m: MatchedFile, now: number): Promise<void> {
    if (!f.isOpen) {
      if (m.stat.size === f.readOffset && m.stat.mtimeMs <= f.lastGrowthAt) return;
      if ((await this.openFile(f)) !== 'ok') return;
    }
    if (m.stat.size < f.readOffset || !(await f.identityHolds())) {
      await this.restartTruncated(f, m.stat.size < f.readOffset ? 'file shrank below the read offset' : 'file start was rewritten');
    }
    void now;
  }

  /**
   * copytruncate or truncation: the bytes after the truncation point are new content of the same inode. The old
   * instance ships what it holds and waits for its acknowledgements; a new instance reads from offset 0.
   */
  private async restartTruncated(f: TrackedFile, reason: string): Promise<void> {
    const now = Date.now();
    this.events.truncationSeen(f.path);
    // Bytes the file was seen to hold beyond what was read are gone with the truncation (copytruncate's race).
    const lost = Math.max(0, f.size - f.readOffset);
    if (lost > 0) this.events.bytesLost(f.path, lost);
    this.logger.info('file truncated, reading again from its start', { path: f.path, reason, read_offset: f.readOffset, lost_bytes: lost });
    await f.finish(now, true);
    await this.closeFile(f);
    f.placement = 'moved';
    if (this.byPath.get(f.path) === f) this.byPath.delete(f.path);
    this.draining.add(f);
    const s = await stat(f.path).catch(() => null);
    if (!s || !sameInode(s, f)) return; // gone meanwhile: the next scan decides
    const fresh = this.newFile(f.path, f.input, s.dev, s.ino, null, 0, now);
    if ((await this.openFile(fresh)) === 'ok') this.byPath.set(f.path, fresh);
  }

  /** Start following a file found at `path`: resume from its checkpoint, or start per start_at. */
  private async track(
    m: MatchedFile,
    now: number,
    initial: boolean,
    successorOfTracked: boolean,
    matched: Map<string, MatchedFile>,
  ): Promise<void> {
    const { path, input, stat: s } = m;
    const entry = this.takeKnown(s.dev, s.ino);
    let startOffset = 0;
    let identity = null;
    if (entry) {
      identity = {
        dev: entry.dev,
        ino: entry.ino,
        fingerprint: entry.fingerprint,
        fingerprintBytes: entry.fingerprintBytes,
      };
      startOffset = entry.offset;
    } else if (initial && !successorOfTracked && startAtOf(input) === 'end') {
      startOffset = s.size;
    }
    const f = this.newFile(path, input, s.dev, s.ino, identity, startOffset, now);
    if (entry) f.ackedAt = entry.ackedAt; // LAST ACK does not move at a restart with nothing acknowledged
    const opened = await this.openFile(f);
    if (opened !== 'ok') {
      if (entry) this.known.push(entry); // try again at the next scan
      // Rotated away between the scan's stat and the open: it is beside the path now, with its successors.
      if (opened === 'replaced') await this.adoptGenerations(path, this.pathMtime.get(path) ?? s.mtimeMs, matched, now);
      return;
    }
    if (entry && (!(await f.identityHolds()) || s.size < entry.offset)) {
      // Same inode, other content (reused inode, or truncated while we were stopped): a new file.
      this.logger.info('checkpoint does not match the file any more, reading it from its start', { path });
      await this.closeFile(f);
      const fresh = this.newFile(path, input, s.dev, s.ino, null, 0, now);
      if ((await this.openFile(fresh)) === 'ok') this.byPath.set(path, fresh);
      return;
    }
    if (!entry && startOffset > 0) await f.ensureIdentity(); // so the checkpoint at its end is recognised later
    this.byPath.set(path, f);
  }

  private newFile(
    path: string,
    input: InputConfig,
    dev: number,
    ino: number,
    identity: ConstructorParameters<typeof TrackedFile>[3],
    startOffset: number,
    now: number,
    originPath: string = path,
  ): TrackedFile {
    const parserContext: Omit<ParserContext, 'path'> = {
      hostName: this.options.hostName,
      timezone: input.timezone,
      includeOriginal: input.includeOriginal,
      multilineTimeoutMs: this.options.multilineTimeoutMs,
      maxRecordBytes: this.options.maxLineBytes,
    };
    return new TrackedFile(path, dev, ino, identity, startOffset, {
      input,
      parserContext,
      maxLineBytes: this.options.maxLineBytes,
      events: this.events,
      emit: this.emit,
      parse: this.parse,
    }, now, originPath);
  }

  private takeKnown(dev: number, ino: number): Checkpoint | null {
    const i = this.known.findIndex((c) => c.dev === dev && c.ino === ino);
    if (i === -1) return null;
    const [entry] = this.known.splice(i, 1);
    return entry ?? null;
  }

  /**
   * Checkpoints whose file is no longer at its path: the file was rotated while the agent was stopped. Look for
   * it (same inode and fingerprint) beside its old path and read the rest of it, so a restart loses nothing.
   */
  private async findRotatedWhileStopped(now: number, matched: Map<string, MatchedFile>): Promise<void> {
    const left = this.known;
    this.known = [];
    for (const entry of left) {
      const input = this.discovery.inputOf(entry.path);
      if (!input) {
        // The config no longer covers this path: an operator's choice, not a loss. Forget it.
        this.logger.info('forgetting the checkpoint of a path no input matches any more', { path: entry.path });
        continue;
      }
      const found = (await findBeside(entry))?.path;
      if (found) {
        const f = this.newFile(found, input, entry.dev, entry.ino, entry, entry.offset, now, entry.path);
        f.placement = 'moved';
        f.ackedAt = entry.ackedAt;
        if ((await this.openFile(f)) === 'ok') {
          this.draining.add(f);
          this.logger.info('reading the rest of a file rotated while the agent was stopped', { path: found, offset: entry.offset });
        } else {
          this.known.push(entry);
          continue;
        }
      } else {
        // At least what it held beyond the checkpoint when last read is lost; what it got after, unknown.
        const lost = Math.max(0, (entry.size ?? 0) - entry.offset);
        if (lost > 0) this.events.bytesLost(entry.path, lost);
        this.logger.warn('a checkpointed file is gone; it was removed while the agent was stopped', {
          path: entry.path,
          offset: entry.offset,
          lost_bytes: lost,
        });
      }
    }
    // Generations rotated after them while we were stopped, never seen at the matched path. Only now, with every
    // checkpointed file open, so that none of those is taken for a new generation and read twice.
    for (const entry of left) await this.adoptGenerations(entry.path, entry.mtimeMs ?? 0, matched, now);
  }

  /**
   * Rotated generations of `originPath` (`django.log.1`, `<id>-json.log.2`, `django.log-20261127`, not compressed)
   * that received writes after `sinceMtimeMs` but were never seen at the matched path: a writer can rotate more
   * than once between two scans (or while the agent is stopped). Read them from their start. One already shipped
   * and read again costs nothing in Elasticsearch: its records keep their ids.
   */
  private async adoptGenerations(
    originPath: string,
    sinceMtimeMs: number,
    matched: Map<string, MatchedFile>,
    now: number,
  ): Promise<void> {
    const dir = dirname(originPath);
    const base = basename(originPath);
    const input = this.discovery.inputOf(originPath);
    if (!input) return;
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!isGenerationOf(name, base)) continue;
      const path = join(dir, name);
      if (matched.has(path)) continue; // the scan follows it anyway
      const s = await stat(path).catch(() => null);
      if (!s?.isFile() || s.mtimeMs < sinceMtimeMs) continue;
      if (this.isTracked(s) || (await this.wasReleased(path, s))) continue;
      const f = this.newFile(path, input, s.dev, s.ino, null, 0, now, originPath);
      f.placement = 'moved';
      if ((await this.openFile(f)) === 'ok') {
        this.draining.add(f);
        this.events.rotationSeen(originPath);
        this.logger.info('reading a rotated generation never seen at its path', { path, origin: originPath });
      }
    }
  }

  private isTracked(s: { dev: number; ino: number }): boolean {
    for (const f of this.allFiles()) if (f.isOpen && sameInode(s, f)) return true;
    return this.known.some((c) => sameInode(s, c));
  }

  /** The descriptor of a closed file that was rotated away: find it again by inode beside its old path. */
  private async reopenMoved(f: TrackedFile, now: number): Promise<void> {
    const c = f.checkpoint() ?? (f.identity ? { ...f.identity, path: f.path, offset: f.readOffset } : null);
    const found = c ? (await findBeside(c))?.path : undefined;
    if (found) {
      f.path = found;
      if ((await this.openFile(f)) === 'ok') return;
    }
    if (f.settled) return; // it was read to its end before it was closed; nothing can be missing… unless it grew
    const lost = Math.max(0, f.size - f.readOffset);
    if (lost > 0) this.events.bytesLost(f.path, lost);
    this.logger.warn('a rotated file could not be found again', { path: f.path, lost_bytes: lost });
    void now;
  }
}

/** `django.log.1`, `django.log.2`, `django.log-20261127` for base `django.log`; not compressed ones. */
function isGenerationOf(name: string, base: string): boolean {
  if (name.length <= base.length + 1 || !name.startsWith(base)) return false;
  const sep = name[base.length];
  return (sep === '.' || sep === '-') && !COMPRESSED.test(name);
}

function startAtOf(input: InputConfig): StartAt {
  return input.startAt;
}
