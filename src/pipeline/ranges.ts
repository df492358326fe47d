/**
 * Byte ranges of a file whose records are already acknowledged beyond its checkpoint. A checkpoint is a low-water
 * mark: a record held back (a Docker stdout line waiting for its last piece, a traceback waiting for more lines)
 * keeps it before that record, while later records of the file are stored. Those later records' ranges are kept with
 * the checkpoint, so a restart that reads the file again from the checkpoint recognises them and does not send them
 * a second time (a sink that cannot deduplicate would store them twice).
 */

/** [start, end): the bytes of one or more adjacent acknowledged records. */
export type ByteRange = [number, number];

/** Ranges kept per checkpoint at most: a range left out is only sent again, never lost. */
export const MAX_ACKED_RANGES = 256;

/** Sorted, disjoint ranges; answers "was the record [start, end) acknowledged?" while a restart reads past them. */
export class AckedRanges {
  private readonly ranges: ByteRange[];
  /** Ranges before this index end at or before the read position: never asked about again. */
  private next = 0;

  constructor(ranges: readonly (readonly [number, number])[]) {
    this.ranges = ranges.map(([a, b]) => [a, b] as ByteRange).sort((x, y) => x[0] - y[0]);
  }

  get empty(): boolean {
    return this.next >= this.ranges.length;
  }

  /** Is [start, end) inside one acknowledged range? Calls come with growing `end` (records in file order, mostly). */
  covers(start: number, end: number): boolean {
    const r = this.ranges;
    for (let i = this.next; i < r.length; i++) {
      const [a, b] = r[i]!;
      if (a > start) return false;
      if (start >= a && end <= b) return true;
    }
    return false;
  }

  /** Forget ranges that end at or before `offset` (the checkpoint passed them). */
  dropBefore(offset: number): void {
    while (this.next < this.ranges.length && this.ranges[this.next]![1] <= offset) this.next++;
  }

  /** The ranges still ahead of `offset`. */
  remaining(offset: number): ByteRange[] {
    const out: ByteRange[] = [];
    for (let i = this.next; i < this.ranges.length; i++) if (this.ranges[i]![1] > offset) out.push(this.ranges[i]!);
    return out;
  }
}

/** The union of two sorted lists of ranges, merged, at most `max`. */
export function mergeRanges(a: readonly ByteRange[], b: readonly ByteRange[], max: number): ByteRange[] {
  const all = [...a, ...b].sort((x, y) => x[0] - y[0]);
  const out: ByteRange[] = [];
  for (const r of all) {
    const last = out[out.length - 1];
    if (last !== undefined && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else if (out.length < max) out.push([r[0], r[1]]);
    else break;
  }
  return out;
}
