/**
 * Opening a matched path for reading, safely: whatever was put at the path between the scan and the open.
 *
 * - O_NONBLOCK: a FIFO (or a device) renamed onto a log's path would block a plain open() in the kernel until a
 *   writer appears, and with it the thread-pool thread and everything waiting on it. With O_NONBLOCK the open returns
 *   at once; fstat() then tells it is not a regular file and it is refused. The flag is left set: Node cannot clear it
 *   (no fcntl), and for regular files it changes nothing (POSIX: reads of regular files never block on it).
 * - O_NOFOLLOW (unless the input follows symbolic links): a symbolic link put at a matched path fails with ELOOP
 *   instead of shipping whatever it points to (a secret the agent can read). The scan uses lstat() for the same reason.
 */
import { constants, type Stats } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';

export type Opened =
  | { readonly kind: 'ok'; readonly fh: FileHandle; readonly stat: Stats }
  /** Something the agent does not read: a symbolic link, a FIFO, a device, a directory; or a link out of bounds. */
  | { readonly kind: 'refused'; readonly reason: string }
  /** The open failed (ENOENT: gone meanwhile; EACCES; EMFILE…). */
  | { readonly kind: 'failed'; readonly error: NodeJS.ErrnoException };

/** A symbolic link policy: null = never follow; else the link's target must lie under one of these directories. */
export type SymlinkRoots = readonly string[] | null;

export async function openLogFile(path: string, roots: SymlinkRoots): Promise<Opened> {
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | (roots === null ? constants.O_NOFOLLOW : 0);
  let fh: FileHandle;
  try {
    fh = await open(path, flags);
  } catch (err) {
    const error = err as NodeJS.ErrnoException;
    if (error.code === 'ELOOP' && roots === null) return { kind: 'refused', reason: 'a symbolic link (follow_symlinks is off)' };
    return { kind: 'failed', error };
  }
  try {
    const s = await fh.stat();
    if (!s.isFile()) {
      await fh.close();
      return { kind: 'refused', reason: `not a regular file (${kindOf(s)})` };
    }
    if (roots !== null) {
      const outside = await outsideRoots(path, s, roots);
      if (outside !== null) {
        await fh.close();
        return { kind: 'refused', reason: outside };
      }
    }
    return { kind: 'ok', fh, stat: s };
  } catch (err) {
    await fh.close().catch(() => undefined);
    return { kind: 'failed', error: err as NodeJS.ErrnoException };
  }
}

/**
 * Why the file opened at `path` (fstat `s`) is not one a link may lead to, or null when it is: its real path must lie
 * under one of `roots`, and still be the file that was opened (a link changed between the two looks is refused).
 */
export async function outsideRoots(path: string, s: Stats, roots: readonly string[]): Promise<string | null> {
  const real = await realpath(path).catch(() => null);
  if (real === null) return 'its target cannot be resolved';
  if (!roots.some((root) => isUnder(real, root))) return `it leads to ${real}, outside the allowed symlink_roots`;
  const now = await stat(real).catch(() => null);
  if (now === null || now.dev !== s.dev || now.ino !== s.ino) return 'its target changed while it was opened';
  return null;
}

export function isUnder(path: string, dir: string): boolean {
  const d = dir.endsWith('/') ? dir : `${dir}/`;
  return path === dir || path.startsWith(d);
}

function kindOf(s: Stats): string {
  if (s.isFIFO()) return 'a FIFO';
  if (s.isDirectory()) return 'a directory';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  if (s.isSocket()) return 'a socket';
  if (s.isSymbolicLink()) return 'a symbolic link';
  return 'not a file';
}
