/**
 * The stdout sink: NDJSON on standard output, for `docker logs`, a pipe into another tool, or debugging.
 *
 * A send is delivered once its bytes are handed to the OS (the write callback) and the stream has drained when it
 * asked to (write() returned false), so a slow reader slows the agent down instead of growing memory. A reader that
 * went away (EPIPE) will not come back: fatal.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { isMainThread } from 'node:worker_threads';
import type { Batch, SendResult, Sink, SinkDeps } from '../../src/sink.js';
import { documentJson } from '../../src/record.js';

export interface StdoutSinkConfig {
  type: 'stdout';
}

/**
 * The process's standard output, written from this thread. The agent runs on a worker thread (src/supervise.ts),
 * whose `process.stdout` only passes data to the main thread to be written later: its write callback would report
 * bytes as delivered that the OS does not have yet, and the reader going away (EPIPE) would never be seen here. So a
 * worker writes to descriptor 1 itself.
 */
function standardOutput(): Writable {
  return isMainThread ? process.stdout : createWriteStream('', { fd: 1, autoClose: false });
}

/** `out` is for tests; the agent writes to standard output. */
export function createStdoutSink(_config: StdoutSinkConfig, deps: SinkDeps, out: Writable = standardOutput()): Sink {
  let broken: NodeJS.ErrnoException | null = null;
  // Without a listener an EPIPE 'error' event would crash the process; record it and answer fatal instead.
  const onError = (err: NodeJS.ErrnoException): void => {
    if (!broken) deps.logger.warn('stdout failed', { code: err.code, error: err.message });
    broken = err;
  };
  out.on('error', onError);
  let tail: Promise<unknown> = Promise.resolve();

  return {
    name: 'stdout',
    deduplicates: false,
    start: async () => ({ kind: 'delivered' }),

    send(batch: Batch): Promise<SendResult> {
      const run = tail.then(async (): Promise<SendResult> => {
        if (batch.records.length === 0) return { kind: 'delivered' };
        if (broken) return classify(broken);
        let text = '';
        for (const record of batch.records) text += documentJson(record) + '\n';
        try {
          await writeAndDrain(out, text);
          return { kind: 'delivered' };
        } catch (err) {
          return classify(err as NodeJS.ErrnoException);
        }
      });
      tail = run;
      return run;
    },

    async close(): Promise<void> {
      await tail;
      // The 'error' listener stays: stdout outlives the sink, and a late EPIPE must not crash the agent.
    },
  };
}

const GONE = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

function classify(err: NodeJS.ErrnoException): SendResult {
  if (err.code && GONE.has(err.code)) return { kind: 'fatal', reason: `stdout is closed (${err.code}): its reader went away` };
  return { kind: 'retry', reason: `stdout: ${err.code ?? 'error'}: ${err.message}` };
}

/** Write `text`; settle when it is flushed and, if the stream asked for it, drained. */
function writeAndDrain(out: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out.destroyed || out.writableEnded) {
      reject(Object.assign(new Error('stream is destroyed'), { code: 'ERR_STREAM_DESTROYED' }));
      return;
    }
    let flushed = false;
    let waitingDrain = false;
    const done = (err?: Error | null): void => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => {
      waitingDrain = false;
      if (flushed) done();
    };
    const onClose = (): void => done(Object.assign(new Error('stream closed'), { code: 'ERR_STREAM_DESTROYED' }));
    out.on('close', onClose);
    const ok = out.write(text, (err) => {
      if (err) return done(err);
      flushed = true;
      if (!waitingDrain) done();
    });
    if (!ok) {
      waitingDrain = true;
      out.on('drain', onDrain);
    }
  });
}
