import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordId, type EcsDocument, type LogRecord } from '../../src/record.js';
import type { Batch, SendResult, Sink } from '../../src/sink.js';
import { silentLogger } from '../../src/log.js';
import { createElasticsearchSink, type ElasticsearchSinkConfig } from '../../sinks/elasticsearch/index.js';
import { encodeBulk } from '../../sinks/elasticsearch/encode.js';
import { startEsServer, type EsServerHandle, type EsServerOptions } from '../support/es-server.js';
import { columnBatch, sampleRecord } from '../support/records.js';
import { batchOf as listBatch } from '../../src/pipeline/batch.js';

function record(i: number, over: Partial<EcsDocument> = {}, idPrefix = 'dev1-ino42-fp9'): LogRecord {
  return sampleRecord(i, { doc: over, idPrefix, at: Date.UTC(2025, 0, 1, 0, 0, i) });
}

function batchOf(records: LogRecord[]): Batch {
  return listBatch(records);
}

function records(n: number, from = 0): LogRecord[] {
  return Array.from({ length: n }, (_, k) => record(from + k));
}

function esConfig(url: string | string[], over: Partial<ElasticsearchSinkConfig> = {}): ElasticsearchSinkConfig {
  return {
    type: 'elasticsearch',
    nodes: Array.isArray(url) ? url : [url],
    index: 'logs-django-default',
    dataStream: true,
    tls: { verify: true },
    compression: false,
    requestTimeoutMs: 5000,
    ...over,
  };
}

/** A server and a started sink, both closed after `fn`. */
async function withSink(
  fn: (es: EsServerHandle, sink: Sink) => Promise<void>,
  opts: { server?: EsServerOptions; config?: Partial<ElasticsearchSinkConfig>; start?: boolean } = {},
): Promise<void> {
  const es = await startEsServer(opts.server);
  const sink = createElasticsearchSink(esConfig(es.url, opts.config), { logger: silentLogger, hostName: 'test' });
  try {
    if (opts.start !== false) assert.deepEqual(await sink.start(), { kind: 'delivered' });
    await fn(es, sink);
  } finally {
    await sink.close();
    await es.close();
  }
}

function assertKind<K extends SendResult['kind']>(r: SendResult, kind: K): asserts r is Extract<SendResult, { kind: K }> {
  assert.equal(r.kind, kind, `expected ${kind}, got ${JSON.stringify(r)}`);
}

test('encodeBulk: create action with the deterministic id (the target is in the path), then the document, each line ending in \\n', () => {
  const r = [record(0), record(1)];
  const body = encodeBulk(batchOf(r)).body.toString('utf8');
  const lines = body.split('\n');
  assert.equal(lines.length, 5);
  assert.equal(lines[4], '');
  assert.deepEqual(JSON.parse(lines[0]!), { create: { _id: 'dev1-ino42-fp9-0' } });
  assert.deepEqual(JSON.parse(lines[1]!), r[0]!.doc);
  assert.deepEqual(JSON.parse(lines[2]!), { create: { _id: recordId(r[1]!) } });
});

test('encodeBulk: text of many UTF-8 bytes per character is sized exactly, not cut', () => {
  // 3-byte characters and surrogate pairs (4 bytes for 2 UTF-16 units), in records big and small.
  const messages = ['日本語のログ'.repeat(5000), 'ok', '😀 emoji '.repeat(3000), 'é'];
  const r = messages.map((message, i) => sampleRecord(i, { message }));
  const lines = encodeBulk(batchOf(r)).body.toString('utf8').split('\n');
  assert.equal(lines.length, 2 * r.length + 1);
  r.forEach((rec, i) => assert.deepEqual(JSON.parse(lines[2 * i + 1]!), rec.doc));
});

test('encodeBulk: a batch of rows (as the batcher makes them) encodes to the same body as the same records', () => {
  const r = [record(0), sampleRecord(1, { message: 'caf\u00e9 ☃ 😀' }), record(2)];
  const rows = columnBatch(r.map((x) => ({ ...x, json: JSON.stringify(x.doc) })));
  assert.equal(encodeBulk(rows).body.toString('utf8'), encodeBulk(batchOf(r)).body.toString('utf8'));
});

test('encodeBulk: ids written byte by byte are the records\' ids, for every number of digits and interleaved files', () => {
  // Offsets of 1 to 16 digits (up to 2^53 - 1), from three file identities taking turns.
  const offsets = [0, 7, 10, 99, 100, 12_345, 999_999, 1_000_000, 2 ** 31, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER];
  const prefixes = ['dev1-ino42-fp9', 'Zm9vYmFy_-', 'a'];
  const r = offsets.map((start, i) => ({ ...sampleRecord(i, { idPrefix: prefixes[i % 3] }), start }));
  const lines = encodeBulk(batchOf(r)).body.toString('utf8').split('\n');
  r.forEach((rec, i) => {
    assert.equal(lines[2 * i], `{"create":{"_id":"${recordId(rec)}"}}`);
    assert.deepEqual(JSON.parse(lines[2 * i + 1]!), rec.doc);
  });
  const rows = columnBatch(r.map((x) => ({ ...x, json: JSON.stringify(x.doc) })));
  assert.equal(encodeBulk(rows).body.toString('utf8'), lines.join('\n'));
});

test('a batch is delivered and stored under its record ids, in a data stream', async () => {
  await withSink(async (es, sink) => {
    const batch = batchOf(records(5));
    assert.deepEqual(await sink.send(batch), { kind: 'delivered' });
    const stored = es.docs.get('logs-django-default');
    assert.equal(stored?.size, 5);
    for (const r of batch.records) assert.deepEqual(stored?.get(recordId(r)), r.doc);
    // The built-in logs-*-* template applies: no template was installed.
    assert.equal(es.templates.size, 0);
    assert.ok(!es.requests.some((r) => r.path.startsWith('/_index_template')));
  });
});

test('re-sending the same batch is delivered and stores nothing twice (409 on create = already stored)', async () => {
  await withSink(async (es, sink) => {
    const batch = batchOf(records(8));
    assert.deepEqual(await sink.send(batch), { kind: 'delivered' });
    assert.deepEqual(await sink.send(batch), { kind: 'delivered' });
    assert.deepEqual(es.lastBulkStatuses, Array(8).fill(409));
    assert.equal(es.count('logs-django-default'), 8);
    for (const r of batch.records) assert.equal(es.createAttempts.get(recordId(r)), 2);
  });
});

test('10% of items answered 429: partial, retrying exactly those indices; the retry completes the batch', async () => {
  await withSink(async (es, sink) => {
    const batch = batchOf(records(30));
    es.itemRejectRate = 0.1;
    const result = await sink.send(batch);
    assertKind(result, 'partial');
    const refused = es.lastBulkStatuses.flatMap((s, i) => (s === 429 ? [i] : []));
    assert.equal(refused.length, 3);
    assert.deepEqual(result.retry, refused);
    assert.deepEqual(result.rejected, []);
    assert.match(result.reason, /27 of 30 stored, 3 to retry \(429 es_rejected_execution_exception/);
    assert.equal(es.count('logs-django-default'), 27);

    es.itemRejectRate = 0;
    const again = batchOf(result.retry.map((i) => batch.records[i]!));
    assert.deepEqual(await sink.send(again), { kind: 'delivered' });
    assert.equal(es.count('logs-django-default'), 30);
  });
});

test('mapping errors are rejected with the status, type and reason; the rest is stored', async () => {
  await withSink(async (es, sink) => {
    es.mappingErrorWhen((doc) => String(doc.message).includes('bad'), 'django.user_id');
    const batch = batchOf([record(0), record(1, { message: 'bad one' }), record(2), record(3, { message: 'bad two' })]);
    const result = await sink.send(batch);
    assertKind(result, 'partial');
    assert.deepEqual(result.retry, []);
    assert.deepEqual(result.rejected.map((r) => r.index), [1, 3]);
    assert.match(result.rejected[0]!.reason, /^400 mapper_parsing_exception: failed to parse field \[django\.user_id\] of type \[long\]/);
    assert.match(result.rejected[0]!.reason, /caused by illegal_argument_exception/);
    assert.equal(es.count('logs-django-default'), 2);
  });
});

test('a data stream document without @timestamp is rejected 400 like Elasticsearch does', async () => {
  await withSink(async (_es, sink) => {
    const bad = record(1);
    delete (bad.doc as Partial<EcsDocument>)['@timestamp'];
    const result = await sink.send(batchOf([record(0), bad]));
    assertKind(result, 'partial');
    assert.deepEqual(result.rejected.map((r) => r.index), [1]);
    assert.match(result.rejected[0]!.reason, /^400 document_parsing_exception: .*data stream timestamp field \[@timestamp\] is missing/);
  });
});

test('server stopped: retry; started again on the same port: delivered', async () => {
  await withSink(async (es, sink) => {
    const batch = batchOf(records(3));
    assert.deepEqual(await sink.send(batchOf(records(1, 100))), { kind: 'delivered' }); // opens a keep-alive socket
    await es.stop();
    const result = await sink.send(batch);
    assertKind(result, 'retry');
    assert.match(result.reason, /ConnectionError|ECONNREFUSED|closed|socket/i);
    await es.start();
    assert.deepEqual(await sink.send(batch), { kind: 'delivered' });
    assert.equal(es.count('logs-django-default'), 4);
  });
});

test('failover: a dead first node costs one retry, then the live node takes the batches', async () => {
  const es = await startEsServer();
  const dead = await startEsServer();
  const deadUrl = dead.url;
  await dead.close();
  const sink = createElasticsearchSink(esConfig([deadUrl, es.url]), { logger: silentLogger, hostName: 'test' });
  try {
    const batch = batchOf(records(2));
    const results: SendResult['kind'][] = [];
    for (let i = 0; i < 3 && results.at(-1) !== 'delivered'; i++) results.push((await sink.send(batch)).kind);
    assert.equal(results.at(-1), 'delivered');
    assert.ok(results.length <= 2, `took ${results.join(',')}`);
    assert.equal(es.count('logs-django-default'), 2);
  } finally {
    await sink.close();
    await es.close();
  }
});

test('whole-request 503 and 429 are retried; Retry-After is honoured', async () => {
  await withSink(async (es, sink) => {
    es.rejectAllWith(503);
    const r503 = await sink.send(batchOf(records(2)));
    assertKind(r503, 'retry');
    assert.match(r503.reason, /^503 cluster_block_exception: blocked by: \[SERVICE_UNAVAILABLE\/2\/no master\]/);
    assert.equal(r503.delayMs, undefined);

    es.rejectAllWith(429, { retryAfterSeconds: 7 });
    const r429 = await sink.send(batchOf(records(2)));
    assertKind(r429, 'retry');
    assert.equal(r429.delayMs, 7000);
    assert.match(r429.reason, /circuit_breaking_exception/);

    es.rejectAllWith(null);
    assert.deepEqual(await sink.send(batchOf(records(2))), { kind: 'delivered' });
  });
});

test('a slow server past requestTimeoutMs: retry', async () => {
  await withSink(
    async (es, sink) => {
      // undici's timers tick about once a second, so the timeout fires near 1 s whatever is configured below it.
      es.delayMs = 2500;
      const result = await sink.send(batchOf(records(1)));
      assertKind(result, 'retry');
      assert.match(result.reason, /timed out/i);
      es.delayMs = 0;
    },
    { config: { requestTimeoutMs: 100 } },
  );
});

test('413 on a batch of several records is fatal and says to lower batch.max_bytes', async () => {
  await withSink(async (es, sink) => {
    es.rejectAllWith(413);
    const result = await sink.send(batchOf(records(3)));
    assertKind(result, 'fatal');
    assert.match(result.reason, /^413 .*lower batch\.max_bytes/);
    const single = await sink.send(batchOf(records(1)));
    assertKind(single, 'partial');
    assert.deepEqual(single.rejected.map((r) => r.index), [0]);
  });
});

test('missing index with auto-create disabled (404 index_not_found_exception) is fatal', async () => {
  await withSink(
    async (_es, sink) => {
      const result = await sink.send(batchOf(records(2)));
      assertKind(result, 'fatal');
      assert.match(result.reason, /^404 index_not_found_exception: no such index \[django-app\]/);
    },
    { server: { autoCreateIndex: false }, config: { index: 'django-app', dataStream: false } },
  );
});

test('wrong credentials: fatal, and the reason never carries the secret', async () => {
  const server = { auth: { basic: { username: 'logship', password: 's3cret-pw' } } };
  await withSink(
    async (_es, sink) => {
      const result = await sink.send(batchOf(records(1)));
      assertKind(result, 'fatal');
      assert.match(result.reason, /^401 security_exception: unable to authenticate user \[logship\]/);
      assert.ok(!result.reason.includes('wrong-pw'));
    },
    { server, config: { auth: { username: 'logship', password: 'wrong-pw' } }, start: false },
  );
  await withSink(
    async (_es, sink) => {
      const result = await sink.start();
      assertKind(result, 'fatal');
      assert.match(result.reason, /^401 security_exception: missing authentication credentials/);
    },
    { server, start: false },
  );
});

test('basic auth and API key auth are sent and accepted', async () => {
  const server = { auth: { basic: { username: 'logship', password: 's3cret-pw' }, apiKey: 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==' } };
  await withSink(
    async (es, sink) => {
      assert.deepEqual(await sink.send(batchOf(records(2))), { kind: 'delivered' });
      assert.match(String(es.requests.at(-1)?.headers.authorization), /^Basic /);
    },
    { server, config: { auth: { username: 'logship', password: 's3cret-pw' } } },
  );
  await withSink(
    async (es, sink) => {
      assert.deepEqual(await sink.send(batchOf(records(2))), { kind: 'delivered' });
      assert.equal(es.requests.at(-1)?.headers.authorization, `ApiKey ${server.auth.apiKey}`);
    },
    { server, config: { auth: { apiKey: server.auth.apiKey } } },
  );
});

test('gzip compression: the bulk body is sent gzipped and stored intact', async () => {
  await withSink(
    async (es, sink) => {
      const batch = batchOf(records(20));
      assert.deepEqual(await sink.send(batch), { kind: 'delivered' });
      const bulk = es.requests.find((r) => r.path.startsWith('/logs-django-default/_bulk?'));
      assert.equal(bulk?.headers['content-encoding'], 'gzip');
      assert.equal(es.count('logs-django-default'), 20);
      assert.deepEqual(es.docs.get('logs-django-default')?.get(recordId(batch.records[7]!)), batch.records[7]!.doc);
    },
    { config: { compression: true } },
  );
});

test('plain index: start() installs an ECS index template once; writes land in the plain index', async () => {
  await withSink(
    async (es, sink) => {
      const t = es.templates.get('logship-django-app') as Record<string, any> | undefined;
      assert.ok(t);
      assert.deepEqual(t.index_patterns, ['django-app', 'django-app-*']);
      assert.equal(t.data_stream, undefined);
      assert.ok(t.priority > 200);
      const props = t.template.mappings.properties;
      assert.equal(props['@timestamp'].type, 'date');
      assert.equal(props.message.type, 'match_only_text');
      assert.equal(props.log.properties.level.type, 'keyword');
      assert.equal(props.log.properties.offset.type, 'long');
      assert.equal(props.error.properties.stack_trace.type, 'wildcard');
      assert.equal(props.django.type, 'flattened');

      // Idempotent: a second start reads the template and does not PUT it again.
      assert.deepEqual(await sink.start(), { kind: 'delivered' });
      assert.equal(es.requests.filter((r) => r.method === 'PUT' && r.path.startsWith('/_index_template/')).length, 1);

      assert.deepEqual(await sink.send(batchOf(records(3))), { kind: 'delivered' });
      assert.equal(es.count('django-app'), 3);
    },
    { config: { index: 'django-app', dataStream: false } },
  );
});

test('a template someone else installed is left alone', async () => {
  await withSink(
    async (es, sink) => {
      es.templates.set('logship-django-app', { index_patterns: ['django-app'], priority: 900 });
      assert.deepEqual(await sink.start(), { kind: 'delivered' });
      assert.deepEqual(es.templates.get('logship-django-app'), { index_patterns: ['django-app'], priority: 900 });
    },
    { config: { index: 'django-app', dataStream: false }, start: false },
  );
});

test('data stream with a name outside logs-*-*: a data_stream template for exactly that name', async () => {
  await withSink(
    async (es, sink) => {
      const t = es.templates.get('logship-django-logs') as Record<string, any> | undefined;
      assert.deepEqual(t?.index_patterns, ['django-logs']);
      assert.deepEqual(t?.data_stream, {});
      assert.ok(t.priority > 200);
      assert.deepEqual(await sink.send(batchOf(records(2))), { kind: 'delivered' });
      assert.equal(es.count('django-logs'), 2);
    },
    { config: { index: 'django-logs' } },
  );
});

test('Elasticsearch 9: the 8.19 client (compatible-with=8) ships to a 9.1.0 cluster', async () => {
  await withSink(
    async (es, sink) => {
      assert.deepEqual(await sink.send(batchOf(records(4))), { kind: 'delivered' });
      const bulk = es.requests.find((r) => r.path.startsWith('/logs-django-default/_bulk?'));
      assert.match(String(bulk?.headers['content-type']), /compatible-with=8/);
      assert.equal(es.count('logs-django-default'), 4);
    },
    { server: { version: '9.1.0' } },
  );
});

test('an empty batch is delivered without a request', async () => {
  await withSink(async (es, sink) => {
    const before = es.stats.requests;
    assert.deepEqual(await sink.send(batchOf([])), { kind: 'delivered' });
    assert.equal(es.stats.requests, before);
  });
});
