/**
 * How dockerd's Go code writes a json-file entry's strings and times (moby daemon/logger/jsonfilelog/jsonlog,
 * jsonlogbytes.go and time_marshalling.go), for the json-file writer of docker-json-file.ts.
 */

const HEX = '0123456789abcdef';

/**
 * ffjsonWriteJSONBytesAsString: `bytes` as a JSON string, exactly as dockerd escapes it. Decoding of multi-byte
 * sequences follows Go's utf8.DecodeRune: an invalid or truncated sequence is one \ufffd per byte that cannot start a
 * valid one (not per maximal subpart, as a WHATWG decoder would).
 */
export function goJsonString(bytes: Uint8Array): string {
  let out = '"';
  let start = 0;
  const raw = (from: number, to: number): string => Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('utf8');
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    if (b < 0x80) {
      if (b >= 0x20 && b !== 0x5c && b !== 0x22 && b !== 0x3c && b !== 0x3e && b !== 0x26) {
        i++;
        continue;
      }
      if (start < i) out += raw(start, i);
      if (b === 0x5c || b === 0x22) out += '\\' + String.fromCharCode(b);
      else if (b === 0x0a) out += '\\n';
      else if (b === 0x0d) out += '\\r';
      else out += '\\u00' + HEX[b >> 4]! + HEX[b & 0xf]!;
      start = ++i;
      continue;
    }
    const size = goRuneSize(bytes, i);
    if (size === 0) {
      if (start < i) out += raw(start, i);
      out += '\\ufffd';
      start = ++i;
      continue;
    }
    // U+2028 and U+2029 are E2 80 A8 / E2 80 A9.
    if (size === 3 && b === 0xe2 && bytes[i + 1] === 0x80 && (bytes[i + 2] === 0xa8 || bytes[i + 2] === 0xa9)) {
      if (start < i) out += raw(start, i);
      out += '\\u202' + HEX[bytes[i + 2]! & 0xf]!;
      i += 3;
      start = i;
      continue;
    }
    i += size;
  }
  if (start < bytes.length) out += raw(start, bytes.length);
  return out + '"';
}

/**
 * The length of the valid UTF-8 sequence at bytes[i] (a byte >= 0x80), or 0 when utf8.DecodeRune would answer
 * RuneError with size 1: Go's first-byte table and accept ranges (no overlongs, no surrogates, nothing past U+10FFFF).
 */
function goRuneSize(bytes: Uint8Array, i: number): number {
  const b = bytes[i]!;
  let size: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) size = 2;
  else if (b >= 0xe0 && b <= 0xef) {
    size = 3;
    if (b === 0xe0) lo = 0xa0;
    else if (b === 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    size = 4;
    if (b === 0xf0) lo = 0x90;
    else if (b === 0xf4) hi = 0x8f;
  } else return 0;
  if (i + size > bytes.length) return 0;
  const second = bytes[i + 1]!;
  if (second < lo || second > hi) return 0;
  for (let k = 2; k < size; k++) {
    const c = bytes[i + k]!;
    if (c < 0x80 || c > 0xbf) return 0;
  }
  return size;
}

/** Go's time.RFC3339Nano of a UTC instant given in nanoseconds since the epoch: trailing zeros of the fraction dropped. */
export function rfc3339Nano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  let frac = String(ns % 1_000_000_000n).padStart(9, '0').replace(/0+$/, '');
  if (frac !== '') frac = '.' + frac;
  return `${base}${frac}Z`;
}
