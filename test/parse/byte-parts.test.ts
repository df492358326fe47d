import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { copyBytes, FixedPart, KeptPart, putPart } from '../../src/parse/byte-parts.js';

/** Buffers as the parsers meet them: plain, a slice of Node's pool (a byteOffset), shared memory. */
function buffers(size: number): Buffer[] {
  return [Buffer.alloc(size, 0x23), Buffer.from('#'.repeat(size)), Buffer.from(new SharedArrayBuffer(size)).fill(0x23)];
}

test('parts of every length up to past the word loop are written whole, at every alignment, and nothing around them', () => {
  for (let n = 0; n <= 300; n++) {
    const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff));
    const part = new FixedPart(bytes);
    for (const out of buffers(n + 16)) {
      for (let p = 0; p < 4; p++) {
        out.fill(0x23);
        assert.equal(putPart(out, p + 3, part), p + 3 + n);
        assert.deepEqual(out.subarray(p + 3, p + 3 + n), bytes, `part of ${n} at ${p + 3}`);
        assert.ok(out.subarray(0, p + 3).every((b) => b === 0x23) && out.subarray(p + 3 + n).every((b) => b === 0x23), `bytes around a part of ${n}`);
      }
    }
  }
});

test('property: copies between buffers that take turns (as the views kept of the last ones change) are exact', () => {
  const pool = [...buffers(600), ...buffers(600)];
  fc.assert(
    fc.property(
      fc.array(fc.record({ src: fc.nat({ max: pool.length - 1 }), out: fc.nat({ max: pool.length - 1 }), from: fc.nat({ max: 290 }), n: fc.nat({ max: 300 }), p: fc.nat({ max: 290 }) }), { minLength: 1, maxLength: 30 }),
      fc.uint8Array({ minLength: 600, maxLength: 600 }),
      (copies, seed) => {
        for (const b of pool) b.set(seed);
        const model = pool.map((b) => Buffer.from(b));
        for (const c of copies) {
          if (c.src === c.out) continue; // the parsers never copy within one buffer
          assert.equal(copyBytes(pool[c.src]!, c.from, c.from + c.n, pool[c.out]!, c.p), c.p + c.n);
          model[c.src]!.copy(model[c.out]!, c.p, c.from, c.from + c.n);
        }
        pool.forEach((b, i) => assert.deepEqual(b, model[i]));
      },
    ),
    { numRuns: 300 },
  );
});

test('a kept part is what was kept last, longer or shorter than before', () => {
  const kept = new KeptPart(64);
  const out = Buffer.alloc(80);
  for (const text of ['a fairly long end of a document, 40 by', 'short', '', 'x'.repeat(64), 'seven!!']) {
    kept.keep(Buffer.from(`..${text}..`), 2, 2 + Buffer.byteLength(text));
    out.fill(0);
    assert.equal(putPart(out, 1, kept), 1 + text.length);
    assert.equal(out.toString('latin1', 1, 1 + text.length), text);
    assert.equal(out[1 + text.length], 0);
  }
});
