/**
 * Django's JSON lines (python-json-logger) → documents: known keys to ECS fields, every other key under `django`.
 * Values are passed on as the JSON text they were written as (JsonMembers.json), decoded only where a field needs the
 * value (timestamps, integers, tracebacks). Hot path: one call per JSON line, nothing allocated but the document.
 */
import { isoFromEpochSeconds, type TimestampReader } from './time.js';
import { errorFromTraceback } from './traceback.js';
import { addMemberJson, DocumentFields, ParsedRecord, quote, quoteOptional, REC_MULTILINE, REC_NO_TIMESTAMP, type DocumentWriter } from './document.js';
import { JSON_NUMBER, JSON_STRING, type JsonMembers } from './json-members.js';
import type { EmitRecord } from './types.js';

function isString(m: JsonMembers, i: number): boolean {
  return i >= 0 && m.kind(i) === JSON_STRING;
}

function isInt(m: JsonMembers, i: number): boolean {
  return i >= 0 && m.kind(i) === JSON_NUMBER && Number.isSafeInteger(m.number(i));
}

/** Parses a line that starts with "{" as a JSON object, or null. */
export function parseObject(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export class DjangoJsonLines {
  /** The fields of the record being emitted, reused. */
  private readonly fields = new DocumentFields();
  /** The `django` members of the record being emitted. */
  private django = '';

  constructor(
    private readonly writer: DocumentWriter,
    private readonly readTimestamp: TimestampReader,
    private readonly includeOriginal: boolean,
    private readonly emit: EmitRecord,
  ) {}

  /**
   * Emits the record of one JSON line; returns its @timestamp: its own (Docker's `timestamp` wins), else `fallback`,
   * tagged.
   */
  write(m: JsonMembers, text: string, start: number, end: number, flags: number, timestamp: string | null, fallback: string): string {
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

    if (ts === null) {
      ts = fallback;
      flags |= REC_NO_TIMESTAMP;
    }
    const f = this.fields.reset(ts, messageJson, start, flags);
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
    if (this.includeOriginal) f.originalJson = quote(text);
    this.emit(new ParsedRecord(start, end, this.writer.write(f), f.flags | (multiline ? REC_MULTILINE : 0)));
    return ts;
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

}
