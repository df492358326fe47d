/** Decimal digits of byte offsets, written as bytes: for documents and ids assembled in Buffers, not strings. */

/** Decimal digits of a non-negative integer (a byte offset: below 2^53). */
export function digitCount(n: number): number {
  let digits = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    digits++;
  }
  return digits;
}

/** Writes the decimal digits of `n` at `at`; returns the offset after them. */
export function writeDigits(out: Buffer, at: number, n: number): number {
  const end = at + digitCount(n);
  let p = end;
  do {
    const q = Math.floor(n / 10);
    out[--p] = 0x30 + (n - q * 10);
    n = q;
  } while (n > 0);
  return end;
}
