import type { LogRecord } from './record.js';
import type { Logger } from './log.js';

/**
 * Records flushed together, as a sink reads them. Immutable once built; a retry sends a new Batch of the records
 * still owed. Indexes are positions in the batch (SendResult's `retry` and `rejected` use them too).
 */
export interface Batch {
  /** Number of records. */
  readonly size: number;
  /** Sum of the records' approximate sizes. */
  readonly bytes: number;
  /** The records as objects (made on first use by batches that keep columns: see pipeline/batch.ts). */
  readonly records: readonly LogRecord[];
  /** Record i's deterministic id (file identity + offset): `${idPrefix(i)}-${offset(i)}`. */
  id(i: number): string;
  /** The file-identity part of record i's id: the same string for every record of a file. */
  idPrefix(i: number): string;
  /** Byte offset of record i in its file (the rest of its id). */
  offset(i: number): number;
  /** UTF-8 bytes of record i's document JSON. */
  jsonBytes(i: number): number;
  /** Copies record i's document JSON (UTF-8) into `target` at `offset`; returns the bytes copied. */
  writeJson(i: number, target: Buffer, offset: number): number;
  /**
   * How many records from i on were framed by the parse thread as the sink's items (Sink.itemFraming) and lie back to
   * back in memory: 0 when record i was not (write it from writeJson). Batches that keep no frames lack it.
   */
  framedRun?(i: number): number;
  /** Bytes of record i's framed item (0 when it was not framed). */
  framedBytes?(i: number): number;
  /** Copies the framed items of records [i, i + count), a run framedRun gave, to `target` at `offset`; returns the end. */
  writeFramed?(i: number, count: number, target: Buffer, offset: number): number;
}

/**
 * How a sink whose request body is its items back to back (Elasticsearch's `_bulk` NDJSON) frames a record of the
 * file whose id prefix it was asked for: `head`, the record's offset in decimal, `mid`, the document, a newline (both
 * written as UTF-8). The parse thread writes documents framed so (see parse-thread/reply-writer.ts): a body is then
 * a few large copies, not an action line written and a document copied per record.
 */
export interface ItemFraming {
  readonly head: string;
  readonly mid: string;
}

/** One item a sink refuses for good (it goes to the dead-letter file), with the sink's reason. */
export interface Rejection {
  readonly index: number;
  readonly reason: string;
}

/**
 * What a send did. Sinks return this and do not throw for delivery problems: backoff, dead letters and
 * checkpoints are decided once, in core.
 * - delivered: every record is stored (a duplicate the sink recognised counts as stored).
 * - retry: nothing is known to be stored; send the whole batch again, after delayMs if the sink said so.
 * - partial: records at `retry` indices are to be sent again, those in `rejected` never will be; the rest are stored.
 * - fatal: the sink cannot work without an operator (bad credentials, a missing permission); stop, keep checkpoints.
 */
export type SendResult =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'retry'; readonly reason: string; readonly delayMs?: number }
  | {
      readonly kind: 'partial';
      readonly retry: readonly number[];
      readonly rejected: readonly Rejection[];
      readonly reason: string;
      readonly delayMs?: number;
    }
  | { readonly kind: 'fatal'; readonly reason: string };

export interface Sink {
  /** A short name for logs, metrics and dead letters, e.g. "elasticsearch". */
  readonly name: string;
  /**
   * Whether a record sent twice is stored once (Elasticsearch's `_id` with `create`, Cloud Logging's insertId). A
   * sink that cannot (CloudWatch Logs, file, stdout) stores every copy: for it delivery makes each acknowledgement
   * durable before it sends more of the same log, so a crash repeats at most the batch in flight per log.
   */
  readonly deduplicates: boolean;
  /** Prepare the destination (templates, groups); a failure is retried by core like a send. */
  start(): Promise<SendResult>;
  send(batch: Batch): Promise<SendResult>;
  /** The framing of the items of a file with this id prefix, for a sink that reads framed records (Batch.framedRun). */
  itemFraming?(idPrefix: string): ItemFraming;
  close(): Promise<void>;
}

export interface SinkDeps {
  readonly logger: Logger;
  readonly hostName: string;
}
