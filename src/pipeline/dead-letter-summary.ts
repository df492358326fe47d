import { createReadStream } from 'node:fs';
import split2 from 'split2';
import { join } from 'node:path';
import { DEAD_LETTER_FILE, deadLetterFiles } from './dead-letters.js';

export interface DeadLetterSummary {
  /** The current file (`data_dir/dead_letters.ndjson`). */
  readonly path: string;
  /** Files counted: the current one and the rotated ones (`.1`, `.2`, …). */
  readonly files: number;
  readonly count: number;
  /** Records per kind of reason (the text before its first ": "), most frequent first, at most 5. */
  readonly reasons: readonly { reason: string; count: number }[];
  /** Lines that are not dead letters (a torn last line after a crash mid-append). */
  readonly unreadable: number;
}

const TOP_REASONS = 5;

/**
 * Count the dead letters and their reasons across the current and the rotated files, streaming them (split2) rather
 * than loading them: together they can reach dead_letters.max_bytes. Null when there are none.
 */
export async function summarizeDeadLetters(dataDir: string): Promise<DeadLetterSummary | null> {
  const files = await deadLetterFiles(dataDir);
  if (files.length === 0) return null;
  const byReason = new Map<string, number>();
  let count = 0;
  let unreadable = 0;
  for (const file of files) {
    const lines = createReadStream(file).pipe(split2());
    try {
      for await (const line of lines as AsyncIterable<string>) {
        if (line === '') continue;
        let reason: unknown;
        try {
          reason = (JSON.parse(line) as { reason?: unknown }).reason;
        } catch {
          unreadable++;
          continue;
        }
        count++;
        // Group by the kind of reason ("400 mapper_parsing_exception"): the detail after ": " names each document.
        const key = typeof reason === 'string' ? reason.split(': ')[0]! : 'unknown';
        byReason.set(key, (byReason.get(key) ?? 0) + 1);
      }
    } catch (err) {
      // Rotated (or dropped) by the running agent between the listing and the read: what was counted stands.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  const reasons = [...byReason]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP_REASONS)
    .map(([reason, n]) => ({ reason, count: n }));
  return { path: join(dataDir, DEAD_LETTER_FILE), files: files.length, count, reasons, unreadable };
}
