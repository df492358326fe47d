import type { ParsedRecord } from './document.js';
import type { ContainerInfo } from '../containers/metadata.js';
import type { FormatterSpec } from './formatter/index.js';

export type { ParsedRecord } from './document.js';

/** One line of a file, decoded, without its newline. */
export interface Line {
  readonly text: string;
  /** Offset of the line's first byte. */
  readonly start: number;
  /** Offset just past the line's newline (or its last byte when flushed without one). */
  readonly end: number;
  /** Longer than max_line_bytes: the text is the first max_line_bytes bytes, the rest was skipped. */
  readonly truncated: boolean;
  /** The bytes were not valid UTF-8: invalid sequences became U+FFFD. */
  readonly invalidUtf8: boolean;
  /** Flushed without a newline after partial_line_timeout. */
  readonly partial: boolean;
  /** The rest of a line flushed as `partial` before: its bytes after the ones already shipped. */
  readonly partialTail?: boolean;
}

/** Facts about the file a parser reads, fixed for its life. */
export interface ParserContext {
  /** Absolute path of the file, for log.file.path. */
  readonly path: string;
  readonly hostName: string;
  /** IANA zone in which zone-less timestamps (Python's asctime) are read. */
  readonly timezone: string;
  /** Keep the raw text in event.original. */
  readonly includeOriginal: boolean;
  /** How long a multi-line record (or a Docker partial) may wait for its continuation. */
  readonly multilineTimeoutMs: number;
  /** Cap on a joined record's size in bytes (max_line_bytes); longer is truncated and tagged. */
  readonly maxRecordBytes: number;
  /**
   * The file's container (docker and cri inputs), found on the agent thread when the file was opened (see
   * src/containers/catalog.ts); written into every document of the file. Absent: nothing known beyond the path.
   */
  readonly container?: ContainerInfo;
  /**
   * The input's Formatter string (`format`, `style`, `datefmt`): a Django file's records' first lines are read with
   * it. Absent or null: the common layouts are detected.
   */
  readonly formatter?: FormatterSpec | null;
}

/**
 * Turns the lines of one file into records. It may hold lines back (a record whose continuation lines may still
 * come, a Docker partial). It never drops a line: every line ends up in exactly one emitted record.
 */
export interface RecordParser {
  /** Feed the next line of the file; finished records go to the emit callback given at construction. */
  push(line: Line, nowMs: number): void;
  /** Emit what has waited longer than the multi-line timeout (or everything, when `force`). */
  flush(nowMs: number, force: boolean): void;
  /**
   * Offset of the first byte not yet part of an emitted record, or null when nothing is held.
   * The file's checkpoint never passes it.
   */
  heldFrom(): number | null;
  /**
   * Take the line in buf[from, to) (its bytes, without the newline) as it is, if the parser can make its record
   * without decoding it; false when the caller must decode it and push() it. Only parsers given somewhere to write
   * documents (DocumentPlacement) have this, and the CRI parser (it joins pieces of a line as bytes). `nowMs` is the
   * time the line was read, as push() gets it.
   */
  pushBytes?(buf: Buffer, from: number, to: number, start: number, end: number, nowMs: number): boolean;
  /**
   * The buffers of the lines given to pushBytes so far are about to be reused (the next read goes into them): copy
   * what is still held of them. Called after every push of a read to the line splitter. A parser may keep a taken
   * line where the caller had it until then, so that a record complete within its read is never copied.
   */
  detach?(): void;
  /**
   * The first pieces of lines that the file's end cut (a container runtime rotated the log between a long line's
   * pieces), one per output stream, given up for the next generation to continue (see tail/carried.ts). Only parsers
   * of formats that split lines into pieces have this.
   */
  exportCarried?(): CarriedPieces[];
  /**
   * Continue `carried` (exported by the previous generation's parser) with this file's next pieces of that stream.
   * `link` marks the record it becomes; `localStart` is where this file's part of it begins.
   */
  importCarried?(carried: CarriedPieces, link: number, localStart: number): void;
}

/** A line's first pieces, handed from a rotated generation's parser to its successor's. */
export interface CarriedPieces {
  /** The parser's output stream they belong to (0 stdout, 1 stderr). */
  readonly index: number;
  /** Where they begin in the file that exports them. */
  readonly localStart: number;
  /** Where the record begins in the file it began in (log.offset, and its id): earlier generations included. */
  readonly idStart: number;
  /** The link they came with, when they were themselves carried into this file (a line across three files); else 0. */
  readonly link: number;
  /** What they hold: text (Docker decodes each piece) or bytes (CRI joins pieces as bytes and decodes the line once). */
  readonly content: string | Uint8Array;
  /** UTF-8 bytes of the content. */
  readonly bytes: number;
  readonly capped: boolean;
  /** LINE_* bits of the pieces so far. */
  readonly flags: number;
  /** The runtime's time of the first piece. */
  readonly time: string | null;
  /** When the last piece arrived (ms since epoch): the next file's parser times the line out from there. */
  readonly lastMs: number;
}

export type EmitRecord = (record: ParsedRecord) => void;
