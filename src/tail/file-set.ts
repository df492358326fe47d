/**
 * The files being followed, and the descriptors they hold.
 *
 * Two groups: `active` files, at a matched path (open or not: a file waits for a descriptor, or was closed while
 * idle), and `moved` ones — renamed away, deleted, or superseded by a truncation — which are read through their
 * descriptor to their end, kept until acknowledged, then let go.
 *
 * Descriptors are bounded by max_open_files. When more files want one than there are, the choice is made here, and
 * in this order: a file that is read to its end and holds nothing in its parser gives way first (least recently
 * grown first); then, only for a file with bytes to read, an active file with unread bytes that has had its turn
 * (closing it loses nothing: it is still at its path and is reopened and checked later). A moved file never gives way:
 * its path may be gone, and its descriptor is the only way left to its bytes.
 */
import type { PipelineEvents } from '../events.js';
import type { TrackedFile } from './file.js';
import type { ChangeCount } from './file-deps.js';

/** What a file's state is, for monitoring: at its path, renamed away, or deleted while open. */
export const FILE_STATUSES = ['active', 'rotated', 'deleted'] as const;
export type FileStatus = (typeof FILE_STATUSES)[number];

export function statusOf(f: TrackedFile): FileStatus {
  if (f.placement === 'active') return 'active';
  return f.deleted ? 'deleted' : 'rotated';
}

export class FileSet {
  /** The file at each matched path. */
  readonly active = new Map<string, TrackedFile>();
  /** Renamed away, deleted, or superseded by a truncation: read to the end, then kept until acknowledged. */
  readonly moved = new Set<TrackedFile>();
  /** Every tracked file by device:inode (a reused inode replaces the entry of a file let go). */
  private readonly byInode = new Map<string, TrackedFile>();
  /** Files whose descriptor is being closed to make room: not picked twice. */
  private readonly evicting = new Set<TrackedFile>();
  /** Descriptors open or reserved. */
  private slots = 0;

  constructor(
    private readonly maxOpenFiles: number,
    private readonly events: PipelineEvents,
    /** Moved whenever a file comes or goes (the registry then changes). */
    private readonly changes: ChangeCount,
  ) {}

  get openCount(): number {
    return this.slots;
  }

  get size(): number {
    return this.active.size + this.moved.size;
  }

  *all(): Iterable<TrackedFile> {
    yield* this.active.values();
    yield* this.moved;
  }

  /** The tracked file with this device and inode, if any. */
  inode(dev: number, ino: number): TrackedFile | undefined {
    return this.byInode.get(`${dev}:${ino}`);
  }

  /** `f` is now the file at `path` (a new file, or a moved one renamed into another matched path). */
  setActive(path: string, f: TrackedFile): void {
    this.moved.delete(f);
    f.placement = 'active';
    f.path = path;
    this.active.set(path, f);
    this.byInode.set(f.key, f);
    this.changes.n++;
  }

  /** A file that is not (or no longer) at a matched path. */
  addMoved(f: TrackedFile): void {
    // Only a file new to the set takes its inode's entry. A moved file looked for again (moveAway runs at every
    // admission until it is found or counted lost) may have been deleted and its inode given to a newer file that holds
    // the entry now: taking it back would hide that file, which would then be adopted a second time and read twice.
    const known = this.moved.has(f) || this.byInode.get(f.key) === f;
    if (this.active.get(f.path) === f) this.active.delete(f.path);
    for (const [path, g] of this.active) if (g === f) this.active.delete(path);
    f.placement = 'moved';
    this.moved.add(f);
    if (!known) this.byInode.set(f.key, f);
    this.changes.n++;
  }

  /** Forget a file for good (let go, or lost). Its descriptor must be closed first. */
  remove(f: TrackedFile): void {
    if (this.active.get(f.path) === f) this.active.delete(f.path);
    this.moved.delete(f);
    if (this.byInode.get(f.key) === f) this.byInode.delete(f.key);
    this.changes.n++;
  }

  /** Take a descriptor slot for a file about to be opened; false when none is free. */
  reserve(): boolean {
    if (this.slots >= this.maxOpenFiles) return false;
    this.slots++;
    return true;
  }

  /** Give back a slot reserved for an open that did not happen. */
  unreserve(): void {
    this.slots--;
  }

  /** The file was opened in a reserved slot. */
  opened(f: TrackedFile): void {
    this.events.fileOpened(f.path);
  }

  /** Close a file's descriptor (if it has one) and free its slot. */
  async close(f: TrackedFile): Promise<void> {
    if (!(await f.close())) return;
    this.slots--;
    this.events.fileClosed(f.path);
  }

  /**
   * Close up to `count` descriptors to make room for files waiting for one (see the order above). `forUnread`: the
   * waiting files have bytes to read (only then may an active file with unread bytes give way).
   */
  async makeRoom(count: number, forUnread: boolean): Promise<number> {
    if (count <= 0) return 0;
    const idle: TrackedFile[] = [];
    const served: TrackedFile[] = [];
    for (const g of this.active.values()) {
      if (!g.isOpen || this.evicting.has(g)) continue;
      if (g.readToEnd && g.parseIdle) idle.push(g);
      else if (forUnread && g.readTurns > 0) served.push(g);
    }
    idle.sort((a, b) => a.lastGrowthAt - b.lastGrowthAt);
    served.sort((a, b) => b.readTurns - a.readTurns);
    const victims = idle.length >= count ? idle.slice(0, count) : [...idle, ...served.slice(0, count - idle.length)];
    for (const v of victims) this.evicting.add(v);
    try {
      await Promise.all(victims.map((v) => this.close(v)));
    } finally {
      for (const v of victims) this.evicting.delete(v);
    }
    return victims.length;
  }
}
