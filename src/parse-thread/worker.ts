/**
 * The parse worker's entry point: a message loop over the streams it holds (see protocol.ts). Requests are
 * answered in the order they come; a failed read is answered with its error, and the stream is left as it was.
 */
import { parentPort } from 'node:worker_threads';
import { createLogger } from '../log.js';
import { logProcessWarnings } from '../process-warnings.js';
import { writeStderr } from '../stderr.js';
import { ParseStream, ReadFailed } from './stream.js';
import { ChunkStore, ReplyWriter, RowsPool } from './reply-writer.js';
import type { ParsedReply, StreamState, ToWorker } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('parse-thread/worker.js runs as a worker thread');
// Warnings of this thread as JSON log lines too (the level: whatever the agent logs at, warnings always pass).
logProcessWarnings(createLogger('warn', writeStderr));

/** Bytes read per request at most (the main thread asks for up to this much). One buffer: requests run in turn. */
const readBuffer = Buffer.allocUnsafe(1 << 20);
const chunks = new ChunkStore();
const rows = new RowsPool();
const out = new ReplyWriter(chunks, rows);
const streams = new Map<number, ParseStream>();
const NO_STATE: StreamState = { position: 0, partialLine: false, heldFrom: -1 };

port.on('message', (m: ToWorker) => {
  switch (m.op) {
    case 'open': {
      const stream = new ParseStream(m.type, m.context, m.maxLineBytes, m.startOffset, out);
      stream.frameWith(m.framing);
      streams.set(m.stream, stream);
      return;
    }
    case 'frame':
      streams.get(m.stream)?.frameWith(m.framing);
      return;
    case 'close':
      streams.delete(m.stream);
      return;
    case 'spare':
      if (m.rows) rows.give(m.rows);
      if (m.chunk) chunks.giveBack(m.chunk);
      return;
    case 'read':
    case 'flush':
    case 'handover': {
      const stream = streams.get(m.stream);
      try {
        if (stream === undefined) throw new Error(`parse stream ${m.stream} is not open`);
        let bytesRead = 0;
        let lines = 0;
        if (m.op === 'read') ({ bytesRead, lines } = stream.read(m.fd, readBuffer, m.bytes, m.now));
        else if (m.op === 'flush') stream.flush(m.partialLine, m.force, m.now);
        else {
          const successor = streams.get(m.to);
          if (successor === undefined) throw new Error(`parse stream ${m.to} is not open`);
          stream.handover(successor, m.token);
        }
        const { reply, transfer } = out.finish(m.request, bytesRead, lines, stream.state);
        port.postMessage(reply, transfer);
      } catch (err) {
        // A failed read changed nothing. Any other error is a bug that may have left the stream half-way through a
        // chunk, with records written out and dropped here: fatal for the main thread, which resumes from checkpoints.
        out.finish(m.request, 0, 0, NO_STATE);
        const failed: Pick<ParsedReply, 'request' | 'error' | 'fatal'> = {
          request: m.request,
          error: (err as Error).message,
          fatal: !(err instanceof ReadFailed),
        };
        port.postMessage(failed);
      }
      return;
    }
  }
});
