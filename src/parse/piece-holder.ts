/**
 * What a container log parser keeps of a line the runtime cut into pieces, while it waits for the last one: where the
 * line began (in this file, and for its record), the link of pieces carried in from the previous generation of the
 * file, the flags and time so far, and when the last piece came. Docker's holder keeps the pieces as decoded text
 * (docker-pieces.ts), CRI's as bytes (cri.ts); this is the part they share, so that both carry the same things across
 * a rotation (tail/carried.ts).
 */
import type { CarriedPieces } from './types.js';

export abstract class PieceHolder {
  active = false;
  /** Where the pieces begin in this file (this file's first, for pieces carried in from the previous one). */
  start = 0;
  /** Where the line begins for its record (log.offset, id): `start`, unless carried in (then `link` is set). */
  idStart = 0;
  link = 0;
  end = 0;
  /** UTF-8 bytes held. */
  protected bytes = 0;
  capped = false;
  /** LINE_* bits of the pieces so far. */
  flags = 0;
  /** The runtime's time of the first piece: when the line began. */
  time: string | null = null;
  /** When the last piece arrived: the partial timeout counts from there, in this file or the next. */
  lastMs = 0;

  begin(start: number, time: string | null): void {
    this.active = true;
    this.start = start;
    this.idStart = start;
    this.link = 0;
    this.bytes = 0;
    this.capped = false;
    this.flags = 0;
    this.time = time;
    this.clearContent();
  }

  /** Empties what holds the pieces' content. */
  protected abstract clearContent(): void;

  /** A piece ending at `end` came at `nowMs`. */
  protected arrived(end: number, flags: number, nowMs: number): void {
    this.end = end;
    this.lastMs = nowMs;
    this.flags |= flags;
  }

  /** The pieces as handed to the next generation of the file, `content` being what they hold; empties the holder. */
  protected carried(index: number, content: string | Uint8Array): CarriedPieces {
    this.active = false;
    const { start: localStart, idStart, link, bytes, capped, flags, time, lastMs } = this;
    this.clearContent();
    return { index, localStart, idStart, link, content, bytes, capped, flags, time, lastMs };
  }

  /**
   * Goes on with pieces the previous generation began; this file's part starts at `localStart`. The timeout goes on
   * counting from their last piece: made a new parser's, it shipped them at its first tick (see
   * test/parse/carried-timeout.test.ts).
   */
  protected continueFrom(carried: CarriedPieces, link: number, localStart: number): void {
    this.begin(localStart, carried.time);
    this.idStart = carried.idStart;
    this.link = link;
    this.flags = carried.flags;
    this.lastMs = carried.lastMs;
  }
}
