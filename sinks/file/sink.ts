/**
 * The file sink: each record's document as one JSON line appended to `path`, size-rotated like Python's
 * RotatingFileHandler (path → path.1 → … → path.N, the oldest removed).
 *
 * Delivered means on disk: every batch is one write followed by fdatasync, so a checkpoint never runs ahead of the
 * bytes. A failed write is cut back off the file before retry, so a retried batch never leaves a half line behind.
 * Sends are serialised: size accounting and rotation assume one writer.
 *
 * It cannot deduplicate: a record written twice (after a SIGKILL, before its checkpoint was written) is in the file
 * twice, so delivery makes each acknowledgement durable before the next batch of the same log is written.
 */
import { open, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Batch, SendResult, Sink, SinkDeps } from '../../src/sink.js';
import { documentJson } from '../../src/record.js';
import type { FileSinkConfig } from './config.js';
import { makeDirectory } from '../../src/fs/make-dir.js';
import { renameIfExists, syncDir, writeAll } from '../../src/fs/durable.js';

export function createFileSink(config: FileSinkConfig, deps: SinkDeps): Sink {
  const { path, maxBytes, maxFiles, mode } = config;
  let fh: FileHandle | null = null;
  let size = 0;
  let tail: Promise<unknown> = Promise.resolve();

  /** Run `fn` after every earlier call has settled. */
  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  }

  async function openFile(): Promise<FileHandle> {
    await makeDirectory(dirname(path)); // not mkdir({ recursive }): it spins for ever on a path under /proc
    const handle = await open(path, 'a', mode);
    size = (await handle.stat()).size;
    if (size === 0) {
      // sink.mode exactly, whatever the umask (as Beats' `permissions`); a file that already holds data keeps its own.
      await handle.chmod(mode);
      // A new file exists for good only once its directory entry is on disk too.
      await syncDir(dirname(path));
    }
    fh = handle;
    return handle;
  }

  async function closeFile(): Promise<void> {
    const handle = fh;
    fh = null;
    await handle?.close().catch(() => undefined);
  }

  async function rotate(): Promise<FileHandle> {
    await closeFile();
    await rm(maxFiles > 0 ? `${path}.${maxFiles}` : path, { force: true });
    for (let i = maxFiles - 1; i >= 1; i--) await renameIfExists(`${path}.${i}`, `${path}.${i + 1}`);
    if (maxFiles > 0) await renameIfExists(path, `${path}.1`);
    deps.logger.debug('rotated file sink', { path });
    return openFile();
  }

  return {
    name: 'file',
    deduplicates: false,

    start: () =>
      serial(async (): Promise<SendResult> => {
        try {
          if (!fh) await openFile();
          return { kind: 'delivered' };
        } catch (err) {
          return { kind: 'retry', reason: ioReason(err) };
        }
      }),

    send: (batch: Batch) =>
      serial(async (): Promise<SendResult> => {
        if (batch.records.length === 0) return { kind: 'delivered' };
        let text = '';
        for (const record of batch.records) text += documentJson(record) + '\n';
        const data = Buffer.from(text, 'utf8');
        try {
          let handle = fh ?? (await openFile());
          // Rotate before the write that would overflow; a batch larger than maxBytes still goes whole into a fresh file.
          if (size > 0 && size + data.length > maxBytes) handle = await rotate();
          const before = size;
          try {
            await writeAll(handle, data);
            await handle.datasync();
          } catch (err) {
            await handle.truncate(before).catch(() => undefined);
            throw err;
          }
          size += data.length;
          return { kind: 'delivered' };
        } catch (err) {
          // EACCES, ENOSPC, EIO…: reopen on the next attempt (the file may have been moved or fixed meanwhile).
          await closeFile();
          return { kind: 'retry', reason: ioReason(err) };
        }
      }),

    close: () => serial(closeFile),
  };
}

function ioReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return `file sink: ${e.code ?? 'error'}: ${e.message ?? String(err)}`;
}
