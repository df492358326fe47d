import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AckTracker } from '../../src/pipeline/acks.js';

test('the checkpoint is a contiguous low-water mark when acks arrive out of order', () => {
  const t = new AckTracker(0);
  const a = t.register(10);
  const b = t.register(20);
  const c = t.register(30);
  t.ack(c);
  assert.equal(t.committed, 0);
  t.ack(a);
  assert.equal(t.committed, 10);
  t.ack(b);
  assert.equal(t.committed, 30);
  assert.equal(t.outstanding, 0);
});

test('a record emitted while earlier bytes are held carries the held offset (Docker stdout piece + stderr line)', () => {
  const t = new AckTracker(100);
  // stderr line [200,300) completes while an stdout piece from 100 is held: safe offset stays 100
  const stderr = t.register(100);
  // the joined stdout record [100,400) completes: everything up to 400 is done
  const stdout = t.register(400);
  t.ack(stderr);
  assert.equal(t.committed, 100);
  t.ack(stdout);
  assert.equal(t.committed, 400);
});

test('advance() moves the checkpoint over bytes without records, after outstanding ones', () => {
  const t = new AckTracker(0);
  t.advance(5);
  assert.equal(t.committed, 5);
  const a = t.register(10);
  t.advance(12);
  assert.equal(t.committed, 5);
  t.ack(a);
  assert.equal(t.committed, 12);
});

test('many records: compaction keeps seqs right; duplicate acks are harmless', () => {
  const t = new AckTracker(0);
  const seqs: number[] = [];
  for (let i = 1; i <= 5000; i++) seqs.push(t.register(i * 10));
  for (let i = 0; i < 3000; i++) t.ack(seqs[i]!);
  t.ack(seqs[0]!);
  assert.equal(t.committed, 30000);
  for (let i = 4999; i >= 3000; i--) t.ack(seqs[i]!);
  assert.equal(t.committed, 50000);
  assert.equal(t.outstanding, 0);
});

test('tens of thousands outstanding, acknowledged in a shuffled order, across ring growth and wrap-around', () => {
  const t = new AckTracker(0);
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  let registered = 0;
  let expectedCommitted = 0;
  const pending: number[] = [];
  const acked = new Set<number>();
  for (let round = 0; round < 50; round++) {
    // Register a few thousand (the ring grows past 1024 and wraps), then ack a random subset.
    for (let k = rand(3000); k > 0; k--) pending.push(t.register(++registered * 10));
    for (let k = rand(pending.length + 1); k > 0; k--) {
      const seq = pending.splice(rand(pending.length), 1)[0]!;
      t.ack(seq);
      t.ack(seq); // a duplicate ack changes nothing
      acked.add(seq);
    }
    // The committed offset is that of the longest acknowledged prefix of seqs.
    while (acked.has(expectedCommitted)) expectedCommitted++;
    assert.equal(t.committed, expectedCommitted * 10);
    assert.equal(t.outstanding, registered - expectedCommitted);
  }
  for (const seq of pending) t.ack(seq);
  assert.equal(t.committed, registered * 10);
  assert.equal(t.outstanding, 0);
  t.advance(registered * 10 + 5);
  assert.equal(t.committed, registered * 10 + 5);
});

test('records acknowledged beyond a held one are remembered as ranges until the checkpoint passes them', () => {
  const t = new AckTracker(100);
  // A stdout piece from 100 is held; stderr lines [200,300) and [300,350) complete and are stored (popped at once).
  t.ack(t.register(100, 200, 300));
  t.ack(t.register(100, 300, 350));
  assert.equal(t.committed, 100);
  assert.equal(t.outstanding, 0);
  assert.deepEqual(t.ackedAhead(10), [[200, 350]], 'popped, but still beyond the checkpoint: a restart must skip them');
  // One not yet stored after them is not in the ranges; one stored behind it is.
  const pending = t.register(100, 350, 400);
  t.ack(t.register(100, 400, 450));
  assert.deepEqual(t.ackedAhead(10), [[200, 350], [400, 450]]);
  t.ack(pending);
  // The held line completes [100, 500) and is stored: the checkpoint passes everything.
  t.ack(t.register(500, 100, 500));
  assert.equal(t.committed, 500);
  assert.deepEqual(t.ackedAhead(10), []);
});
