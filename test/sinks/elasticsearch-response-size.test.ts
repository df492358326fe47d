/**
 * A huge `_bulk` answer (issue #13, item 12) is not read whole into memory: over 16 MiB (content-length, chunked, or
 * gzipped and inflating past it) the request is aborted and the batch is retried; once the answers are normal again
 * the retry is delivered (the records were stored: 409 on create counts as stored).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/log.js';
import { createElasticsearchSink } from '../../sinks/elasticsearch/index.js';
import { MAX_RESPONSE_BYTES } from '../../sinks/elasticsearch/connection.js';
import { batchOf } from '../../src/pipeline/batch.js';
import { startEsServer } from '../support/es-server.js';
import { sampleRecord } from '../support/records.js';

const HUGE = 64 * 1024 * 1024;

for (const [name, huge, compression] of [
  ['with a content-length', { bytes: HUGE, chunked: false }, false],
  ['chunked', { bytes: HUGE, chunked: true }, false],
  ['gzipped, inflating to 64 MiB', { bytes: HUGE, chunked: false }, true],
] as const) {
  test(`a _bulk answer of 64 MiB ${name}: aborted at 16 MiB and retried, then delivered`, async () => {
    const es = await startEsServer();
    const sink = createElasticsearchSink(
      { type: 'elasticsearch', nodes: [es.url], index: 'logs-django-default', dataStream: true, tls: { verify: true }, compression, requestTimeoutMs: 20_000 },
      { logger: silentLogger, hostName: 'test' },
    );
    try {
      assert.deepEqual(await sink.start(), { kind: 'delivered' });
      const batch = batchOf(Array.from({ length: 10 }, (_, i) => sampleRecord(i, { idPrefix: 'huge' })));
      es.hugeBulkAnswers = huge;
      const before = process.memoryUsage().rss;
      const result = await sink.send(batch);
      assert.equal(result.kind, 'retry', JSON.stringify(result));
      assert.match(result.kind === 'retry' ? result.reason : '', new RegExp(`RequestAbortedError: .*${MAX_RESPONSE_BYTES}`));
      // The answer was not buffered: far less than its 64 MiB more memory.
      assert.ok(process.memoryUsage().rss - before < 48 * 1024 * 1024, `RSS grew by ${process.memoryUsage().rss - before}`);
      es.hugeBulkAnswers = null;
      assert.deepEqual(await sink.send(batch), { kind: 'delivered' });
      assert.equal(es.count('logs-django-default'), 10);
    } finally {
      await sink.close();
      await es.close();
    }
  });
}

test('an answer within the bound (a few MiB of padding) is read as usual', async () => {
  const es = await startEsServer();
  const sink = createElasticsearchSink(
    { type: 'elasticsearch', nodes: [es.url], index: 'logs-django-default', dataStream: true, tls: { verify: true }, compression: true, requestTimeoutMs: 20_000 },
    { logger: silentLogger, hostName: 'test' },
  );
  try {
    assert.deepEqual(await sink.start(), { kind: 'delivered' });
    es.hugeBulkAnswers = { bytes: 4 * 1024 * 1024, chunked: true };
    assert.deepEqual(await sink.send(batchOf([sampleRecord(0, { idPrefix: 'fine' })])), { kind: 'delivered' });
  } finally {
    await sink.close();
    await es.close();
  }
});
