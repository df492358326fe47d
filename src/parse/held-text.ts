/**
 * The text record a Django parser holds until a line shows it is complete (django.ts): its first line's fields, its
 * message and stack trace as continuation lines come, kept within max_line_bytes, and the document fields made of it
 * at the end. The parser decides which line starts, continues or ends a record; this keeps what it decided.
 *
 * Performance: one per parser, its fields reused from record to record; a first line's fields come in a Header the
 * parser swaps with this one's (no object per line).
 */
import { DocumentFields, LINE_INVALID_UTF8, LINE_PARTIAL, LINE_TRUNCATED, quote, quoteOptional, REC_NO_TIMESTAMP, REC_PARSE_ERROR } from './document.js';
import { Header } from './header.js';
import { errorFromTraceback, isTracebackStart } from './traceback.js';

export class HeldTextRecord {
  held = false;
  /** The file bytes [start, end) it spans so far. */
  start = 0;
  end = 0;
  /** When its last line came (for the multi-line timeout). */
  lastMs = 0;
  /** LINE_* and REC_* bits. */
  flags = 0;
  /** Its @timestamp. */
  private ts = '';
  /** The first line's fields. */
  private header = new Header();
  private message = '';
  /** Traceback lines joined with "\n"; null until a traceback started. */
  stack: string | null = null;
  /** The record has no header: its message comes from the traceback's exception line when there is one. */
  private orphan = false;
  /** The first line's full text, for byte counting and event.original. */
  private first = '';
  /** Joined text so far (only with includeOriginal). */
  private original = '';
  /** UTF-8 bytes of the joined text; -1 until a second line makes it worth counting. */
  private bytes = -1;

  constructor(
    private readonly includeOriginal: boolean,
    private readonly maxRecordBytes: number,
    /** Container output: every continuation line is a traceback's (see DjangoMode). */
    private readonly stream: boolean,
  ) {}

  /** Starts holding the record of line `text`, at file bytes [start, end), with timestamp `ts`. */
  hold(text: string, start: number, end: number, flags: number, nowMs: number, ts: string): void {
    this.held = true;
    this.start = start;
    this.end = end;
    this.lastMs = nowMs;
    this.flags = flags;
    this.ts = ts;
    this.stack = null;
    this.first = text;
    this.original = this.includeOriginal ? text : '';
    this.bytes = -1;
  }

  /** The record's first line was matched into `header`: it is this record's now. Returns the one it had, to reuse. */
  takeHeader(header: Header): Header {
    const had = this.header;
    this.header = header;
    this.message = header.message;
    this.orphan = false;
    return had;
  }

  /** The record has no first line of a layout: plain text, or a traceback's start (`traceback`). */
  beginOrphan(text: string, traceback: boolean): void {
    this.header.clear();
    this.orphan = true;
    this.startText(text, traceback);
  }

  /** Would continuation line `text` start the stack trace? (Asked before any cut: see add().) */
  startsStack(text: string): boolean {
    return this.stack === null && (this.stream || isTracebackStart(text));
  }

  /** -1 when `text` fits as a continuation line; else its UTF-8 bytes, which would take the record past the limit. */
  overflow(text: string): number {
    if (this.bytes < 0) this.bytes = Buffer.byteLength(this.first);
    const room = this.maxRecordBytes - this.bytes - 1; // 1 for the "\n" joining it
    const bytes = text.length * 3 <= room ? -1 : Buffer.byteLength(text);
    return bytes > room ? bytes : -1;
  }

  /** Adds a continuation line (that overflow() said fits): to the message, or to the stack trace once one started. */
  add(text: string, end: number, flags: number, nowMs: number, startsStack: boolean): void {
    this.end = end;
    this.lastMs = nowMs;
    this.flags |= flags & (LINE_TRUNCATED | LINE_INVALID_UTF8 | LINE_PARTIAL);
    this.bytes += 1 + Buffer.byteLength(text);
    if (startsStack) {
      this.stack = text;
    } else if (this.stack !== null) {
      this.stack += '\n' + text;
    } else {
      this.message += '\n' + text;
    }
    if (this.includeOriginal) this.original += '\n' + text;
  }

  /**
   * The record was shipped full (tagged truncated): hold the rest of it from line `text` on (its UTF-8 `bytes`), with
   * the same header fields, in the stack trace when `inStack`.
   */
  restartAt(text: string, start: number, end: number, flags: number, nowMs: number, inStack: boolean, bytes: number): void {
    this.start = start;
    this.end = end;
    this.lastMs = nowMs;
    this.flags = (this.flags & (REC_NO_TIMESTAMP | REC_PARSE_ERROR | LINE_TRUNCATED)) | (flags & (LINE_TRUNCATED | LINE_INVALID_UTF8 | LINE_PARTIAL));
    this.first = text;
    this.original = this.includeOriginal ? text : '';
    this.bytes = bytes;
    this.startText(text, inStack);
  }

  /** The record's text starts (again) with line `text`: its stack trace's first line when `inStack`, else its message's. */
  private startText(text: string, inStack: boolean): void {
    if (inStack) {
      this.stack = text;
      this.message = '';
    } else {
      this.stack = null;
      this.message = text;
    }
  }

  /** Lets go of the record's text once its document is written. */
  clear(): void {
    this.held = false;
    this.first = this.original = this.message = '';
    this.stack = null;
  }

  /** The record's document fields, into `f`; true when it spans lines (REC_MULTILINE). */
  fill(f: DocumentFields): boolean {
    let message = this.message;
    let multiline = message.includes('\n');
    const h = this.header;
    f.reset(this.ts, '', this.start, this.flags);
    f.levelJson = quoteOptional(h.level);
    f.loggerJson = quoteOptional(h.logger);
    f.originFileJson = quoteOptional(h.originName);
    f.originLine = h.originLine;
    f.originFunctionJson = quoteOptional(h.originFunction);
    if (this.stack !== null) {
      const stack = this.stack.trimEnd(); // a blank line that might have led to a chained section
      const err = errorFromTraceback(stack);
      f.stackTraceJson = quote(stack);
      multiline = true;
      if (err !== null) {
        f.errorTypeJson = quote(err.type);
        f.errorMessageJson = quoteOptional(err.message);
      }
      if (this.orphan && message === '') message = err !== null ? err.line : (stack.split('\n', 1)[0] ?? '');
    }
    f.messageJson = quote(message);
    f.pid = h.pid;
    f.threadId = h.threadId;
    f.threadNameJson = quoteOptional(h.threadName);
    f.django = h.django;
    if (this.includeOriginal) f.originalJson = quote(this.original);
    return multiline;
  }
}
