/**
 * The `_bulk` request body: per record an action line and a source line, each ending in "\n".
 * https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-bulk (NDJSON, final newline required)
 *
 * Always `create` with the record's deterministic `_id` (file identity + offset):
 * - data streams accept only `create` (https://www.elastic.co/docs/manage-data/data-store/data-streams/use-data-stream);
 * - `create` of an `_id` that exists fails that one item with 409 and leaves the stored document alone, so a record
 *   sent twice (a retry after a lost response, a restart before the checkpoint moved) is stored once.
 *
 * The body is written into one Buffer, not concatenated into a string: a body is hundreds of KiB, and a string
 * that large is allocated in V8's old generation (large-object space) only to be copied into a Buffer by the
 * HTTP client and dropped. The Buffers are reused (BodyBuffers): a new one per request added up to hundreds of MB
 * of memory outside the heap between collections, and V8 answers that growth with full mark-compacts.
 */
import type { Batch, ItemFraming } from '../../src/sink.js';
import { FramingBytes } from '../../src/pipeline/item-framing.js';

const NEWLINE = 10;

/**
 * A record's action line up to its offset, and after it: `{"create":{"_id":"<idPrefix>-` <offset> `"}}\n`. The
 * target is in the request's path (bulkPath), not repeated in every action line: 40 bytes less per record to copy,
 * send and read. The parse thread writes items framed so (Sink.itemFraming); encodeBulk writes the same for records
 * it was not.
 */
export function bulkItemFraming(idPrefix: string): ItemFraming {
  return { head: `{"create":{"_id":"${idPrefix}-`, mid: '"}}\n' };
}

/** `POST /<target>/_bulk`: the target of every action line that names none (all of logship's). */
export function bulkPath(index: string): string {
  return `/${encodeURIComponent(index)}/_bulk`;
}

/**
 * Buffers for request bodies, reused: a buffer is taken for one request and given back when the request is over
 * (the HTTP client no longer reads it then). Up to `keep` are kept (more than delivery.concurrency's default, so
 * that buffers are not dropped and re-made); a body larger than any kept gets a new one.
 */
export class BodyBuffers {
  private readonly free: Buffer[] = [];

  constructor(private readonly keep = 8) {}

  /** A buffer of at least `bytes` bytes. */
  take(bytes: number): Buffer {
    for (let i = 0; i < this.free.length; i++) {
      if (this.free[i]!.length >= bytes) return this.free.splice(i, 1)[0]!;
    }
    // A little room: the next bodies are of about this size (batches close at max_events or max_bytes).
    return Buffer.allocUnsafeSlow(Math.max(bytes + (bytes >> 2), 64 * 1024));
  }

  give(buffer: Buffer): void {
    if (this.free.length < this.keep) this.free.push(buffer);
  }
}

/**
 * Encodes the batch into a buffer taken from `buffers`; returns the body (a view of that buffer) and the buffer.
 *
 * Records the parse thread framed as items (Batch.framedRun: it wrote them with this sink's bulkItemFraming) are
 * copied a run at a time, a run being the records whose items follow each other in memory: most of a batch in one or
 * two copies.
 *
 * Other records get their action line here, written as the parse thread writes it (FramingBytes): the head is made
 * into bytes once per file identity, then the offset's digits and `"}}` follow. An id is base64url + '-' + digits:
 * nothing to escape, no string per record. The body is for `POST bulkPath(index)`.
 */
export function encodeBulk(batch: Batch, buffers: BodyBuffers = new BodyBuffers(0)): { body: Buffer; buffer: Buffer } {
  const n = batch.size;
  const framings = new Map<string, FramingBytes>();
  const framingOf = (prefix: string): FramingBytes => {
    let framing = framings.get(prefix);
    if (framing === undefined) framings.set(prefix, (framing = new FramingBytes(bulkItemFraming(prefix))));
    return framing;
  };
  const framed = batch.framedRun !== undefined && batch.framedBytes !== undefined && batch.writeFramed !== undefined;
  let size = 0;
  let lastPrefix: string | null = null;
  let last: FramingBytes | null = null;
  for (let i = 0; i < n; i++) {
    const item = framed ? batch.framedBytes!(i) : 0;
    if (item > 0) {
      size += item;
      continue;
    }
    const prefix = batch.idPrefix(i);
    if (prefix !== lastPrefix) {
      lastPrefix = prefix;
      last = framingOf(prefix);
    }
    size += last!.headBytes(batch.offset(i)) + batch.jsonBytes(i) + 1;
  }
  const buffer = buffers.take(size);
  const out = buffer.subarray(0, size);
  let at = 0;
  lastPrefix = null;
  for (let i = 0; i < n; i++) {
    const run = framed ? batch.framedRun!(i) : 0;
    if (run > 0) {
      at = batch.writeFramed!(i, run, out, at);
      i += run - 1;
      continue;
    }
    const prefix = batch.idPrefix(i);
    if (prefix !== lastPrefix) {
      lastPrefix = prefix;
      last = framingOf(prefix);
    }
    at = last!.writeHead(out, at, batch.offset(i));
    at += batch.writeJson(i, out, at);
    out[at++] = NEWLINE;
  }
  return { body: out, buffer };
}
