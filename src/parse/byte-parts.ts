/**
 * Short copies into documents, 4 bytes at a time through DataViews.
 *
 * Why: a Django JSON document is made of up to twenty parts of 4 to 100 bytes (keys, its head, the file path, the
 * host) and copies of the line's values, and TypedArray.set costs a native call whatever the size (measured alone into
 * shared memory: 32 ns for a 50-byte part, 26 as 32-bit words), and copying part of another array costs a view object
 * on top (100–130 ns; 15–60 as words up to 256 bytes). Longer copies are left to set(). TurboFan inlines DataView
 * reads and writes.
 *
 * Where it is used: the Django JSON byte way (1.84 → 1.65 µs a line, parse alone, best of alternating runs) and the
 * sink's item heads (parse-thread/reply-writer.ts). The Docker and Django text byte ways copy fewer, larger parts: tried
 * there, they gained nothing (Docker) or lost 8% (text, whose writer then no longer inlined its escaping copy).
 */

/** Bytes written into many documents, with their first length & ~3 bytes as little-endian 32-bit words. */
export interface Part {
  readonly bytes: Uint8Array;
  readonly length: number;
  readonly words: Int32Array;
}

/** Longer copies go through TypedArray.set: one native memmove beats the word loop there. */
const SHORT = 256;

/** A part that never changes (a template's head, a key). */
export class FixedPart implements Part {
  readonly length: number;
  readonly words: Int32Array;

  constructor(readonly bytes: Buffer) {
    this.length = bytes.length;
    this.words = wordsOf(bytes, bytes.length);
  }

  static of(text: string): FixedPart {
    return new FixedPart(Buffer.from(text));
  }
}

/** A part kept from a document written before (see keep), up to `capacity` bytes. */
export class KeptPart implements Part {
  readonly bytes: Buffer;
  readonly words: Int32Array;
  length = 0;
  private readonly view: DataView;

  constructor(capacity: number) {
    this.bytes = Buffer.alloc(capacity);
    this.words = new Int32Array(capacity >> 2);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, capacity);
  }

  /** Keeps src[from, to) (no longer than the capacity). */
  keep(src: Uint8Array, from: number, to: number): void {
    const n = to - from;
    this.bytes.set(src.subarray(from, to));
    for (let w = 0; w < n >> 2; w++) this.words[w] = this.view.getInt32(w * 4, true);
    this.length = n;
  }
}

function wordsOf(bytes: Buffer, length: number): Int32Array {
  const words = new Int32Array(length >> 2);
  for (let w = 0; w < words.length; w++) words[w] = bytes.readInt32LE(w * 4);
  return words;
}

// DataViews of the buffers written and read last: documents go into one chunk for a long run, texts come from one
// read buffer (and a second source, e.g. a timestamp's own bytes, often takes turns with it).
let outBuffer: Uint8Array | null = null;
let outView: DataView | null = null;
let srcA: Uint8Array | null = null;
let viewA: DataView | null = null;
let srcB: Uint8Array | null = null;
let viewB: DataView | null = null;

function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function outViewOf(out: Uint8Array): DataView {
  if (out !== outBuffer) {
    outBuffer = out;
    outView = viewOf(out);
  }
  return outView!;
}

function srcViewOf(src: Uint8Array): DataView {
  if (src === srcA) return viewA!;
  if (src === srcB) return viewB!;
  srcB = srcA;
  viewB = viewA;
  srcA = src;
  return (viewA = viewOf(src));
}

/** Writes `part` at p; returns the offset after it. */
export function putPart(out: Uint8Array, p: number, part: Part): number {
  const n = part.length;
  if (n > SHORT) {
    out.set(part.bytes.subarray(0, n), p);
    return p + n;
  }
  const view = outViewOf(out);
  const words = part.words;
  const whole = n >> 2;
  for (let w = 0; w < whole; w++) view.setInt32(p + w * 4, words[w]!, true);
  const bytes = part.bytes;
  for (let i = whole * 4; i < n; i++) out[p + i] = bytes[i]!;
  return p + n;
}

/** Copies src[from, to) to out at p; returns the offset after it. */
export function copyBytes(src: Uint8Array, from: number, to: number, out: Uint8Array, p: number): number {
  const n = to - from;
  if (n > SHORT) {
    out.set(new Uint8Array(src.buffer, src.byteOffset + from, n), p);
    return p + n;
  }
  const o = outViewOf(out);
  const s = srcViewOf(src);
  let i = 0;
  for (; i + 4 <= n; i += 4) o.setInt32(p + i, s.getInt32(from + i, true), true);
  for (; i < n; i++) out[p + i] = src[from + i]!;
  return p + n;
}
