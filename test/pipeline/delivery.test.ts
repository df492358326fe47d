import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Delivery } from '../../src/pipeline/delivery.js';
import { DeadLetters } from '../../src/pipeline/dead-letters.js';
import { Batcher } from '../../src/pipeline/batcher.js';
import { Counters } from '../../src/events.js';
import { silentLogger } from '../../src/log.js';
import type { LogRecord, SourceRef } from '../../src/record.js';
import type { Batch, SendResult, Sink } from '../../src/sink.js';
import { tempDir } from '../support/agent.js';
import { batchOf } from '../../src/pipeline/batch.js';
import { TestArena } from '../support/arena.js';
import { columnBatch, type Row } from '../support/records.js';

function records(n: number, acked: number[]): LogRecord[] {
  const source: SourceRef = { path: '/x.log', idPrefix: 'p', ack: (seq) => acked.push(seq) };
  return Array.from({ length: n }, (_, i) => ({
    source,
    start: i * 10,
    end: i * 10 + 10,
    seq: i,
    bytes: 10,
    doc: { '@timestamp': '2026-01-01T00:00:00.000Z', message: `m${i}`, log: { file: { path: '/x.log' }, offset: i * 10 } },
  }));
}

/** A sink that answers from a script, recording what it was sent. */
function scriptedSink(script: SendResult[]): Sink & { sent: string[][] } {
  const sent: string[][] = [];
  return {
    name: 'scripted',
    deduplicates: true,
    sent,
    start: async () => ({ kind: 'delivered' }),
    send: async (batch: Batch) => {
      sent.push(batch.records.map((r) => r.doc.message));
      return script.shift() ?? { kind: 'delivered' };
    },
    close: async () => undefined,
  };
}

const fastRetry = { initialBackoffMs: 1, maxBackoffMs: 5, maxAttempts: 0 };

test('retry re-sends the whole batch; partial re-sends only the retry items and dead-letters the rejected', async () => {
  const dir = tempDir();
  const acked: number[] = [];
  const sink = scriptedSink([
    { kind: 'retry', reason: 'connection refused' },
    { kind: 'partial', retry: [1], rejected: [{ index: 3, reason: '400 mapper_parsing_exception: bad' }], reason: 'mixed' },
  ]);
  const events = new Counters();
  const d = new Delivery(sink, { concurrency: 1, maxPendingBatches: 2, retry: fastRetry }, new DeadLetters(dir), events, silentLogger, () => assert.fail('no fatal'));
  const rs = records(4, acked);
  d.submit(batchOf(rs));
  await d.drain();
  assert.deepEqual(sink.sent, [
    ['m0', 'm1', 'm2', 'm3'],
    ['m0', 'm1', 'm2', 'm3'],
    ['m1'],
  ]);
  assert.deepEqual([...acked].sort(), [0, 1, 2, 3]);
  const dead = readFileSync(`${dir}/dead_letters.ndjson`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(dead.length, 1);
  assert.equal(dead[0].reason, '400 mapper_parsing_exception: bad');
  assert.equal(dead[0].document.message, 'm3');
  assert.equal(dead[0].id, 'p-30');
  assert.equal(events.deadLettered, 1);
});

test('batches of rows (as the batcher makes them): partial retries, dead letters, every record acknowledged once', async () => {
  const dir = tempDir();
  const acked: number[] = [];
  const source: SourceRef = { path: '/x.log', idPrefix: 'p', ack: (seq) => acked.push(seq) };
  const rows = (from: number, n: number): Row[] =>
    Array.from({ length: n }, (_, k) => {
      const i = from + k;
      const doc = { '@timestamp': '2026-01-01T00:00:00.000Z', message: `m${i}`, log: { file: { path: '/x.log' }, offset: i * 10 } };
      return { source, start: i * 10, end: i * 10 + 10, seq: i, json: JSON.stringify(doc) };
    });
  const sink = scriptedSink([
    { kind: 'partial', retry: [1, 4], rejected: [{ index: 2, reason: '400 mapper_parsing_exception: bad' }], reason: 'mixed' },
    { kind: 'partial', retry: [1], rejected: [], reason: '429' },
  ]);
  const d = new Delivery(sink, { concurrency: 1, maxPendingBatches: 2, retry: fastRetry }, new DeadLetters(dir), new Counters(), silentLogger, () => assert.fail('no fatal'));
  // A small arena: the rows of the two batches share and reuse chunks while they are acknowledged.
  const arena = new TestArena(1024, 2);
  d.submit(columnBatch(rows(0, 6), arena));
  d.submit(columnBatch(rows(6, 6), arena));
  await d.drain();
  assert.deepEqual(sink.sent, [
    ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'],
    ['m1', 'm4'],
    ['m4'],
    ['m6', 'm7', 'm8', 'm9', 'm10', 'm11'],
  ]);
  assert.deepEqual([...acked].sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => i));
  const dead = readFileSync(`${dir}/dead_letters.ndjson`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(dead.map((x) => [x.id, x.document.message]), [['p-20', 'm2']]);
});

test('max_attempts exhausted: the records go to dead letters with the reason, and are acknowledged', async () => {
  const dir = tempDir();
  const acked: number[] = [];
  const sink = scriptedSink(Array.from({ length: 10 }, () => ({ kind: 'retry' as const, reason: '503 unavailable' })));
  const d = new Delivery(sink, { concurrency: 1, maxPendingBatches: 2, retry: { ...fastRetry, maxAttempts: 3 } }, new DeadLetters(dir), new Counters(), silentLogger, () => assert.fail('no fatal'));
  d.submit(batchOf(records(2, acked)));
  await d.drain();
  assert.equal(sink.sent.length, 3);
  assert.deepEqual(acked, [0, 1]);
  const dead = readFileSync(`${dir}/dead_letters.ndjson`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(dead.map((x) => x.reason), ['gave up after 3 attempts: 503 unavailable', 'gave up after 3 attempts: 503 unavailable']);
});

test('fatal stops delivery without acknowledging anything', async () => {
  const acked: number[] = [];
  let fatal = '';
  const sink = scriptedSink([{ kind: 'fatal', reason: '401 security_exception' }]);
  const d = new Delivery(sink, { concurrency: 1, maxPendingBatches: 2, retry: fastRetry }, new DeadLetters(tempDir()), new Counters(), silentLogger, (r) => (fatal = r));
  d.submit(batchOf(records(3, acked)));
  await d.drain();
  assert.equal(fatal, '401 security_exception');
  assert.deepEqual(acked, []);
});

test('waitForCapacity holds the reader back while max_pending_batches are outstanding', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const sink: Sink = {
    name: 'slow',
    deduplicates: true,
    start: async () => ({ kind: 'delivered' }),
    send: async () => {
      await gate;
      return { kind: 'delivered' };
    },
    close: async () => undefined,
  };
  const d = new Delivery(sink, { concurrency: 1, maxPendingBatches: 2, retry: fastRetry }, new DeadLetters(tempDir()), new Counters(), silentLogger, () => undefined);
  d.submit(batchOf(records(1, [])));
  d.submit(batchOf(records(1, [])));
  let ready = false;
  const waiting = d.waitForCapacity().then(() => (ready = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(ready, false);
  release();
  await waiting;
  assert.equal(ready, true);
  await d.drain();
});

test('the batcher closes batches on max_events, max_bytes and the flush interval', async () => {
  // Each batch as [seq, start, the document's `m`] of its rows: the right records, in order, not just how many.
  const batches: [number, number, string][][] = [];
  // A record counts its JSON bytes + 64 (RECORD_OVERHEAD_BYTES): 16 + 64 = 80 here.
  const b = new Batcher({ maxEvents: 3, maxBytes: 250, flushIntervalMs: 20 }, (batch) =>
    batches.push(batch.records.map((r) => [r.seq, r.start, (r.doc as unknown as { m: string }).m])),
  );
  const source: SourceRef = { path: '/x.log', idPrefix: 'p', ack() {} };
  const arena = new TestArena();
  const add = (i: number, pad = 0): void => {
    const { chunk, at, length } = arena.store(JSON.stringify({ m: 'x'.repeat(pad) + String(i).padStart(8, '0') }));
    b.add(source, i * 10, i * 10 + 10, i, chunk, at, length);
  };
  for (let i = 0; i < 3; i++) add(i); // 3 events of 16 bytes
  for (let i = 3; i < 5; i++) add(i); // 160 bytes: waits
  const row = (i: number, pad = 0): [number, number, string] => [i, i * 10, 'x'.repeat(pad) + String(i).padStart(8, '0')];
  assert.deepEqual(batches, [[row(0), row(1), row(2)]]);
  add(5, 84); // 100 bytes: would be 324 > 250: the pending two go first
  assert.deepEqual(batches, [[row(0), row(1), row(2)], [row(3), row(4)]]);
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(batches, [[row(0), row(1), row(2)], [row(3), row(4)], [row(5, 84)]]);
});
