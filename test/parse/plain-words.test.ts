/** parse/plain-words.ts: the four-bytes-at-a-time test against the byte-by-byte one. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { plainWord, skipPlainWords, wordsOf } from '../../src/parse/plain-words.js';

function plainByte(b: number): boolean {
  return b >= 0x20 && b < 0x80 && b !== 0x22 && b !== 0x5c;
}

function word(bytes: readonly number[]): number {
  return new Uint32Array(Uint8Array.from(bytes).buffer)[0]!;
}

test('every byte value at every position, among plain and borderline neighbours', () => {
  const neighbours = [0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7e, 0x7f, 0x41];
  let checked = 0;
  for (let position = 0; position < 4; position++) {
    for (let b = 0; b < 256; b++) {
      for (const n of neighbours) {
        const bytes = [n, n, n, n];
        bytes[position] = b;
        assert.equal(plainWord(word(bytes)), bytes.every(plainByte), `bytes ${bytes.map((x) => x.toString(16)).join(' ')}`);
        checked++;
      }
    }
  }
  assert.equal(checked, 4 * 256 * neighbours.length);
});

test('property: any four bytes', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), (bytes) => {
      assert.equal(plainWord(word(bytes)), bytes.every(plainByte));
    }),
    { numRuns: 20_000 },
  );
});

test('skipPlainWords stops at the word of the first byte that is not plain, and before `to`', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), fc.integer({ min: 0, max: 16 }), fc.integer({ min: 0, max: 64 }), (data, startWord, toPad) => {
      const buf = Buffer.alloc(64, 0x61);
      buf.set(data);
      const words = wordsOf(buf)!;
      const p = Math.min(startWord * 4, 64);
      const to = Math.min(64, p + toPad);
      const q = skipPlainWords(words, p, to);
      assert.ok(q >= p && q <= to && q % 4 === 0);
      for (let i = p; i < q; i++) assert.ok(plainByte(buf[i]!), `byte ${i} skipped but not plain`);
      // It stopped because the next word is not whole before `to`, or is not plain.
      if (q + 4 <= to) assert.ok(![0, 1, 2, 3].every((k) => plainByte(buf[q + k]!)));
    }),
    { numRuns: 5000 },
  );
  // A buffer that does not start at a multiple of 4 in its memory has no words view.
  assert.equal(wordsOf(Buffer.alloc(16).subarray(1)), null);
});
