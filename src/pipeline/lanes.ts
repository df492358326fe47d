/**
 * Ordering for sinks that cannot deduplicate (CloudWatch Logs, file, stdout): a batch of a log is handed to the sink
 * only after every earlier batch of that log is acknowledged *and* its checkpoint is on disk. Then a SIGKILL can
 * leave at most one batch per log stored but not checkpointed — the one in flight, or the one whose checkpoint was
 * being written — and only those are sent again after the restart.
 *
 * A batch enters a lane per file it holds records of, and one per *log* (the file's path without a rotation suffix:
 * `django.log.1` and `django.log` are one log, as they are one CloudWatch stream), so a rotated generation still
 * draining and its successor are not in flight side by side either. Lanes are entered in submission order, each batch
 * waiting only for holders registered before it: no cycle, no deadlock.
 *
 * What this costs: one registry write (two fsyncs) between consecutive batches of the same log. The file and stdout
 * sinks write one batch at a time anyway, and CloudWatch sends one request per stream at a time.
 */
import type { SourceRef } from '../record.js';

/** A rotated generation's suffix: `.1`, `-20261127`, `-2026112713` (as logrotate's dateext and Docker write them). */
const ROTATION_SUFFIX = /(\.\d+|-\d{8}(\d{2})?)$/;

/** The log a file belongs to: its path without a rotation suffix. */
export function logOf(path: string): string {
  return path.replace(ROTATION_SUFFIX, '');
}

export class Lanes {
  /** Per key (a SourceRef, or a log's path), the release of the last batch that entered. */
  private readonly tails = new Map<unknown, Promise<void>>();

  /** Keys in flight (for tests and monitoring). */
  get size(): number {
    return this.tails.size;
  }

  /**
   * Enter the lanes of `sources` now (synchronously: the order of calls is the order of sending); resolves, with the
   * function that leaves them, once every batch that entered any of them before has left.
   */
  enter(sources: readonly SourceRef[]): Promise<() => void> {
    const keys = new Set<unknown>();
    for (const s of sources) {
      keys.add(s);
      keys.add(logOf(s.path));
    }
    let leave!: () => void;
    const mine = new Promise<void>((resolve) => (leave = resolve));
    const before: Promise<void>[] = [];
    for (const key of keys) {
      const tail = this.tails.get(key);
      if (tail) before.push(tail);
      this.tails.set(key, mine);
    }
    const release = (): void => {
      leave();
      for (const key of keys) if (this.tails.get(key) === mine) this.tails.delete(key);
    };
    return Promise.all(before).then(() => release);
  }
}
