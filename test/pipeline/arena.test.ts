import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestArena } from '../support/arena.js';
import type { SourceRef } from '../../src/record.js';
import { columnBatch, type Row } from '../support/records.js';
import { ColumnBatch, ColumnPool } from '../../src/pipeline/batch.js';

const acked: number[] = [];
const source: SourceRef = { path: '/logs/django.log', idPrefix: 'abc', ack: (seq) => acked.push(seq) };
const doc = (i: number, pad = 0): string => JSON.stringify({ message: `record ${i} ${'x'.repeat(pad)} é☃` });
const addRow = (batch: ColumnBatch, arena: TestArena, r: Row): void => {
  const { chunk, at, length } = arena.store(r.json);
  batch.add(r.source, r.start, r.end, r.seq, chunk, at, length);
};
const rows = (n: number, from = 0, pad = 50): Row[] =>
  Array.from({ length: n }, (_, k) => ({ source, start: (from + k) * 100, end: (from + k) * 100 + 100, seq: from + k, json: doc(from + k, pad) }));

test('rows keep their text until acknowledged; a full chunk is reused only once all of its rows are', () => {
  const arena = new TestArena(1024, 4);
  // 40 rows of ~80 bytes need several 1 KiB chunks; nothing acknowledged yet, so nothing is spare.
  const batch = columnBatch(rows(40), arena);
  assert.equal(arena.spareChunks, 0);
  batch.records.forEach((r, i) => assert.equal(r.json, doc(i, 50)));
  // Some rows of the first chunk acknowledged: the chunk still holds the others, so it is not reused.
  for (let i = 0; i < 5; i++) batch.acknowledge(i);
  assert.equal(arena.spareChunks, 0);
  for (let i = 5; i < 40; i++) assert.equal(batch.records[i]!.json, doc(i, 50));
  for (let i = 5; i < 40; i++) batch.acknowledge(i);
  assert.ok(arena.spareChunks >= 1 && arena.spareChunks <= 4, `spare chunks ${arena.spareChunks}`);
  assert.deepEqual(acked.splice(0), Array.from({ length: 40 }, (_, i) => i));
  // New rows reuse the spare chunks and read back their own text, through records and through the columns.
  const again = columnBatch(rows(40, 1000), arena);
  again.records.forEach((r, i) => assert.equal(r.json, doc(1000 + i, 50)));
  const out = Buffer.alloc(again.jsonBytes(7));
  again.writeJson(7, out, 0);
  assert.equal(out.toString('utf8'), doc(1007, 50));
  assert.equal(again.id(7), 'abc-100700');
});

test('a subset keeps the rows still owed, and acknowledging through it frees them', () => {
  const arena = new TestArena(1024, 4);
  const batch = columnBatch(rows(10), arena);
  const retry = [2, 5, 9];
  for (let i = 0; i < 10; i++) if (!retry.includes(i)) batch.acknowledge(i);
  const part = batch.subset(retry);
  assert.equal(part.size, 3);
  assert.deepEqual(part.records.map((r) => [r.start, r.seq, r.json]), retry.map((i) => [i * 100, i, doc(i, 50)]));
  for (let i = 0; i < 3; i++) part.acknowledge(i);
  assert.deepEqual(acked.splice(0).sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i));
});

test('a text larger than a chunk gets a chunk of its own, and the others are not disturbed', () => {
  const arena = new TestArena(1024, 4);
  const batch = columnBatch([...rows(1, 0, 0), ...rows(1, 1, 5000), ...rows(1, 2, 0)], arena);
  assert.equal(batch.records[1]!.json, doc(1, 5000));
  batch.acknowledge(1);
  assert.equal(batch.records[0]!.json, doc(0, 0));
  assert.equal(batch.records[2]!.json, doc(2, 0));
  acked.splice(0);
});

test('an acknowledged row refuses to be read or acknowledged again', () => {
  const arena = new TestArena(1024, 4);
  const batch = columnBatch(rows(2), arena);
  const [first, second] = batch.records;
  batch.acknowledge(0);
  assert.throws(() => batch.acknowledge(0), /acknowledged twice/);
  assert.throws(() => first!.json, /read after it was acknowledged/);
  assert.throws(() => batch.writeJson(0, Buffer.alloc(100), 0), /read after it was acknowledged/);
  assert.equal(second!.json, doc(1, 50));
  acked.splice(0);
});

test('a disposed batch gives its columns to the next batch and refuses to be read', () => {
  const arena = new TestArena(1024, 4);
  const pool = new ColumnPool(8);
  const first = new ColumnBatch(pool);
  for (const r of rows(3)) addRow(first, arena, r);
  const view = first.records[1]!;
  for (let i = 0; i < 3; i++) first.acknowledge(i);
  first.dispose();
  assert.equal(first.size, 0);
  assert.throws(() => view.json, /read after it was acknowledged/);
  // The next batch reuses the columns: its rows are its own, past the pool's size too (the columns widen).
  const second = new ColumnBatch(pool);
  for (const r of rows(20, 50)) addRow(second, arena, r);
  assert.deepEqual(second.records.map((r) => [r.start, r.seq, r.json]), rows(20, 50).map((r) => [r.start, r.seq, r.json]));
  acked.splice(0);
});
