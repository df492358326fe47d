import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errors } from '@elastic/elasticsearch';
import {
  classifyBulkResponse,
  classifyClientError,
  classifyHttpFailure,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
} from '../../sinks/elasticsearch/classify.js';
import { BulkAwareSerializer } from '../../sinks/elasticsearch/serializer.js';
import { BULK_FILTER_PATH as BULK_FILTER } from '../../sinks/elasticsearch/sink.js';
import { filterPath } from '../support/es-server.js';

// Item bodies as Elasticsearch 8.x answers them (captured shapes; uuids and ids shortened).
const DS = '.ds-logs-django-default-2025.01.01-000001';
const created = (id: string) => ({
  create: { _index: DS, _id: id, _version: 1, result: 'created', _shards: { total: 2, successful: 1, failed: 0 }, _seq_no: 0, _primary_term: 1, status: 201 },
});
const conflict = (id: string) => ({
  create: {
    _index: DS, _id: id, status: 409,
    error: { type: 'version_conflict_engine_exception', reason: `[${id}]: version conflict, document already exists (current version [1])`, index_uuid: 'x5cN2bSeQ9eu0hLkRB6iNQ', shard: '0', index: DS },
  },
});
const rejectedExecution = (id: string) => ({
  create: {
    _index: DS, _id: id, status: 429,
    error: {
      type: 'es_rejected_execution_exception',
      reason: 'rejected execution of org.elasticsearch.action.support.replication.TransportWriteAction$1/WrappedActionListener{...} on EsThreadPoolExecutor[name = es01/write, queue capacity = 10000, org.elasticsearch.common.util.concurrent.EsThreadPoolExecutor@5cc6e7d1[Running, pool size = 8, active threads = 8, queued tasks = 10000, completed tasks = 1139]]',
    },
  },
});
const unavailableShards = (id: string) => ({
  create: {
    _index: 'django-app', _id: id, status: 503,
    error: { type: 'unavailable_shards_exception', reason: '[django-app][0] primary shard is not active Timeout: [1m], request: [BulkShardRequest [[django-app][0]] containing [1] requests]' },
  },
});
const documentParsing = (id: string) => ({
  create: {
    _index: 'django-app', _id: id, status: 400,
    error: {
      type: 'document_parsing_exception',
      reason: `[1:95] failed to parse field [log.offset] of type [long] in document with id '${id}'. Preview of field's value: 'abc'`,
      caused_by: { type: 'illegal_argument_exception', reason: 'For input string: "abc"' },
    },
  },
});
const mapperParsing = (id: string) => ({
  create: {
    _index: 'django-app', _id: id, status: 400,
    error: {
      type: 'mapper_parsing_exception',
      reason: "failed to parse field [django.status] of type [long] in document with id '" + id + "'. Preview of field's value: 'ok'",
      caused_by: { type: 'illegal_argument_exception', reason: 'For input string: "ok"' },
    },
  },
});
const fieldLimit = (id: string) => ({
  create: {
    _index: 'django-app', _id: id, status: 400,
    error: { type: 'illegal_argument_exception', reason: 'Limit of total fields [1000] has been exceeded while adding new fields [1]' },
  },
});
const bulk = (...items: object[]) => ({ took: 12, errors: true, items });

test('all created: delivered', () => {
  assert.deepEqual(classifyBulkResponse({ took: 3, errors: false, items: [created('a-0'), created('a-100')] }, 2), { kind: 'delivered' });
});

test('409 version_conflict_engine_exception on create counts as stored', () => {
  assert.deepEqual(classifyBulkResponse(bulk(created('a-0'), conflict('a-100'), conflict('a-200')), 3), { kind: 'delivered' });
});

test('429 and 5xx items: partial, retrying just those indices', () => {
  const r = classifyBulkResponse(bulk(created('a'), rejectedExecution('b'), conflict('c'), unavailableShards('d'), created('e')), 5);
  assert.equal(r.kind, 'partial');
  if (r.kind !== 'partial') return;
  assert.deepEqual(r.retry, [1, 3]);
  assert.deepEqual(r.rejected, []);
  assert.match(r.reason, /^3 of 5 stored, 2 to retry \(429 es_rejected_execution_exception: rejected execution/);
});

test('every item 429: plain retry (nothing stored)', () => {
  const r = classifyBulkResponse(bulk(rejectedExecution('a'), rejectedExecution('b')), 2);
  assert.equal(r.kind, 'retry');
  assert.match(r.kind === 'retry' ? r.reason : '', /^all 2 items refused: 429 es_rejected_execution_exception/);
});

test('other 4xx items are rejected with "<status> <type>: <reason>"', () => {
  const r = classifyBulkResponse(bulk(documentParsing('a'), created('b'), mapperParsing('c'), fieldLimit('d')), 4);
  assert.equal(r.kind, 'partial');
  if (r.kind !== 'partial') return;
  assert.deepEqual(r.retry, []);
  assert.deepEqual(r.rejected.map((x) => x.index), [0, 2, 3]);
  assert.equal(
    r.rejected[0]!.reason,
    `400 document_parsing_exception: [1:95] failed to parse field [log.offset] of type [long] in document with id 'a'. Preview of field's value: 'abc' (caused by illegal_argument_exception: For input string: "abc")`,
  );
  assert.match(r.rejected[1]!.reason, /^400 mapper_parsing_exception: failed to parse field \[django\.status\]/);
  assert.equal(r.rejected[2]!.reason, '400 illegal_argument_exception: Limit of total fields [1000] has been exceeded while adding new fields [1]');
  assert.match(r.reason, /^1 of 4 stored, 3 rejected \(400 document_parsing_exception/);
});

test('mixed retry and rejected in one response', () => {
  const r = classifyBulkResponse(bulk(rejectedExecution('a'), mapperParsing('b'), created('c')), 3);
  assert.equal(r.kind, 'partial');
  if (r.kind !== 'partial') return;
  assert.deepEqual(r.retry, [0]);
  assert.deepEqual(r.rejected.map((x) => x.index), [1]);
});

test('item 404 index_not_found_exception (auto-create disabled) and item 403 are fatal', () => {
  const notFound = {
    create: {
      _index: 'django-app', _id: 'a', status: 404,
      error: { type: 'index_not_found_exception', reason: 'no such index [django-app]', 'resource.type': 'index_expression', 'resource.id': 'django-app', index_uuid: '_na_', index: 'django-app' },
    },
  };
  const r404 = classifyBulkResponse(bulk(notFound, notFound), 2);
  assert.equal(r404.kind, 'fatal');
  assert.match(r404.kind === 'fatal' ? r404.reason : '', /^404 index_not_found_exception: no such index \[django-app\]; create the index/);

  const blocked = {
    create: { _index: 'django-app', _id: 'a', status: 403, error: { type: 'cluster_block_exception', reason: 'index [django-app] blocked by: [FORBIDDEN/8/index write (api)];' } },
  };
  assert.equal(classifyBulkResponse(bulk(created('x'), blocked), 2).kind, 'fatal');
});

test('flood-stage block (429 cluster_block_exception) is retried', () => {
  const flood = {
    create: {
      _index: 'django-app', _id: 'a', status: 429,
      error: { type: 'cluster_block_exception', reason: 'index [django-app] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block];' },
    },
  };
  const r = classifyBulkResponse(bulk(created('x'), flood), 2);
  assert.equal(r.kind, 'partial');
  assert.deepEqual(r.kind === 'partial' ? r.retry : null, [1]);
});

test('a response that does not match the batch is retried whole', () => {
  assert.equal(classifyBulkResponse(bulk(created('a')), 2).kind, 'retry');
  assert.equal(classifyBulkResponse('<html>502 Bad Gateway</html>', 2).kind, 'retry');
  assert.equal(classifyBulkResponse(null, 1).kind, 'retry');
});

// Whole-request error bodies as Elasticsearch sends them.
const security401 = {
  error: {
    root_cause: [{ type: 'security_exception', reason: 'unable to authenticate user [logship] for REST request [/_bulk]', header: { 'WWW-Authenticate': ['Basic realm="security", charset="UTF-8"', 'ApiKey'] } }],
    type: 'security_exception',
    reason: 'unable to authenticate user [logship] for REST request [/_bulk]',
    header: { 'WWW-Authenticate': ['Basic realm="security", charset="UTF-8"', 'ApiKey'] },
  },
  status: 401,
};
const security403 = {
  error: {
    root_cause: [{ type: 'security_exception', reason: 'action [indices:data/write/bulk[s]] is unauthorized for API key id [VuaCfGcBCdbkQm-e5aOx] of user [logship] on indices [logs-django-default], this action is granted by the index privileges [create_doc,create,index,write,all]' }],
    type: 'security_exception',
    reason: 'action [indices:data/write/bulk[s]] is unauthorized for API key id [VuaCfGcBCdbkQm-e5aOx] of user [logship] on indices [logs-django-default], this action is granted by the index privileges [create_doc,create,index,write,all]',
  },
  status: 403,
};
const rejected429 = {
  error: {
    root_cause: [{ type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=110036254, max_coordinating_and_primary_bytes=107374182]' }],
    type: 'es_rejected_execution_exception',
    reason: 'rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=110036254, max_coordinating_and_primary_bytes=107374182]',
  },
  status: 429,
};
const noMaster503 = {
  error: {
    root_cause: [{ type: 'cluster_block_exception', reason: 'blocked by: [SERVICE_UNAVAILABLE/2/no master];' }],
    type: 'cluster_block_exception',
    reason: 'blocked by: [SERVICE_UNAVAILABLE/2/no master];',
  },
  status: 503,
};

test('401 and 403: fatal with a clear reason and a hint', () => {
  const r401 = classifyHttpFailure(401, security401, {}, 10);
  assert.deepEqual(r401, {
    kind: 'fatal',
    reason: '401 security_exception: unable to authenticate user [logship] for REST request [/_bulk]; check the sink credentials (sink.auth.username and sink.auth.password, or sink.auth.api_key)',
  });
  const r403 = classifyHttpFailure(403, security403, {}, 10);
  assert.equal(r403.kind, 'fatal');
  assert.match(r403.kind === 'fatal' ? r403.reason : '', /^403 security_exception: action \[indices:data\/write\/bulk\[s\]\] is unauthorized.*lack a privilege/);
});

test('429 and 5xx: retry, with Retry-After in seconds or as an HTTP date', () => {
  assert.deepEqual(classifyHttpFailure(429, rejected429, {}, 10), { kind: 'retry', reason: `429 es_rejected_execution_exception: ${rejected429.error.reason}` });
  assert.deepEqual(classifyHttpFailure(429, rejected429, { 'retry-after': '30' }, 10), {
    kind: 'retry', reason: `429 es_rejected_execution_exception: ${rejected429.error.reason}`, delayMs: 30_000,
  });
  const now = Date.parse('2025-06-01T12:00:00Z');
  const r503 = classifyHttpFailure(503, noMaster503, { 'retry-after': 'Sun, 01 Jun 2025 12:00:45 GMT' }, 10, now);
  assert.deepEqual(r503, { kind: 'retry', reason: '503 cluster_block_exception: blocked by: [SERVICE_UNAVAILABLE/2/no master];', delayMs: 45_000 });
  // A proxy's HTML error page: no Elasticsearch error object.
  assert.deepEqual(classifyHttpFailure(502, '<html><body>502 Bad Gateway</body></html>', {}, 10), { kind: 'retry', reason: '502 HTTP error' });
});

test('413: fatal for a batch (lower batch.max_bytes), dead letter for one record that alone is too large', () => {
  const many = classifyHttpFailure(413, '', {}, 500);
  assert.equal(many.kind, 'fatal');
  assert.match(many.kind === 'fatal' ? many.reason : '', /^413 Request Entity Too Large: a batch of 500 records .* lower batch\.max_bytes$/);
  const one = classifyHttpFailure(413, '', {}, 1);
  assert.equal(one.kind, 'partial');
  assert.deepEqual(one.kind === 'partial' ? [one.retry, one.rejected.map((r) => r.index)] : null, [[], [0]]);
});

test('404 and other 4xx on the whole request: fatal', () => {
  const notFound = { error: { root_cause: [], type: 'index_not_found_exception', reason: 'no such index [django-app]' }, status: 404 };
  assert.equal(classifyHttpFailure(404, notFound, {}, 3).kind, 'fatal');
  const media = { error: { root_cause: [], type: 'media_type_header_exception', reason: 'Invalid media-type value on headers [Content-Type, Accept]' }, status: 400 };
  const r = classifyHttpFailure(400, media, {}, 3);
  assert.deepEqual(r, { kind: 'fatal', reason: '400 media_type_header_exception: Invalid media-type value on headers [Content-Type, Accept]' });
  assert.equal(classifyHttpFailure(408, '', {}, 3).kind, 'retry');
});

test('parseRetryAfter: seconds, HTTP date, garbage, cap', () => {
  assert.equal(parseRetryAfter('120'), 120_000);
  assert.equal(parseRetryAfter(['5']), 5_000);
  assert.equal(parseRetryAfter(undefined), undefined);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter('86400'), MAX_RETRY_AFTER_MS);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('2015-10-21T07:29:00Z')), 0);
});

function responseError(statusCode: number, body: unknown, headers: Record<string, string> = {}): errors.ResponseError {
  return new errors.ResponseError({ body, statusCode, headers, warnings: null, meta: {} as never });
}

test('client errors: connection and timeout retry, TLS trust and product check are fatal, ResponseError by status', () => {
  const refused = classifyClientError(new errors.ConnectionError('connect ECONNREFUSED 127.0.0.1:9200'), 5);
  assert.deepEqual(refused, { kind: 'retry', reason: 'ConnectionError: connect ECONNREFUSED 127.0.0.1:9200' });
  assert.equal(classifyClientError(new errors.TimeoutError('Request timed out'), 5).kind, 'retry');
  assert.equal(classifyClientError(new errors.NoLivingConnectionsError('There are no living connections', {} as never), 5).kind, 'retry');
  const tls = classifyClientError(new errors.ConnectionError('self-signed certificate in certificate chain'), 5);
  assert.equal(tls.kind, 'fatal');
  assert.match(tls.kind === 'fatal' ? tls.reason : '', /tls\.ca/);
  assert.equal(classifyClientError(new errors.ProductNotSupportedError('Elasticsearch', {} as never), 5).kind, 'fatal');
  assert.deepEqual(classifyClientError(responseError(429, rejected429, { 'retry-after': '3' }), 5), {
    kind: 'retry', reason: `429 es_rejected_execution_exception: ${rejected429.error.reason}`, delayMs: 3000,
  });
  assert.equal(classifyClientError(responseError(401, security401), 5).kind, 'fatal');
});

test('a bulk answer with every item stored is read without parsing its items; any other answer is parsed in full', () => {
  const serializer = new BulkAwareSerializer();
  const filtered = (items: unknown[]) => JSON.stringify(filterPath({ took: 3, errors: items.some((i) => (Object.values(i as object)[0] as { status: number }).status >= 300), items }, BULK_FILTER));
  // What Elasticsearch answers with logship's filter_path: no `took`, items reduced to status (and error).
  const allStored = filtered([created('a-0'), created('a-100')]);
  assert.equal(allStored, '{"errors":false,"items":[{"create":{"status":201}},{"create":{"status":201}}]}');
  assert.deepEqual(serializer.deserialize(allStored), { errors: false });
  assert.deepEqual(classifyBulkResponse(serializer.deserialize(allStored), 2), { kind: 'delivered' });
  // One item refused: parsed, and only that item is retried.
  const oneRefused = filtered([created('a-0'), rejectedExecution('a-100')]);
  const parsed = serializer.deserialize(oneRefused) as { errors: boolean; items: unknown[] };
  assert.equal(parsed.errors, true);
  assert.equal(parsed.items.length, 2);
  const r = classifyBulkResponse(parsed, 2);
  assert.equal(r.kind, 'partial');
  assert.deepEqual(r.kind === 'partial' && r.retry, [1]);
  // Unfiltered answers (`took` first) and texts that merely look alike are parsed, not guessed at.
  assert.deepEqual(serializer.deserialize('{"took":1,"errors":false,"items":[]}'), { took: 1, errors: false, items: [] });
  assert.deepEqual(serializer.deserialize('{"errors":false}'), { errors: false });
  assert.throws(() => serializer.deserialize('{"errors":true,'), /Unexpected end|JSON/);
});
