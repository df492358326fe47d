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
 * HTTP client and dropped. Buffer memory lives outside the JS heap and is freed when the request is done.
 */
import { documentJson, recordId, type LogRecord } from '../../src/record.js';

/** "…","_id":"<id>"}}\n — the id is base64url + '-' + digits: nothing to escape, no JSON.stringify per record. */
const ID_CLOSE = Buffer.from('"}}\n');
const NEWLINE = 10;

export function encodeBulk(index: string, records: readonly LogRecord[]): Buffer {
  const head = Buffer.from(`{"create":{"_index":${JSON.stringify(index)},"_id":"`);
  const perRecord = head.length + ID_CLOSE.length + 1;
  // Capacity for the common case (one byte per character); `ensure` grows it for text that needs more.
  let capacity = 0;
  for (const record of records) capacity += perRecord + recordId(record).length + documentJson(record).length;
  let out = Buffer.allocUnsafeSlow(capacity + 1024);
  let at = 0;
  const ensure = (more: number): void => {
    if (at + more <= out.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(out.length * 2, at + more));
    out.copy(bigger, 0, 0, at);
    out = bigger;
  };
  for (const record of records) {
    const id = recordId(record);
    const json = documentJson(record);
    // Characters × 3 bounds the UTF-8 size; the exact size is counted only when that bound does not fit.
    const bound = perRecord + id.length + json.length * 3;
    if (at + bound > out.length) ensure(perRecord + id.length + Buffer.byteLength(json));
    at += head.copy(out, at);
    at += out.write(id, at, 'latin1');
    at += ID_CLOSE.copy(out, at);
    at += out.write(json, at, 'utf8');
    out[at++] = NEWLINE;
  }
  return out.subarray(0, at);
}
