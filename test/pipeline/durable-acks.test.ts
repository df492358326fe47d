/**
 * Acknowledgements made durable: lanes per log for sinks that cannot deduplicate, the Checkpointer (coalescing,
 * retrying, reporting a fault), and delivery on a data_dir that refuses writes (a real full tmpfs where the test may
 * mount one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Delivery } from '../../src/pipeline/delivery.js';
import { DeadLetters } from '../../src/pipeline/dead-letters.js';
import { Checkpointer, type AckDurability } from '../../src/pipeline/checkpointer.js';
import type { RegistrySource } from '../../src/pipeline/checkpointer.js';
import type { RegistrySnapshot } from '../../src/pipeline/registry.js';
import { Lanes, logOf } from '../../src/pipeline/lanes.js';
import { RegistryWriter, registryPath, type Checkpoint } from '../../src/pipeline/registry.js';
import { batchOf } from '../../src/pipeline/batch.js';
import { Counters } from '../../src/events.js';
import { silentLogger } from '../../src/log.js';
import type { LogRecord, SourceRef } from '../../src/record.js';
import type { Batch, SendResult, Sink } from '../../src/sink.js';
import { tempDir, waitFor } from '../support/agent.js';
import { mountSmallDisk } from '../support/small-disk.js';

const fastRetry = { initialBackoffMs: 1, maxBackoffMs: 5, maxAttempts: 0 };
const tick = (ms = 10): Promise<void> => new Promise((r) => setTimeout(r, ms));

function source(path: string, acked: number[] = []): SourceRef {
  return { path, idPrefix: path, ack: (seq) => acked.push(seq) };
}

function records(src: SourceRef, from: number, n: number): LogRecord[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return { source: src, start: i * 10, end: i * 10 + 10, seq: i, bytes: 10, doc: { '@timestamp': '2026-01-01T00:00:00.000Z', message: `${src.path}#${i}`, log: { file: { path: src.path }, offset: i * 10 } } };
  });
}

/** A sink that logs each send and answers `delivered` (or what `answer` says). */
function loggingSink(deduplicates: boolean, log: string[], answer: (batch: Batch) => SendResult = () => ({ kind: 'delivered' })): Sink {
  return {
    name: 'test',
    deduplicates,
    start: async () => ({ kind: 'delivered' }),
    send: async (batch: Batch) => {
      log.push(`send ${batch.records.map((r) => r.doc.message).join(',')}`);
      await tick(1);
      return answer(batch);
    },
    close: async () => undefined,
  };
}

/** Durability the test controls: each persist() waits until the test lets it through. */
function gatedDurability(log: string[]): AckDurability & { release(): void } {
  let gates: (() => void)[] = [];
  return {
    fault: null,
    onFaultChange: () => undefined,
    persist() {
      log.push('persist');
      return new Promise<boolean>((resolve) => gates.push(() => (log.push('durable'), resolve(true))));
    },
    release() {
      const open = gates;
      gates = [];
      for (const g of open) g();
    },
  };
}

test('logOf: a rotated generation belongs to the log of its file', () => {
  assert.equal(logOf('/l/django.log.1'), '/l/django.log');
  assert.equal(logOf('/l/django.log-20261127'), '/l/django.log');
  assert.equal(logOf('/c/abc/abc-json.log.3'), '/c/abc/abc-json.log');
  assert.equal(logOf('/l/django.log'), '/l/django.log');
});

test('lanes: a batch of a log waits for the earlier batch of that log (or of its rotated generation), not for others', async () => {
  const lanes = new Lanes();
  const a = source('/l/a.log');
  const a1 = source('/l/a.log.1');
  const b = source('/l/b.log');
  const order: string[] = [];
  const leaveFirst = await lanes.enter([a]);
  const second = lanes.enter([a1]).then((leave) => (order.push('a.log.1'), leave));
  const third = lanes.enter([b]).then((leave) => (order.push('b.log'), leave));
  await tick();
  assert.deepEqual(order, ['b.log'], 'b.log is another log: it goes; a.log.1 waits for a.log');
  leaveFirst();
  (await second)();
  (await third)();
  assert.deepEqual(order, ['b.log', 'a.log.1']);
  assert.equal(lanes.size, 0, 'nothing is kept once every batch has left');
});

test('a sink that cannot deduplicate: the next batch of a log is sent only once the acknowledgement before it is durable', async () => {
  const log: string[] = [];
  const durability = gatedDurability(log);
  const acked: number[] = [];
  const src = source('/l/a.log', acked);
  const d = new Delivery(loggingSink(false, log), { concurrency: 4, maxPendingBatches: 8, retry: fastRetry }, new DeadLetters(tempDir()), new Counters(), silentLogger, () => assert.fail('no fatal'), durability);
  d.submit(batchOf(records(src, 0, 2)));
  d.submit(batchOf(records(src, 2, 2)));
  await tick(30);
  assert.deepEqual(log, ['send /l/a.log#0,/l/a.log#1', 'persist'], 'the second batch waits for the first one\'s checkpoint');
  assert.deepEqual(acked, [0, 1]);
  durability.release();
  await tick(30);
  assert.deepEqual(log, ['send /l/a.log#0,/l/a.log#1', 'persist', 'durable', 'send /l/a.log#2,/l/a.log#3', 'persist']);
  durability.release();
  await d.drain();
});

test('a sink that deduplicates: batches go side by side, acknowledgements reach the registry on its timer', async () => {
  const log: string[] = [];
  const durability = gatedDurability(log);
  const src = source('/l/a.log');
  const d = new Delivery(loggingSink(true, log), { concurrency: 4, maxPendingBatches: 8, retry: fastRetry }, new DeadLetters(tempDir()), new Counters(), silentLogger, () => assert.fail('no fatal'), durability);
  d.submit(batchOf(records(src, 0, 2)));
  d.submit(batchOf(records(src, 2, 2)));
  await d.drain();
  assert.deepEqual(log, ['send /l/a.log#0,/l/a.log#1', 'send /l/a.log#2,/l/a.log#3']);
});

test('a partial answer: what was stored is checkpointed before the rest of the log is sent again', async () => {
  const log: string[] = [];
  const durability = gatedDurability(log);
  const src = source('/l/a.log');
  let first = true;
  const sink = loggingSink(false, log, () => {
    if (!first) return { kind: 'delivered' };
    first = false;
    return { kind: 'partial', retry: [1], rejected: [], reason: 'throttled' };
  });
  const d = new Delivery(sink, { concurrency: 1, maxPendingBatches: 8, retry: fastRetry }, new DeadLetters(tempDir()), new Counters(), silentLogger, () => assert.fail('no fatal'), durability);
  d.submit(batchOf(records(src, 0, 2)));
  await tick(30);
  assert.deepEqual(log, ['send /l/a.log#0,/l/a.log#1', 'persist']);
  durability.release();
  await tick(30);
  durability.release();
  await d.drain();
  assert.deepEqual(log.slice(0, 4), ['send /l/a.log#0,/l/a.log#1', 'persist', 'durable', 'send /l/a.log#1']);
});

test('Checkpointer: concurrent requests share writes; each resolves once what was acknowledged before it is on disk', async () => {
  const dir = tempDir();
  let offset = 0;
  let taken = 0;
  const checkpoints = (): Checkpoint[] => {
    taken++;
    return [{ path: '/l/a.log', dev: 1, ino: 2, fingerprint: 'ab'.repeat(16), fingerprintBytes: 10, offset, size: offset, mtimeMs: 0, ackedAt: '' }];
  };
  const events = new Counters();
  const c = new Checkpointer(new RegistryWriter(dir), changing(() => ({ checkpoints: checkpoints(), losses: [] })), dir, events, silentLogger);
  const waits: Promise<boolean>[] = [];
  for (let i = 1; i <= 20; i++) {
    offset = i * 100;
    waits.push(c.persist());
  }
  assert.deepEqual(await Promise.all(waits), waits.map(() => true));
  assert.ok(taken <= 2, `${taken} writes for 20 requests`);
  assert.equal((JSON.parse(readFileSync(registryPath(dir), 'utf8')) as { checkpoints: Checkpoint[] }).checkpoints[0]!.offset, 2000);
  offset = 2100;
  const during = c.persist();
  offset = 2200; // acknowledged after the write above took its snapshot: needs (and gets) the next one
  const after = c.persist();
  await Promise.all([during, after]);
  assert.equal((JSON.parse(readFileSync(registryPath(dir), 'utf8')) as { checkpoints: Checkpoint[] }).checkpoints[0]!.offset, 2200);
});

test('Checkpointer on a full disk: the fault is reported, the old registry kept, writes retried until the space returns', async (t) => {
  const disk = mountSmallDisk(256);
  if (!disk) return t.skip('needs root to mount a small tmpfs');
  try {
    let offset = 10;
    const checkpoints = (): Checkpoint[] => [{ path: '/l/a.log', dev: 1, ino: 2, fingerprint: 'ab'.repeat(16), fingerprintBytes: 10, offset, size: offset, mtimeMs: 0, ackedAt: 'x'.repeat(60) }];
    const events = new Counters();
    const c = new Checkpointer(new RegistryWriter(disk.dir), changing(() => ({ checkpoints: checkpoints(), losses: [] })), disk.dir, events, silentLogger);
    assert.equal(await c.persist(), true);
    const before = readFileSync(registryPath(disk.dir), 'utf8');
    let changes = 0;
    c.onFaultChange(() => changes++);
    disk.fill();
    offset = 20;
    const waiting = c.persist();
    await waitFor(() => events.checkpointFailures >= 2, 5_000, 'a failed write and its retry');
    assert.match(c.fault ?? '', /ENOSPC/);
    assert.equal(changes, 1);
    assert.ok(events.checkpointFailures >= 2, 'retried');
    assert.equal(readFileSync(registryPath(disk.dir), 'utf8'), before, 'registry.json is untouched');
    assert.deepEqual((await import('node:fs')).readdirSync(disk.dir).sort(), ['.ballast', 'registry.json'], 'no temp file left');
    disk.free();
    assert.equal(await waiting, true);
    assert.equal(c.fault, null);
    assert.equal(changes, 2);
    assert.match(readFileSync(registryPath(disk.dir), 'utf8'), /"offset": 20/);
  } finally {
    disk.unmount();
  }
});

test('Checkpointer stopped while failing: waiting requests resolve false; flush() says why the last write failed', async (t) => {
  const disk = mountSmallDisk(256);
  if (!disk) return t.skip('needs root to mount a small tmpfs');
  try {
    let offset = 10;
    const c = new Checkpointer(new RegistryWriter(disk.dir), changing(() => ({ checkpoints: [{ path: '/l/a.log', dev: 1, ino: 2, fingerprint: 'ab'.repeat(16), fingerprintBytes: 10, offset: offset++, size: 0, mtimeMs: 0, ackedAt: 'x'.repeat(60) }], losses: [] })), disk.dir, new Counters(), silentLogger);
    disk.fill();
    const waiting = c.persist();
    await tick(50);
    c.stop();
    assert.equal(await waiting, false);
    assert.match((await c.flush()) ?? '', /ENOSPC/);
  } finally {
    disk.unmount();
  }
});

test('dead letters on a full disk: their records are not acknowledged, capacity is withheld, and all resumes when space returns', async (t) => {
  const disk = mountSmallDisk(256);
  if (!disk) return t.skip('needs root to mount a small tmpfs');
  try {
    const acked: number[] = [];
    const src = source('/l/a.log', acked);
    const events = new Counters();
    const sink = loggingSink(true, [], (batch) => ({ kind: 'partial', retry: [], rejected: batch.records.map((_, index) => ({ index, reason: '400 mapper_parsing_exception: x' })), reason: 'refused' }));
    const d = new Delivery(sink, { concurrency: 1, maxPendingBatches: 8, retry: fastRetry }, new DeadLetters(disk.dir), events, silentLogger, () => assert.fail('no fatal'));
    disk.fill();
    d.submit(batchOf(records(src, 0, 3)));
    await waitFor(() => events.deadLetterFailures >= 2, 5_000, 'a failed dead-letter write and its retry');
    assert.deepEqual(acked, [], 'nothing acknowledged while its dead letters are not on disk');
    assert.match(d.storageFault ?? '', /^cannot write dead letters to .*ENOSPC/);
    assert.equal(d.hasCapacity(), false, 'reading pauses');
    assert.ok(events.deadLetterFailures >= 2, 'retried');
    let resumed = false;
    const waiting = d.waitForCapacity().then(() => (resumed = true));
    disk.free();
    await d.drain();
    await waiting;
    assert.equal(resumed, true);
    assert.deepEqual(acked, [0, 1, 2]);
    assert.equal(d.storageFault, null);
    assert.equal(readFileSync(`${disk.dir}/dead_letters.ndjson`, 'utf8').trim().split('\n').length, 3);
  } finally {
    disk.unmount();
  }
});

test('start(): retry.max_attempts bounds the sink\'s preparation; abortNow() ends a start that hangs', async () => {
  let starts = 0;
  let fatal = '';
  const refusing: Sink = { ...loggingSink(true, []), start: async () => (starts++, { kind: 'retry', reason: 'connect ECONNREFUSED 127.0.0.1:9' }) };
  const d = new Delivery(refusing, { concurrency: 1, maxPendingBatches: 2, retry: { ...fastRetry, maxAttempts: 3 } }, new DeadLetters(tempDir()), new Counters(), silentLogger, (r) => (fatal = r));
  assert.equal(await d.start(), false);
  assert.equal(starts, 3);
  assert.equal(fatal, 'sink not ready after 3 attempts (delivery.retry.max_attempts): connect ECONNREFUSED 127.0.0.1:9');

  const hanging: Sink = { ...loggingSink(true, []), start: () => new Promise<SendResult>(() => undefined) };
  const h = new Delivery(hanging, { concurrency: 1, maxPendingBatches: 2, retry: fastRetry }, new DeadLetters(tempDir()), new Counters(), silentLogger, () => assert.fail('no fatal'));
  const started = h.start();
  await tick(20);
  const t0 = Date.now();
  h.abortNow();
  assert.equal(await started, false);
  assert.ok(Date.now() - t0 < 100);
});

/** A registry source whose content is taken as changed at every write (these tests change it on every call). */
function changing(snapshot: () => RegistrySnapshot): RegistrySource {
  let version = 0;
  return { version: () => version++, snapshot };
}
