/** The test server's own protocol behaviours, driven with plain fetch (the sink tests only exercise `create`). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { startEsServer } from '../support/es-server.js';

const NDJSON = 'application/x-ndjson';

async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': NDJSON, ...headers } });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

test('info, product header, index overwrite, data stream rules, content types, gzip', async () => {
  const es = await startEsServer({ version: '9.1.0' });
  try {
    const info = await fetch(es.url);
    assert.equal(info.headers.get('x-elastic-product'), 'Elasticsearch');
    assert.equal(((await info.json()) as any).version.number, '9.1.0');

    // index creates then overwrites (200 updated, _version 2); create of an existing id is 409.
    const body = '{"index":{"_id":"1"}}\n{"a":1}\n{"index":{"_id":"1"}}\n{"a":2}\n{"create":{"_id":"1"}}\n{"a":3}\n';
    const r = await post(`${es.url}/plain/_bulk`, body);
    assert.equal(r.status, 200);
    assert.equal(r.json.errors, true);
    assert.deepEqual(r.json.items.map((i: any) => Object.values(i)[0]).map((i: any) => [i.status, i._version ?? null]), [[201, 1], [200, 2], [409, null]]);
    assert.match(r.json.items[2].create.error.reason, /^\[1\]: version conflict, document already exists \(current version \[2\]\)$/);
    assert.deepEqual(es.docs.get('plain')?.get('1'), { a: 2 });

    // A logs-*-* data stream takes only create, needs @timestamp, and reports its backing index.
    const ds = await post(`${es.url}/_bulk`, '{"index":{"_index":"logs-a-b","_id":"x"}}\n{"@timestamp":"2025-01-01T00:00:00Z"}\n' +
      '{"create":{"_index":"logs-a-b","_id":"y"}}\n{"message":"no time"}\n{"create":{"_index":"logs-a-b","_id":"z"}}\n{"@timestamp":"2025-01-01T00:00:00Z"}\n',
      { 'content-type': 'application/vnd.elasticsearch+x-ndjson; compatible-with=8' });
    assert.deepEqual(ds.json.items.map((i: any) => i[Object.keys(i)[0]!].status), [400, 400, 201]);
    assert.match(ds.json.items[2].create._index, /^\.ds-logs-a-b-\d{4}\.\d{2}\.\d{2}-000001$/);

    // gzip request body; wrong media types are refused.
    const gz = await post(`${es.url}/_bulk`, gzipSync('{"create":{"_index":"g","_id":"1"}}\n{"m":1}\n'), { 'content-encoding': 'gzip' });
    assert.equal(gz.json.items[0].create.status, 201);
    assert.equal((await post(`${es.url}/_bulk`, '{}\n', { 'content-type': 'text/plain' })).status, 406);
    assert.equal((await post(`${es.url}/_bulk`, '{}\n', { 'content-type': 'application/vnd.elasticsearch+x-ndjson; compatible-with=7' })).status, 400);
    assert.equal((await post(`${es.url}/_bulk`, '{"create":{"_index":"g"}}\n{"m":1}')).status, 400, 'missing final newline');

    // Templates: 404 until PUT, then returned in the GET shape.
    assert.equal((await fetch(`${es.url}/_index_template/t1`)).status, 404);
    const put = await fetch(`${es.url}/_index_template/t1`, { method: 'PUT', body: '{"index_patterns":["x"]}', headers: { 'content-type': 'application/json' } });
    assert.deepEqual(await put.json(), { acknowledged: true });
    assert.deepEqual(await (await fetch(`${es.url}/_index_template/t1`)).json(), { index_templates: [{ name: 't1', index_template: { index_patterns: ['x'] } }] });

    assert.equal(es.stats.bulkRequests, 6);
  } finally {
    await es.close();
  }
});

test('auth: 401 security_exception without or with wrong credentials', async () => {
  const es = await startEsServer({ auth: { apiKey: 'k1' } });
  try {
    const none = await fetch(es.url);
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as any).error.type, 'security_exception');
    assert.equal((await fetch(es.url, { headers: { authorization: 'ApiKey k2' } })).status, 401);
    assert.equal((await fetch(es.url, { headers: { authorization: 'ApiKey k1' } })).status, 200);
  } finally {
    await es.close();
  }
});
