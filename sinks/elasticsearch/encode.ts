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
import type { Batch } from '../../src/sink.js';

/** "…","_id":"<id>"}}\n — the id is base64url + '-' + digits: nothing to escape, no JSON.stringify per record. */
const ID_CLOSE = Buffer.from('"}}\n');
const NEWLINE = 10;

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

/** Encodes the batch into a buffer taken from `buffers`; returns the body (a view of that buffer) and the buffer. */
export function encodeBulk(index: string, batch: Batch, buffers: BodyBuffers = new BodyBuffers(0)): { body: Buffer; buffer: Buffer } {
  const head = Buffer.from(`{"create":{"_index":${JSON.stringify(index)},"_id":"`);
  const perRecord = head.length + ID_CLOSE.length + 1;
  const n = batch.size;
  const ids = new Array<string>(n);
  let size = 0;
  for (let i = 0; i < n; i++) {
    ids[i] = batch.id(i);
    size += perRecord + ids[i]!.length + batch.jsonBytes(i);
  }
  const buffer = buffers.take(size);
  const out = buffer.subarray(0, size);
  let at = 0;
  for (let i = 0; i < n; i++) {
    at += head.copy(out, at);
    at += out.write(ids[i]!, at, 'latin1');
    at += ID_CLOSE.copy(out, at);
    at += batch.writeJson(i, out, at);
    out[at++] = NEWLINE;
  }
  return { body: out, buffer };
}
