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
import { documentJsonBytes, recordId, writeDocumentJson, type LogRecord } from '../../src/record.js';

/** "…","_id":"<id>"}}\n — the id is base64url + '-' + digits: nothing to escape, no JSON.stringify per record. */
const ID_CLOSE = Buffer.from('"}}\n');
const NEWLINE = 10;

export function encodeBulk(index: string, records: readonly LogRecord[]): Buffer {
  const head = Buffer.from(`{"create":{"_index":${JSON.stringify(index)},"_id":"`);
  const perRecord = head.length + ID_CLOSE.length + 1;
  let size = 0;
  for (const record of records) size += perRecord + recordId(record).length + documentJsonBytes(record);
  const out = Buffer.allocUnsafeSlow(size);
  let at = 0;
  for (const record of records) {
    at += head.copy(out, at);
    at += out.write(recordId(record), at, 'latin1');
    at += ID_CLOSE.copy(out, at);
    at += writeDocumentJson(record, out, at);
    out[at++] = NEWLINE;
  }
  return out;
}
