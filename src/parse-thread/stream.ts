/**
 * One file's bytes → records, on the parse worker: line splitter, parser, and the resume offset of every record.
 * Records are written out as rows of numbers and JSON bytes (ReplyWriter), ready to be sent to the main thread.
 */
import { readSync } from 'node:fs';
import { lineFlags } from '../parse/django.js';
import type { DocumentPlacement, ParsedRecord, WrittenRecord } from '../parse/document.js';
import { createParser, type ParserType } from '../parse/index.js';
import type { EmitRecord, Line, ParserContext, RecordParser } from '../parse/types.js';
import { describeThrown, FailedLineRecords } from './failed.js';
import { LineSplitter } from '../tail/lines.js';
import type { ItemFraming } from '../sink.js';
import type { StreamState } from './protocol.js';
import type { ReplyWriter } from './reply-writer.js';
import { FramingBytes } from '../pipeline/item-framing.js';

/** The file could not be read: nothing changed, the read may be tried again. (Any other error is a bug.) */
export class ReadFailed extends Error {}

/** Records written out together while a chunk is parsed (see onLine). */
const RELEASE_EVERY = 16;

/** Makes a file's parser (createParser; a test may give another). */
export type ParserFactory = (type: ParserType, context: ParserContext, emit: EmitRecord, placement: DocumentPlacement) => RecordParser;

/**
 * A file's line splitter and parser. Each record is written out with the offset that is safe to resume from once it
 * and all before it are stored: the smallest start of anything still unshipped after it.
 *
 * No line can stop it: a parser that throws on a line is replaced by a fresh one, and the line is shipped as a
 * parse-error record (parserFailed).
 */
export class ParseStream {
  private readonly splitter: LineSplitter;
  /** Readable by the stream of a successor generation, for a handover; replaced by a fresh one after a parser threw. */
  parser: RecordParser;
  private readonly makeParser: () => RecordParser;
  private readonly failed: FailedLineRecords;
  /** Records the parser emitted and not yet written out. */
  private emitted: (ParsedRecord | WrittenRecord)[] = [];
  private lines = 0;
  /** The clock for the lines of the chunk being split: read once per request, not per line. */
  private now = 0;
  /** The file starts with binary content: nothing of it is parsed (see read). */
  private binary = false;
  /**
   * Whether a NUL byte means "not a log": Django text and Docker's JSON (which escapes every control character) never
   * hold one; a CRI log holds the container's raw bytes, where one NUL must not cost the whole file.
   */
  private readonly textOnly: boolean;
  /** How the sink frames this file's records, once known (see ReplyWriter). */
  private framing: FramingBytes | null = null;

  constructor(
    type: ParserType,
    private readonly context: ParserContext,
    maxLineBytes: number,
    startOffset: number,
    private readonly out: ReplyWriter,
    parserFactory: ParserFactory = createParser,
  ) {
    this.textOnly = type !== 'cri';
    // Documents a parser writes itself go straight into the reply's chunks.
    const placement: DocumentPlacement = {
      place: (bytes, start) => out.place(bytes, start),
      written: (start, end, flags, length) => this.emitted.push(out.writtenRecord(start, end, flags, length)),
    };
    const emit: EmitRecord = (r) => this.emitted.push(r);
    this.makeParser = () => parserFactory(type, context, emit, placement);
    this.parser = this.makeParser();
    this.failed = new FailedLineRecords(type, context);
    const takeBytes = this.parser.pushBytes === undefined ? null : this.takeBytes.bind(this);
    this.splitter = new LineSplitter(maxLineBytes, (line) => this.onLine(line), startOffset, takeBytes);
  }

  /** Frame this file's records from now on (its identity, which the item head names, is known). */
  frameWith(framing: ItemFraming | null): void {
    this.framing = framing === null ? null : new FramingBytes(framing);
  }

  get state(): StreamState {
    const state = { position: this.splitter.position, partialLine: this.splitter.hasPartial(), heldFrom: this.parser.heldFrom() ?? -1 };
    return this.binary ? { ...state, binary: true } : state;
  }

  /** Reads up to `bytes` at the stream's position through `fd` into `buffer` and parses them; returns bytes and lines. */
  read(fd: number, buffer: Buffer, bytes: number, now: number): { bytesRead: number; lines: number } {
    if (this.binary) return { bytesRead: 0, lines: 0 };
    this.out.framing = this.framing;
    let bytesRead: number;
    try {
      bytesRead = readSync(fd, buffer, 0, Math.min(bytes, buffer.length), this.splitter.position);
    } catch (err) {
      throw new ReadFailed((err as Error).message);
    }
    this.lines = 0;
    this.now = now;
    if (bytesRead > 0 && this.textOnly && this.splitter.position === 0 && buffer.subarray(0, bytesRead).indexOf(0) >= 0) {
      // A NUL byte in the file's first block: not a log (a compressed rotation, a core dump, UTF-16) that a glob
      // happened to match. Parsed, it would be one garbage record per block; the main thread is told instead
      // (state.binary), skips the file, warns and counts it. Checked only from offset 0, once: a log's text has
      // no NUL bytes, and a file picked up at its end is not read from the start.
      this.binary = true;
      return { bytesRead: 0, lines: 0 };
    }
    if (bytesRead > 0) {
      this.splitter.push(buffer, bytesRead);
      // The next read goes into the same buffer (and the splitter's own for a line across reads).
      this.parser.detach?.();
      this.release();
    }
    return { bytesRead, lines: this.lines };
  }

  /**
   * This file is a rotated generation read to its end: what its parser holds that the next generation continues goes
   * to `successor`'s parser (linked by `token` + the output stream's index); its own rows say so (CARRY_ROW), and
   * everything it read is finished.
   */
  handover(successor: ParseStream, token: number): void {
    const consumed = this.splitter.consumed;
    this.out.framing = this.framing;
    for (const carry of this.parser.exportCarried?.() ?? []) {
      const link = token + carry.index;
      successor.parser.importCarried?.(carry, link, successor.splitter.position);
      this.out.carry(carry.localStart, consumed, consumed, link, carry.link);
    }
    this.release();
  }

  flush(partialLine: boolean, force: boolean, now: number): void {
    this.now = now;
    this.out.framing = this.framing;
    if (partialLine) this.splitter.flushPartial();
    // Not per line: the held start is asked for before, in case the flush throws half-way (see flushFailed).
    const held = this.parser.heldFrom();
    try {
      this.parser.flush(now, force);
    } catch (err) {
      this.flushFailed(err, held);
    }
    this.release();
  }

  private onLine(line: Line): void {
    this.lines++;
    // A try block costs nothing per line in V8 (TurboFan optimises it); the catch work is in a method of its own.
    try {
      this.parser.push(line, this.now);
    } catch (err) {
      this.parserFailed(err, line.start, line.end, line.text, lineFlags(line));
    }
    // Records are written out as they come, a few at a time: kept until a whole 1 MiB chunk was parsed, thousands of
    // them (and their JSON text) lived long enough to be promoted to V8's old generation.
    // Everything up to this line's end has been seen by the parser.
    if (this.emitted.length >= RELEASE_EVERY) this.release(line.end);
  }

  /** A line offered as bytes (see RecordParser.pushBytes); counted and released like onLine's. */
  private takeBytes(buf: Buffer, from: number, to: number, start: number, end: number): boolean {
    let taken: boolean;
    try {
      taken = this.parser.pushBytes!(buf, from, to, start, end, this.now);
    } catch (err) {
      // Room it may have placed in a chunk is simply not used. The bytes are still in `buf` (push() has not returned).
      this.parserFailed(err, start, end, buf.toString('utf8', from, to), 0);
      taken = true;
    }
    if (!taken) return false;
    this.lines++;
    if (this.emitted.length >= RELEASE_EVERY) this.release(end);
    return true;
  }

  /**
   * The parser threw on the line [start, end). Its state is unknown now, and so is what heldFrom() means: a record it
   * was finishing may already count as not held (the checkpoint would pass bytes never shipped), or one may stay
   * "held" for ever (the checkpoint would never move again). So:
   * 1. what it holds from earlier lines is flushed out once, if it can (their records keep their text);
   * 2. records it made from this line (start >= this line's) are dropped: the line becomes one record, step 4;
   * 3. the parser is replaced by a fresh one, which holds nothing;
   * 4. the line is shipped as a parse-error record, and the failure is reported with the reply (logged by the agent).
   * Should step 1 fail, the record of step 4 starts where the old parser's held bytes did, so that the checkpoint
   * never passes them unshipped: their text is lost, their bytes are counted in a record and the failure is logged.
   */
  private parserFailed(err: unknown, start: number, end: number, text: string, flags: number): void {
    const old = this.parser;
    this.parser = this.makeParser();
    let from = start;
    try {
      old.flush(this.now, true);
      const stillHeld = old.heldFrom();
      if (stillHeld !== null && stillHeld < start) from = stillHeld;
    } catch {
      const held = safeHeldFrom(old);
      if (held !== null && held < start) from = held;
    }
    this.emitted = this.emitted.filter((r) => r.start < start);
    if (from < start && this.emitted.some((r) => r.start === from)) from = start; // ids are by start: never two alike
    this.emitted.push(this.failed.record(from, end, text, flags, this.now));
    this.out.failure({ path: this.context.path, start: from, end, error: describeThrown(err) });
  }

  /**
   * The parser threw while flushing what it held (from `held`; e.g. Docker pieces joined and parsed at a timeout):
   * the text is gone, but the bytes are not let go silently. They become a parse-error record saying so, from the
   * first held byte no record emitted before the throw starts at, to what the splitter has handed out.
   */
  private flushFailed(err: unknown, held: number | null): void {
    this.parser = this.makeParser();
    const end = this.splitter.consumed;
    let from = held ?? end;
    for (let moved = true; moved; ) {
      moved = false;
      for (const r of this.emitted) {
        if (r.start === from && r.end > from) {
          from = r.end;
          moved = true;
        }
      }
    }
    const error = describeThrown(err);
    if (from < end) {
      const text = `logship: the parser failed on bytes ${from}-${end} of this file (${error}); their text is not in this record`;
      this.emitted.push(this.failed.record(from, end, text, 0, this.now));
    }
    this.out.failure({ path: this.context.path, start: from, end, error });
  }

  private release(consumed: number = this.splitter.consumed): void {
    const held = this.parser.heldFrom();
    let safe = held === null ? consumed : Math.min(held, consumed);
    const emitted = this.emitted;
    if (emitted.length === 0) {
      this.out.advance(safe);
      return;
    }
    this.emitted = [];
    const safeOffsets = new Array<number>(emitted.length);
    for (let i = emitted.length - 1; i >= 0; i--) {
      safeOffsets[i] = safe;
      safe = Math.min(safe, emitted[i]!.start);
    }
    for (let i = 0; i < emitted.length; i++) this.out.record(emitted[i]!, safeOffsets[i]!);
  }
}

/** heldFrom() of a parser that threw, which may throw too. */
function safeHeldFrom(parser: RecordParser): number | null {
  try {
    return parser.heldFrom();
  } catch {
    return null;
  }
}
