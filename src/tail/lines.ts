import { isUtf8 } from 'node:buffer';
import type { Line } from '../parse/types.js';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const REPLACEMENT_CHAR = '\uFFFD';

/**
 * Cuts a file's bytes into lines by scanning Buffers for '\n' (never converting a whole chunk to a string), and
 * tracks the byte offset of every line. A line longer than maxLineBytes keeps its first maxLineBytes bytes, is
 * marked truncated, and the rest up to its newline is skipped: bounded memory, nothing dropped silently.
 *
 * The chunk passed to push() may be a shared read buffer: every line is handed out before push() returns (decoded,
 * or offered as bytes to `takeBytes`, which must copy what it keeps), and only the bytes of an unfinished last line
 * are kept.
 */
export class LineSplitter {
  /** Bytes of the unfinished last line, at most maxLineBytes + 1 of them (see holdPartial). */
  private pending: Buffer | null = null;
  /** True when the unfinished line has outgrown maxLineBytes and its remaining bytes are being skipped. */
  private skipping = false;
  /** File offset of the next byte push() expects. */
  private offset: number;
  /** File offset where the unfinished line starts (== offset when there is none). */
  private lineStart: number;
  /**
   * The unfinished line was handed out as it was (flushPartial): what follows up to its newline is that line's rest,
   * handed out marked `partialTail` so the parser ships it as such rather than joining it to whatever it holds.
   */
  private tail = false;

  /**
   * @param takeBytes offered every whole line (bytes [from, to) of the chunk as it came, or of the held bytes of a line
   *   that spanned reads; no newline) before it is decoded, except lines cut at maxLineBytes; true: it was taken as
   *   it is, and onLine is not called for it
   */
  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (line: Line) => void,
    startOffset: number,
    private readonly takeBytes: ((buf: Buffer, from: number, to: number, start: number, end: number) => boolean) | null = null,
  ) {
    this.offset = startOffset;
    this.lineStart = startOffset;
  }

  /** Offset just past the last complete line handed out: everything before it has been seen by onLine. */
  get consumed(): number {
    return this.lineStart;
  }

  /** Offset of the next byte expected. */
  get position(): number {
    return this.offset;
  }

  hasPartial(): boolean {
    return this.lineStart < this.offset;
  }

  push(chunk: Buffer, length: number = chunk.length): void {
    let from = 0;
    while (from < length) {
      const nl = chunk.indexOf(NEWLINE, from);
      if (nl === -1 || nl >= length) {
        this.holdPartial(chunk, from, length);
        this.offset += length - from;
        return;
      }
      const lineEnd = this.offset + (nl + 1 - from);
      if (this.pending === null && !this.skipping) {
        this.emitFromChunk(chunk, from, nl, lineEnd);
      } else {
        this.holdPartial(chunk, from, nl);
        this.emitPending(lineEnd, false);
      }
      this.offset = lineEnd;
      from = nl + 1;
    }
  }

  /** Hand out the unfinished last line as it is (the writer never finished it within the partial-line timeout). */
  flushPartial(): void {
    if (!this.hasPartial()) return;
    this.emitPending(this.offset, true);
    this.tail = true;
  }

  private emitFromChunk(chunk: Buffer, from: number, nl: number, lineEnd: number): void {
    const start = this.offset;
    let end = nl;
    if (end > from && chunk[end - 1] === CARRIAGE_RETURN) end--;
    let truncated = false;
    if (end - from > this.maxLineBytes) {
      end = utf8Boundary(chunk, from + this.maxLineBytes, from);
      truncated = true;
    }
    if (truncated || this.tail || this.takeBytes === null || !this.takeBytes(chunk, from, end, start, lineEnd)) {
      this.emit(chunk, from, end, start, lineEnd, truncated, false);
    }
    this.lineStart = lineEnd;
  }

  private emitPending(lineEnd: number, partial: boolean): void {
    const buf = this.pending ?? Buffer.alloc(0);
    let end = buf.length;
    if (!partial && end > 0 && buf[end - 1] === CARRIAGE_RETURN && !this.skipping) end--;
    // The held bytes may be one more than maxLineBytes (room for a CR, as a line read whole is measured without it).
    const truncated = this.skipping || end > this.maxLineBytes;
    if (truncated) end = utf8Boundary(buf, Math.min(end, this.maxLineBytes), 0);
    // A whole line that spanned two reads is offered as bytes too: a parser that joins pieces of a line as bytes
    // (CRI's, where a UTF-8 character may be cut between pieces) must see every piece that way, not only most.
    if (truncated || partial || this.takeBytes === null || !this.takeBytes(buf, 0, end, this.lineStart, lineEnd)) {
      this.emit(buf, 0, end, this.lineStart, lineEnd, truncated, partial);
    }
    this.pending = null;
    this.skipping = false;
    this.lineStart = lineEnd;
  }

  private emit(
    buf: Buffer,
    from: number,
    to: number,
    start: number,
    end: number,
    truncated: boolean,
    partial: boolean,
  ): void {
    const text = buf.toString('utf8', from, to);
    // toString() replaces invalid sequences with U+FFFD; only then is the slower exact check worth it.
    const invalidUtf8 = text.includes(REPLACEMENT_CHAR) && !isUtf8(buf.subarray(from, to));
    const partialTail = this.tail;
    if (!partial) this.tail = false;
    this.onLine({ text, start, end, truncated, invalidUtf8, partial, partialTail });
  }

  /**
   * Copy bytes [from, to) of the chunk onto the unfinished line, up to maxLineBytes + 1: the one more is room for the
   * CR of a CRLF line of exactly maxLineBytes, which is not part of the line (the LF may come in the next read).
   */
  private holdPartial(chunk: Buffer, from: number, to: number): void {
    if (to <= from || this.skipping) return;
    const have = this.pending?.length ?? 0;
    const room = this.maxLineBytes + 1 - have;
    const take = Math.min(room, to - from);
    if (take > 0) {
      const piece = Buffer.from(chunk.subarray(from, from + take));
      this.pending = this.pending === null ? piece : Buffer.concat([this.pending, piece]);
    }
    if (to - from > take) this.skipping = true;
  }
}

/** The largest end <= limit that does not cut a UTF-8 sequence: drop a last character whose bytes run past limit. */
function utf8Boundary(buf: Buffer, limit: number, floor: number): number {
  let lead = limit - 1;
  while (lead > floor && ((buf[lead] ?? 0) & 0xc0) === 0x80) lead--; // continuation bytes are 10xxxxxx
  const b = buf[lead] ?? 0;
  const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
  return lead + length > limit ? lead : limit;
}
