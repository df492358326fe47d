/**
 * Skipping the plain bytes of a JSON string four at a time. A byte is plain when it is printable ASCII other than
 * the quote and the backslash: what a JSON string holds as it is. The scanners of the byte ways (Docker's log string,
 * above all) looked at every byte of a line through a table; most lines are plain from end to end.
 *
 * A 32-bit word of four bytes is plain when none of them has its high bit set (ASCII), is below 0x20 (a control
 * character), or equals 0x22 or 0x5c. With every byte below 0x80, "some byte is below n" is exactly
 * `(w - n·0x01010101) & 0x80808080` ≠ 0 (the borrow of a byte below n sets its top bit first), and "some byte equals
 * c" is "some byte of w ^ c·0x01010101 is below 1". JavaScript's bitwise operators take the difference modulo 2^32,
 * so these are exact, not heuristics (the tests check every byte value at every position).
 */

const HIGH = 0x80808080 | 0;

/** Are the four bytes of `w` (a little- or big-endian word: the order does not matter) all plain? */
export function plainWord(w: number): boolean {
  const q = w ^ 0x22222222;
  const s = w ^ 0x5c5c5c5c;
  return ((w | (w - 0x20202020) | (q - 0x01010101) | (s - 0x01010101)) & HIGH) === 0;
}

let viewed: Buffer | null = null;
let view: Uint32Array | null = null;

/**
 * The 32-bit words of `buf`, word i being bytes [4i, 4i + 4); null when `buf` does not start at a multiple of 4 in
 * its memory. Kept for the last buffer asked about: the parse thread reads into one buffer for good.
 */
export function wordsOf(buf: Buffer): Uint32Array | null {
  if (buf !== viewed) {
    viewed = buf;
    view = (buf.byteOffset & 3) === 0 ? new Uint32Array(buf.buffer, buf.byteOffset, buf.length >> 2) : null;
  }
  return view;
}

/**
 * The first offset from `p` (a multiple of 4) on, before `to`, that does not start a plain word of `words`: every
 * byte in [p, result) is plain; the bytes from the result on are to be looked at one by one.
 */
export function skipPlainWords(words: Uint32Array, p: number, to: number): number {
  let w = p >> 2;
  const end = to >> 2; // words wholly before `to`
  while (w < end && plainWord(words[w]!)) w++;
  return w << 2;
}
