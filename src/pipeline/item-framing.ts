/**
 * A sink's ItemFraming as bytes: what the parse thread writes before each document it frames (ReplyWriter), and
 * what the Elasticsearch encoder writes before a document that was not framed (encodeBulk). One writer for both, so
 * that a framed item and one framed late are the same bytes.
 */
import { digitCount, writeDigits } from '../parse/digits.js';
import { FixedPart, putPart } from '../parse/byte-parts.js';
import type { ItemFraming } from '../sink.js';

/** A sink's ItemFraming as the bytes written before each document. */
export class FramingBytes {
  readonly head: FixedPart;
  readonly mid: FixedPart;

  constructor(framing: ItemFraming) {
    this.head = FixedPart.of(framing.head);
    this.mid = FixedPart.of(framing.mid);
  }

  /** Bytes of the item head of a record starting at `start`. */
  headBytes(start: number): number {
    return this.head.length + digitCount(start) + this.mid.length;
  }

  /** Writes the item head of a record starting at `start` at `at`; returns its end (where the document goes). */
  writeHead(buffer: Buffer, at: number, start: number): number {
    return putPart(buffer, writeDigits(buffer, putPart(buffer, at, this.head), start), this.mid);
  }
}

