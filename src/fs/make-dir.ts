/**
 * `mkdir -p` that fails instead of spinning.
 *
 * Node's own recursive mkdir (`mkdirSync(dir, { recursive: true })`, and the promise form) loops for ever, at 100%
 * CPU, without an error, when a directory cannot hold the child it is asked for but says ENOENT: `data_dir: /proc/x`
 * (procfs answers mkdir /proc/x with ENOENT; Node takes that as "the parent is missing", makes /proc — EEXIST, fine —
 * and tries /proc/x again, for ever), and a dangling symlink on the way. The synchronous form froze the agent's
 * thread so that not even SIGTERM got through. Here each missing directory is made once, parents first, and an
 * error once the parent exists is final.
 */
import { mkdirSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** The directories of `dir` that do not exist yet, outermost first (ENOTDIR and the like are thrown as they are). */
function missingSync(dir: string): string[] {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      if (!statSync(d).isDirectory()) throw notADirectory(d);
      return missing.reverse();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(d) === d) throw err;
      missing.push(d);
    }
  }
}

/** Makes `dir` and its missing parents; returns those it made, outermost first (to undo a probe, innermost last). */
export function makeDirectorySync(dir: string): string[] {
  const missing = missingSync(dir);
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      // Made meanwhile by someone else: fine if it is a directory now.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(d).isDirectory()) throw err;
    }
  }
  return missing;
}

/** makeDirectorySync, without blocking the thread. */
export async function makeDirectory(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      if (!(await stat(d)).isDirectory()) throw notADirectory(d);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(d) === d) throw err;
      missing.push(d);
    }
  }
  for (const d of missing.reverse()) {
    try {
      await mkdir(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !(await stat(d)).isDirectory()) throw err;
    }
  }
}

function notADirectory(path: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`ENOTDIR: not a directory, mkdir '${path}'`);
  err.code = 'ENOTDIR';
  return err;
}
