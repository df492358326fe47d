/**
 * Text bytes written as the inside of a JSON string, as JSON.stringify writes it (the string way's `quote`): for the
 * parsers that write documents on bytes (django-text-bytes.ts, traceback-bytes.ts). Only for valid UTF-8, which
 * JSON.stringify passes through unchanged above U+001F (U+2028 and U+2029 included).
 */

import { isUtf8 } from 'node:buffer';
import { skipPlainWords, wordsOf } from './plain-words.js';

/** JSON's one-letter escapes by control byte (0: written as \u00XX), as JSON.stringify writes them. */
const SHORT_ESCAPE = new Uint8Array(32);
SHORT_ESCAPE[0x08] = 0x62; // b
SHORT_ESCAPE[0x09] = 0x74; // t
SHORT_ESCAPE[0x0a] = 0x6e; // n
SHORT_ESCAPE[0x0c] = 0x66; // f
SHORT_ESCAPE[0x0d] = 0x72; // r
const HEX = Buffer.from('0123456789abcdef');

/** Bytes escaping byte `b` adds: 5 for a control byte written as \u00XX, 1 for a short escape, else 0. */
function escapeExtra(b: number): number {
  if (b < 0x20) return SHORT_ESCAPE[b] !== 0 ? 1 : 5;
  return b === 0x22 || b === 0x5c ? 1 : 0;
}

/**
 * The bytes JSON escapes add to buf[from, to) written as the inside of a JSON string, or -1 when it is not valid
 * UTF-8 (the string way reads such text otherwise). Plain bytes are passed a word at a time (plain-words.ts): most
 * text is plain from end to end.
 */
export function escapesIn(buf: Buffer, from: number, to: number): number {
  let escapes = 0;
  let high = false;
  const words = wordsOf(buf);
  for (let j = from; j < to; j++) {
    if (words !== null && (j & 3) === 0 && (j = skipPlainWords(words, j, to)) === to) break;
    const b = buf[j]!;
    if (b >= 0x80) high = true;
    else if (b < 0x20 || b === 0x22 || b === 0x5c) escapes += escapeExtra(b);
  }
  return high && !isUtf8(buf.subarray(from, to)) ? -1 : escapes;
}

/** Copies s[from, to) to out at p as the inside of a JSON string (JSON.stringify's escapes); returns the end. */
export function copyEscaped(s: Buffer, from: number, to: number, out: Buffer, p: number): number {
  for (let j = from; j < to; j++) {
    const b = s[j]!;
    if (b >= 0x20 && b !== 0x22 && b !== 0x5c) {
      out[p++] = b;
    } else if (b >= 0x20) {
      out[p++] = 0x5c;
      out[p++] = b;
    } else if (SHORT_ESCAPE[b] !== 0) {
      out[p++] = 0x5c;
      out[p++] = SHORT_ESCAPE[b]!;
    } else {
      out[p++] = 0x5c;
      out[p++] = 0x75; // u
      out[p++] = 0x30;
      out[p++] = 0x30;
      out[p++] = HEX[b >> 4]!;
      out[p++] = HEX[b & 15]!;
    }
  }
  return p;
}

/**
 * Writes `part` at p; returns the offset after it. With TypedArray.set: the parts here are 13 to about 100 bytes,
 * where a byte loop took twice as long as set's one call (measured: 7 such parts, 320 against 140 ns a document).
 */
export function putPart(out: Buffer, p: number, part: Buffer): number {
  out.set(part, p);
  return p + part.length;
}
