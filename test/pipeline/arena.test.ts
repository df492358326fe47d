import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DocumentArena } from '../../src/pipeline/arena.js';
import { parsedRecord } from '../support/records.js';

const source = { path: '/logs/django.log', idPrefix: 'abc', ack() {} };
const doc = (i: number, pad = 0): string => JSON.stringify({ message: `record ${i} ${'x'.repeat(pad)} é☃` });

test('records keep their text until released; a full chunk is reused only once all of its records are released', () => {
  const arena = new DocumentArena(1024, 4);
  const records = Array.from({ length: 40 }, (_, i) => parsedRecord(source, i * 100, i * 100 + 100, i, doc(i, 50), arena));
  // 40 records of ~80 bytes need several 1 KiB chunks; nothing is released yet, so nothing is spare.
  assert.equal(arena.spareChunks, 0);
  records.forEach((r, i) => assert.equal(r.json, doc(i, 50)));
  // Some records of the first chunk released: the chunk still holds the others, so it is not reused.
  for (const r of records.slice(0, 5)) r.release();
  assert.equal(arena.spareChunks, 0);
  records.slice(5).forEach((r, i) => assert.equal(r.json, doc(i + 5, 50)));
  for (const r of records.slice(5)) r.release();
  assert.ok(arena.spareChunks >= 1 && arena.spareChunks <= 4, `spare chunks ${arena.spareChunks}`);
  // New records reuse the spare chunks and read back their own text.
  const again = Array.from({ length: 40 }, (_, i) => parsedRecord(source, i, i + 1, i, doc(1000 + i, 50), arena));
  again.forEach((r, i) => assert.equal(r.json, doc(1000 + i, 50)));
});

test('a text larger than a chunk gets a chunk of its own, and the reused chunks are not disturbed', () => {
  const arena = new DocumentArena(1024, 4);
  const small = parsedRecord(source, 0, 1, 0, doc(1), arena);
  const big = parsedRecord(source, 1, 2, 1, doc(2, 5000), arena);
  const after = parsedRecord(source, 2, 3, 2, doc(3), arena);
  assert.equal(big.json, doc(2, 5000));
  assert.equal(small.json, doc(1));
  assert.equal(after.json, doc(3));
  big.release();
  assert.equal(after.json, doc(3));
});

test('a released record refuses to be read, and a second release changes nothing', () => {
  const arena = new DocumentArena(1024, 4);
  const r = parsedRecord(source, 0, 10, 0, doc(1), arena);
  const other = parsedRecord(source, 10, 20, 1, doc(2), arena);
  r.release();
  r.release();
  assert.throws(() => r.json, /abc-0 read after it was released/);
  assert.throws(() => r.copyJson(Buffer.alloc(100), 0), /read after it was released/);
  assert.equal(other.json, doc(2));
});
