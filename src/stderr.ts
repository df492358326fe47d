/**
 * Writing to the process's stderr from any thread, synchronously: a line is with the OS when the call returns. A
 * worker thread's `process.stderr` only passes lines to the main thread, to be written later; the agent's log
 * must not lose its last lines when the process ends (or is killed) right after.
 */
import { writeSync } from 'node:fs';

const STDERR = 2;

export function writeStderr(text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let at = 0;
  let busy = 0;
  while (at < bytes.length) {
    try {
      at += writeSync(STDERR, bytes, at);
    } catch (err) {
      // A non-blocking stderr that is full: try again a while, then give up on this line rather than stop the agent.
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || ++busy > 1000) return;
    }
  }
}
