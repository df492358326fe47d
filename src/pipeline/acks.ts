/**
 * Ordered acknowledgements for one file: turns "these records were stored", arriving in any order, into a
 * checkpoint that only ever covers bytes whose records are all stored (a contiguous low-water mark).
 *
 * Each record is registered, in the order it was emitted, with the offset that is safe to resume from once it and
 * every record emitted before it are acknowledged. That offset is not simply the record's end: a parser may still
 * hold earlier bytes (a Docker stdout piece waiting for its rest while a stderr line completes), so the caller
 * passes the parser's low-water mark at emission time.
 *
 * It also knows the byte range of each record, so it can say which records beyond the checkpoint are already
 * stored (ackedAhead): a restart that resumes at the checkpoint skips those instead of sending them again.
 */
import { MAX_ACKED_RANGES, type ByteRange } from './ranges.js';

/**
 * Records a tracker has room for at its first record. None before: a host may follow thousands of idle files, and a
 * tracker that has never had a record outstanding costs nothing but its empty arrays.
 */
const FIRST_CAPACITY = 16;

/** Shared by every tracker that has had no record yet (never written: a tracker grows before its first write). */
const EMPTY_OFFSETS = new Float64Array(0);
const EMPTY_FLAGS = new Uint8Array(0);

export class AckTracker {
  /**
   * A ring of the records not yet popped, oldest at `head`: resume offsets, byte ranges, and whether each is
   * acknowledged. Typed arrays, doubled when full and never sliced: tens of thousands of records can be outstanding,
   * and arrays that size, re-made as they were popped, were garbage in V8's large-object space.
   */
  private safeOffsets = EMPTY_OFFSETS;
  private starts = EMPTY_OFFSETS;
  private ends = EMPTY_OFFSETS;
  private acked = EMPTY_FLAGS;
  private head = 0;
  private size = 0;
  /** Seq of the record at `head`. */
  private headSeq = 0;
  private committedOffset: number;
  /**
   * Ranges of records popped (acknowledged, with every record before them) whose bytes lie beyond the checkpoint: a
   * record emitted while earlier bytes were held (a stderr line while a stdout line waits for its last piece) moves
   * the checkpoint only to those held bytes. Merged, sorted; forgotten as the checkpoint passes them.
   */
  private beyond: ByteRange[] = [];

  constructor(startOffset: number) {
    this.committedOffset = startOffset;
  }

  /** The offset a restart may resume from: everything before it is stored. */
  get committed(): number {
    return this.committedOffset;
  }

  /** Records emitted but not yet acknowledged (or acknowledged behind an unacknowledged one). */
  get outstanding(): number {
    return this.size;
  }

  /**
   * Register the next emitted record, covering bytes [start, end) (-1 when it stands for no bytes of its own);
   * returns its seq.
   */
  register(safeOffset: number, start = -1, end = -1): number {
    if (this.size === this.safeOffsets.length) this.grow();
    const at = (this.head + this.size) & (this.safeOffsets.length - 1);
    this.safeOffsets[at] = safeOffset;
    this.starts[at] = start;
    this.ends[at] = end;
    this.acked[at] = 0;
    this.size++;
    return this.headSeq + this.size - 1;
  }

  /**
   * Bytes up to `offset` are finished without a record still to come (e.g. all records emitted). Applies now when
   * nothing is outstanding, else once the last outstanding record is acknowledged.
   */
  advance(offset: number): void {
    if (this.size === 0) {
      if (offset > this.committedOffset) this.committedOffset = offset;
      return;
    }
    const last = (this.head + this.size - 1) & (this.safeOffsets.length - 1);
    if (offset > this.safeOffsets[last]!) this.safeOffsets[last] = offset;
  }

  ack(seq: number): void {
    const index = seq - this.headSeq;
    if (index < 0 || index >= this.size) return; // already popped: a duplicate ack is harmless
    const mask = this.safeOffsets.length - 1;
    this.acked[(this.head + index) & mask] = 1;
    while (this.size > 0 && this.acked[this.head] === 1) {
      const offset = this.safeOffsets[this.head]!;
      if (offset > this.committedOffset) this.committedOffset = offset;
      const end = this.ends[this.head]!;
      if (end > this.committedOffset) this.keepBeyond(this.starts[this.head]!, end);
      this.head = (this.head + 1) & mask;
      this.size--;
      this.headSeq++;
    }
    if (this.beyond.length > 0 && this.beyond[0]![1] <= this.committedOffset) this.beyond = this.beyond.filter((r) => r[1] > this.committedOffset);
  }

  /** Remembers a popped record's range that lies beyond the checkpoint (merged with its neighbours). */
  private keepBeyond(start: number, end: number): void {
    if (start < 0) return;
    const last = this.beyond[this.beyond.length - 1];
    if (last !== undefined && start <= last[1] && start >= last[0]) last[1] = Math.max(last[1], end);
    else if (this.beyond.length < MAX_ACKED_RANGES) {
      this.beyond.push([start, end]);
      if (last !== undefined && start < last[0]) this.beyond.sort((a, b) => a[0] - b[0]);
    }
  }

  /**
   * The byte ranges of records acknowledged while an earlier one is not (they are beyond the checkpoint), in file
   * order, adjacent ones merged; at most `max` of them (the first ones: a range left out is only sent again).
   */
  ackedAhead(max: number): ByteRange[] {
    const found: ByteRange[] = this.beyond.filter((r) => r[1] > this.committedOffset).map((r) => [r[0], r[1]] as ByteRange);
    const mask = this.safeOffsets.length - 1;
    for (let k = 0; k < this.size; k++) {
      const i = (this.head + k) & mask;
      if (this.acked[i] === 1 && this.starts[i]! >= 0 && this.ends[i]! > this.starts[i]!) found.push([this.starts[i]!, this.ends[i]!]);
    }
    if (found.length === 0) return found;
    found.sort((a, b) => a[0] - b[0]);
    const merged: ByteRange[] = [];
    for (const r of found) {
      const last = merged[merged.length - 1];
      if (last !== undefined && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
      else if (merged.length < max) merged.push([r[0], r[1]]);
      else break;
    }
    return merged;
  }

  /** Doubles the ring (its length stays a power of two), oldest record first. */
  private grow(): void {
    const length = this.safeOffsets.length;
    const next = length === 0 ? FIRST_CAPACITY : length * 2;
    const offsets = new Float64Array(next);
    const starts = new Float64Array(next);
    const ends = new Float64Array(next);
    const acked = new Uint8Array(next);
    for (let k = 0; k < this.size; k++) {
      const from = (this.head + k) & (length - 1);
      offsets[k] = this.safeOffsets[from]!;
      starts[k] = this.starts[from]!;
      ends[k] = this.ends[from]!;
      acked[k] = this.acked[from]!;
    }
    this.safeOffsets = offsets;
    this.starts = starts;
    this.ends = ends;
    this.acked = acked;
    this.head = 0;
  }
}
