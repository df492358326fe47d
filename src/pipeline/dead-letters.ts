import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import split2 from 'split2';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { documentJson, recordId, type LogRecord } from '../record.js';

export const DEAD_LETTER_FILE = 'dead_letters.ndjson';

/**
 * Records a sink refused for good, kept with the reason so an operator can fix and replay them. A dead letter is
 * written and fsynced before its record is acknowledged: the checkpoint never passes a record that is neither
 * stored nor here.
 */
export class DeadLetters {
  readonly path: string;
  private writing: Promise<void> = Promise.resolve();

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, DEAD_LETTER_FILE);
  }

  write(sink: string, entries: readonly { record: LogRecord; reason: string }[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    const now = new Date().toISOString();
    let body = '';
    for (const { record, reason } of entries) {
      // The document is spliced in as the JSON it already is, not parsed and serialised again.
      const head = JSON.stringify({
        '@timestamp': now,
        sink,
        reason,
        id: recordId(record),
        source: { path: record.source.path, offset: record.start },
      });
      body += `${head.slice(0, -1)},"document":${documentJson(record)}}\n`;
    }
    const next = this.writing.then(() => this.append(body));
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async append(body: string): Promise<void> {
    const fh = await open(this.path, 'a', 0o640);
    try {
      await fh.writeFile(body);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}

export interface DeadLetterSummary {
  readonly path: string;
  readonly count: number;
  /** Records per kind of reason (the text before its first ": "), most frequent first, at most 5. */
  readonly reasons: readonly { reason: string; count: number }[];
  /** Lines that are not dead letters (a torn last line after a crash mid-append). */
  readonly unreadable: number;
}

const TOP_REASONS = 5;

/**
 * Count the dead letters and their reasons, streaming the file (split2) rather than loading it: the file can be
 * large after a long outage of a sink's mapping. Null when there are none.
 */
export async function summarizeDeadLetters(dataDir: string): Promise<DeadLetterSummary | null> {
  const path = join(dataDir, DEAD_LETTER_FILE);
  if (!existsSync(path)) return null;
  const byReason = new Map<string, number>();
  let count = 0;
  let unreadable = 0;
  const lines = createReadStream(path).pipe(split2());
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
  const reasons = [...byReason]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP_REASONS)
    .map(([reason, n]) => ({ reason, count: n }));
  return { path, count, reasons, unreadable };
}
