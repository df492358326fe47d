/**
 * Resuming after a restart: the registry's checkpoints, matched to files by device and inode (and confirmed by the
 * fingerprint when the file is opened), and finding a file beside its old path when a rotation renamed it.
 */
import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Checkpoint } from '../pipeline/registry.js';
import { listingOf, namesWhileShifting } from './generations.js';
import { bornKnown, sameFile, startsLike, type FileIdentity } from './identity.js';

/** Checkpoints from the registry not yet matched to a file, by device:inode. */
export class KnownCheckpoints {
  private readonly byInode = new Map<string, Checkpoint[]>();

  constructor(checkpoints: readonly Checkpoint[]) {
    for (const c of checkpoints) this.put(c);
  }

  /** The checkpoint of the file with this device and inode, taken out (a reused inode may have several). */
  take(dev: number, ino: number): Checkpoint | null {
    const key = `${dev}:${ino}`;
    const list = this.byInode.get(key);
    if (list === undefined) return null;
    const entry = list.shift() ?? null;
    if (list.length === 0) this.byInode.delete(key);
    return entry;
  }

  has(dev: number, ino: number): boolean {
    return this.byInode.has(`${dev}:${ino}`);
  }

  put(c: Checkpoint): void {
    const key = `${c.dev}:${c.ino}`;
    const list = this.byInode.get(key);
    if (list === undefined) this.byInode.set(key, [c]);
    else list.push(c);
  }

  /** Every checkpoint not yet matched: kept in the registry, not forgotten. */
  all(): Checkpoint[] {
    return [...this.byInode.values()].flat();
  }

  /** Every checkpoint not yet matched, taken out. */
  takeAll(): Checkpoint[] {
    const all = this.all();
    this.byInode.clear();
    return all;
  }
}

/** What is known of a file that left its path: where it was, its inode, and its fingerprint when it has one. */
export interface Whereabouts {
  readonly path: string;
  /** The matched path it was found at: a rotated file is never back there (a reused inode there is another file). */
  readonly originPath?: string;
  readonly dev: number;
  readonly ino: number;
  readonly identity?: FileIdentity | null;
  readonly fingerprint?: string;
  readonly fingerprintBytes?: number;
  /** Its birth time when a stat saw it (0 or absent: unknown). */
  readonly birthtimeMs?: number;
}

/**
 * The file with `known`'s inode (and fingerprint, when known) beside its old path, under another name: where a
 * rotation renamed it (`django.log` → `django.log.1`). Null when it is not there. Links are not taken.
 */
export async function locateBeside(known: Whereabouts): Promise<{ path: string; stat: Stats } | null> {
  const identity =
    known.identity ??
    (known.fingerprint !== undefined && known.fingerprintBytes !== undefined && known.fingerprintBytes > 0
      ? { dev: known.dev, ino: known.ino, fingerprint: known.fingerprint, fingerprintBytes: known.fingerprintBytes }
      : null);
  for (const path of nextNames(known.path, NEXT_NAMES)) {
    const found = await isThere(path, known, identity);
    if (found !== null) return found;
  }
  const dir = dirname(known.path);
  for await (const name of namesWhileShifting(listingOf(dir))) {
    const found = await isThere(join(dir, name), known, identity);
    if (found !== null) return found;
  }
  return null;
}

/** The file `known` at `path`, if it is there: same inode and birth time, and first bytes where those do not tell. */
async function isThere(path: string, known: Whereabouts, identity: FileIdentity | null): Promise<{ path: string; stat: Stats } | null> {
  if (path === known.path || path === known.originPath) return null;
  const s = await lstat(path).catch(() => null);
  if (!s?.isFile() || !sameFile(s, known)) return null;
  // Inode and birth time both known (sameFile compared them): this file; its first bytes need no second look, which
  // could open another file by the time it is done (generations shifted every few milliseconds).
  if (identity === null || bornKnown(s, known) || (await startsLike(path, { ...identity, path }))) return { path, stat: s };
  return null;
}

/** How many names after a file's own are looked at before the directory is listed (see nextNames). */
const NEXT_NAMES = 4;

/**
 * The names a shift gives a file next: `django.log.3` → `.4`, `.5`, …; `django.log` → `.1`, `.2`, …. A file followed
 * from name to name (keeper.ts, openFollowing) is nearly always at one of them, a few lstat calls away. Why: listing the
 * directory and looking at every generation below it took 50–200 ms a file on a loaded host, while the writer
 * renamed it again every 80 ms; 200 generations to open took 15 s. Other rotations (dates in the name) are found by
 * the listing.
 */
export function nextNames(path: string, count: number): string[] {
  const m = /\.(\d{1,4})$/.exec(path);
  const base = m === null ? path : path.slice(0, m.index);
  const n = m === null ? 0 : Number(m[1]);
  const names: string[] = [];
  for (let i = 1; i <= count; i++) names.push(`${base}.${n + i}`);
  return names;
}
