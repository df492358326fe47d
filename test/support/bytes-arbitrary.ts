/**
 * fast-check arbitraries for log bytes as they come from files: text with line feeds, CRLF, NUL, invalid UTF-8
 * (stray continuation bytes, truncated sequences, overlongs, surrogates), multi-byte characters — and ways to cut
 * them into chunks, as reads of a file cut them.
 */
import fc from 'fast-check';

const pieces: fc.Arbitrary<number[]>[] = [
  fc.constant([0x0a]), // \n
  fc.constant([0x0d, 0x0a]), // CRLF
  fc.constant([0x0d]), // a lone \r
  fc.constant([0x00]), // NUL
  fc.integer({ min: 0x20, max: 0x7e }).map((b) => [b]), // printable ASCII
  fc.constantFrom('é', '€', '😀', '\u2028', 'ψ').map((c) => [...Buffer.from(c)]), // multi-byte characters
  fc.integer({ min: 0x80, max: 0xff }).map((b) => [b]), // a byte that cannot stand alone
  fc.constantFrom([0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]), // truncated, overlong, surrogate, > U+10FFFF
];

/** Bytes of a log: mostly short lines of text, with every kind of oddity. */
export function logBytes(maxPieces = 300): fc.Arbitrary<Buffer> {
  return fc
    .array(fc.oneof({ arbitrary: pieces[4]!, weight: 12 }, { arbitrary: pieces[0]!, weight: 3 }, ...pieces.filter((_, i) => i !== 0 && i !== 4)), { maxLength: maxPieces })
    .map((parts) => Buffer.from(parts.flat()));
}

/** Cut points: where the reads of a file of `length` bytes end (sorted, distinct, within (0, length)). */
export function cuts(length: number, raw: readonly number[]): number[] {
  if (length <= 1) return [];
  return [...new Set(raw.map((r) => 1 + (r % (length - 1))))].sort((a, b) => a - b);
}

/** `bytes` cut at `at` (from cuts()). */
export function chunks(bytes: Buffer, at: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const c of at) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  out.push(bytes.subarray(from));
  return out;
}

/** Raw cut positions, for cuts(). */
export const rawCuts = fc.array(fc.nat(), { maxLength: 12 });
