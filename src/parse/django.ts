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
  addMember,
  DocumentFields,
  DocumentWriter,
  LINE_INVALID_UTF8,
  LINE_PARTIAL,
  LINE_TRUNCATED,
  ParsedRecord,
  REC_MULTILINE,
  REC_NO_TIMESTAMP,
  REC_PARSE_ERROR,
} from './document.js';
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

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

class DjangoRecordParser implements DjangoParser {
  private readonly readTimestamp: TimestampReader;
  private readonly tb = new TracebackTracker();
  private readonly writer: DocumentWriter;
  /** The fields of the record being emitted, reused. */
  private readonly fields = new DocumentFields();
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
      const obj = parseObject(text);
      if (obj !== null) {
        this.finish();
        this.emitJson(obj, text, start, end, flags, nowMs, timestamp ?? null);
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
    let ts = timestamp ?? this.readTimestamp(asctime);
    if (ts === null) {
      ts = this.fallbackTimestamp(nowMs);
      flags |= REC_NO_TIMESTAMP;
    }
    this.hold(text, start, end, flags, nowMs, ts);
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
    let ts = timestamp;
    if (ts === null) {
      ts = this.fallbackTimestamp(nowMs);
      flags |= REC_NO_TIMESTAMP;
    }
    this.hold(text, start, end, flags, nowMs, ts);
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

  /** Common part of starting a held record. */
  private hold(text: string, start: number, end: number, flags: number, nowMs: number, ts: string): void {
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
    const f = this.fields.reset(this.hTs, this.hMessage, this.hStart, this.hFlags);
    f.level = this.hLevel;
    f.logger = this.hLogger;
    f.originFile = this.hOriginName;
    f.originLine = this.hOriginLine;
    if (this.hStack !== null) {
      const stack = this.hStack.trimEnd(); // a blank line that might have led to a chained section
      const err = errorFromTraceback(stack);
      f.stackTrace = stack;
      if (err !== null) {
        f.errorType = err.type;
        f.errorMessage = err.message;
      }
      if (this.hOrphan && this.hMessage === '') f.message = err !== null ? err.line : (stack.split('\n', 1)[0] ?? '');
    }
    f.pid = this.hPid;
    f.threadId = this.hTid;
    if (this.ctx.includeOriginal) f.original = this.hOriginal;
    this.hFirst = this.hOriginal = this.hMessage = '';
    this.hStack = null;
    this.write(this.hStart, this.hEnd);
  }

  /** A line that is a record by itself (stream mode): plain output, or malformed JSON. */
  private emitPlain(text: string, start: number, end: number, flags: number, nowMs: number, timestamp: string | null): void {
    let ts = timestamp;
    if (ts === null) {
      ts = this.fallbackTimestamp(nowMs);
      flags |= REC_NO_TIMESTAMP;
    }
    this.lastTs = ts;
    const f = this.fields.reset(ts, text, start, flags);
    if (this.ctx.includeOriginal) f.original = text;
    this.write(start, end);
  }

  /** A python-json-logger line: known keys to ECS fields, every other key under `django`. */
  private emitJson(
    obj: Record<string, unknown>,
    text: string,
    start: number,
    end: number,
    flags: number,
    nowMs: number,
    timestamp: string | null,
  ): void {
    let asctime: unknown, tsKey: unknown, time: unknown, atTs: unknown, created: unknown;
    let levelname: unknown, level: unknown, name: unknown, loggerKey: unknown, message: unknown, msg: unknown;
    let excInfo: unknown, excText: unknown, stackInfo: unknown, filename: unknown, module: unknown;
    let lineno: unknown, funcName: unknown, processKey: unknown, thread: unknown, threadName: unknown;
    // The `django` object's members, as JSON text. A known key whose value could not be used is kept there as it
    // was: nothing is dropped. (Every key is added at most once: the object's keys are unique.)
    let django = '';
    for (const key in obj) {
      const v = obj[key];
      switch (key) {
        case 'asctime': asctime = v; break;
        case 'timestamp': tsKey = v; break;
        case 'time': time = v; break;
        case '@timestamp': atTs = v; break;
        case 'created': created = v; break;
        case 'levelname': levelname = v; break;
        case 'level': level = v; break;
        case 'name': name = v; break;
        case 'logger': loggerKey = v; break;
        case 'message': message = v; break;
        case 'msg': msg = v; break;
        case 'exc_info': excInfo = v; break;
        case 'exc_text': excText = v; break;
        case 'stack_info': stackInfo = v; break;
        case 'filename': filename = v; break;
        case 'module': module = v; break;
        case 'lineno': lineno = v; break;
        case 'funcName': funcName = v; break;
        case 'process': processKey = v; break;
        case 'thread': thread = v; break;
        case 'threadName': threadName = v; break;
        default: django = addMember(django, key, v);
      }
    }

    // @timestamp: the first of the text timestamps that reads (the others are kept under `django`), else `created`;
    // Docker's time wins over all.
    let ts: string | null = null;
    let read: string | null;
    if (asctime !== undefined) {
      if ((read = ts === null ? this.jsonTime(asctime) : null) !== null) ts = read;
      else django = addMember(django, 'asctime', asctime);
    }
    if (tsKey !== undefined) {
      if ((read = ts === null ? this.jsonTime(tsKey) : null) !== null) ts = read;
      else django = addMember(django, 'timestamp', tsKey);
    }
    if (time !== undefined) {
      if ((read = ts === null ? this.jsonTime(time) : null) !== null) ts = read;
      else django = addMember(django, 'time', time);
    }
    if (atTs !== undefined) {
      if ((read = ts === null ? this.jsonTime(atTs) : null) !== null) ts = read;
      else django = addMember(django, '@timestamp', atTs);
    }
    let fromCreated = false;
    if (ts === null && typeof created === 'number') {
      ts = isoFromEpochSeconds(created);
      fromCreated = ts !== null;
    }
    if (!fromCreated) django = addMember(django, 'created', created);
    if (timestamp !== null) ts = timestamp;
    if (ts === null) {
      ts = this.fallbackTimestamp(nowMs);
      flags |= REC_NO_TIMESTAMP;
    }
    this.lastTs = ts;

    let text_ = '';
    if (typeof message === 'string') {
      text_ = message;
      django = addMember(django, 'msg', msg);
    } else if (typeof msg === 'string') {
      text_ = msg;
      django = addMember(django, 'message', message);
    } else if (message !== undefined && message !== null) {
      text_ = JSON.stringify(message);
      django = addMember(django, 'msg', msg);
    } else {
      django = addMember(django, 'message', message);
      django = addMember(django, 'msg', msg);
    }

    const f = this.fields.reset(ts, text_, start, flags);
    if (typeof levelname === 'string') {
      f.level = levelname;
      django = addMember(django, 'level', level);
    } else if (typeof level === 'string') {
      f.level = level;
      django = addMember(django, 'levelname', levelname);
    } else {
      django = addMember(django, 'levelname', levelname);
      django = addMember(django, 'level', level);
    }
    if (typeof name === 'string') {
      f.logger = name;
      django = addMember(django, 'logger', loggerKey);
    } else if (typeof loggerKey === 'string') {
      f.logger = loggerKey;
      django = addMember(django, 'name', name);
    } else {
      django = addMember(django, 'name', name);
      django = addMember(django, 'logger', loggerKey);
    }

    // log.origin: ECS wants the file name ("views.py"); `module` ("views") only when there is no filename.
    if (typeof filename === 'string') {
      f.originFile = filename;
      django = addMember(django, 'module', module);
    } else if (typeof module === 'string') {
      f.originFile = module;
      django = addMember(django, 'filename', filename);
    } else {
      django = addMember(django, 'filename', filename);
      django = addMember(django, 'module', module);
    }
    if (isInt(lineno)) f.originLine = lineno;
    else django = addMember(django, 'lineno', lineno);
    if (typeof funcName === 'string') f.originFunction = funcName;
    else django = addMember(django, 'funcName', funcName);

    // error: the formatted exception (exc_info, or exc_text when that is all there is) and stack_info after it,
    // as logging.Formatter joins them.
    let exc: string | undefined;
    if (typeof excInfo === 'string' && excInfo !== '') {
      exc = excInfo;
      if (excText !== excInfo) django = addMember(django, 'exc_text', excText);
    } else if (typeof excText === 'string' && excText !== '') {
      exc = excText;
      django = addMember(django, 'exc_info', excInfo);
    } else {
      django = addMember(django, 'exc_info', excInfo);
      django = addMember(django, 'exc_text', excText);
    }
    const stackText = typeof stackInfo === 'string' && stackInfo !== '' ? stackInfo : undefined;
    if (stackText === undefined) django = addMember(django, 'stack_info', stackInfo);
    if (exc !== undefined || stackText !== undefined) {
      const stack = (exc !== undefined && stackText !== undefined ? exc + '\n' + stackText : (exc ?? stackText)!).trimEnd();
      f.stackTrace = stack;
      const err = errorFromTraceback(stack);
      if (err !== null) {
        f.errorType = err.type;
        f.errorMessage = err.message;
      }
    }

    if (isInt(processKey)) f.pid = processKey;
    else django = addMember(django, 'process', processKey);
    if (isInt(thread)) f.threadId = thread;
    else django = addMember(django, 'thread', thread);
    if (typeof threadName === 'string') f.threadName = threadName;
    else django = addMember(django, 'threadName', threadName);
    f.django = django;
    if (this.ctx.includeOriginal) f.original = text;
    this.write(start, end);
  }

  /** A JSON timestamp candidate read as ISO, or null when it is not a string or does not read. */
  private jsonTime(v: unknown): string | null {
    return typeof v === 'string' ? this.readTimestamp(v) : null;
  }

  /** Emits the record in `this.fields` as JSON text. */
  private write(start: number, end: number): void {
    const f = this.fields;
    let flags = f.flags;
    if (f.stackTrace !== undefined || f.message.includes('\n')) flags |= REC_MULTILINE;
    this.emit(new ParsedRecord(start, end, this.writer.write(f), flags));
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
