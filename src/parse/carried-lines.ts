/**
 * Lines whose first pieces came from the previous generation of the file (a container runtime rotated its log
 * between a long line's pieces; see tail/carried.ts). The joined line goes to a Django stream parser with the offset
 * it began at in the earlier file (its document's log.offset, and its id); the record that parser makes of it is
 * re-addressed here to this file's offset (for this file's checkpoint) with the link that ties both files to it.
 * Shared by the Docker and CRI parsers; one line per output stream (0 stdout, 1 stderr) at a time.
 */
import { ParsedRecord } from './document.js';

interface CarriedLine {
  /** The offset the Django parser knows it by (in the file it began in). */
  readonly idStart: number;
  /** Where this file's part of it begins. */
  readonly localStart: number;
  readonly link: number;
}

export class CarriedLines {
  private readonly lines: [CarriedLine | null, CarriedLine | null] = [null, null];

  /** The pieces of stream `index`, begun at `idStart` elsewhere and at `localStart` here, go to its Django parser now. */
  note(index: number, idStart: number, localStart: number, link: number): void {
    if (link !== 0) this.lines[index as 0 | 1] = { idStart, localStart, link };
  }

  /** A record of stream `index`'s Django parser: the carried one comes out with this file's offset and its link. */
  relink(index: number, r: ParsedRecord): ParsedRecord {
    const carried = this.lines[index as 0 | 1];
    if (carried === null || r.start !== carried.idStart) return r;
    this.lines[index as 0 | 1] = null;
    return new ParsedRecord(carried.localStart, r.end, r.json, r.flags, carried.link);
  }

  /** A Django parser's held offset in this file: a carried record is held from where this file's part begins. */
  localHeld(index: number, held: number | null): number | null {
    const carried = this.lines[index as 0 | 1];
    return carried !== null && held === carried.idStart ? carried.localStart : held;
  }
}
