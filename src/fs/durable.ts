/**
 * Small file-system steps that files meant to survive a crash are written with (dead letters, the file sink's
 * output and its rotations): a whole buffer written, a rename that may find nothing to move, a directory fsynced.
 */
import { open, rename, type FileHandle } from 'node:fs/promises';

/** Write all of `data` at the file's position: fh.write() may write less than asked (a full disk, a signal). */
export async function writeAll(fh: FileHandle, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await fh.write(data, offset, data.length - offset);
    offset += bytesWritten;
  }
}

/** Rename `from` to `to`; nothing to rename is not an error. */
export async function renameIfExists(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** fsync a directory so that a created or renamed entry survives a crash. Not every file system allows it: best effort. */
export async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r').catch(() => null);
  if (!d) return;
  try {
    await d.sync();
  } catch {
    // EISDIR/EPERM/EINVAL on some systems.
  } finally {
    await d.close();
  }
}
