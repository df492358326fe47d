/**
 * The `_bulk` request body, built as one string: per record an action line and a source line, each ending in "\n".
 * https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-bulk (NDJSON, final newline required)
 *
 * Always `create` with the record's deterministic `_id` (file identity + offset):
 * - data streams accept only `create` (https://www.elastic.co/docs/manage-data/data-store/data-streams/use-data-stream);
 * - `create` of an `_id` that exists fails that one item with 409 and leaves the stored document alone, so a record
 *   sent twice (a retry after a lost response, a restart before the checkpoint moved) is stored once.
 */
import { documentJson, recordId, type LogRecord } from '../../src/record.js';

export function encodeBulk(index: string, records: readonly LogRecord[]): string {
  const head = `{"create":{"_index":${JSON.stringify(index)},"_id":`;
  let body = '';
  for (const record of records) {
    // Ids are base64url + '-' + digits: nothing to escape, so no JSON.stringify per record on this path.
    body += head + '"' + recordId(record) + '"}}\n' + documentJson(record) + '\n';
  }
  return body;
}
