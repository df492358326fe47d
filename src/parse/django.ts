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

import {
  TAG_INVALID_UTF8,
  TAG_NO_TIMESTAMP,
  TAG_PARSE_ERROR,
  TAG_PARTIAL_TIMEOUT,
  TAG_TRUNCATED,
  type EcsDocument,
} from '../record.js';
import { createTimestampReader, isoFromEpochSeconds, type TimestampReader } from './time.js';
import { errorFromTraceback, isTracebackStart, TracebackTracker } from './traceback.js';
import type { EmitRecord, Line, ParserContext, RecordParser } from './types.js';

/** Per-line facts, as a bit set so pushing a line allocates nothing. */
export const LINE_TRUNCATED = 1;
export const LINE_INVALID_UTF8 = 2;
export const LINE_PARTIAL = 4;
/** Record-level facts, in the same bit set. */
const REC_PARSE_ERROR = 8;
const REC_NO_TIMESTAMP = 16;

/** The LINE_* bits of a Line. */
export function lineFlags(line: Line): number {
  return (line.truncated ? LINE_TRUNCATED : 0) | (line.invalidUtf8 ? LINE_INVALID_UTF8 : 0) | (line.partial ? LINE_PARTIAL : 0);
}

/** Tags in a fixed order, so documents are deterministic. Undefined (no `tags` key) when there are none. */
function tagsOf(flags: number): string[] | undefined {
  if ((flags & 31) === 0) return undefined;
  const tags: string[] = [];
  if (flags & REC_PARSE_ERROR) tags.push(TAG_PARSE_ERROR);
  if (flags & REC_NO_TIMESTAMP) tags.push(TAG_NO_TIMESTAMP);
  if (flags & LINE_TRUNCATED) tags.push(TAG_TRUNCATED);
  if (flags & LINE_INVALID_UTF8) tags.push(TAG_INVALID_UTF8);
  if (flags & LINE_PARTIAL) tags.push(TAG_PARTIAL_TIMEOUT);
  return tags;
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

/** Sets obj[key] as an own property, even for "__proto__" (which plain assignment would turn into a prototype). */
function put(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** Keeps a value that found no ECS field under `django`, unless the key was absent. */
function keep(django: Record<string, unknown>, key: string, v: unknown): void {
  if (v !== undefined) put(django, key, v);
}

function isEmpty(obj: Record<string, unknown>): boolean {
  for (const _ in obj) return false;
  return true;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

class DjangoRecordParser implements DjangoParser {
  private readonly readTimestamp: TimestampReader;
  private readonly tb = new TracebackTracker();
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
    private readonly decorate: ((doc: EcsDocument) => void) | undefined,
  ) {
    this.readTimestamp = createTimestampReader(ctx.timezone);
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
    const doc = this.baseDoc(this.hTs, this.hMessage, this.hStart);
    const log = doc.log;
    if (this.hLevel !== undefined) log.level = this.hLevel;
    if (this.hLogger !== undefined) log.logger = this.hLogger;
    if (this.hOriginName !== undefined || this.hOriginLine !== undefined) {
      const file: { name?: string; line?: number } = {};
      if (this.hOriginName !== undefined) file.name = this.hOriginName;
      if (this.hOriginLine !== undefined) file.line = this.hOriginLine;
      log.origin = { file };
    }
    if (this.hStack !== null) {
      const stack = this.hStack.trimEnd(); // a blank line that might have led to a chained section
      const err = errorFromTraceback(stack);
      doc.error = { stack_trace: stack };
      if (err !== null) {
        doc.error.type = err.type;
        if (err.message !== undefined) doc.error.message = err.message;
      }
      if (this.hOrphan && this.hMessage === '') doc.message = err !== null ? err.line : (stack.split('\n', 1)[0] ?? '');
    }
    if (this.hPid !== undefined || this.hTid !== undefined) {
      doc.process = {};
      if (this.hPid !== undefined) doc.process.pid = this.hPid;
      if (this.hTid !== undefined) doc.process.thread = { id: this.hTid };
    }
    this.finishDoc(doc, this.hOriginal, this.hFlags);
    this.hFirst = this.hOriginal = this.hMessage = '';
    this.hStack = null;
    this.emit({ start: this.hStart, end: this.hEnd, doc });
  }

  /** A line that is a record by itself (stream mode): plain output, or malformed JSON. */
  private emitPlain(text: string, start: number, end: number, flags: number, nowMs: number, timestamp: string | null): void {
    let ts = timestamp;
    if (ts === null) {
      ts = this.fallbackTimestamp(nowMs);
      flags |= REC_NO_TIMESTAMP;
    }
    this.lastTs = ts;
    const doc = this.baseDoc(ts, text, start);
    this.finishDoc(doc, text, flags);
    this.emit({ start, end, doc });
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
    // A known key whose value could not be used is kept under `django` as it was: nothing is dropped.
    const django: Record<string, unknown> = {};
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
        default: put(django, key, v);
      }
    }

    // @timestamp: the first of the text timestamps that reads, else `created`; Docker's time wins over all.
    let ts = this.jsonTimestamp(django, 'asctime', asctime, null);
    ts = this.jsonTimestamp(django, 'timestamp', tsKey, ts);
    ts = this.jsonTimestamp(django, 'time', time, ts);
    ts = this.jsonTimestamp(django, '@timestamp', atTs, ts);
    let fromCreated = false;
    if (ts === null && typeof created === 'number') {
      ts = isoFromEpochSeconds(created);
      fromCreated = ts !== null;
    }
    if (!fromCreated) keep(django, 'created', created);
    if (timestamp !== null) ts = timestamp;
    if (ts === null) {
      ts = this.fallbackTimestamp(nowMs);
      flags |= REC_NO_TIMESTAMP;
    }
    this.lastTs = ts;

    let text_ = '';
    if (typeof message === 'string') {
      text_ = message;
      keep(django, 'msg', msg);
    } else if (typeof msg === 'string') {
      text_ = msg;
      keep(django, 'message', message);
    } else if (message !== undefined && message !== null) {
      text_ = JSON.stringify(message);
      keep(django, 'msg', msg);
    } else {
      keep(django, 'message', message);
      keep(django, 'msg', msg);
    }

    const doc = this.baseDoc(ts, text_, start);
    const log = doc.log;
    if (typeof levelname === 'string') {
      log.level = levelname;
      keep(django, 'level', level);
    } else if (typeof level === 'string') {
      log.level = level;
      keep(django, 'levelname', levelname);
    } else {
      keep(django, 'levelname', levelname);
      keep(django, 'level', level);
    }
    if (typeof name === 'string') {
      log.logger = name;
      keep(django, 'logger', loggerKey);
    } else if (typeof loggerKey === 'string') {
      log.logger = loggerKey;
      keep(django, 'name', name);
    } else {
      keep(django, 'name', name);
      keep(django, 'logger', loggerKey);
    }

    // log.origin: ECS wants the file name ("views.py"); `module` ("views") only when there is no filename.
    let originName: string | undefined;
    if (typeof filename === 'string') {
      originName = filename;
      keep(django, 'module', module);
    } else if (typeof module === 'string') {
      originName = module;
      keep(django, 'filename', filename);
    } else {
      keep(django, 'filename', filename);
      keep(django, 'module', module);
    }
    const originLine = isInt(lineno) ? lineno : undefined;
    if (originLine === undefined) keep(django, 'lineno', lineno);
    const fn = typeof funcName === 'string' ? funcName : undefined;
    if (fn === undefined) keep(django, 'funcName', funcName);
    if (originName !== undefined || originLine !== undefined || fn !== undefined) {
      const origin: NonNullable<EcsDocument['log']['origin']> = {};
      if (originName !== undefined || originLine !== undefined) {
        origin.file = {};
        if (originName !== undefined) origin.file.name = originName;
        if (originLine !== undefined) origin.file.line = originLine;
      }
      if (fn !== undefined) origin.function = fn;
      log.origin = origin;
    }

    // error: the formatted exception (exc_info, or exc_text when that is all there is) and stack_info after it,
    // as logging.Formatter joins them.
    let exc: string | undefined;
    if (typeof excInfo === 'string' && excInfo !== '') {
      exc = excInfo;
      if (excText !== excInfo) keep(django, 'exc_text', excText);
    } else if (typeof excText === 'string' && excText !== '') {
      exc = excText;
      keep(django, 'exc_info', excInfo);
    } else {
      keep(django, 'exc_info', excInfo);
      keep(django, 'exc_text', excText);
    }
    const stackText = typeof stackInfo === 'string' && stackInfo !== '' ? stackInfo : undefined;
    if (stackText === undefined) keep(django, 'stack_info', stackInfo);
    if (exc !== undefined || stackText !== undefined) {
      const stack = (exc !== undefined && stackText !== undefined ? exc + '\n' + stackText : (exc ?? stackText)!).trimEnd();
      doc.error = { stack_trace: stack };
      const err = errorFromTraceback(stack);
      if (err !== null) {
        doc.error.type = err.type;
        if (err.message !== undefined) doc.error.message = err.message;
      }
    }

    const pid = isInt(processKey) ? processKey : undefined;
    if (pid === undefined) keep(django, 'process', processKey);
    const tid = isInt(thread) ? thread : undefined;
    if (tid === undefined) keep(django, 'thread', thread);
    const tname = typeof threadName === 'string' ? threadName : undefined;
    if (tname === undefined) keep(django, 'threadName', threadName);
    if (pid !== undefined || tid !== undefined || tname !== undefined) {
      doc.process = {};
      if (pid !== undefined) doc.process.pid = pid;
      if (tid !== undefined || tname !== undefined) {
        const t: { id?: number; name?: string } = {};
        if (tid !== undefined) t.id = tid;
        if (tname !== undefined) t.name = tname;
        doc.process.thread = t;
      }
    }
    if (!isEmpty(django)) doc.django = django;
    this.finishDoc(doc, text, flags);
    this.emit({ start, end, doc });
  }

  /** Reads one JSON timestamp candidate unless an earlier one was read; a value not used is kept under `django`. */
  private jsonTimestamp(django: Record<string, unknown>, key: string, v: unknown, ts: string | null): string | null {
    if (v === undefined) return ts;
    if (ts === null && typeof v === 'string') {
      const read = this.readTimestamp(v);
      if (read !== null) return read;
    }
    put(django, key, v);
    return ts;
  }

  private baseDoc(ts: string, message: string, offset: number): EcsDocument {
    return { '@timestamp': ts, message, log: { file: { path: this.ctx.path }, offset } };
  }

  /** The fields every document gets last: host, event.original, the caller's decoration, tags. */
  private finishDoc(doc: EcsDocument, original: string, flags: number): void {
    doc.host = { name: this.ctx.hostName };
    if (this.ctx.includeOriginal) doc.event = { original };
    if (this.decorate !== undefined) this.decorate(doc);
    const tags = tagsOf(flags);
    if (tags !== undefined) doc.tags = tags;
  }

  private fallbackTimestamp(nowMs: number): string {
    return this.lastTs ?? new Date(nowMs).toISOString();
  }
}

/**
 * A parser for Django's log output. `mode` 'file' for a Django log file, 'stream' for container output (see above).
 * `decorate`, when given, is called on every document before it is emitted (the Docker parser adds `stream` and
 * `container.id` with it).
 */
export function createDjangoParser(
  ctx: ParserContext,
  emit: EmitRecord,
  mode: DjangoMode = 'file',
  decorate?: (doc: EcsDocument) => void,
): DjangoParser {
  return new DjangoRecordParser(ctx, emit, mode, decorate);
}
