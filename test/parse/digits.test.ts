import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { digitCount, writeDigits } from '../../src/parse/digits.js';

/** The digits as written into a buffer full of garbage, checked against String(n) (and nothing written past them). */
function written(n: number): string {
  const out = Buffer.alloc(24, 0x23);
  const end = writeDigits(out, 3, n);
  assert.equal(end, 3 + digitCount(n));
  assert.equal(out.toString('latin1', 0, 3) + out.toString('latin1', end), '#'.repeat(24 - end + 3), `bytes around ${n} untouched`);
  return out.toString('latin1', 3, end);
}

test('offsets are written as String() writes them: every edge of a digit count and of 32-bit arithmetic', () => {
  const edges = [0, 1, 9, 2 ** 31 - 1, 2 ** 31, 2 ** 32, Number.MAX_SAFE_INTEGER];
  for (let e = 1; e <= 15; e++) edges.push(10 ** e - 1, 10 ** e, 10 ** e + 1);
  for (let n = 0; n < 20_000; n++) edges.push(n);
  for (const n of edges) {
    assert.equal(written(n), String(n));
    assert.equal(digitCount(n), String(n).length, `digits of ${n}`);
  }
});

test('property: any safe non-negative integer is written as String() writes it', () => {
  fc.assert(
    fc.property(fc.oneof(fc.nat(), fc.maxSafeNat()), (n) => {
      assert.equal(written(n), String(n));
    }),
    { numRuns: 20_000 },
  );
});
