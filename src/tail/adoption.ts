/**
 * Rotated generations never seen at their matched path: a writer can rotate more than once between two scans, before
 * the first one, or while the agent is stopped. They are found beside the path by name and mtime, told apart from
 * files already followed or already let go (by inode, birth time and fingerprint: inodes are reused at once), and
 * read from their start.
 */
import type { Discovery, MatchedFile } from './discovery.js';
import type { TailContext } from './context.js';
import type { TrackedFile } from './file.js';
import { generationsOf } from './generations.js';
import { bornKnown, sameFile, startsLike, type FileIdentity } from './identity.js';
import type { KnownCheckpoints } from './resume.js';

/** How many released files are remembered (a few rotations' worth for every file of a large host). */
const RELEASED_MEMORY = 10_000;
/** At most this many looks for rotated generations in a row (each one after one that found some). */
const ADOPTION_LOOKS = 5;

export class Adoption {
  /** Files read to their end and let go, by device:inode → fingerprint: a rotated generation is not adopted twice. */
  private readonly released = new Map<string, { identity: FileIdentity | null; birthtimeMs: number }>();

  constructor(
    private readonly ctx: TailContext,
    private readonly discovery: Discovery,
    private readonly known: KnownCheckpoints,
    /** Opens a file now if a descriptor is free (else it waits for the next admission). */
    private readonly openNow: (f: TrackedFile, now: number) => Promise<void>,
  ) {}

  /**
   * Rotated generations of `originPath` (`django.log.1`, `<id>-json.log.2`, `django.log-20261127`, not compressed)
   * that received writes after `sinceMtimeMs` but were never seen at the matched path: a writer can rotate more
   * than once between two scans (or while the agent is stopped). Read them from their start. One already shipped
   * and read again costs nothing in Elasticsearch: its records keep their ids.
   */
  async adopt(originPath: string, sinceMtimeMs: number, matched: Map<string, MatchedFile>, now: number): Promise<void> {
    const input = this.discovery.inputOf(originPath);
    if (!input) return;
    // Looked at again until a look finds nothing new: a writer that keeps rotating while the generations are looked
    // at (and opened) can shift one past the look; the next look, with the same mtime bound, still has it.
    for (let look = 0; look < ADOPTION_LOOKS; look++) {
      let adopted = 0;
      for await (const { path, stat: s } of generationsOf(originPath, sinceMtimeMs)) {
        // The scan follows what it matched anyway, under the name it matched it by: a file at the matched path when
        // the scan looked may be a generation by now (this look can take long on a loaded host).
        if (matched.has(path) || matchedInodes(matched).has(`${s.dev}:${s.ino}:${s.birthtimeMs}`)) continue;
        if ((await this.isTracked(path, s)) || (await this.wasReleased(path, s))) continue;
        const f = this.ctx.newFile(path, input, s.dev, s.ino, { identity: null, offset: 0, resumed: null }, now, originPath);
        f.birthtimeMs = s.birthtimeMs;
        f.observe(s.size, s.mtimeMs, now);
        this.ctx.files.addMoved(f);
        this.ctx.events.rotationSeen(originPath);
        this.ctx.logger.info('reading a rotated generation never seen at its path', { path, inode: f.key, origin: originPath });
        await this.openNow(f, now);
        adopted++;
      }
      if (adopted === 0) return;
    }
  }

  /** A moved file read to its end and acknowledged is let go: remembered, so it is not adopted again. */
  remember(f: TrackedFile): void {
    this.released.set(f.key, { identity: f.identity, birthtimeMs: f.birthtimeMs });
    if (this.released.size > RELEASED_MEMORY) this.released.delete(this.released.keys().next().value!);
  }

  private async wasReleased(path: string, s: { dev: number; ino: number; size: number; birthtimeMs: number }): Promise<boolean> {
    const released = this.released.get(`${s.dev}:${s.ino}`);
    if (released === undefined || !sameFile(s, { dev: s.dev, ino: s.ino, birthtimeMs: released.birthtimeMs })) return false;
    // Inode and birth time both known and the same: that file, wherever it is now. Its first bytes are not compared:
    // the name it was listed under may hold another file by now (a writer shifting generations every 80 ms).
    if (bornKnown(s, released)) return true;
    // A file let go before it had a line has no fingerprint: it is the same file only if it is still empty.
    if (released.identity === null) return s.size === 0;
    return startsLike(path, { ...released.identity, path });
  }

  /**
   * Is the file at `path` (a generation) one already followed? An open file's inode is its own (it cannot be reused
   * while open); a closed one's may have been freed and reused, so its birth time decides (its fingerprint where the
   * file system keeps no birth time). A closed file never opened (no fingerprint) with this inode is taken to be this
   * one, renamed: it is followed here from now on.
   */
  private async isTracked(path: string, s: { dev: number; ino: number; birthtimeMs: number }): Promise<boolean> {
    if (this.known.has(s.dev, s.ino)) return true;
    const t = this.ctx.files.inode(s.dev, s.ino);
    if (t === undefined || !sameFile(s, t)) return false;
    if (t.isOpen || t.opening) return true;
    if (t.identity !== null && !bornKnown(s, t)) return startsLike(path, { ...t.identity, path });
    if (t.placement === 'moved') {
      t.path = path;
      t.missingSince = 0;
    }
    return true;
  }
}

/** The files a scan matched, by device, inode and birth time (made once per scan, when a generation is looked at). */
const matchedInodesOf = new WeakMap<Map<string, MatchedFile>, Set<string>>();
function matchedInodes(matched: Map<string, MatchedFile>): Set<string> {
  let set = matchedInodesOf.get(matched);
  if (set === undefined) {
    set = new Set([...matched.values()].map(({ stat: s }) => `${s.dev}:${s.ino}:${s.birthtimeMs}`));
    matchedInodesOf.set(matched, set);
  }
  return set;
}
