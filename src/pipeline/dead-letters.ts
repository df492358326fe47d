import { mkdirSync } from 'node:fs';
import { open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { documentJson, recordId, type LogRecord } from '../record.js';
import { DATA_DIR_MODE } from './registry.js';
import { renameIfExists, syncDir, writeAll } from '../fs/durable.js';

export const DEAD_LETTER_FILE = 'dead_letters.ndjson';
/** Dead letters hold whole documents: only the agent's user reads them. */
export const DEAD_LETTER_MODE = 0o600;

export interface DeadLetterLimits {
  /** Bytes all dead-letter files together may hold (the current one and the rotated ones). */
  readonly maxBytes: number;
  /** Files they are split into: the current one rotates at maxBytes / maxFiles, and the oldest is dropped. */
  readonly maxFiles: number;
}

export const DEFAULT_DEAD_LETTER_LIMITS: DeadLetterLimits = { maxBytes: 1024 ** 3, maxFiles: 8 };

/** What the dead letters report: the metrics count dropped records, the log names the file. */
export interface DeadLetterEvents {
  /** The oldest file was removed to stay within max_bytes: `records` dead letters (`bytes`) are gone. */
  dropped(path: string, records: number, bytes: number): void;
}

/**
 * Records a sink refused for good, kept with the reason so an operator can fix and replay them. A dead letter is
 * written and fsynced before its record is acknowledged: the checkpoint never passes a record that is neither
 * stored nor here. A write that fails (ENOSPC, EIO) is cut back off the file, so a retry never leaves half a line.
 *
 * Bounded: `dead_letters.ndjson` rotates to `.1`, `.2`, … (newest first) at max_bytes / max_files, and the oldest
 * file is dropped — counted and reported (DeadLetterEvents), never silently.
 *
 * One line per record: `{"@timestamp","sink","reason","id","document"}`. The document is the record's ECS document
 * as it would have been sent (replay it with its id); where it came from is in it (`log.file.path`, `log.offset`).
 */
export class DeadLetters {
  readonly path: string;
  private writing: Promise<void> = Promise.resolve();
  private readonly rotateAt: number;

  constructor(
    private readonly dataDir: string,
    private readonly limits: DeadLetterLimits = DEFAULT_DEAD_LETTER_LIMITS,
    private readonly events: DeadLetterEvents = { dropped: () => undefined },
  ) {
    mkdirSync(dataDir, { recursive: true, mode: DATA_DIR_MODE });
    this.path = join(dataDir, DEAD_LETTER_FILE);
    this.rotateAt = Math.max(1, Math.floor(limits.maxBytes / limits.maxFiles));
  }

  /** Append, fsynced. Rejects (with nothing of it left in the file) when it cannot be written. Writes never overlap. */
  write(sink: string, entries: readonly { record: LogRecord; reason: string }[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    const now = new Date().toISOString();
    let body = '';
    for (const { record, reason } of entries) {
      // The document is spliced in as the JSON it already is, not parsed and serialised again.
      const head = JSON.stringify({ '@timestamp': now, sink, reason, id: recordId(record) });
      body += `${head.slice(0, -1)},"document":${documentJson(record)}}\n`;
    }
    const data = Buffer.from(body, 'utf8');
    const next = this.writing.then(() => this.append(data));
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async append(data: Buffer): Promise<void> {
    let fh = await open(this.path, 'a', DEAD_LETTER_MODE);
    try {
      // The size on disk, not a count kept here: an operator may have moved the file aside to replay it.
      let before = (await fh.stat()).size;
      // A write larger than a file's share still goes whole into a fresh file.
      if (before > 0 && before + data.length > this.rotateAt) {
        await fh.close();
        await this.rotate();
        fh = await open(this.path, 'a', DEAD_LETTER_MODE);
        before = (await fh.stat()).size;
      }
      if (before === 0) await fh.chmod(DEAD_LETTER_MODE); // created now: whatever the umask was
      try {
        await writeAll(fh, data);
        await fh.sync();
      } catch (err) {
        await fh.truncate(before).catch(() => undefined);
        throw err;
      }
    } finally {
      await fh.close();
    }
  }

  /** path → path.1 → … → path.<maxFiles-1>; the oldest is dropped, and what it held is reported. */
  private async rotate(): Promise<void> {
    const oldest = this.limits.maxFiles > 1 ? `${this.path}.${this.limits.maxFiles - 1}` : this.path;
    await this.drop(oldest);
    for (let i = this.limits.maxFiles - 2; i >= 1; i--) await renameIfExists(`${this.path}.${i}`, `${this.path}.${i + 1}`);
    if (this.limits.maxFiles > 1) await renameIfExists(this.path, `${this.path}.1`);
    await syncDir(this.dataDir);
  }

  private async drop(path: string): Promise<void> {
    const s = await stat(path).catch(() => null);
    if (!s) return;
    const records = await countLines(path);
    await rm(path, { force: true });
    this.events.dropped(path, records, s.size);
  }
}

/** The dead-letter files in `dataDir`, oldest first (path.N … path.1, path): the order their records were written. */
export async function deadLetterFiles(dataDir: string): Promise<string[]> {
  const names = await readdir(dataDir).catch(() => [] as string[]);
  const rotated = names
    .map((n) => (n.startsWith(`${DEAD_LETTER_FILE}.`) ? Number(n.slice(DEAD_LETTER_FILE.length + 1)) : NaN))
    .filter((n) => Number.isSafeInteger(n) && n > 0)
    .sort((a, b) => b - a)
    .map((n) => join(dataDir, `${DEAD_LETTER_FILE}.${n}`));
  return names.includes(DEAD_LETTER_FILE) ? [...rotated, join(dataDir, DEAD_LETTER_FILE)] : rotated;
}

/** Newlines in a file, read in 1 MiB pieces (a dropped file can be a large share of max_bytes). */
async function countLines(path: string): Promise<number> {
  const fh = await open(path, 'r').catch(() => null);
  if (!fh) return 0;
  const buf = Buffer.allocUnsafe(1 << 20);
  let lines = 0;
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      for (let i = buf.indexOf(10, 0); i !== -1 && i < bytesRead; i = buf.indexOf(10, i + 1)) lines++;
    }
  } finally {
    await fh.close();
  }
  return lines;
}

