/**
 * Ordered acknowledgements for one file: turns "these records were stored", arriving in any order, into a
 * checkpoint that only ever covers bytes whose records are all stored (a contiguous low-water mark).
 *
 * Each record is registered, in the order it was emitted, with the offset that is safe to resume from once it and
 * every record emitted before it are acknowledged. That offset is not simply the record's end: a parser may still
 * hold earlier bytes (a Docker stdout piece waiting for its rest while a stderr line completes), so the caller
 * passes the parser's low-water mark at emission time.
 */
export class AckTracker {
  /** Resume offsets of unacknowledged-or-unpopped records, by seq - base. */
  private safeOffsets: number[] = [];
  private acked: boolean[] = [];
  /** Seq of safeOffsets[head]. */
  private base = 0;
  private head = 0;
  private nextSeq = 0;
  private committedOffset: number;

  constructor(startOffset: number) {
    this.committedOffset = startOffset;
  }

  /** The offset a restart may resume from: everything before it is stored. */
  get committed(): number {
    return this.committedOffset;
  }

  /** Records emitted but not yet acknowledged (or acknowledged behind an unacknowledged one). */
  get outstanding(): number {
    return this.safeOffsets.length - this.head;
  }

  /** Register the next emitted record; returns its seq. */
  register(safeOffset: number): number {
    this.safeOffsets.push(safeOffset);
    this.acked.push(false);
    return this.nextSeq++;
  }

  /**
   * Bytes up to `offset` are finished without a record still to come (e.g. all records emitted). Applies now when
   * nothing is outstanding, else once the last outstanding record is acknowledged.
   */
  advance(offset: number): void {
    const last = this.safeOffsets.length - 1;
    if (last < this.head) {
      if (offset > this.committedOffset) this.committedOffset = offset;
    } else if (offset > (this.safeOffsets[last] ?? 0)) {
      this.safeOffsets[last] = offset;
    }
  }

  ack(seq: number): void {
    const index = seq - this.base;
    if (index < this.head || index >= this.acked.length) return; // already popped: a duplicate ack is harmless
    this.acked[index] = true;
    while (this.head < this.acked.length && this.acked[this.head]) {
      this.committedOffset = Math.max(this.committedOffset, this.safeOffsets[this.head] ?? 0);
      this.head++;
    }
    // Drop the popped prefix now and then, not on every ack.
    if (this.head > 1024 && this.head * 2 > this.acked.length) {
      this.safeOffsets = this.safeOffsets.slice(this.head);
      this.acked = this.acked.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
  }
}
