/**
 * Records that a rotation cut in two: Docker's json-file driver (and kubelet's CRI logs) check the size limit before
 * every entry, so a long line's 16 KiB pieces can end the rotated file `<id>-json.log.1` and go on in the new
 * `<id>-json.log`. The rotated file's parser hands the first pieces to the successor's (a handover, once the rotated
 * file is read to its end), and the record the successor makes of them is one record:
 *
 * - its id and log.offset are those of the file and offset it began at (deterministic across restarts: after a
 *   restart the same pieces are read again from the rotated file's checkpoint and handed over again);
 * - the rotated file's checkpoint does not pass its first pieces, nor the successor's its last ones, until it is
 *   acknowledged whole: the rotated file registers a placeholder for it (begun), the successor the record itself
 *   (ended), and acknowledging the record acknowledges both.
 *
 * A line across three generations is linked twice: each placeholder is acknowledged with the record.
 */
import type { SourceRef } from '../record.js';

/** A file as a carried record needs it: acknowledgements and its id prefix. */
export interface CarrierFile {
  readonly path: string;
  readonly idPrefix: string;
  ack(seq: number): void;
}

/** Where a carried record began: the placeholder in that file, and the link it came with from an earlier one. */
interface Begun {
  readonly file: CarrierFile;
  readonly seq: number;
  /** The record's offset in the file it began in (this file, or an earlier one when `previous` is set). */
  readonly start: number;
  readonly previous: Begun | null;
}

/** Each output stream of a parser takes the token + its index (see HandoverStream): tokens are this far apart. */
export const TOKENS_PER_HANDOVER = 2;

export class CarriedRecords {
  private readonly begun = new Map<number, Begun>();
  private nextToken = 1;

  /** A token for a handover (and the one after it, for a parser's second output stream). */
  token(): number {
    const t = this.nextToken;
    this.nextToken += TOKENS_PER_HANDOVER;
    return t;
  }

  /**
   * `file` handed pieces over with `token`, and registered placeholder `seq` for them, at `start`; `previous` is the
   * link the pieces came into `file` with (0 when they began there).
   */
  begin(token: number, file: CarrierFile, seq: number, start: number, previous: number): void {
    const before = previous === 0 ? null : (this.begun.get(previous) ?? null);
    if (before !== null) this.begun.delete(previous);
    this.begun.set(token, { file, seq, start: before?.start ?? start, previous: before });
  }

  /** The successor emitted the record linked by `token`: the record's source for delivery. */
  end(token: number, successor: CarrierFile): CarriedSource {
    const begun = this.begun.get(token);
    this.begun.delete(token);
    if (begun === undefined) {
      // Not begun (cannot happen: a handover's rows are handled before the successor is read). Stand alone.
      return new CarriedSource(successor, successor.idPrefix, -1, []);
    }
    const placeholders: [CarrierFile, number][] = [];
    let first: Begun = begun;
    for (let b: Begun | null = begun; b !== null; b = b.previous) {
      placeholders.push([b.file, b.seq]);
      first = b;
    }
    return new CarriedSource(successor, first.file.idPrefix, first.start, placeholders);
  }

  /** Links begun and not yet ended (for tests and the stop summary). */
  get pending(): number {
    return this.begun.size;
  }
}

/** A carried record's source: the id of where it began; its acknowledgement moves every file it spans. */
export class CarriedSource implements SourceRef {
  readonly path: string;

  constructor(
    private readonly successor: CarrierFile,
    readonly idPrefix: string,
    /** The record's offset in the file it began in (-1: unknown, then its own offset is used). */
    readonly start: number,
    private readonly placeholders: readonly [CarrierFile, number][],
  ) {
    this.path = successor.path;
  }

  /** Acknowledges the record in the successor (its seq there is the one delivery holds) and every placeholder. */
  ack(seq: number): void {
    this.successor.ack(seq);
    for (const [file, placeholder] of this.placeholders) file.ack(placeholder);
  }
}
