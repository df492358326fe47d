/**
 * The client's JSON deserializer, with one shortcut for the commonest answer there is: a `_bulk` whose items were
 * all stored. Asked with `filter_path` (sink.ts), Elasticsearch answers `{"errors":false,"items":[{"create":
 * {"status":201}},…]}`: a thousand items parsed (and scanned for `__proto__` by the client's secure-json-parse)
 * only to learn what `"errors":false` already says, since `errors` is true as soon as one item failed. That parse
 * was the main thread's largest JavaScript cost after the socket writes. Only a text that starts exactly so takes
 * the shortcut; anything else is parsed as before.
 */
import { elasticsearch } from './client-module.js';

const ALL_STORED_PREFIX = '{"errors":false,';
/** What classifyBulkResponse reads of such an answer. */
const ALL_STORED: { readonly errors: false } = Object.freeze({ errors: false });

export class BulkAwareSerializer extends elasticsearch.Serializer {
  override deserialize<T = unknown>(json: string): T {
    if (json.startsWith(ALL_STORED_PREFIX)) return ALL_STORED as T;
    return super.deserialize<T>(json);
  }
}
