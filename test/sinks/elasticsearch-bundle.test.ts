/**
 * The built agent loads the Elasticsearch client from its bundle (dist/vendor, made by src/vendor/build.mjs) with V8's
 * code cache: a cache V8 rejects (a wrapper changed on one side only, another Node) would cost ~120 ms of every start
 * without failing anything else. And the bundle is the client: it ships to a server that speaks the wire protocol.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const built = fileURLToPath(new URL('../../dist/sinks/elasticsearch/', import.meta.url));

test('the built sink takes the client from the bundle, with its code cache accepted, and apache-arrow still deferred', () => {
  // A process of its own: this one loaded the client from source already.
  const probe = `
    const { clientLoad, elasticsearch } = await import(${JSON.stringify(built + 'client-module.js')});
    const { arrowDeferred } = await import(${JSON.stringify(built + 'lazy-arrow.js')});
    console.log(JSON.stringify({ ...clientLoad, client: typeof elasticsearch.Client, arrowDeferred }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { bundled: true, cacheRejected: false, bundleError: null, client: 'function', arrowDeferred: true });
});

test('the bundled client ships a batch to a _bulk server, and the 409 of a record sent again counts as stored', async () => {
  const probe = `
    const { startEsServer } = await import(${JSON.stringify(fileURLToPath(new URL('../support/es-server.ts', import.meta.url)))});
    const { createElasticsearchSink } = await import(${JSON.stringify(built + 'index.js')});
    const { batchOf } = await import(${JSON.stringify(fileURLToPath(new URL('../../dist/src/pipeline/batch.js', import.meta.url)))});
    const es = await startEsServer();
    const sink = createElasticsearchSink({ type: 'elasticsearch', nodes: [es.url], index: 'logs-app-default', dataStream: true, tls: { verify: true }, compression: false, requestTimeoutMs: 5000 }, { logger: { debug() {}, info() {}, warn() {}, error() {} }, hostName: 'h' });
    const records = [0, 1, 2].map((i) => ({ source: { path: '/l', idPrefix: 'p', ack() {} }, start: i * 10, end: i * 10 + 10, seq: i, bytes: 10, doc: { '@timestamp': '2026-12-06T00:00:00.000Z', message: 'm' + i } }));
    const results = [await sink.start(), await sink.send(batchOf(records)), await sink.send(batchOf(records))];
    const stored = [...es.docs.get('logs-app-default').entries()].map(([id, doc]) => [id, doc.message]);
    console.log(JSON.stringify({ results: results.map((r) => r.kind), stored, attempts: [...es.createAttempts.values()] }));
    await sink.close();
    await es.close();`;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  // Stored under their ids, each document its own; the second send was answered 409 item by item and counts as stored.
  assert.deepEqual(JSON.parse(run.stdout.trim().split('\n').pop()!), {
    results: ['delivered', 'delivered', 'delivered'],
    stored: [['p-0', 'm0'], ['p-10', 'm1'], ['p-20', 'm2']],
    attempts: [2, 2, 2],
  });
});

test('a damaged bundle is not the end: the package itself is loaded, and why is kept', () => {
  // The built modules beside a bundle cut short, in a directory under the project (so that packages resolve).
  const root = mkdtempSync(join(fileURLToPath(new URL('../..', import.meta.url)), '.bundle-test-'));
  try {
    mkdirSync(join(root, 'sinks', 'elasticsearch'), { recursive: true });
    mkdirSync(join(root, 'vendor'));
    for (const f of ['client-module.js', 'lazy-arrow.js']) copyFileSync(join(built, f), join(root, 'sinks', 'elasticsearch', f));
    writeFileSync(join(root, 'vendor', 'elasticsearch.cjs'), readFileSync(join(built, '..', '..', 'vendor', 'elasticsearch.cjs'), 'utf8').slice(0, 100_000));
    const probe = `
      const { clientLoad, elasticsearch } = await import(${JSON.stringify(join(root, 'sinks', 'elasticsearch', 'client-module.js'))});
      console.log(JSON.stringify({ ...clientLoad, client: typeof elasticsearch.Client }));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const load = JSON.parse(run.stdout) as { bundled: boolean; bundleError: string | null; client: string };
    assert.equal(load.bundled, false);
    assert.match(String(load.bundleError), /Unexpected|SyntaxError|missing|end of input/i);
    assert.equal(load.client, 'function');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
