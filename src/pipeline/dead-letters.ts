import { mkdirSync } from 'node:fs';
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
