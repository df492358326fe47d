/**
 * Rotated generations: the files a writer renamed away from a matched path (`django.log.1`, `<id>-json.log.2`,
 * `django.log-20261127`, kubelet's `0.log.20261205-100000`), and the order of a path's generations.
 */
import type { Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { InputConfig } from '../config/types.js';

/** Rotated generations that are compressed are not log text: skip them, and files being written (kubelet's `.tmp`). */
const COMPRESSED = /\.(gz|bz2|xz|zst|zip|lz4|tmp)$/;

/** `django.log.1`, `django.log.2`, `django.log-20261127` for base `django.log`; not compressed ones. */
export function isGenerationOf(name: string, base: string): boolean {
  if (name.length <= base.length + 1 || !name.startsWith(base)) return false;
  const sep = name[base.length];
  return (sep === '.' || sep === '-') && !COMPRESSED.test(name);
}

/** A regular file beside `originPath` named as one of its rotated generations, with what lstat() said of it. */
export interface Generation {
  readonly path: string;
  readonly stat: Stats;
}

/**
 * The rotated generations of `originPath` that received writes at or after `sinceMtimeMs`, each yielded as soon as it
 * is looked at: the caller opens it moments after its lstat, before the writer renames it again. Collected first and
 * opened after, a look at 200 generations left the last ones seconds stale, each then chased to its new name with a
 * listing of the directory (15 s for 200 generations, three agents on 2 cores, a rotation every 80 ms). Links are not
 * taken: a generation is a file the writer renamed, never a link. A file met twice (under a new name after a shift) is
 * yielded once.
 */
export async function* generationsOf(originPath: string, sinceMtimeMs: number): AsyncGenerator<Generation> {
  const dir = dirname(originPath);
  const base = basename(originPath);
  const met = new Set<string>();
  for await (const name of namesWhileShifting(listingOf(dir))) {
    if (!isGenerationOf(name, base)) continue;
    const path = join(dir, name);
    const s = await lstat(path).catch(() => null);
    if (!s?.isFile() || s.mtimeMs < sinceMtimeMs) continue;
    const key = `${s.dev}:${s.ino}:${s.birthtimeMs}`;
    if (met.has(key)) continue;
    met.add(key);
    yield { path, stat: s };
  }
}

/** How many times one look lists a directory at most (each listing after one that showed a name the last did not). */
const SHIFT_LISTINGS = 32;

/**
 * The names of a directory to look at while a writer may be shifting its generations: all of them in shift order;
 * then, while a new listing shows names the last one did not, the names from the lowest new one up. Within one
 * listing a file is never passed by (see inShiftOrder), but the highest-numbered one moves to a name that listing did
 * not have — `.3` → `.4` in a directory holding 3 of 50 backups — and only a new listing shows it; a file not met is
 * above the last listing by then, so only the new names need a look. Found by the fault suite: at a restart during a
 * rotation, the oldest generation was not found beside its path, was taken for one never seen, and was read again from
 * its start (1,778 records sent twice to CloudWatch Logs, which cannot deduplicate them).
 */
export async function* namesWhileShifting(list: () => Promise<readonly string[]>): AsyncGenerator<string> {
  let listed = await list();
  let names = inShiftOrder(listed);
  for (let listing = 1; ; listing++) {
    yield* names;
    if (listing === SHIFT_LISTINGS) return;
    const before = new Set(listed);
    listed = await list();
    const ordered = inShiftOrder(listed);
    const firstNew = ordered.findIndex((name) => !before.has(name));
    if (firstNew === -1) return;
    names = ordered.slice(firstNew);
  }
}

/** The names in `dir` now (none when it cannot be read). */
export function listingOf(dir: string): () => Promise<string[]> {
  return () => readdir(dir).catch(() => [] as string[]);
}

/**
 * Inputs whose records can span a rotation: container runtimes cut long lines into pieces and rotate between pieces
 * (see carried.ts). Their generations are read oldest first, each one after the one before it is read to its end,
 * so that the pieces can be handed on.
 */
export function spansRotation(input: InputConfig): boolean {
  return input.type === 'docker' || (input.type as string) === 'cri';
}

/** What orders a path's rotated generations: older first (earlier last write; then the higher rotation number). */
export interface GenerationOrder {
  readonly path: string;
  readonly mtimeMs: number;
}

export function olderFirst(a: GenerationOrder, b: GenerationOrder): number {
  if (a.mtimeMs !== b.mtimeMs) return a.mtimeMs - b.mtimeMs;
  return rotationNumber(b.path) - rotationNumber(a.path);
}

/**
 * Names in the order to look at them while a writer may be shifting its generations: lowest rotation number first.
 * A shift renames `.k` to `.k+1` (from the highest down), so a file only ever moves to a higher number: looked for
 * upwards, it is met once or twice (a second time under its new name), never passed by. Looked at in directory order
 * (a hash order on ext4), a file renamed from a name not yet looked at to one already looked at is missed — which a
 * writer rotating every 80 ms does, while a loaded agent takes seconds to look at 50 generations.
 */
export function inShiftOrder(names: readonly string[]): string[] {
  // Each name's number worked out once (a directory can hold thousands of names), then sorted by it.
  const numbered = names.map((name) => ({ name, n: rotationNumber(name) }));
  numbered.sort((a, b) => a.n - b.n);
  return numbered.map((e) => e.name);
}

/** `.3` → 3; a date suffix or none → 0. */
function rotationNumber(path: string): number {
  const m = /\.(\d{1,4})$/.exec(path);
  return m === null ? 0 : Number(m[1]);
}

/** The generations of a path as they are followed: rotated ones (moved), and the live one. */
export interface GenerationFiles<F extends GenerationOrder> {
  readonly moved: Iterable<F>;
  readonly active: ReadonlyMap<string, F>;
}

interface ChainFile extends GenerationOrder {
  readonly originPath: string;
  readonly placement: 'active' | 'moved';
  readonly handedOver: boolean;
  readonly isOpen: boolean;
  readonly openError: string | null;
  readonly input: InputConfig;
}

/**
 * Must `f` wait before it is read? For inputs whose records span a rotation, a generation is read only once every
 * older generation of its path has handed over what it holds. One that cannot be opened does not hold the others up.
 */
export function waitsForOlder<F extends ChainFile>(f: F, files: GenerationFiles<F>): boolean {
  if (!spansRotation(f.input)) return false;
  for (const g of files.moved) {
    if (g === f || g.handedOver || g.originPath !== f.originPath) continue;
    if (!g.isOpen && g.openError !== null) continue;
    if (f.placement === 'active' || olderFirst(g, f) < 0) return true;
  }
  return false;
}

/** The generation after rotated `g` of the same path: the oldest newer rotated one, else the live file; or null. */
export function successorOf<F extends ChainFile>(g: F, files: GenerationFiles<F>): F | null {
  let next: F | null = null;
  for (const h of files.moved) {
    if (h === g || h.originPath !== g.originPath || olderFirst(g, h) >= 0) continue;
    if (next === null || olderFirst(h, next) < 0) next = h;
  }
  if (next !== null) return next;
  const live = files.active.get(g.originPath);
  return live !== undefined && live !== g ? live : null;
}
