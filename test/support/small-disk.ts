/**
 * A real full disk for tests: a small tmpfs mounted on a fresh directory (needs root, as in the project's CI and
 * dev machine), which a test fills with a ballast file until the kernel answers ENOSPC, then frees again. Nothing is
 * simulated: every write logship makes to it meets the kernel's own ENOSPC.
 *
 * Where mounting is not allowed (not root, no tmpfs), `mountSmallDisk` resolves to null and the test says it skipped.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './agent.js';

export interface SmallDisk {
  readonly dir: string;
  /** Write ballast until the disk is full (ENOSPC). */
  fill(): void;
  /** Remove the ballast: the space comes back. */
  free(): void;
  unmount(): void;
}

const mounted = new Set<string>();
process.on('exit', () => {
  for (const dir of mounted) {
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
});

export function mountSmallDisk(sizeKiB = 1024): SmallDisk | null {
  if (process.getuid?.() !== 0) return null;
  const dir = tempDir('logship-disk-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0755`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return null;
  }
  mounted.add(dir);
  const ballast = join(dir, '.ballast');
  return {
    dir,
    fill() {
      const fd = openSync(ballast, 'a');
      const block = Buffer.alloc(4096, 0x61);
      try {
        for (;;) writeSync(fd, block);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(ballast, { force: true });
    },
    unmount() {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      mounted.delete(dir);
    },
  };
}
