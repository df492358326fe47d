import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import type { LogRecord } from '../../src/record.js';
import type { Batch } from '../../src/sink.js';
import { silentLogger } from '../../src/log.js';
import { createStdoutSink } from '../../sinks/stdout/index.js';
import { batchOf as listBatch } from '../../src/pipeline/batch.js';

function record(i: number): LogRecord {
  return {
    source: { path: '/var/log/app/django.log', idPrefix: 'p', ack() {} },
    start: i * 10,
    end: i * 10 + 10,
    seq: i,
    bytes: 10,
    doc: { '@timestamp': '2025-01-01T00:00:00.000Z', message: `m${i}`.padEnd(40, '.'), log: { file: { path: '/x' }, offset: i * 10 } },
  };
}
const batchOf = (from: number, n: number): Batch => listBatch(Array.from({ length: n }, (_, k) => record(from + k)));
const deps = { logger: silentLogger, hostName: 'test' };

test('writes NDJSON and waits for a slow reader to drain', async () => {
  const out = new PassThrough({ highWaterMark: 64 });
  const sink = createStdoutSink({ type: 'stdout' }, deps, out);
  let settled = false;
  const sent = sink.send(batchOf(0, 20)).then((r) => ((settled = true), r));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(settled, false, 'send waits while nobody reads');
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  assert.deepEqual(await sent, { kind: 'delivered' });
  await sink.close();
  const lines = text.trimEnd().split('\n');
  assert.equal(lines.length, 20);
  assert.equal((JSON.parse(lines[3]!) as { message: string }).message, record(3).doc.message);
});

test('EPIPE is fatal and does not crash the process', async () => {
  const out = new Writable({
    write(_chunk, _enc, cb) {
      cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    },
  });
  const sink = createStdoutSink({ type: 'stdout' }, deps, out);
  const r = await sink.send(batchOf(0, 1));
  assert.equal(r.kind, 'fatal');
  assert.match(r.kind === 'fatal' ? r.reason : '', /EPIPE/);
  assert.equal((await sink.send(batchOf(1, 1))).kind, 'fatal');
});
