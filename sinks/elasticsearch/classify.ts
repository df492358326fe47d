/**
 * From what Elasticsearch (or the client) answered to a SendResult. Pure functions: no I/O, no clock except for an
 * HTTP-date Retry-After, which takes `now` as a parameter.
 *
 * Bulk semantics (https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-bulk): the request answers
 * 200 even when items fail; `errors: true` says some did, and `items[i]` (in request order) carries each item's own
 * `status` and, on failure, `error: {type, reason}`. Items fail independently: the others are stored.
 */
import { elasticsearch } from './client-module.js';
import type { Rejection, SendResult } from '../../src/sink.js';

const { errors } = elasticsearch;

/** One entry of `items`: `{ "create": { "status": 201, ... } }`. */
interface BulkItemResult {
  status?: number;
  error?: { type?: string; reason?: string | null; caused_by?: { type?: string; reason?: string | null } };
}

/** A longer Retry-After is treated as this: a misconfigured proxy must not park the agent for a day. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/**
 * Per-item classification of a `_bulk` response body for a batch of `batchSize` records.
 * - 2xx: stored. 409 version_conflict_engine_exception on `create`: the `_id` exists, so the record was stored by an
 *   earlier send: delivered.
 * - 429 (es_rejected_execution_exception, flood-stage cluster_block_exception) and 5xx: retry just those items.
 * - 401/403 (security_exception, write block) and 404 index_not_found_exception (auto-create disabled): every item
 *   would fail the same way until an operator acts: fatal, not a batch of dead letters.
 * - any other 4xx (mapper_parsing_exception, document_parsing_exception, illegal_argument_exception…): rejected for
 *   good with "<status> <type>: <reason>".
 */
export function classifyBulkResponse(body: unknown, batchSize: number): SendResult {
  // `errors: false` means every item succeeded (that is what the flag is for): no need to walk 10,000 items.
  if ((body as { errors?: unknown } | null)?.errors === false) return { kind: 'delivered' };
  const items = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items) || items.length !== batchSize) {
    // Creates are idempotent, so when the answer cannot be read the whole batch is simply sent again.
    const got = Array.isArray(items) ? `${items.length} items` : 'no items';
    return { kind: 'retry', reason: `malformed _bulk response: ${got} for ${batchSize} records` };
  }
  const retry: number[] = [];
  const rejected: Rejection[] = [];
  let retryReason = '';
  for (let i = 0; i < items.length; i++) {
    const item = firstValue(items[i]);
    const status = item?.status ?? 0;
    if (status >= 200 && status < 300) continue;
    const type = item?.error?.type ?? 'unknown';
    if (status === 409 && type === 'version_conflict_engine_exception') continue;
    const reason = describe(status, item?.error);
    if (status === 429 || status >= 500 || status === 0) {
      retry.push(i);
      retryReason ||= reason;
    } else if (status === 401 || status === 403 || (status === 404 && type === 'index_not_found_exception')) {
      return { kind: 'fatal', reason: `${reason}${operatorHint(status)}` };
    } else {
      rejected.push({ index: i, reason });
    }
  }
  if (retry.length === 0 && rejected.length === 0) return { kind: 'delivered' };
  if (rejected.length === 0 && retry.length === batchSize) {
    return { kind: 'retry', reason: `all ${batchSize} items refused: ${retryReason}` };
  }
  const parts: string[] = [];
  if (retry.length > 0) parts.push(`${retry.length} to retry (${retryReason})`);
  if (rejected.length > 0) parts.push(`${rejected.length} rejected (${rejected[0]?.reason})`);
  return { kind: 'partial', retry, rejected, reason: `${batchSize - retry.length - rejected.length} of ${batchSize} stored, ${parts.join(', ')}` };
}

/**
 * A whole request Elasticsearch (or a proxy in front of it) refused with an HTTP status.
 * - 408, 429 (rejected execution, circuit breaker), 5xx (no master, shards unavailable, proxy errors): retry, after
 *   Retry-After when present.
 * - 401/403: fatal: wrong or missing credentials, or a missing privilege. The reason is Elasticsearch's, which names
 *   the user at most, never a secret.
 * - 404 (index_not_found_exception, or a wrong path prefix in the node URL): fatal.
 * - 413: the body is over http.max_content_length (100mb by default) or a proxy's limit (nginx's
 *   client_max_body_size is 1m). Re-sending the same bytes cannot succeed and the batch cannot be split here, so a
 *   batch of several records is fatal with advice to lower batch.max_bytes; a single record that alone is too large
 *   is rejected (dead-lettered), since no batch size lets it through.
 * - any other 4xx: fatal: the request itself is refused (e.g. a compatibility header the cluster does not accept),
 *   and dead-lettering every batch for a protocol problem would empty the pipeline into the dead-letter file.
 */
export function classifyHttpFailure(
  status: number,
  body: unknown,
  headers: Record<string, string | string[] | undefined>,
  batchSize: number,
  now: number = Date.now(),
): SendResult {
  const error = (body as { error?: unknown } | null)?.error;
  const reason = typeof error === 'object' && error !== null
    ? describe(status, error as BulkItemResult['error'])
    : `${status} ${typeof error === 'string' ? error : httpText(status)}`;
  if (status === 408 || status === 429 || status >= 500) {
    const delayMs = parseRetryAfter(headers['retry-after'], now);
    return delayMs === undefined ? { kind: 'retry', reason } : { kind: 'retry', reason, delayMs };
  }
  if (status === 413) {
    if (batchSize === 1) return { kind: 'partial', retry: [], rejected: [{ index: 0, reason: `${reason}: this one record is larger than the cluster accepts in a request (http.max_content_length or a proxy limit)` }], reason };
    return { kind: 'fatal', reason: `${reason}: a batch of ${batchSize} records is larger than the cluster accepts in a request (http.max_content_length or a proxy limit); lower batch.max_bytes` };
  }
  return { kind: 'fatal', reason: `${reason}${operatorHint(status)}` };
}

/** An exception from the client: ResponseError carries a status; the others are transport failures. */
export function classifyClientError(err: unknown, batchSize: number, now: number = Date.now()): SendResult {
  if (err instanceof errors.ResponseError) {
    const meta = err.meta;
    return classifyHttpFailure(meta.statusCode ?? 0, meta.body, meta.headers ?? {}, batchSize, now);
  }
  if (err instanceof errors.TimeoutError) return { kind: 'retry', reason: `request timed out: ${err.message}` };
  if (err instanceof errors.ProductNotSupportedError) {
    return { kind: 'fatal', reason: 'the server did not identify itself as Elasticsearch (no x-elastic-product header); check sink.nodes' };
  }
  if (err instanceof errors.ConfigurationError) return { kind: 'fatal', reason: `client configuration: ${err.message}` };
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof errors.ConnectionError && TLS_TRUST_ERROR.test(message)) {
    // The certificate will not become trusted by waiting: an operator must set tls.ca or fix the certificate.
    return { kind: 'fatal', reason: `TLS: ${message}; set sink.tls.ca to the CA that signed the cluster's certificate` };
  }
  // ConnectionError (refused, reset, DNS), NoLivingConnectionsError, RequestAbortedError, DeserializationError
  // (a proxy's HTML page): nothing is known to be stored; creates are idempotent, send again.
  const name = err instanceof Error ? err.name : 'Error';
  return { kind: 'retry', reason: `${name}: ${message}` };
}

/** Retry-After is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3). Undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - now);
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

const TLS_TRUST_ERROR = /certificate|self[- ]signed|unable to verify|altnames|CERT_/i;

function describe(status: number, error: BulkItemResult['error'] | undefined): string {
  const type = error?.type ?? 'unknown';
  let text = `${status} ${type}: ${error?.reason ?? 'no reason given'}`;
  if (error?.caused_by?.reason) text += ` (caused by ${error.caused_by.type ?? 'unknown'}: ${error.caused_by.reason})`;
  return text;
}

function operatorHint(status: number): string {
  if (status === 401) return '; check the sink credentials (sink.auth.username and sink.auth.password, or sink.auth.api_key)';
  if (status === 403) return '; the credentials lack a privilege (create_doc and auto_configure on the index) or the index is write-blocked';
  if (status === 404) return '; create the index or data stream, or allow action.auto_create_index for it';
  return '';
}

function httpText(status: number): string {
  if (status === 413) return 'Request Entity Too Large';
  return 'HTTP error';
}

function firstValue(item: unknown): BulkItemResult | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  for (const key in item) return (item as Record<string, BulkItemResult>)[key];
  return undefined;
}
