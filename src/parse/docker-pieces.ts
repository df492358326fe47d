/**
 * The pieces of a Docker json-file line longer than 16 KiB: every piece but the last has a `log` without the trailing
 * "\n". One holder per stream (stdout and stderr interleave), in docker.ts; a holder's pieces can be handed to the next
 * generation of the file when a rotation falls between them (tail/carried.ts).
 */
import { truncateUtf8 } from './django.js';
import { LINE_TRUNCATED } from './document.js';
import type { CarriedPieces } from './types.js';

/** The pieces of one stream's line that Docker split, waiting for the piece that ends in "\n". */
export class Pieces {
  active = false;
  /** Where the pieces begin in this file. */
  start = 0;
  /**
   * Where the line begins for its record (log.offset, id): `start`, unless its first pieces were carried over from
   * the previous generation of the file (then `link` is their link; see tail/carried.ts).
   */
  idStart = 0;
  link = 0;
  end = 0;
  text = '';
  /** UTF-8 bytes of `text`. */
  bytes = 0;
  capped = false;
  flags = 0;
  /** Docker time of the first piece: when the line began. */
  time: string | null = null;
  /** When the last piece arrived: the partial timeout counts from there. */
  lastMs = 0;

  begin(start: number, time: string | null): void {
    this.active = true;
    this.start = start;
    this.idStart = start;
    this.link = 0;
    this.text = '';
    this.bytes = 0;
    this.capped = false;
    this.flags = 0;
    this.time = time;
  }

  /**
   * Adds a piece's text, up to maxBytes + 1 bytes in all (room for the CR of a line of exactly maxBytes, which take()
   * drops); past that only the byte range grows.
   */
  add(piece: string, end: number, flags: number, nowMs: number, maxBytes: number): void {
    this.end = end;
    this.lastMs = nowMs;
    this.flags |= flags;
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
    this.active = false;
    const carried = {
      index,
      localStart: this.start,
      idStart: this.idStart,
      link: this.link,
      content: this.text,
      bytes: this.bytes,
      capped: this.capped,
      flags: this.flags,
      time: this.time,
    };
    this.text = '';
    return carried;
  }

  /** Goes on with pieces the previous generation began; this file's part starts at `localStart`. */
  import(carried: CarriedPieces, link: number, localStart: number): void {
    this.begin(localStart, carried.time);
    this.idStart = carried.idStart;
    this.link = link;
    this.text = typeof carried.content === 'string' ? carried.content : Buffer.from(carried.content).toString('utf8');
    this.bytes = carried.bytes;
    this.capped = carried.capped;
    this.flags = carried.flags;
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
