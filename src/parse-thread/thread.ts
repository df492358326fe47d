/**
 * The main thread's side of the parse worker: starts it, sends it requests, and turns its replies into records whose
 * documents sit in arena chunks (the worker's shared-memory chunks, read in place and handed back once delivered).
 *
 * Why a worker: parsing and building documents is most of the agent's CPU, and on one thread it was the limit of a
 * catch-up (one core saturated while the other idled). The main thread keeps what needs the event loop (files,
 * checkpoints, delivery, HTTP); the worker splits lines and parses, on the second core.
 */
import { silentLogger, type Logger } from '../log.js';
import { ArenaChunk, type ChunkOwner } from '../pipeline/arena.js';
import { takeParseWorker } from './start.js';
import type { ParserType } from '../parse/index.js';
import type { ParserContext } from '../parse/types.js';
import type { ItemFraming } from '../sink.js';
import { OUTPUT_CHUNK_BYTES, ROW_CHUNK, ROW_FIELDS, type ParsedReply, type ParserFailure, type ToWorker } from './protocol.js';

/**
 * The worker died or hit a bug: parsing cannot go on. What it held is read again after a restart (checkpoints never
 * passed it).
 */
export class ParseThreadFailed extends Error {}

/**
 * A reply whose documents are in arena chunks (`chunk(id)`), each record already counted live in its chunk (the
 * caller releases it through its batch). Call `done()` once the rows are read: it gives them back to the worker.
 */
export interface ParsedChunk extends ParsedReply {
  chunk(id: number): ArenaChunk;
  done(): void;
}

interface Waiting {
  resolve(chunk: ParsedChunk): void;
  reject(err: Error): void;
}

/**
 * Parser failures are logged at most this often (the first at once): a file full of lines that break the parser must
 * not flood the agent's log. Each such line is shipped as a parse-error record and counted either way.
 */
const FAILURE_LOG_INTERVAL_MS = 10_000;

/** Lines the worker's parser threw on (each shipped as a parse-error record instead), logged at most every interval. */
export class ParserFailureLog {
  /** Failures since the last one logged, and when that was. */
  private unlogged = 0;
  private loggedAt = -Infinity;

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = FAILURE_LOG_INTERVAL_MS,
    private readonly clock: () => number = Date.now,
  ) {}

  report(failures: readonly ParserFailure[]): void {
    this.unlogged += failures.length;
    const now = this.clock();
    if (now - this.loggedAt < this.intervalMs) return;
    const last = failures[failures.length - 1]!;
    this.logger.error('the parser failed on a line: shipped as a parse error (tagged _logship_parse_error), parsing goes on', {
      path: last.path,
      offset: last.start,
      end: last.end,
      error: last.error,
      // Lines that failed since the last such log line, this one included (logship_parse_errors_total counts all).
      failed_lines: this.unlogged,
    });
    this.unlogged = 0;
    this.loggedAt = now;
  }
}

export class ParseThread implements ChunkOwner {
  private readonly worker = takeParseWorker();
  private readonly waiting = new Map<number, Waiting>();
  /** Every chunk the worker has written into, by id. */
  private readonly chunks = new Map<number, ArenaChunk>();
  private readonly idOf = new WeakMap<ArenaChunk, number>();
  /** The chunk of a row. Rows come in runs of one chunk: the last one found is kept (ids are never given twice). */
  private readonly chunkOf = (id: number): ArenaChunk => {
    if (id !== this.lastChunkId) {
      this.lastChunk = this.chunks.get(id)!;
      this.lastChunkId = id;
    }
    return this.lastChunk!;
  };
  private lastChunkId = 0;
  private lastChunk: ArenaChunk | null = null;
  private nextStream = 1;
  private nextRequest = 1;
  private failure: ParseThreadFailed | null = null;
  private closed = false;
  private readonly failureLog: ParserFailureLog;

  constructor(logger: Logger = silentLogger) {
    this.failureLog = new ParserFailureLog(logger);
    // Idle, the worker must not keep the process alive; busy, it must (a request in flight may be all there is).
    this.worker.unref();
    this.worker.on('message', (reply: ParsedReply) => this.onReply(reply));
    this.worker.on('error', (err) => this.fail(`the parse worker failed: ${err.message}`));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(`the parse worker exited (code ${code})`);
    });
  }

  /** A new stream (a file's splitter and parser) in the worker, starting at `startOffset`. */
  open(type: ParserType, context: ParserContext, maxLineBytes: number, startOffset: number, framing: ItemFraming | null = null): number {
    const stream = this.nextStream++;
    this.post({ op: 'open', stream, type, context, maxLineBytes, startOffset, framing });
    return stream;
  }

  /** Frame `stream`'s records from its next request on (see ItemFraming). */
  frame(stream: number, framing: ItemFraming): void {
    this.post({ op: 'frame', stream, framing });
  }

  /** Read and parse up to `bytes` of `stream`'s file, through `fd`, from where the stream is. */
  read(stream: number, fd: number, bytes: number, now: number): Promise<ParsedChunk> {
    const request = this.nextRequest++;
    return this.ask(request, { op: 'read', stream, request, fd, bytes, now });
  }

  flush(stream: number, partialLine: boolean, force: boolean, now: number): Promise<ParsedChunk> {
    const request = this.nextRequest++;
    return this.ask(request, { op: 'flush', stream, request, partialLine, force, now });
  }

  /** `stream` hands what it holds to `to` (a rotated generation to its successor; see tail/carried.ts). */
  handover(stream: number, to: number, token: number): Promise<ParsedChunk> {
    const request = this.nextRequest++;
    return this.ask(request, { op: 'handover', stream, to, token, request });
  }

  /** Forget a stream: what it held is dropped (the caller has flushed what it wanted). */
  close(stream: number): void {
    this.post({ op: 'close', stream });
  }

  /** A sealed chunk whose records were all delivered goes back to the worker to be written again. */
  reclaim(chunk: ArenaChunk): void {
    const id = this.idOf.get(chunk)!;
    chunk.sealed = false;
    // An oversized chunk (one document larger than a chunk) is not reused: both sides forget it.
    if (chunk.buffer.length !== OUTPUT_CHUNK_BYTES) this.chunks.delete(id);
    this.post({ op: 'spare', chunk: id });
  }

  async terminate(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Nothing should be waiting by now (files are closed first); if something is, it gets an answer, not silence.
    for (const w of this.waiting.values()) w.reject(new ParseThreadFailed('the parse thread was stopped'));
    this.waiting.clear();
    await this.worker.terminate();
  }

  private ask(request: number, message: ToWorker): Promise<ParsedChunk> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new ParseThreadFailed('the parse thread was stopped'));
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(request, { resolve, reject });
      this.post(message);
    });
  }

  private post(message: ToWorker): void {
    if (this.failure === null && !this.closed) this.worker.postMessage(message);
  }

  private onReply(reply: ParsedReply): void {
    const waiting = this.waiting.get(reply.request);
    if (waiting === undefined) return;
    this.waiting.delete(reply.request);
    if (this.waiting.size === 0) this.worker.unref();
    if (reply.error !== undefined) {
      if (reply.fatal) {
        this.fail(`the parse worker failed: ${reply.error}`);
        waiting.reject(this.failure!);
      } else {
        waiting.reject(new Error(reply.error));
      }
      return;
    }
    if (reply.failures !== undefined) this.failureLog.report(reply.failures);
    for (const { id, memory } of reply.newChunks) {
      const chunk = new ArenaChunk(Buffer.from(memory), this);
      this.chunks.set(id, chunk);
      this.idOf.set(chunk, id);
    }
    // Counted and sealed here, as each reply arrives, in the order the worker wrote: replies of several files are
    // handled by their callers in any order (one may wait for a fingerprint while another is handled), and a chunk
    // sealed by a later reply must not look empty while an earlier reply's records in it are not yet registered.
    const rows = reply.rows;
    for (let o = ROW_CHUNK; o < reply.rowCount * ROW_FIELDS; o += ROW_FIELDS) {
      if (rows[o]! > 0) this.chunkOf(rows[o]!).live++; // not an ADVANCE_ROW or CARRY_ROW
    }
    for (const id of reply.sealed) this.chunks.get(id)!.seal();
    const buffer = rows.buffer as ArrayBuffer;
    waiting.resolve({
      ...reply,
      chunk: this.chunkOf,
      done: () => {
        if (this.failure === null && !this.closed) this.worker.postMessage({ op: 'spare', rows: buffer } satisfies ToWorker, [buffer]);
      },
    });
  }

  private fail(reason: string): void {
    if (this.failure !== null) return;
    this.failure = new ParseThreadFailed(reason);
    for (const w of this.waiting.values()) w.reject(this.failure);
    this.waiting.clear();
    this.worker.unref();
  }
}
