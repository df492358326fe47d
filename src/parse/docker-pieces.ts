/**
 * The pieces of a Docker json-file line longer than 16 KiB: every piece but the last has a `log` without the trailing
 * "\n". One holder per stream (stdout and stderr interleave), in docker.ts; a holder's pieces can be handed to the next
 * generation of the file when a rotation falls between them (tail/carried.ts).
 */
import { truncateUtf8 } from './django.js';
import { LINE_TRUNCATED } from './document.js';
import { PieceHolder } from './piece-holder.js';
import type { CarriedPieces } from './types.js';

/** The pieces of one stream's line that Docker split, as decoded text, waiting for the piece that ends in "\n". */
export class Pieces extends PieceHolder {
  text = '';

  protected clearContent(): void {
    this.text = '';
  }

  /**
   * Adds a piece's text, up to maxBytes + 1 bytes in all (room for the CR of a line of exactly maxBytes, which take()
   * drops); past that only the byte range grows.
   */
  add(piece: string, end: number, flags: number, nowMs: number, maxBytes: number): void {
    this.arrived(end, flags, nowMs);
    if (this.capped || piece.length === 0) return;
    const bytes = Buffer.byteLength(piece);
    const limit = maxBytes + 1;
    if (this.bytes + bytes > limit) {
      piece = truncateUtf8(piece, limit - this.bytes);
      this.capped = true;
      this.text += piece;
      this.bytes += Buffer.byteLength(piece);
      return;
    }
    this.text += piece;
    this.bytes += bytes;
  }

  /** Hands the pieces over to the next generation of the file; empties the holder. */
  export(index: number): CarriedPieces {
    return this.carried(index, this.text);
  }

  /** Goes on with pieces the previous generation began; this file's part starts at `localStart`. */
  import(carried: CarriedPieces, link: number, localStart: number): void {
    this.continueFrom(carried, link, localStart);
    this.text = typeof carried.content === 'string' ? carried.content : Buffer.from(carried.content).toString('utf8');
    this.bytes = carried.bytes;
    this.capped = carried.capped;
  }

  /**
   * The joined text, without a trailing "\r" (the line's CR, measured as it is for a line in one entry: not part of
   * it), cut to maxBytes and then flagged truncated; empties the holder.
   */
  take(maxBytes: number): string {
    this.active = false;
    let text = this.text;
    this.text = '';
    if (!this.capped && text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
    if (this.capped || (text.length * 3 > maxBytes && Buffer.byteLength(text) > maxBytes)) {
      text = truncateUtf8(text, maxBytes);
      this.flags |= LINE_TRUNCATED;
    }
    return text;
  }
}
