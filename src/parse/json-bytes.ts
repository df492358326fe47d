/**
 * A flat JSON object line read on its bytes: where each key and value is, and what kind of value it is, without
 * decoding the line into a string. The byte twin of ScannedObject (json-members.ts), for the Django JSON parser's
 * byte path (django-json-bytes.ts).
 *
 * Why bytes: on Django JSON lines the parse thread was the limit, and most of its time went to the string way:
 * decoding the line, a string per key and per value, the document concatenated and encoded again. Here a value is
 * found where it lies and later copied as bytes.
 *
 * It accepts only what ScannedObject accepts (a line that starts with "{", no control character, keys without
 * escapes and distinct, at most MAX_MEMBERS members, values that are strings, numbers, true, false or null), and
 * less: a line with a non-ASCII byte only when the whole line is valid UTF-8 (else the string way tags it), since
 * copied bytes must be the bytes the string way would encode. Anything it declines goes the string way, which
 * decides.
 */
import { isUtf8 } from 'node:buffer';
import { skipPlainWords, wordsOf } from './plain-words.js';

export const BYTES_STRING = 1;
export const BYTES_NUMBER = 2;
/** true, false or null. */
export const BYTES_LITERAL = 3;

/** As ScannedObject's limit: a line with more members goes the string way. */
const MAX_MEMBERS = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SPACE = 0x20;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** What a byte inside a string is to the scan: most are plain, and one table lookup says so. */
const PLAIN = 0;
const STOP = 1; // the closing quote or a backslash
const CONTROL = 2; // not allowed in a JSON string (nor, as ScannedObject declines it, anywhere in the line)
const HIGH = 3; // part of a UTF-8 sequence: the whole line is checked once
const STRING_BYTE = new Uint8Array(256).map((_, b) => (b === QUOTE || b === BACKSLASH ? STOP : b < 0x20 ? CONTROL : b >= 0x80 ? HIGH : PLAIN));

/** Escape letters allowed after a backslash besides "u". */
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1;

/** A number made only of digits, at most this many: a safe integer, written exactly as String(number) writes it. */
const MAX_PLAIN_INT_DIGITS = 15;

/** `flags` of a string member. */
export const HAS_ESCAPES = 1;
export const HAS_NEWLINE = 2;
/** `flags` of a number member: digits only, few enough for a safe integer (written as String(number) writes it). */
export const PLAIN_INT = 1;

/**
 * The members of the line last scanned, by index: key (with its quotes) and value (as JSON text) as byte ranges of
 * the line's buffer. Reused: `scan` overwrites the arrays.
 */
export class ScannedBytes {
  count = 0;
  buf: Buffer = Buffer.alloc(0);
  readonly keyStart = new Int32Array(MAX_MEMBERS);
  readonly keyEnd = new Int32Array(MAX_MEMBERS);
  readonly valueStart = new Int32Array(MAX_MEMBERS);
  readonly valueEnd = new Int32Array(MAX_MEMBERS);
  readonly kinds = new Uint8Array(MAX_MEMBERS);
  /** Strings: HAS_ESCAPES, HAS_NEWLINE. Numbers: PLAIN_INT. */
  readonly flags = new Uint8Array(MAX_MEMBERS);

  /** True when buf[from, to) is a flat JSON object this reads (see the module comment); false: the string way. */
  scan(buf: Buffer, from: number, to: number): boolean {
    this.buf = buf;
    this.count = 0;
    if (buf[from] !== OPEN) return false;
    let nonAscii = false;
    const words = wordsOf(buf);
    // Keys seen, by a 5-bit digest of length and end bytes: only a digest seen before costs a byte compare.
    let digests = 0;
    let i = buf[from + 1] === SPACE ? skipSpaces(buf, from + 1, to) : from + 1;
    if (i < to && buf[i] === CLOSE) return skipSpaces(buf, i + 1, to) === to;
    for (;;) {
      // Key: a string without escapes.
      if (i >= to || buf[i] !== QUOTE) return false;
      const ks = i + 1;
      let ke = ks;
      for (;;) {
        while (STRING_BYTE[buf[ke]!] === PLAIN) ke++;
        if (ke >= to) return false;
        const kind = STRING_BYTE[buf[ke]!]!;
        if (kind === HIGH) {
          nonAscii = true;
          ke++;
          continue;
        }
        if (kind === CONTROL || buf[ke] === BACKSLASH) return false;
        break; // the closing quote
      }
      i = ke + 1;
      if (buf[i] === SPACE) i = skipSpaces(buf, i, to);
      if (i >= to || buf[i] !== COLON) return false;
      i++;
      if (buf[i] === SPACE) i = skipSpaces(buf, i, to);
      if (i >= to) return false;
      // Value.
      const vs = i;
      const c = buf[i]!;
      let kind: number;
      let flags = 0;
      if (c === QUOTE) {
        kind = BYTES_STRING;
        i++;
        for (;;) {
          // Plain bytes, the most of any line, in the tightest loop: the byte at `to` (the newline, or past the buffer's
          // end: undefined) is never PLAIN, so the loop needs no bound of its own. Up to a word's start, then a word at
          // a time (plain-words.ts: the same bytes are plain), then the rest of the word that is not.
          while ((i & 3) !== 0 && STRING_BYTE[buf[i]!] === PLAIN) i++;
          if (words !== null && (i & 3) === 0) i = skipPlainWords(words, i, to);
          while (STRING_BYTE[buf[i]!] === PLAIN) i++;
          if (i >= to) return false;
          const b = buf[i]!;
          const k = STRING_BYTE[b]!;
          if (k === HIGH) {
            nonAscii = true;
            i++;
            continue;
          }
          if (k === CONTROL) return false;
          if (b === QUOTE) break;
          // An escape.
          flags |= HAS_ESCAPES;
          const e = buf[i + 1]!;
          if (e === 0x75 /* u */) {
            if (i + 6 > to || !(isHex(buf[i + 2]!) && isHex(buf[i + 3]!) && isHex(buf[i + 4]!) && isHex(buf[i + 5]!))) return false;
            if (buf[i + 2] === ZERO && buf[i + 3] === ZERO && buf[i + 4] === ZERO && (buf[i + 5]! | 0x20) === 0x61 /* a */) flags |= HAS_NEWLINE;
            i += 6;
          } else {
            if (i + 2 > to || SIMPLE_ESCAPE[e] !== 1) return false;
            if (e === 0x6e /* n */) flags |= HAS_NEWLINE;
            i += 2;
          }
        }
        i++;
      } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
        kind = BYTES_NUMBER;
        const end = numberEnd(buf, i, to);
        if (end < 0) return false;
        // Digits only (no sign, fraction or exponent), few enough for a safe integer.
        let plain = end - i <= MAX_PLAIN_INT_DIGITS;
        for (let j = i; plain && j < end; j++) plain = buf[j]! >= ZERO && buf[j]! <= NINE;
        flags = plain ? PLAIN_INT : 0;
        i = end;
      } else if (c === 0x74 /* t */ && literalAt(buf, i, to, TRUE)) {
        kind = BYTES_LITERAL;
        i += 4;
      } else if (c === 0x66 /* f */ && literalAt(buf, i, to, FALSE)) {
        kind = BYTES_LITERAL;
        i += 5;
      } else if (c === 0x6e /* n */ && literalAt(buf, i, to, NULL)) {
        kind = BYTES_LITERAL;
        i += 4;
      } else {
        return false; // an object, an array, or not JSON
      }
      const k = this.count;
      if (k === MAX_MEMBERS) return false;
      // JSON.parse keeps the last of duplicate keys at the first one's place: the string way does that.
      const digest = 1 << ((ke - ks + buf[ks]! * 7 + buf[ke - 1]! * 13) & 31);
      if (digests & digest) {
        for (let j = 0; j < k; j++) if (sameBytes(buf, this.keyStart[j]! + 1, this.keyEnd[j]! - 1, ks, ke)) return false;
      }
      digests |= digest;
      this.keyStart[k] = ks - 1;
      this.keyEnd[k] = ke + 1;
      this.valueStart[k] = vs;
      this.valueEnd[k] = i;
      this.kinds[k] = kind;
      this.flags[k] = flags;
      this.count = k + 1;
      if (buf[i] === SPACE) i = skipSpaces(buf, i, to);
      if (i >= to) return false;
      const sep = buf[i];
      if (sep === CLOSE) {
        if (skipSpaces(buf, i + 1, to) !== to) return false;
        return !nonAscii || isUtf8(buf.subarray(from, to));
      }
      if (sep !== COMMA) return false;
      i++;
      if (buf[i] === SPACE) i = skipSpaces(buf, i, to);
    }
  }

  /** Is member i a string without escapes (its bytes are its value)? */
  isPlainString(i: number): boolean {
    return this.kinds[i] === BYTES_STRING && this.flags[i] === 0;
  }

  /** Is member i a plain integer? */
  isPlainInt(i: number): boolean {
    return this.kinds[i] === BYTES_NUMBER && this.flags[i] === PLAIN_INT;
  }
}

const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');

/** The JSON whitespace ScannedObject lets through: spaces (tab, CR and LF are control characters, declined). */
function skipSpaces(buf: Buffer, i: number, to: number): number {
  while (i < to && buf[i] === SPACE) i++;
  return i;
}

function literalAt(buf: Buffer, at: number, to: number, literal: Buffer): boolean {
  if (at + literal.length > to) return false;
  for (let j = 0; j < literal.length; j++) if (buf[at + j] !== literal[j]) return false;
  return true;
}

function sameBytes(buf: Buffer, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false;
  for (let j = 0; j < aEnd - a; j++) if (buf[a + j] !== buf[b + j]) return false;
  return true;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** A JSON number starting at i: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? — its end, or -1. */
function numberEnd(buf: Buffer, i: number, to: number): number {
  if (buf[i] === MINUS) i++;
  if (i >= to) return -1;
  let c = buf[i]!;
  if (c === ZERO) {
    i++;
  } else if (c >= 0x31 && c <= NINE) {
    do i++;
    while (i < to && (c = buf[i]!) >= ZERO && c <= NINE);
  } else {
    return -1;
  }
  if (i < to && buf[i] === DOT) {
    i++;
    if (!(i < to && (c = buf[i]!) >= ZERO && c <= NINE)) return -1;
    do i++;
    while (i < to && (c = buf[i]!) >= ZERO && c <= NINE);
  }
  if (i < to && (buf[i] === 0x65 || buf[i] === 0x45) /* e E */) {
    i++;
    if (i < to && (buf[i] === 0x2b || buf[i] === MINUS)) i++;
    if (!(i < to && (c = buf[i]!) >= ZERO && c <= NINE)) return -1;
    do i++;
    while (i < to && (c = buf[i]!) >= ZERO && c <= NINE);
  }
  return i;
}
