/**
 * The messages between the tailer and the parse worker (parse-thread/worker.ts). "The main thread" in these modules
 * is the worker's parent: the agent's own thread (see src/supervise.ts).
 *
 * The main thread owns files, checkpoints and delivery; the worker owns each file's line splitter and parser, reads
 * the bytes itself (file descriptors are shared by the threads of a process) and answers every request with the
 * records it finished: their byte ranges and resume offsets as numbers, their documents as JSON bytes written into
 * chunks of shared memory (SharedArrayBuffer) that both threads see. A chunk is filled by the worker across requests,
 * sealed when full, and handed back to be filled again once every record in it was delivered: a fixed set of
 * buffers circulates, nothing is copied or allocated per reply.
 */
import type { ParserType } from '../parse/index.js';
import type { ParserContext } from '../parse/types.js';
import type { ItemFraming } from '../sink.js';

/**
 * Numbers per row of ParsedReply.rows: start, end, resume offset, chunk id, byte offset in the chunk, length, the
 * link of a record that began in the file's predecessor (0 for the others; see tail/carried.ts), and the length of
 * the sink's item head written just before the document (0: none; see ItemFraming).
 */
export const ROW_FIELDS = 8;
export const ROW_START = 0;
export const ROW_END = 1;
export const ROW_SAFE = 2;
export const ROW_CHUNK = 3;
export const ROW_AT = 4;
export const ROW_LENGTH = 5;
export const ROW_LINK = 6;
export const ROW_FRAME = 7;
/**
 * ROW_CHUNK of a row that is no record: "bytes up to ROW_SAFE are finished without a record to come" (all held text
 * was emitted), applied in its place among the records, as AckTracker.advance.
 */
export const ADVANCE_ROW = -1;
/**
 * ROW_CHUNK of a row that is no record either: the first pieces of a record, bytes [ROW_START, ROW_END), went to the
 * successor's stream with link ROW_AT (a handover); this file's checkpoint waits for that record.
 */
export const CARRY_ROW = -2;
/** Size of the chunks documents are written into (a larger document gets one of its own size, used once). */
export const OUTPUT_CHUNK_BYTES = 1 << 20;

/** A chunk the main thread has not seen yet: sent once, with the first reply that has a record in it. */
export interface NewChunk {
  readonly id: number;
  readonly memory: SharedArrayBuffer;
}

export interface OpenStream {
  readonly op: 'open';
  readonly stream: number;
  readonly type: ParserType;
  readonly context: ParserContext;
  readonly maxLineBytes: number;
  readonly startOffset: number;
  /** How the sink frames this file's records, when known (see ItemFraming); later by FrameStream. */
  readonly framing: ItemFraming | null;
}

/** The stream's records are framed from now on: its file's identity, which the item head names, became known. */
export interface FrameStream {
  readonly op: 'frame';
  readonly stream: number;
  readonly framing: ItemFraming;
}

/** Read up to `bytes` from the stream's position through descriptor `fd`, and parse them. */
export interface ReadStream {
  readonly op: 'read';
  readonly stream: number;
  readonly request: number;
  readonly fd: number;
  readonly bytes: number;
  readonly now: number;
}

/**
 * Time-driven: ship the unfinished last line (`partialLine`), and records held for continuation lines that did not
 * come (all of them when `force`).
 */
export interface FlushStream {
  readonly op: 'flush';
  readonly stream: number;
  readonly request: number;
  readonly partialLine: boolean;
  readonly force: boolean;
  readonly now: number;
}

/**
 * A rotated generation read to its end: what its parser holds that the next generation continues (a line's first
 * pieces, per output stream) goes to stream `to`, linked by `token` + the output stream's index.
 */
export interface HandoverStream {
  readonly op: 'handover';
  readonly stream: number;
  readonly to: number;
  readonly token: number;
  readonly request: number;
}

export interface CloseStream {
  readonly op: 'close';
  readonly stream: number;
}

/** What the main thread is done with, for reuse: a reply's rows, a sealed chunk whose records were all delivered. */
export interface GiveBack {
  readonly op: 'spare';
  readonly rows?: ArrayBuffer;
  readonly chunk?: number;
}

export type ToWorker = OpenStream | FrameStream | ReadStream | FlushStream | HandoverStream | CloseStream | GiveBack;

/** What the main thread must know of a stream without asking: for `settled`, timeouts and the read position. */
export interface StreamState {
  /** Offset of the next byte to read. */
  readonly position: number;
  /** Is there an unfinished last line? */
  readonly partialLine: boolean;
  /** Offset of the first byte a parser holds back (not yet in an emitted record), or -1 when none. */
  readonly heldFrom: number;
  /**
   * Set once the file's first block held a NUL byte: it is not text, and nothing of it is read or parsed (every
   * later read answers 0 bytes). The main thread skips the file, with a warning and a metric.
   */
  readonly binary?: true;
}

export interface ParsedReply {
  readonly request: number;
  /** Set when the request failed (e.g. the read failed); nothing else in the reply is meaningful then. */
  readonly error?: string;
  /** The error left the stream in an unknown state (a bug, not a failed read). */
  readonly fatal?: boolean;
  readonly bytesRead: number;
  readonly lines: number;
  /** Records among the rows (the others are ADVANCE_ROW or CARRY_ROW), of which parse errors and multi-line records. */
  readonly records: number;
  readonly parseErrors: number;
  readonly multiline: number;
  /** `rowCount` rows of ROW_FIELDS numbers, in emission order. */
  readonly rows: Float64Array;
  readonly rowCount: number;
  /** Chunks first used by this reply's rows. */
  readonly newChunks: readonly NewChunk[];
  /** Chunks that were filled while this request ran: no more records go there. */
  readonly sealed: readonly number[];
  readonly state: StreamState;
  /**
   * Lines on which the parser threw (a bug, or an input no test foresaw): each was shipped as a parse-error record
   * instead, and the stream went on with a fresh parser. Absent when there were none (nearly always).
   */
  readonly failures?: readonly ParserFailure[];
}

/** A parser threw on the bytes [start, end) of the file at `path`; `error` is what it threw, as one line. */
export interface ParserFailure {
  readonly path: string;
  readonly start: number;
  readonly end: number;
  readonly error: string;
}
