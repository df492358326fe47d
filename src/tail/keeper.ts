/**
 * Seeing and holding files: the scan that reconciles what the patterns match with what is followed — new files,
 * rotations, deletions, truncations, generations rotated between two looks — and the descriptors that keep them.
 *
 * It runs on its own schedule (scan_interval, sooner when the watcher sees an entry come or go), whatever delivery's
 * backpressure: a full queue pauses reading, never seeing and holding. A file is opened as soon as it is seen (within
 * max_open_files) and keeps its descriptor until every byte is read and acknowledged, so a generation the writer
 * renames, shifts and deletes while the sink is down stays readable (its disk space is kept until then).
 */
import type { Stats } from 'node:fs';
import { lstat, type FileHandle } from 'node:fs/promises';
import type { InputConfig } from '../config/types.js';
import type { Checkpoint } from '../pipeline/registry.js';
import type { Discovery, MatchedFile } from './discovery.js';
import type { FileStart, TailContext } from './context.js';
import type { TrackedFile } from './file.js';
import { olderFirst } from './generations.js';
import { sameFile, stillMatches } from './identity.js';
import { openLogFile } from './open.js';
import { KnownCheckpoints, locateBeside } from './resume.js';
import { Adoption } from './adoption.js';
import { UnmatchedPatterns } from './unmatched.js';

/** A file that cannot be opened is said once, then reminded of at this pace (it is tried again at every scan). */
const OPEN_WARNING_EVERY_MS = 5 * 60_000;
/** How long a closed file that left its path is looked for beside it before its unread bytes are counted lost. */
const MISSING_GRACE_MS = 1_000;
/** How many times one open follows a file renamed away between the look and the open (see openFollowing). */
const CHASE_OPENS = 4;

export class Keeper {
  /**
   * Per matched path, the mtime (at first sight) of the newest file followed there. A rotated generation written
   * after it is one that must have been read, or must be read now. Seeded from the checkpoints.
   */
  private readonly pathMtime = new Map<string, number>();
  private readonly startedAt = Date.now();
  /** Patterns that match nothing (for /health, and said in the log). */
  readonly unmatched: UnmatchedPatterns;
  /** When the last scan finished (liveness: a scan stuck in the kernel stops this clock). */
  lastScanAt = 0;

  /** Rotated generations never seen at their path, and the files let go (not adopted again). */
  private readonly adoption: Adoption;

  constructor(
    private readonly ctx: TailContext,
    private readonly discovery: Discovery,
    private readonly known: KnownCheckpoints,
  ) {
    this.unmatched = new UnmatchedPatterns(ctx.logger);
    this.adoption = new Adoption(ctx, discovery, known, (f, now) => this.openNow(f, now));
    for (const c of known.all()) this.pathMtime.set(c.path, Math.max(this.pathMtime.get(c.path) ?? 0, c.mtimeMs ?? 0));
  }

  /**
   * Reconcile what the patterns match with what is followed. `initial`: the first scan after a start, where
   * checkpoints are matched to files and start_at applies.
   */
  async scan(now: number, initial: boolean): Promise<void> {
    const { files: matched, empty } = await this.discovery.scan();
    this.unmatched.note(empty, now);
    const files = this.ctx.files;

    // A path whose file is gone or replaced: that file was rotated or deleted. Read it to its end via its descriptor.
    for (const [path, f] of [...files.active]) {
      const m = matched.get(path);
      if (m && sameFile(m.stat, f)) {
        f.observe(m.stat.size, m.stat.mtimeMs, now);
        continue;
      }
      if (m === undefined) this.discovery.explain(path); // a link or a FIFO put in its place is named, not read
      await this.moveAway(f, path, now);
    }

    for (const [path, m] of matched) {
      if (files.active.has(path)) continue;
      const same = files.inode(m.stat.dev, m.stat.ino);
      if (same !== undefined && same.placement === 'moved' && same.identity !== null) {
        // Renamed into another matched path (e.g. `django.log.1` matched by `django.log*`): the same file, still live.
        files.setActive(path, same);
        same.originPath = path;
        continue;
      }
      // A new file at a path seen before, or first seen while running: the writer may have rotated (more than once)
      // since the last look, or before this first one (a quick first rotation). Those generations are read too.
      const since = this.pathMtime.get(path) ?? (initial ? undefined : this.startedAt);
      if (since !== undefined) await this.adoption.adopt(path, since, matched, now);
      const knownPath = this.pathMtime.has(path);
      this.pathMtime.set(path, m.stat.mtimeMs);
      await this.openNow(this.track(m, now, initial && !knownPath), now);
    }

    await this.checkRewritten(matched, now);
    await this.checkUnopened(now);
    await this.admitWaiting(now);
    if (initial) await this.resumeRotatedWhileStopped(matched, now);
    this.lastScanAt = Date.now();
  }

  /**
   * Give descriptors to files that want one (new, grown while closed, rotated and not yet read), moved files first
   * (their bytes may soon be gone), then the longest waiting. True if any was opened.
   */
  async admitWaiting(now: number): Promise<boolean> {
    const files = this.ctx.files;
    const waiting: TrackedFile[] = [];
    for (const f of files.all()) if (f.wantsDescriptor) waiting.push(f);
    if (waiting.length === 0) return false;
    waiting.sort((a, b) => (a.placement === b.placement ? olderFirst(a, b) : a.placement === 'moved' ? -1 : 1));
    const free = this.ctx.options.maxOpenFiles - files.openCount;
    if (waiting.length > free) await files.makeRoom(waiting.length - free, waiting.some((f) => f.size > f.readOffset));
    let opened = false;
    for (const f of waiting) {
      if (!f.wantsDescriptor) continue; // opened (or let go) meanwhile
      if (!files.reserve()) break;
      const result = await this.open(f, now);
      if (result !== 'ok') files.unreserve();
      opened ||= result === 'ok';
    }
    return opened;
  }

  /**
   * Open a file as soon as it is seen, if a descriptor is free: a writer rotating several times a second renames a
   * generation again (and deletes the oldest) within moments. Without a free one it waits for the next admission.
   */
  private async openNow(f: TrackedFile, now: number): Promise<void> {
    if (!f.wantsDescriptor || !this.ctx.files.reserve()) return;
    if ((await this.open(f, now)) !== 'ok') this.ctx.files.unreserve();
  }

  /** Anything waiting for a descriptor? */
  hasWaiting(): boolean {
    for (const f of this.ctx.files.all()) if (f.wantsDescriptor) return true;
    return false;
  }

  /**
   * Open `f` in a slot the caller reserved, and check it is still the file it was: same inode at its path, same first
   * bytes, not shorter than what was read. What else is found there is dealt with here.
   */
  private async open(f: TrackedFile, now: number): Promise<'ok' | 'unavailable'> {
    f.opening = true;
    try {
      return await this.openChecked(f, now);
    } finally {
      f.opening = false;
    }
  }

  private async openChecked(f: TrackedFile, now: number): Promise<'ok' | 'unavailable'> {
    const opened = await this.openFollowing(f, now);
    if (opened === null) return 'unavailable';
    const { fh, stat } = opened;
    const rewritten = stat.size < f.readOffset || (f.identity !== null && !(await stillMatches(fh, f.identity)));
    if (rewritten) {
      await fh.close();
      await this.startOver(f, stat.size, now);
      return 'unavailable';
    }
    if (f.openError !== null) this.ctx.logger.info('file can be opened again', { path: f.path });
    f.openError = null;
    // Said at info the first time; a descriptor given back and taken again (max_open_files, idle) only at debug.
    const first = !f.everOpened;
    f.attach(fh);
    f.observe(stat.size, stat.mtimeMs, now);
    this.ctx.files.opened(f);
    this.ctx.logger[first ? 'info' : 'debug']('file opened', { path: f.path, inode: f.key, offset: f.readOffset, state: f.placement });
    if (f.startAtEnd) await f.ensureIdentity();
    return 'ok';
  }

  /**
   * `f` opened at its path. Where the path holds another file or none by then (the writer renamed or deleted it
   * between the look and the open), it is looked for beside the path and, found, opened there at once (up to
   * CHASE_OPENS times), not left for the next admission. Why: a writer shifting its generations every few milliseconds
   * renames it again within moments. Left for the next admission, adopted generations were chased from name to name by
   * every scan, each look making the scan slower, until the writer deleted them unread (the fault suite's rotation by
   * rename at full scale, three runs at once on 2 cores: scans of 10–14 s, and 3 runs of 9 lost 1–11 of the 200
   * backups, counted; none of 20 since, with generationsOf handing each generation over as it is looked at). Null when
   * not opened: moveAway has dealt with a file not found, cannotOpen with an error.
   */
  private async openFollowing(f: TrackedFile, now: number): Promise<{ fh: FileHandle; stat: Stats } | null> {
    for (let chase = 0; ; chase++) {
      const opened = await openLogFile(f.path, f.input.symlinkRoots);
      if (opened.kind === 'ok') {
        if (sameFile(opened.stat, f)) return opened;
        await opened.fh.close();
      } else if (opened.kind === 'refused' || opened.error.code !== 'ENOENT') {
        this.cannotOpen(f, opened.kind === 'refused' ? opened.reason : opened.error.message, now);
        return null;
      }
      if (!(await this.moveAway(f, f.path, now)) || chase === CHASE_OPENS) return null;
    }
  }

  private cannotOpen(f: TrackedFile, reason: string, now: number): void {
    const first = f.openError === null;
    f.openError = reason;
    // Remembered as if read up to what it holds: it is tried again when it changes (or at the next scan), not in a loop.
    if (first || now - f.openWarnedAt >= OPEN_WARNING_EVERY_MS) {
      f.openWarnedAt = now;
      this.ctx.logger.warn('cannot open file', { path: f.path, error: reason, ...(first ? {} : { still: true }) });
    }
  }

  /**
   * `f`'s path no longer holds it. Open, it is read to its end through its descriptor. Closed (waiting for a
   * descriptor, or closed while idle), it is looked for beside its path. One not found is looked for again at the next
   * admissions (a writer shifting its generations renames them while they are looked for); still missing after
   * MISSING_GRACE_MS, it is lost: counted and logged. True when it was found beside its path (`f.path` names it now).
   */
  private async moveAway(f: TrackedFile, path: string, now: number): Promise<boolean> {
    const wasActive = f.placement === 'active';
    this.ctx.files.addMoved(f);
    if (wasActive) {
      this.ctx.events.rotationSeen(path);
      this.ctx.logger.info('file rotated or deleted: reading it to its end', { path, inode: f.key, offset: f.readOffset, open: f.isOpen });
    }
    if (f.isOpen) return false;
    const found = await locateBeside(f);
    // Another look may have settled it while this one listed the directory: a scan and an admission both look for a
    // file that left its path. Counted lost by the other, it was counted twice (the fault suite's max_open_files
    // scenario under three suites at once: one file in eleven warnings twice, 8 ms apart).
    if (f.isOpen || !this.ctx.files.moved.has(f)) return false;
    if (found !== null) {
      f.path = found.path; // opened by the caller, or by the next admission
      f.observe(found.stat.size, found.stat.mtimeMs, now);
      f.missingSince = 0;
      return true;
    }
    if (f.missingSince === 0) f.missingSince = now;
    if (now - f.missingSince < MISSING_GRACE_MS) return false;
    this.ctx.files.remove(f);
    f.handedOver = true;
    const unread = Math.max(0, f.size - f.readOffset);
    if (unread > 0) {
      this.ctx.lost(path, unread, f.identity === null && f.readOffset === 0 ? 'deleted_before_open' : 'deleted_while_closed', {
        inode: f.key,
        offset: f.readOffset,
      });
    }
    if (f.outstanding === 0) f.dispose();
    return false;
  }

  /**
   * Rotated files. Those still waiting for a descriptor (every one held by files with bytes to read): still there? A writer
   * that keeps rotating renames them on (followed here by inode) and at last deletes them: that loss is counted when
   * it happens, not when a descriptor frees up.
   */
  private async checkUnopened(now: number): Promise<void> {
    for (const f of [...this.ctx.files.moved]) {
      // An open one: its size and whether it was deleted, as its descriptor says (reading may be paused for long).
      if (f.isOpen) await f.readToEndNow(now);
      if (f.isOpen || f.opening || f.everOpened) continue;
      const s = await lstat(f.path).catch(() => null);
      if (s !== null && s.isFile() && sameFile(s, f)) f.observe(s.size, s.mtimeMs, now);
      else await this.moveAway(f, f.path, now);
    }
  }

  /** Files that changed since the last look: truncated (copytruncate) or rewritten in place. */
  private async checkRewritten(matched: Map<string, MatchedFile>, now: number): Promise<void> {
    for (const [path, f] of [...this.ctx.files.active]) {
      if (!f.isOpen) continue;
      const m = matched.get(path);
      if (m === undefined) continue;
      if (m.stat.size < f.readOffset) await this.restartTruncated(f, 'file shrank below the read offset');
      else if (m.stat.mtimeMs > f.lastIdentityCheckAt && !(await f.identityHolds())) await this.restartTruncated(f, 'file start was rewritten');
      f.lastIdentityCheckAt = now;
    }
  }

  /**
   * copytruncate or truncation: the bytes after the truncation point are new content of the same inode. The old
   * instance ships what it holds and waits for its acknowledgements; a new instance reads from offset 0.
   */
  async restartTruncated(f: TrackedFile, reason: string): Promise<void> {
    const now = Date.now();
    this.ctx.events.truncationSeen(f.path);
    // Bytes the file was seen to hold beyond what was read are gone with the truncation (copytruncate's race).
    const lost = Math.max(0, f.size - f.readOffset);
    this.ctx.logger.info('file truncated, reading again from its start', { path: f.path, reason, read_offset: f.readOffset, lost_bytes: lost });
    if (lost > 0) this.ctx.lost(f.path, lost, 'truncated', { read_offset: f.readOffset });
    await f.finish(now, true);
    await this.ctx.files.close(f);
    const path = f.path;
    this.ctx.files.addMoved(f);
    f.handedOver = true;
    f.letGo = true; // what it held is shipped; it is released once acknowledged
    f.size = f.readOffset; // read to its end: what is beyond belongs to the new instance
    const fresh = this.ctx.newFile(path, f.input, f.dev, f.ino, { identity: null, offset: 0, resumed: null }, now);
    this.ctx.files.setActive(path, fresh);
  }

  /** A file whose content is not what its identity or checkpoint says (rewritten while closed or stopped). */
  private async startOver(f: TrackedFile, size: number, now: number): Promise<void> {
    if (f.placement === 'moved') {
      // A rotated file's inode with other content: the file itself is gone (deleted, its inode given to another).
      this.ctx.files.remove(f);
      f.handedOver = true;
      const unread = Math.max(0, f.size - f.readOffset);
      if (unread > 0) this.ctx.lost(f.path, unread, f.everOpened ? 'deleted_while_closed' : 'deleted_before_open', { inode: f.key, offset: f.readOffset });
      if (f.outstanding === 0) f.dispose();
      return;
    }
    if (f.everRead) {
      await this.restartTruncated(f, 'file was rewritten while it was closed');
      return;
    }
    // Resumed from a checkpoint, never read since the start: the checkpointed file is not this one any more.
    this.ctx.logger.info('checkpoint does not match the file any more, reading it from its start', { path: f.path, offset: f.readOffset });
    // What it held beyond the checkpoint when last read is not in this file any more.
    if (f.resumedSize > f.readOffset) this.ctx.lost(f.path, f.resumedSize - f.readOffset, 'gone_at_restart', { offset: f.readOffset });
    this.ctx.files.remove(f);
    f.dispose();
    const fresh = this.ctx.newFile(f.path, f.input, f.dev, f.ino, { identity: null, offset: 0, resumed: null }, now, f.originPath);
    fresh.observe(size, 0, now);
    if (f.placement === 'active') this.ctx.files.setActive(f.path, fresh);
    else this.ctx.files.addMoved(fresh);
  }

  /** Start following a file found at `path`: resume from its checkpoint, or start per start_at. */
  private track(m: MatchedFile, now: number, firstStart: boolean): TrackedFile {
    const { path, input, stat: s } = m;
    const entry = this.known.take(s.dev, s.ino);
    const f = this.ctx.newFile(path, input, s.dev, s.ino, startOf(entry, firstStart && input.startAt === 'end' ? s.size : 0), now);
    f.birthtimeMs = s.birthtimeMs;
    f.startAtEnd = entry === null && firstStart && input.startAt === 'end';
    f.observe(s.size, s.mtimeMs, now);
    this.ctx.files.setActive(path, f);
    this.ctx.logger.info('file found', { path, input: input.type, offset: f.readOffset, resumed: entry !== null });
    return f;
  }

  /** A moved file read to its end and acknowledged is let go: remembered, so it is not adopted again. */
  remember(f: TrackedFile): void {
    this.adoption.remember(f);
  }

  /**
   * Checkpoints whose file is no longer at its path: the file was rotated while the agent was stopped. Look for
   * it (same inode and fingerprint) beside its old path and read the rest of it, so a restart loses nothing.
   */
  private async resumeRotatedWhileStopped(matched: Map<string, MatchedFile>, now: number): Promise<void> {
    const left = this.known.takeAll();
    for (const entry of left) {
      const input = this.discovery.inputOf(entry.path);
      if (!input) {
        // The config no longer covers this path: an operator's choice, not a loss. Forget it.
        this.ctx.logger.info('forgetting the checkpoint of a path no input matches any more', { path: entry.path });
        continue;
      }
      const located = await locateBeside(entry);
      const found = located?.path ?? null;
      if (found === null) {
        // At least what it held beyond the checkpoint when last read is lost; what it got after, unknown.
        const lost = Math.max(0, (entry.size ?? 0) - entry.offset);
        this.ctx.lost(entry.path, lost, 'gone_at_restart', { offset: entry.offset, note: 'a checkpointed file was removed while the agent was stopped' });
        continue;
      }
      const f = this.ctx.newFile(found, input, entry.dev, entry.ino, startOf(entry, 0), now, entry.path);
      f.birthtimeMs = located?.stat.birthtimeMs ?? 0;
      f.observe(entry.size, entry.mtimeMs, now);
      this.ctx.files.addMoved(f);
      await this.openNow(f, now);
      this.ctx.logger.info('reading the rest of a file rotated while the agent was stopped', { path: found, offset: entry.offset });
    }
    // Generations rotated after them while we were stopped, never seen at the matched path. Only now, with every
    // checkpointed file tracked, so that none of those is taken for a new generation and read twice.
    for (const entry of left) await this.adoption.adopt(entry.path, entry.mtimeMs ?? 0, matched, now);
    await this.admitWaiting(now);
  }
}

/** How a file found with checkpoint `entry` (or none) starts. */
function startOf(entry: Checkpoint | null, freshOffset: number): FileStart {
  if (entry === null) return { identity: null, offset: freshOffset, resumed: null };
  if (entry.fingerprintBytes === 0) return { identity: null, offset: 0, resumed: null }; // seen, never read: from its start
  const { dev, ino, fingerprint, fingerprintBytes } = entry;
  return { identity: { dev, ino, fingerprint, fingerprintBytes }, offset: entry.offset, resumed: entry };
}

export type { InputConfig };
