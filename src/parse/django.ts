/**
 * Django's log output → records.
 *
 * Three kinds of line:
 *  - JSON lines (python-json-logger): one line, one record, emitted at once (django-json.ts).
 *  - A record's first line in a text layout: the input's own Formatter string when it has `format`
 *    (formatter/compile.ts), else one of the layouts Django projects use, detected per file (layouts.ts). It starts
 *    a record that is held, because the lines after it (a multi-line message, a traceback) belong to it, until the
 *    next first line or JSON line, the multi-line timeout, max_line_bytes, or a forced flush.
 *  - Everything else. In 'file' mode (a Django log file) it continues the held record once the file's layout is
 *    known (as Filebeat's multiline.negate does); while it is not, only a traceback or an indented line does, and
 *    any other line is a record of its own — a file nothing matches is never glued into one record. In 'stream' mode
 *    (a Docker container's stdout/stderr, full of non-Django output) only traceback lines continue, and any other
 *    line is a record of its own.
 *
 * Performance: this runs per line. The layouts and the compiled format check the first character before anything
 * else; the parser is a class (methods on the prototype, no per-line closures); the held record lives in reused
 * fields (held-text.ts) and two Header objects that swap.
 */

import { createTimestampReader, type TimestampReader } from './time.js';
import { isTracebackStart, TracebackTracker } from './traceback.js';
import {
  DocumentFields,
  DocumentWriter,
  LINE_INVALID_UTF8,
  LINE_PARTIAL,
  LINE_PARTIAL_TAIL,
  LINE_TRUNCATED,
  ParsedRecord,
  quote,
  REC_MULTILINE,
  REC_NO_TIMESTAMP,
  REC_PARSE_ERROR,
  REC_TOO_DEEP,
  type DocumentPlacement,
} from './document.js';
import { DjangoJsonLines, parseObject } from './django-json.js';
import { DjangoJsonBytes } from './django-json-bytes.js';
import { DjangoTextBytes } from './django-text-bytes.js';
import { LastTimestamp, type TimestampSource } from './timestamp-bytes.js';
import { compileFormat, type CompiledFormat, type FormatterSpec } from './formatter/index.js';
import { Header } from './header.js';
import { HeldTextRecord } from './held-text.js';
import { MAX_JSON_DEPTH, nestsDeeperThan, ParsedObject, ScannedObject } from './json-members.js';
import { repairTruncatedJson } from './json-repair.js';
import { LayoutDetector } from './layouts.js';
import type { EmitRecord, Line, ParserContext, RecordParser } from './types.js';

export { LINE_INVALID_UTF8, LINE_PARTIAL, LINE_PARTIAL_TAIL, LINE_TRUNCATED } from './document.js';

/** The LINE_* bits of a Line. */
export function lineFlags(line: Line): number {
  return (
    (line.truncated ? LINE_TRUNCATED : 0) |
    (line.invalidUtf8 ? LINE_INVALID_UTF8 : 0) |
    (line.partial ? LINE_PARTIAL : 0) |
    (line.partialTail === true ? LINE_PARTIAL_TAIL : 0)
  );
}

/**
 * The longest prefix of `text` that fits in `maxBytes` of UTF-8, never splitting a character (which would decode
 * to U+FFFD and look like corrupt input).
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text) <= maxBytes) return text;
  const buf = Buffer.from(text, 'utf8');
  let cut = maxBytes;
  // Back off over continuation bytes (10xxxxxx) to the start of the character that does not fit.
  while (cut > 0 && (buf[cut]! & 0xc0) === 0x80) cut--;
  return buf.toString('utf8', 0, cut);
}

export type DjangoMode = 'file' | 'stream';

/** A Django parser that can also be fed decoded text directly (the Docker parser does so). */
export interface DjangoParser extends RecordParser {
  /**
   * Feeds one line of text covering bytes [start, end). `flags` are LINE_* bits. `timestamp`, when given, is the
   * line's own ISO timestamp (Docker's `time`), preferred over anything in the text if the line starts a record.
   */
  pushText(text: string, start: number, end: number, flags: number, nowMs: number, timestamp?: string | null): void;
  /**
   * Feeds one line given as JSON text, without a line feed in it, when it would be a record by itself: nothing held
   * in stream mode and a first character that starts no JSON, header or traceback. Then the line is emitted as it is
   * and the answer is true; otherwise nothing happens, and the caller decodes the text for pushText.
   */
  pushPlainJson(textJson: string, start: number, end: number, flags: number, nowMs: number, timestamp: string | null): boolean;
  /**
   * Would pushPlainJson emit a line whose JSON text starts with this character (after its quote) as it is? For a
   * caller that writes that document itself; it then reports the line's timestamp with plainWritten.
   */
  takesPlain(firstChar: number): boolean;
  plainWritten(timestamp: TimestampSource): void;
  /**
   * Documents from now on carry `decoration` instead (the Docker parser, when entries bring `attrs` it had not seen;
   * a record already held gets it too).
   */
  redecorate(decoration: string): void;
}

class DjangoRecordParser implements DjangoParser {
  private readonly readTimestamp: TimestampReader;
  private readonly tb = new TracebackTracker();
  private writer: DocumentWriter;
  private readonly json: DjangoJsonLines;
  /** JSON lines made into documents on their bytes (pushBytes); null when this parser has nowhere to write them. */
  private readonly jsonBytes: DjangoJsonBytes | null;
  /**
   * First lines of Django's "verbose" layout made into documents on their bytes, in a file whose layout is detected;
   * null when this parser has nowhere to write them. A line it holds is handed to the string way (materialize) before
   * anything else is done.
   */
  private readonly textBytes: DjangoTextBytes | null;
  /** The fields of the record being emitted, reused. */
  private readonly fields = new DocumentFields();
  /** A JSON line read in place (reused). */
  private readonly scanned = new ScannedObject();
  /** The input's Formatter string, compiled; null: layouts are detected. */
  private readonly format: CompiledFormat | null;
  private readonly detector: LayoutDetector;
  /** Timestamp of the latest record started, for lines that have none. */
  private readonly lastTs = new LastTimestamp();

  /** The text record held until a line shows it is complete. */
  private readonly heldRecord: HeldTextRecord;
  /**
   * The line being replayed to the string way (materialize), -1 when none is: a throw half-way leaves it and those
   * after it neither held nor shipped, and heldFrom says so, for the parse thread's failure record to cover them.
   */
  private replayFrom = -1;
  /** Where a line is tried as a first line; swapped with the held record's header when it is one. */
  private next = new Header();

  constructor(
    private readonly ctx: ParserContext,
    private readonly emit: EmitRecord,
    private readonly mode: DjangoMode,
    decoration: string,
    placement: DocumentPlacement | null,
  ) {
    this.readTimestamp = createTimestampReader(ctx.timezone);
    this.writer = new DocumentWriter(ctx.path, ctx.hostName, decoration);
    this.json = new DjangoJsonLines(this.writer, this.readTimestamp, ctx.includeOriginal, emit);
    // event.original is the line as text: lines with it take the string way.
    this.jsonBytes = placement === null || ctx.includeOriginal ? null : new DjangoJsonBytes(this.writer.plainTemplate(), this.readTimestamp, placement);
    // Configuration checked it compiles (`logship check`): compiled again here, once per file.
    this.format = mode === 'file' && ctx.formatter ? compileFormat(ctx.formatter, ctx.timezone) : null;
    this.textBytes =
      this.jsonBytes === null || mode !== 'file' || this.format !== null ? null : new DjangoTextBytes(this.writer.plainTemplate(), this.readTimestamp, placement!, ctx.maxRecordBytes);
    this.detector = new LayoutDetector(ctx.timezone);
    this.heldRecord = new HeldTextRecord(ctx.includeOriginal, ctx.maxRecordBytes, mode === 'stream');
  }

  redecorate(decoration: string): void {
    if (this.textBytes?.held) this.materialize();
    this.writer = new DocumentWriter(this.ctx.path, this.ctx.hostName, decoration);
    this.jsonBytes?.retemplate(this.writer.plainTemplate());
  }

  /**
   * A line taken from its bytes, its document written in place: the record the string way would make of its text.
   * Two kinds: a first line of the verbose text layout (django-text-bytes.ts, held until the next line), and a JSON
   * line (django-json-bytes.ts, not while a text record is held: the string way finishes it first). False for any
   * other line; the caller then decodes it for push().
   */
  pushBytes(buf: Buffer, from: number, to: number, start: number, end: number, nowMs: number): boolean {
    const text = this.textBytes;
    if (text?.held) {
      // Between a "Traceback" line and its exception line every line is the traceback's (the string way's tracker
      // has it so, even one that looks like a first line); after it, a verbose first line completes the record.
      if (text.inFrames) {
        if (text.takeTraceback(buf, from, to, start, end, nowMs)) return true;
      } else if (text.matches(buf, from, to)) {
        text.writeHeld();
        return this.holdVerbose(text, start, end, nowMs);
      } else if (text.takeTraceback(buf, from, to, start, end, nowMs)) {
        return true;
      }
      // Anything else continues the held record the string way: it takes the lines held first.
      this.materialize();
      return false;
    }
    // A verbose first line, where the string way would start a record with it (see fileLine): the file's layout is
    // known (the string way matched a first line before), and no traceback's frames are being read.
    if (text !== null && this.detector.known && !(this.heldRecord.held && this.tb.inFrames) && text.matches(buf, from, to)) {
      // The record before is complete: this line starts the next.
      this.finish();
      return this.holdVerbose(text, start, end, nowMs);
    }
    if (this.jsonBytes === null || this.heldRecord.held || buf[from] !== 0x7b /* { */) return false;
    if (!this.jsonBytes.write(buf, from, to, start, end)) return false;
    // Its timestamp is made into text only if a later line needs it (fallbackTimestamp).
    this.lastTs.from(this.jsonBytes.timestamps);
    return true;
  }

  detach(): void {
    this.textBytes?.detach();
  }

  /** Holds the verbose first line textBytes matched: false when its time does not read (the string way tags it). */
  private holdVerbose(text: DjangoTextBytes, start: number, end: number, nowMs: number): boolean {
    if (!text.hold(start, end, nowMs)) return false;
    this.lastTs.from(text.timestamps);
    return true;
  }

  push(line: Line, nowMs: number): void {
    let text = line.text;
    // CRLF files: the tailer splits on "\n"; the "\r" is not part of the text.
    if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
    this.pushText(text, line.start, line.end, lineFlags(line), nowMs, null);
  }

  pushText(text: string, start: number, end: number, flags: number, nowMs: number, timestamp?: string | null): void {
    if (this.textBytes?.held) this.materialize();
    const ts = timestamp ?? null;
    if ((flags & LINE_PARTIAL_TAIL) !== 0) {
      this.partialTail(text, start, end, flags, nowMs, ts);
      return;
    }
    const c = text.charCodeAt(0);
    let badJson = false;
    if (c === 123 /* { */) {
      if (this.jsonLine(text, start, end, flags, nowMs, ts)) return;
      badJson = true;
    }
    if (this.mode === 'file') {
      this.fileLine(text, start, end, flags, nowMs);
      return;
    }

    // 'stream': a strong layout's first line (a Django record on the container's output) starts a record; only
    // traceback lines continue one. "[" and A-Z only: the commonest container lines (access logs starting with an IP
    // address) must stay on the Docker parser's fast path (takesPlain).
    if ((c === 91 /* [ */ || (c >= 65 && c <= 90)) /* A-Z */ && this.detector.matchStrong(text, this.next)) {
      this.finish();
      this.holdHeader(text, start, end, flags, nowMs, ts);
      return;
    }
    if (this.heldRecord.held) {
      const continues = this.tb.active ? this.tb.next(text) : this.heldRecord.stack === null && this.tb.begin(text);
      if (continues) {
        this.append(text, start, end, flags, nowMs);
        return;
      }
      this.finish();
    }
    if (this.tb.begin(text)) {
      // A traceback with no log line before it: Python's own uncaught-exception output, normal on a stream.
      this.startOrphan(text, start, end, flags, nowMs, ts);
      return;
    }
    this.emitPlain(text, start, end, flags | (badJson ? REC_PARSE_ERROR : 0), nowMs, ts);
  }

  /**
   * A line of a Django log file that is not JSON. See the header comment: a first line starts a record; once the
   * file's layout is known every other line continues the record before it; while it is not (or when the format
   * cannot tell a first line from others: it starts with the message), only tracebacks and indented lines do.
   */
  private fileLine(text: string, start: number, end: number, flags: number, nowMs: number): void {
    const loose = this.format !== null ? !this.format.anchored : !this.detector.known;
    const held = this.heldRecord.held;
    if (held) {
      const tb = this.tb;
      // Between "Traceback (most recent call last):" and the exception line the tracker decides: an exception line
      // ("ValueError: x") may look like a first line of some formats.
      if (tb.inFrames) {
        tb.next(text);
        this.append(text, start, end, flags, nowMs);
        return;
      }
      if (loose && (tb.active ? tb.next(text) : this.heldRecord.stack === null && tb.begin(text))) {
        this.append(text, start, end, flags, nowMs);
        return;
      }
      const c = text.charCodeAt(0);
      if (loose && (c === 32 || c === 9 || text.length === 0)) {
        this.append(text, start, end, flags, nowMs);
        return;
      }
    }
    if (this.format !== null ? this.format.match(text, this.next, nowMs) : this.detector.match(text, this.next)) {
      this.finish();
      this.holdHeader(text, start, end, flags, nowMs, null);
      return;
    }
    if (loose || !held) {
      // A line no layout claims: a record of its own (held, so that a traceback can join it).
      this.finish();
      this.startOrphan(text, start, end, flags | REC_PARSE_ERROR, nowMs, null);
      return;
    }
    // The file's layout is known: the line continues the record before it. Its traceback is followed, for the above.
    if (this.tb.active ? !this.tb.next(text) : true) this.tb.begin(text);
    this.append(text, start, end, flags, nowMs);
  }

  /** A JSON object line: a record of its own. False when it is not JSON (a dict printed in a message, say). */
  private jsonLine(text: string, start: number, end: number, flags: number, nowMs: number, ts: string | null): boolean {
    // Flat lines (python-json-logger's) are read in place; anything else goes to JSON.parse.
    if (this.scanned.scan(text)) {
      this.finish();
      this.lastTs.set(this.json.write(this.scanned, text, start, end, flags, ts, this.fallbackTimestamp(nowMs)));
      return true;
    }
    // Only lines the scanner declined pay for the depth scan: a value nested deeper than MAX_JSON_DEPTH would
    // overflow the stack when passed on (ParsedObject.json), so such a line is a record of its own, as its text.
    if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
      this.finish();
      this.emitPlain(text, start, end, flags | REC_PARSE_ERROR | REC_TOO_DEEP, nowMs, ts);
      return true;
    }
    let obj = parseObject(text);
    if (obj === null && (flags & LINE_TRUNCATED) !== 0) {
      // Cut at max_line_bytes: read what arrived as the record it is (its timestamp, level and logger come first),
      // the member that was cut short truncated, rather than ship a fragment of JSON text.
      const repaired = repairTruncatedJson(text);
      if (repaired !== null) obj = parseObject(repaired);
    }
    if (obj === null) return false;
    this.finish();
    this.lastTs.set(this.json.write(new ParsedObject(obj), text, start, end, flags, ts, this.fallbackTimestamp(nowMs)));
    return true;
  }

  /**
   * The rest of a line whose beginning was shipped without it (partial_line_timeout): a record of its own, tagged, at
   * its own offset; the record before it is complete. A rest that is only the newline adds nothing to ship.
   */
  private partialTail(text: string, start: number, end: number, flags: number, nowMs: number, ts: string | null): void {
    this.finish();
    if (text.length > 0) this.emitPlain(text, start, end, flags, nowMs, ts);
  }

  flush(nowMs: number, force: boolean): void {
    const text = this.textBytes;
    if (text?.held && (force || nowMs - text.heldSince >= this.ctx.multilineTimeoutMs)) {
      // A traceback cut short before its exception line is shipped as the string way ships it.
      if (text.complete) text.writeHeld();
      else this.materialize();
    }
    if (this.heldRecord.held && (force || nowMs - this.heldRecord.lastMs >= this.ctx.multilineTimeoutMs)) this.finish();
  }

  heldFrom(): number | null {
    if (this.textBytes?.held) return this.textBytes.heldStart;
    const held = this.heldRecord.held ? this.heldRecord.start : null;
    // A replay that threw (materialize) left lines neither held nor shipped, from the one it threw on.
    if (this.replayFrom >= 0) return held === null ? this.replayFrom : Math.min(held, this.replayFrom);
    return held;
  }

  /**
   * The lines textBytes holds go the string way, as if they had from the start: a line that may continue their
   * record came, or one the byte way does not take. Nothing else is held then (textBytes holds only after finish()).
   */
  private materialize(): void {
    const [first, ...traceback] = this.textBytes!.release();
    this.replayFrom = first!.start;
    this.fileLine(first!.text, first!.start, first!.end, 0, first!.nowMs);
    for (const line of traceback) {
      this.replayFrom = line.start;
      this.pushText(line.text, line.start, line.end, 0, line.nowMs);
    }
    this.replayFrom = -1;
  }

  /** Holds the record whose first line was just matched into `this.next`. */
  private holdHeader(text: string, start: number, end: number, flags: number, nowMs: number, timestamp: string | null): void {
    const header = this.next;
    this.next = this.heldRecord.takeHeader(header);
    this.hold(text, start, end, flags, nowMs, timestamp ?? header.timestamp);
  }

  /** Holds a record that has no header: plain text, or a traceback (then the message is decided at the end). */
  private startOrphan(text: string, start: number, end: number, flags: number, nowMs: number, timestamp: string | null): void {
    this.hold(text, start, end, flags, nowMs, timestamp);
    const traceback = isTracebackStart(text);
    if (traceback && !this.tb.active) this.tb.begin(text);
    this.heldRecord.beginOrphan(text, traceback);
  }

  /** Common part of starting a held record; without a timestamp of its own it gets the last one seen, tagged. */
  private hold(text: string, start: number, end: number, flags: number, nowMs: number, ts: string | null): void {
    if (ts === null) {
      ts = this.fallbackTimestamp(nowMs);
      flags |= REC_NO_TIMESTAMP;
    }
    this.lastTs.set(ts);
    this.heldRecord.hold(text, start, end, flags, nowMs, ts);
  }

  /**
   * Adds a continuation line to the held record: to the message, or to the stack trace once one started. A record
   * never grows past max_line_bytes: one that would is shipped as it is (tagged truncated), and the line starts the
   * rest of it, a record of its own with the same header fields, tagged too — nothing dropped, nothing merged.
   */
  private append(text: string, start: number, end: number, flags: number, nowMs: number): void {
    const h = this.heldRecord;
    // Classify before any cut: a "Traceback (most recent call last):" is where the trace starts.
    const startsStack = h.startsStack(text);
    const bytes = h.overflow(text);
    if (bytes < 0) {
      h.add(text, end, flags, nowMs, startsStack);
      return;
    }
    const inStack = startsStack || h.stack !== null;
    h.flags |= LINE_TRUNCATED;
    this.writeHeld();
    h.restartAt(text, start, end, flags, nowMs, inStack, bytes);
  }

  /** Emits the held record, if any. */
  private finish(): void {
    if (!this.heldRecord.held) return;
    this.tb.reset();
    this.writeHeld();
    this.heldRecord.clear();
  }

  /** Writes the held record's document. */
  private writeHeld(): void {
    const h = this.heldRecord;
    const multiline = h.fill(this.fields);
    this.write(h.start, h.end, multiline);
  }

  /** A line that is a record by itself (stream mode): plain output, or malformed JSON. */
  private emitPlain(text: string, start: number, end: number, flags: number, nowMs: number, timestamp: string | null): void {
    this.emitPlainJson(quote(text), text.includes('\n'), start, end, flags, nowMs, timestamp);
  }

  private emitPlainJson(
    textJson: string,
    multiline: boolean,
    start: number,
    end: number,
    flags: number,
    nowMs: number,
    timestamp: string | null,
  ): void {
    let ts = timestamp;
    if (ts === null) {
      ts = this.fallbackTimestamp(nowMs);
      flags |= REC_NO_TIMESTAMP;
    }
    this.lastTs.set(ts);
    const f = this.fields.reset(ts, textJson, start, flags);
    if (this.ctx.includeOriginal) f.originalJson = textJson;
    this.write(start, end, multiline);
  }

  pushPlainJson(textJson: string, start: number, end: number, flags: number, nowMs: number, timestamp: string | null): boolean {
    if (!this.takesPlain(textJson.charCodeAt(1))) return false;
    this.emitPlainJson(textJson, false, start, end, flags, nowMs, timestamp);
    return true;
  }

  takesPlain(c: number): boolean {
    if (this.mode !== 'stream' || this.heldRecord.held) return false;
    // The first character of the text decides, as in pushText: "{" may be JSON, "[" and A-Z a header or a traceback
    // ("Traceback …", "Stack …"), " " an exception group; "\" is an escape (the character is unknown) and '"' the end
    // of an empty text.
    return !(c === 123 || c === 91 || (c >= 65 && c <= 90) || c === 32 || c === 92 || c === 34);
  }

  plainWritten(timestamp: TimestampSource): void {
    // As a record with a timestamp of its own does; made into text only if a later line needs it.
    this.lastTs.from(timestamp);
  }

  /** Emits the record in `this.fields` as JSON text. */
  private write(start: number, end: number, multiline: boolean): void {
    const flags = this.fields.flags | (multiline ? REC_MULTILINE : 0);
    this.emit(new ParsedRecord(start, end, this.writer.write(this.fields), flags));
  }

  private fallbackTimestamp(nowMs: number): string {
    return this.lastTs.text() ?? new Date(nowMs).toISOString();
  }
}

/**
 * A parser for Django's log output. `mode` 'file' for a Django log file, 'stream' for container output (see above).
 * `decoration`, JSON members starting with ",", is added to every document (the Docker parser adds `stream` and
 * `container.id` with it). A file-mode parser reads first lines with `ctx.formatter` when there is one.
 */
export function createDjangoParser(
  ctx: ParserContext,
  emit: EmitRecord,
  mode: DjangoMode = 'file',
  decoration = '',
  placement: DocumentPlacement | null = null,
): DjangoParser {
  return new DjangoRecordParser(ctx, emit, mode, decoration, placement);
}

export type { FormatterSpec };
