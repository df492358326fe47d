/**
 * The Elasticsearch sink loads without apache-arrow (sinks/elasticsearch/lazy-arrow.ts): the client gets a stand-in
 * that loads the real module when first read, so the client's Arrow helpers still work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as lazy from '../../sinks/elasticsearch/lazy-arrow.js';
import '../../sinks/elasticsearch/index.js';

test('loading the sink leaves apache-arrow unloaded, and the client still gets the real module on first use', () => {
  const clientRequire = createRequire(createRequire(import.meta.url).resolve('@elastic/elasticsearch'));
  const path = clientRequire.resolve('apache-arrow/Arrow.node');
  assert.equal(lazy.arrowDeferred, true, 'the client loaded with the stand-in');
  // No module of apache-arrow's own was loaded: the only cache entry under it is the stand-in.
  const loaded = Object.keys(clientRequire.cache).filter((p) => p.includes('/apache-arrow/'));
  assert.deepEqual(loaded, [path]);
  const arrow = clientRequire('apache-arrow/Arrow.node') as Record<string, unknown>;
  assert.equal(typeof arrow['tableFromIPC'], 'function');
  assert.equal(lazy.arrowDeferred, false);
  assert.ok(Object.keys(clientRequire.cache).filter((p) => p.includes('/apache-arrow/')).length > 50, 'the real module is loaded now');
  // The client's own reference (the stand-in) answers with the real module's members.
  assert.equal(typeof arrow['RecordBatchReader'], 'function');
});
