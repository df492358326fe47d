/**
 * Django's log output → records.
 *
 * Three kinds of line:
 *  - JSON lines (python-json-logger): one line, one record, emitted at once.
 *  - Header lines of the two text formats Django projects use:
 *      (a) "{levelname} {asctime} {module} {process:d} {thread:d} {message}"   (Django docs' "verbose")
 *      (b) "[%(asctime)s] %(levelname)s [logger:lineno] message" / "... logger: message" / "... message"
 *    A header starts a record that is held, because the lines after it (a multi-line message, a traceback) belong
 *    to it, until the next header or JSON line, the multi-line timeout, or a forced flush.
 *  - Everything else. In 'file' mode (a Django log file) it continues the held record; in 'stream' mode (a Docker
 *    container's stdout/stderr, full of non-Django output) only traceback lines do, and any other line is a record
 *    of its own.
 *
 * Performance: this runs per line. Regexes are module constants, tried only after a first-character check; the
 * parser is a class (methods on the prototype, no per-line closures); a held record lives in reused fields.
 */

import { createTimestampReader, isoFromEpochSeconds, type TimestampReader } from './time.js';
import { errorFromTraceback, isTracebackStart, TracebackTracker } from './traceback.js';
import {
  addMemberJson,
  DocumentFields,
  DocumentWriter,
  LINE_INVALID_UTF8,
  LINE_PARTIAL,
  LINE_TRUNCATED,
  ParsedRecord,
  quote,
  quoteOptional,
  REC_MULTILINE,
  REC_NO_TIMESTAMP,
  REC_PARSE_ERROR,
  REC_TOO_DEEP,
} from './document.js';
import {
  JSON_NUMBER,
  JSON_STRING,
  MAX_JSON_DEPTH,
  nestsDeeperThan,
  ParsedObject,
  ScannedObject,
  type JsonMembers,
} from './json-members.js';
import type { EmitRecord, Line, ParserContext, RecordParser } from './types.js';

export { LINE_INVALID_UTF8, LINE_PARTIAL, LINE_TRUNCATED } from './document.js';

/** The LINE_* bits of a Line. */
export function lineFlags(line: Line): number {
  return (line.truncated ? LINE_TRUNCATED : 0) | (line.invalidUtf8 ? LINE_INVALID_UTF8 : 0) | (line.partial ? LINE_PARTIAL : 0);
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

const LEVEL = '(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL|NOTSET)';
const ASCTIME = '\\d{4}-\\d\\d-\\d\\d[ T]\\d\\d:\\d\\d:\\d\\d(?:[.,]\\d+)?(?:Z|[+-]\\d\\d(?::?\\d\\d)?)?';
/** (a) "ERROR 2026-11-27 12:00:00,123 views 4242 140245 message" */
const VERBOSE_RE = new RegExp(`^${LEVEL} (${ASCTIME}) (\\S+) (\\d+) (\\d+)(?: |$)`);
/** (b) "[2026-11-27 12:00:00,123] ERROR " — the rest is checked for a logger below. */
const BRACKET_RE = new RegExp(`^\\[(${ASCTIME})\\] ${LEVEL}(?: |$)`);
/** (b) "[django.request:241] " after the level. */
const BRACKET_LOGGER_RE = /^\[([^\]\s]+):(\d+)\](?: |$)/;
/** (b) "django.security.csrf: " after the level: a dotted lowercase identifier, then ": ". */
const DOTTED_LOGGER_RE = /^([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*): /;

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
  plainWritten(timestamp: string): void;
}

/** Parses a line that starts with "{" as a JSON object, or null. */
function parseObject(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function isString(m: JsonMembers, i: number): boolean {
  return i >= 0 && m.kind(i) === JSON_STRING;
}

function isInt(m: JsonMembers, i: number): boolean {
  return i >= 0 && m.kind(i) === JSON_NUMBER && Number.isSafeInteger(m.number(i));
}

class DjangoRecordParser implements DjangoParser {
  private readonly readTimestamp: TimestampReader;
  private readonly tb = new TracebackTracker();
  private readonly writer: DocumentWriter;
  /** The fields of the record being emitted, reused. */
  private readonly fields = new DocumentFields();
  /** A JSON line read in place (reused), and the `django` members of the record being emitted. */
  private readonly scanned = new ScannedObject();
  private django = '';
  /** Timestamp of the latest record started, for lines that have none. */
  private lastTs: string | null = null;

  // The held text record. Fields are reused from record to record.
  private held = false;
  private hStart = 0;
  private hEnd = 0;
  private hLastMs = 0;
  private hFlags = 0;
  private hTs = '';
  private hLevel: string | undefined;
  private hLogger: string | undefined;
  private hOriginName: string | undefined;
  private hOriginLine: number | undefined;
  private hPid: number | undefined;
  private hTid: number | undefined;
  private hMessage = '';
  /** Traceback lines joined with "\n"; null until a traceback started. */
  private hStack: string | null = null;
  /** The record has no header: its message comes from the traceback's exception line when there is one. */
  private hOrphan = false;
  /** The first line's full text, for byte counting and event.original. */
  private hFirst = '';
  /** Joined text so far (only with includeOriginal). */
  private hOriginal = '';
  /** UTF-8 bytes of the joined text; -1 until a second line makes it worth counting. */
  private hBytes = -1;
  /** Over maxRecordBytes: further lines only extend the byte range. */
  private hCapped = false;

  constructor(
    private readonly ctx: ParserContext,
    private readonly emit: EmitRecord,
    private readonly mode: DjangoMode,
    decoration: string,
  ) {
    this.readTimestamp = createTimestampReader(ctx.timezone);
    this.writer = new DocumentWriter(ctx.path, ctx.hostName, decoration);
  }

  push(line: Line, nowMs: number): void {
    let text = line.text;
    // CRLF files: the tailer splits on "\n"; the "\r" is not part of the text.
    if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
    this.pushText(text, line.start, line.end, lineFlags(line), nowMs, null);
  }

  pushText(text: string, start: number, end: number, flags: number, nowMs: number, timestamp?: string | null): void {
    const c = text.charCodeAt(0);
    let badJson = false;
    if (c === 123 /* { */) {
      // Flat lines (python-json-logger's) are read in place; anything else goes to JSON.parse.
      if (this.scanned.scan(text)) {
        this.finish();
        this.emitJson(this.scanned, text, start, end, flags, nowMs, timestamp ?? null);
        return;
      }
      // Only lines the scanner declined pay for the depth scan: a value nested deeper than MAX_JSON_DEPTH would
      // overflow the stack when passed on (ParsedObject.json), so such a line is a record of its own, as its text.
      if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
        this.finish();
        this.emitPlain(text, start, end, flags | REC_PARSE_ERROR | REC_TOO_DEEP, nowMs, timestamp ?? null);
        return;
      }
      const obj = parseObject(text);
      if (obj !== null) {
        this.finish();
        this.emitJson(new ParsedObject(obj), text, start, end, flags, nowMs, timestamp ?? null);
        return;
      }
      badJson = true;
    }
    if ((c === 91 /* [ */ || (c >= 65 && c <= 90)) /* A-Z */ && this.header(text, start, end, flags, nowMs, timestamp ?? null)) {
      return;
    }

    if (this.mode === 'file') {
      // In a Django log file every non-header line belongs to the record before it (a "{" line that is not JSON
      // is likely a dict printed in a message). With nothing before it, it is a record we could not parse.
      if (this.held) this.append(text, end, flags, nowMs);
      else this.startOrphan(text, start, end, flags | REC_PARSE_ERROR, nowMs, timestamp ?? null);
      return;
    }

    // 'stream': only traceback lines continue a held record.
    if (this.held) {
      const continues = this.tb.active ? this.tb.next(text) : this.hStack === null && this.tb.begin(text);
      if (continues) {
        this.append(text, end, flags, nowMs);
        return;
      }
      this.finish();
    }
    if (this.tb.begin(text)) {
      // A traceback with no log line before it: Python's own uncaught-exception output, normal on a stream.
      this.startOrphan(text, start, end, flags, nowMs, timestamp ?? null);
      return;
    }
    this.emitPlain(text, start, end, flags | (badJson ? REC_PARSE_ERROR : 0), nowMs, timestamp ?? null);
  }

  flush(nowMs: number, force: boolean): void {
    if (this.held && (force || nowMs - this.hLastMs >= this.ctx.multilineTimeoutMs)) this.finish();
  }

  heldFrom(): number | null {
    return this.held ? this.hStart : null;
  }

  /** Tries both header formats; on a match, ends the held record and holds the new one. */
  private header(text: string, start: number, end: number, flags: number, nowMs: number, timestamp: string | null): boolean {
    let asctime: string;
    let level: string;
    let logger: string | undefined;
    let originName: string | undefined;
    let originLine: number | undefined;
    let pid: number | undefined;
    let tid: number | undefined;
    let message: string;
    if (text.charCodeAt(0) === 91) {
      const m = BRACKET_RE.exec(text);
      if (m === null) return false;
      asctime = m[1]!;
      level = m[2]!;
      message = text.slice(m[0].length);
      const c = message.charCodeAt(0);
      if (c === 91) {
        const lm = BRACKET_LOGGER_RE.exec(message);
        if (lm !== null) {
          logger = lm[1]!;
          originLine = Number(lm[2]);
          message = message.slice(lm[0].length);
        }
      } else if ((c >= 97 && c <= 122) || c === 95 /* a-z _ */) {
        const lm = DOTTED_LOGGER_RE.exec(message);
        if (lm !== null) {
          logger = lm[1]!;
          message = message.slice(lm[0].length);
        }
      }
    } else {
      const m = VERBOSE_RE.exec(text);
      if (m === null) return false;
      level = m[1]!;
      asctime = m[2]!;
      originName = m[3]!;
      pid = Number(m[4]);
      tid = Number(m[5]);
      message = text.slice(m[0].length);
    }

    this.finish();
    this.hold(text, start, end, flags, nowMs, timestamp ?? this.readTimestamp(asctime));
    this.hLevel = level;
    this.hLogger = logger;
    this.hOriginName = originName;
    this.hOriginLine = originLine;
    this.hPid = pid;
    this.hTid = tid;
    this.hMessage = message;
    this.hOrphan = false;
    return true;
  }

  /** Holds a record that has no header: plain text, or a traceback (then the message is decided at the end). */
  private startOrphan(text: string, start: number, end: number, flags: number, nowMs: number, timestamp: string | null): void {
    this.hold(text, start, end, flags, nowMs, timestamp);
    this.hLevel = this.hLogger = this.hOriginName = undefined;
    this.hOriginLine = this.hPid = this.hTid = undefined;
    this.hOrphan = true;
    if (isTracebackStart(text)) {
      if (this.mode === 'stream' && !this.tb.active) this.tb.begin(text);
      this.hStack = text;
      this.hMessage = '';
    } else {
      this.hMessage = text;
    }
  }

  /** Common part of starting a held record; without a timestamp of its own it gets the last one seen, tagged. */
  private hold(text: string, start: number, end: number, flags: number, nowMs: number, ts: string | null): void {
    if (ts === null) {
      ts = this.fallbackTimestamp(nowMs);
      flags |= REC_NO_TIMESTAMP;
    }
    this.held = true;
    this.hStart = start;
    this.hEnd = end;
    this.hLastMs = nowMs;
    this.hFlags = flags;
    this.hTs = ts;
    this.lastTs = ts;
    this.hStack = null;
    this.hFirst = text;
    this.hOriginal = this.ctx.includeOriginal ? text : '';
    this.hBytes = -1;
    this.hCapped = false;
  }

  /** Adds a continuation line to the held record: to the message, or to the stack trace once one started. */
  private append(text: string, end: number, flags: number, nowMs: number): void {
    this.hEnd = end;
    this.hLastMs = nowMs;
    this.hFlags |= flags & (LINE_TRUNCATED | LINE_INVALID_UTF8 | LINE_PARTIAL);
    if (this.hCapped) return; // over the cap: the bytes are accounted by hEnd, the text is dropped
    // Classify before any cut: a "Traceback (most recent call last):" cut short is still where the trace starts.
    const startsStack = this.hStack === null && (this.mode === 'stream' || isTracebackStart(text));
    if (this.hBytes < 0) this.hBytes = Buffer.byteLength(this.hFirst);
    const room = this.ctx.maxRecordBytes - this.hBytes - 1; // 1 for the "\n" joining it
    const bytes = text.length * 3 <= room ? -1 : Buffer.byteLength(text);
    if (bytes > room) {
      this.hCapped = true;
      this.hFlags |= LINE_TRUNCATED;
      if (room <= 0) return;
      text = truncateUtf8(text, room);
      this.hBytes += 1 + Buffer.byteLength(text);
    } else {
      this.hBytes += 1 + (bytes < 0 ? Buffer.byteLength(text) : bytes);
    }

    if (startsStack) {
      this.hStack = text;
    } else if (this.hStack !== null) {
      this.hStack += '\n' + text;
    } else {
      this.hMessage += '\n' + text;
    }
    if (this.ctx.includeOriginal) this.hOriginal += '\n' + text;
  }

  /** Emits the held record, if any. */
  private finish(): void {
    if (!this.held) return;
    this.held = false;
    this.tb.reset();
    let message = this.hMessage;
    let multiline = message.includes('\n');
    const f = this.fields.reset(this.hTs, '', this.hStart, this.hFlags);
    f.levelJson = quoteOptional(this.hLevel);
    f.loggerJson = quoteOptional(this.hLogger);
    f.originFileJson = quoteOptional(this.hOriginName);
    f.originLine = this.hOriginLine;
    if (this.hStack !== null) {
      const stack = this.hStack.trimEnd(); // a blank line that might have led to a chained section
      const err = errorFromTraceback(stack);
      f.stackTraceJson = quote(stack);
      multiline = true;
      if (err !== null) {
        f.errorTypeJson = quote(err.type);
        f.errorMessageJson = quoteOptional(err.message);
      }
      if (this.hOrphan && message === '') message = err !== null ? err.line : (stack.split('\n', 1)[0] ?? '');
    }
    f.messageJson = quote(message);
    f.pid = this.hPid;
    f.threadId = this.hTid;
    if (this.ctx.includeOriginal) f.originalJson = quote(this.hOriginal);
    this.hFirst = this.hOriginal = this.hMessage = '';
    this.hStack = null;
    this.write(this.hStart, this.hEnd, multiline);
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
    const f = this.startDocument(timestamp, textJson, start, flags, nowMs);
    if (this.ctx.includeOriginal) f.originalJson = textJson;
    this.write(start, end, multiline);
  }

  pushPlainJson(textJson: string, start: number, end: number, flags: number, nowMs: number, timestamp: string | null): boolean {
    if (!this.takesPlain(textJson.charCodeAt(1))) return false;
    this.emitPlainJson(textJson, false, start, end, flags, nowMs, timestamp);
    return true;
  }

  takesPlain(c: number): boolean {
    if (this.mode !== 'stream' || this.held) return false;
    // The first character of the text decides, as in pushText: "{" may be JSON, "[" and A-Z a header or a traceback
    // ("Traceback …", "Stack …"), " " an exception group; "\" is an escape (the character is unknown) and '"' the end
    // of an empty text.
    return !(c === 123 || c === 91 || (c >= 65 && c <= 90) || c === 32 || c === 92 || c === 34);
  }

  plainWritten(timestamp: string): void {
    this.lastTs = timestamp; // as startDocument does for a record with a timestamp of its own
  }

  /**
   * A python-json-logger line: known keys to ECS fields, every other key under `django`. Values are passed on as the
   * JSON text they were (JsonMembers.json), decoded only where a field needs the value (timestamps, integers,
   * tracebacks).
   */
  private emitJson(
    m: JsonMembers,
    text: string,
    start: number,
    end: number,
    flags: number,
    nowMs: number,
    timestamp: string | null,
  ): void {
    let asctime = -1, tsKey = -1, time = -1, atTs = -1, created = -1;
    let levelname = -1, level = -1, name = -1, loggerKey = -1, message = -1, msg = -1;
    let excInfo = -1, excText = -1, stackInfo = -1, filename = -1, module = -1;
    let lineno = -1, funcName = -1, processKey = -1, thread = -1, threadName = -1;
    // The `django` object's members, as JSON text (this.django). A known key whose value could not be used is kept
    // there as it was: nothing is dropped. (Keys are distinct: JsonMembers resolve duplicates.)
    this.django = '';
    for (let i = 0; i < m.count; i++) {
      switch (m.key(i)) {
        case 'asctime': asctime = i; break;
        case 'timestamp': tsKey = i; break;
        case 'time': time = i; break;
        case '@timestamp': atTs = i; break;
        case 'created': created = i; break;
        case 'levelname': levelname = i; break;
        case 'level': level = i; break;
        case 'name': name = i; break;
        case 'logger': loggerKey = i; break;
        case 'message': message = i; break;
        case 'msg': msg = i; break;
        case 'exc_info': excInfo = i; break;
        case 'exc_text': excText = i; break;
        case 'stack_info': stackInfo = i; break;
        case 'filename': filename = i; break;
        case 'module': module = i; break;
        case 'lineno': lineno = i; break;
        case 'funcName': funcName = i; break;
        case 'process': processKey = i; break;
        case 'thread': thread = i; break;
        case 'threadName': threadName = i; break;
        default: this.keep(m, i);
      }
    }
    // @timestamp: the first of the text timestamps that reads (the others are kept under `django`), else `created`;
    // Docker's time wins over all.
    let ts = this.timeCandidate(m, asctime, null);
    ts = this.timeCandidate(m, tsKey, ts);
    ts = this.timeCandidate(m, time, ts);
    ts = this.timeCandidate(m, atTs, ts);
    let fromCreated = false;
    if (ts === null && created >= 0 && m.kind(created) === JSON_NUMBER) {
      ts = isoFromEpochSeconds(m.number(created));
      fromCreated = ts !== null;
    }
    if (!fromCreated) this.keep(m, created);
    if (timestamp !== null) ts = timestamp;

    let messageJson = '""';
    let multiline = false;
    if (isString(m, message)) {
      messageJson = m.json(message);
      multiline = m.hasNewline(message);
      this.keep(m, msg);
    } else if (isString(m, msg)) {
      messageJson = m.json(msg);
      multiline = m.hasNewline(msg);
      this.keep(m, message);
    } else if (message >= 0 && m.json(message) !== 'null') {
      // A number, true or false (or an object), as the text JSON.stringify gives its value.
      messageJson = quote(m.kind(message) === JSON_NUMBER ? JSON.stringify(m.number(message)) : m.json(message));
      this.keep(m, msg);
    } else {
      this.keep(m, message);
      this.keep(m, msg);
    }

    const f = this.startDocument(ts, messageJson, start, flags, nowMs);
    f.levelJson = this.firstString(m, levelname, level);
    f.loggerJson = this.firstString(m, name, loggerKey);
    // log.origin: ECS wants the file name ("views.py"); `module` ("views") only when there is no filename.
    f.originFileJson = this.firstString(m, filename, module);
    if (isInt(m, lineno)) f.originLine = m.number(lineno);
    else this.keep(m, lineno);
    if (isString(m, funcName)) f.originFunctionJson = m.json(funcName);
    else this.keep(m, funcName);

    // error: the formatted exception (exc_info, or exc_text when that is all there is) and stack_info after it,
    // as logging.Formatter joins them.
    let exc: string | undefined;
    const excInfoText = isString(m, excInfo) ? m.string(excInfo) : '';
    const excTextText = isString(m, excText) ? m.string(excText) : '';
    if (excInfoText !== '') {
      exc = excInfoText;
      if (!(isString(m, excText) && excTextText === excInfoText)) this.keep(m, excText);
    } else if (excTextText !== '') {
      exc = excTextText;
      this.keep(m, excInfo);
    } else {
      this.keep(m, excInfo);
      this.keep(m, excText);
    }
    const stackText = isString(m, stackInfo) && m.string(stackInfo) !== '' ? m.string(stackInfo) : undefined;
    if (stackText === undefined) this.keep(m, stackInfo);
    if (exc !== undefined || stackText !== undefined) {
      const stack = (exc !== undefined && stackText !== undefined ? exc + '\n' + stackText : (exc ?? stackText)!).trimEnd();
      f.stackTraceJson = quote(stack);
      multiline = true;
      const err = errorFromTraceback(stack);
      if (err !== null) {
        f.errorTypeJson = quote(err.type);
        f.errorMessageJson = quoteOptional(err.message);
      }
    }

    if (isInt(m, processKey)) f.pid = m.number(processKey);
    else this.keep(m, processKey);
    if (isInt(m, thread)) f.threadId = m.number(thread);
    else this.keep(m, thread);
    if (isString(m, threadName)) f.threadNameJson = m.json(threadName);
    else this.keep(m, threadName);
    f.django = this.django;
    if (this.ctx.includeOriginal) f.originalJson = quote(text);
    this.write(start, end, multiline);
  }

  /**
   * The JSON text of member a when it is a string, else of member b when that is; the member not used (or both)
   * is kept under `django`.
   */
  private firstString(m: JsonMembers, a: number, b: number): string | undefined {
    if (isString(m, a)) {
      this.keep(m, b);
      return m.json(a);
    }
    if (isString(m, b)) {
      this.keep(m, a);
      return m.json(b);
    }
    this.keep(m, a);
    this.keep(m, b);
    return undefined;
  }

  /** Keeps member i (if present) under `django`, as it was. */
  private keep(m: JsonMembers, i: number): void {
    if (i >= 0) this.django = addMemberJson(this.django, m.keyJson(i), m.json(i));
  }

  /**
   * A timestamp member (if present): read as ISO when no earlier one was, else (or when it does not read) kept under
   * `django`. Returns the timestamp so far.
   */
  private timeCandidate(m: JsonMembers, i: number, ts: string | null): string | null {
    if (i < 0) return ts;
    const read = ts === null && m.kind(i) === JSON_STRING ? this.readTimestamp(m.string(i)) : null;
    if (read !== null) return read;
    this.keep(m, i);
    return ts;
  }

  /** Emits the record in `this.fields` as JSON text. */
  private write(start: number, end: number, multiline: boolean): void {
    const flags = this.fields.flags | (multiline ? REC_MULTILINE : 0);
    this.emit(new ParsedRecord(start, end, this.writer.write(this.fields), flags));
  }

  /**
   * Resets the fields for a record emitted at once, and remembers its timestamp for lines that have none; without a
   * timestamp of its own it gets the last one seen, tagged.
   */
  private startDocument(ts: string | null, messageJson: string, offset: number, flags: number, nowMs: number): DocumentFields {
    if (ts === null) {
      ts = this.fallbackTimestamp(nowMs);
      flags |= REC_NO_TIMESTAMP;
    }
    this.lastTs = ts;
    return this.fields.reset(ts, messageJson, offset, flags);
  }

  private fallbackTimestamp(nowMs: number): string {
    return this.lastTs ?? new Date(nowMs).toISOString();
  }
}

/**
 * A parser for Django's log output. `mode` 'file' for a Django log file, 'stream' for container output (see above).
 * `decoration`, JSON members starting with ",", is added to every document (the Docker parser adds `stream` and
 * `container.id` with it).
 */
export function createDjangoParser(ctx: ParserContext, emit: EmitRecord, mode: DjangoMode = 'file', decoration = ''): DjangoParser {
  return new DjangoRecordParser(ctx, emit, mode, decoration);
}
