/**
 * A record's document, written straight to JSON text.
 *
 * Parsers used to build an EcsDocument object per record and JSON.stringify it; that was the largest single cost of
 * the agent (a fifth of its CPU, and most of its garbage). The text is now concatenated here from the fields, in
 * the key order JSON.stringify gave the object, with JSON.stringify used only on single strings (native, fast):
 *
 *   {"@timestamp","message","log":{"file":{"path"},"offset","level","logger","origin":{"file":{"name","line"},
 *    "function"}},"error":{"stack_trace","type","message"},"process":{"pid","thread":{"id","name"}},"django":{…},
 *    "host":{"name"},"event":{"original"},"stream","container":{"id"},"tags":[…]}
 *
 * `JSON.parse(json)` is the EcsDocument of record.ts; the parser tests compare against it field by field.
 */
import {
  TAG_INVALID_UTF8,
  TAG_NO_TIMESTAMP,
  TAG_PARSE_ERROR,
  TAG_PARTIAL_TIMEOUT,
  TAG_TRUNCATED,
  type EcsDocument,
} from '../record.js';

/** Per-line facts, as bits so pushing a line allocates nothing. */
export const LINE_TRUNCATED = 1;
export const LINE_INVALID_UTF8 = 2;
export const LINE_PARTIAL = 4;
/** Record-level facts, in the same bit set. */
export const REC_PARSE_ERROR = 8;
export const REC_NO_TIMESTAMP = 16;
/** Not a tag: the record spans lines (a multi-line message or a stack trace), for the multiline metric. */
export const REC_MULTILINE = 32;

const TAG_BITS = 31;

/** The `"tags":[…]` member for each combination of tag bits, in a fixed order so documents are deterministic. */
const TAGS_JSON: readonly string[] = Array.from({ length: TAG_BITS + 1 }, (_, flags) => {
  const tags: string[] = [];
  if (flags & REC_PARSE_ERROR) tags.push(TAG_PARSE_ERROR);
  if (flags & REC_NO_TIMESTAMP) tags.push(TAG_NO_TIMESTAMP);
  if (flags & LINE_TRUNCATED) tags.push(TAG_TRUNCATED);
  if (flags & LINE_INVALID_UTF8) tags.push(TAG_INVALID_UTF8);
  if (flags & LINE_PARTIAL) tags.push(TAG_PARTIAL_TIMEOUT);
  return tags.length === 0 ? '' : `,"tags":${JSON.stringify(tags)}`;
});

/** JSON text of one string. */
const quote = JSON.stringify as (s: string) => string;

/**
 * The fields of one document. A parser keeps one instance and resets it per record: every field is always present
 * (undefined when unused), so the object keeps one shape and nothing is allocated for it per record.
 */
export class DocumentFields {
  timestamp = '';
  message = '';
  offset = 0;
  level: string | undefined = undefined;
  logger: string | undefined = undefined;
  originFile: string | undefined = undefined;
  originLine: number | undefined = undefined;
  originFunction: string | undefined = undefined;
  stackTrace: string | undefined = undefined;
  errorType: string | undefined = undefined;
  errorMessage: string | undefined = undefined;
  pid: number | undefined = undefined;
  threadId: number | undefined = undefined;
  threadName: string | undefined = undefined;
  /** The members of the `django` object as JSON text ('"k":v,"k2":v2'); '' for no `django` object. */
  django = '';
  /** event.original (only with include_original). */
  original: string | undefined = undefined;
  /** LINE_* and REC_* bits. */
  flags = 0;

  reset(timestamp: string, message: string, offset: number, flags: number): this {
    this.timestamp = timestamp;
    this.message = message;
    this.offset = offset;
    this.level = this.logger = this.originFile = this.originFunction = undefined;
    this.originLine = this.pid = this.threadId = undefined;
    this.stackTrace = this.errorType = this.errorMessage = this.threadName = undefined;
    this.django = '';
    this.original = undefined;
    this.flags = flags;
    return this;
  }
}

/** Appends `"key":<value as JSON>` to a members text; an undefined value (an absent key) adds nothing. */
export function addMember(members: string, key: string, value: unknown): string {
  if (value === undefined) return members;
  return (members === '' ? '' : members + ',') + quote(key) + ':' + JSON.stringify(value);
}

/** Writes documents for one file: what is the same for all of them is made into text once. */
export class DocumentWriter {
  private readonly logFile: string;
  private readonly host: string;

  /**
   * @param decoration members added after `event` (a Docker stream and container), as JSON text starting with ","
   */
  constructor(
    path: string,
    hostName: string,
    private readonly decoration = '',
  ) {
    this.logFile = `,"log":{"file":{"path":${quote(path)}},"offset":`;
    this.host = `,"host":{"name":${quote(hostName)}}`;
  }

  write(f: DocumentFields): string {
    let s = '{"@timestamp":' + quote(f.timestamp) + ',"message":' + quote(f.message) + this.logFile + f.offset;
    if (f.level !== undefined) s += ',"level":' + quote(f.level);
    if (f.logger !== undefined) s += ',"logger":' + quote(f.logger);
    const hasFile = f.originFile !== undefined || f.originLine !== undefined;
    if (hasFile || f.originFunction !== undefined) {
      s += ',"origin":{';
      if (hasFile) {
        s += '"file":{';
        if (f.originFile !== undefined) s += '"name":' + quote(f.originFile) + (f.originLine !== undefined ? ',' : '');
        if (f.originLine !== undefined) s += '"line":' + f.originLine;
        s += '}';
      }
      if (f.originFunction !== undefined) s += (hasFile ? ',' : '') + '"function":' + quote(f.originFunction);
      s += '}';
    }
    s += '}';
    if (f.stackTrace !== undefined) {
      s += ',"error":{"stack_trace":' + quote(f.stackTrace);
      if (f.errorType !== undefined) s += ',"type":' + quote(f.errorType);
      if (f.errorMessage !== undefined) s += ',"message":' + quote(f.errorMessage);
      s += '}';
    }
    const hasThread = f.threadId !== undefined || f.threadName !== undefined;
    if (f.pid !== undefined || hasThread) {
      s += ',"process":{';
      if (f.pid !== undefined) s += '"pid":' + f.pid + (hasThread ? ',' : '');
      if (hasThread) {
        s += '"thread":{';
        if (f.threadId !== undefined) s += '"id":' + f.threadId + (f.threadName !== undefined ? ',' : '');
        if (f.threadName !== undefined) s += '"name":' + quote(f.threadName);
        s += '}';
      }
      s += '}';
    }
    if (f.django !== '') s += ',"django":{' + f.django + '}';
    s += this.host;
    if (f.original !== undefined) s += ',"event":{"original":' + quote(f.original) + '}';
    return s + this.decoration + TAGS_JSON[f.flags & TAG_BITS] + '}';
  }
}

/** A finished record: its document as JSON text, the byte range [start, end) it came from, and REC_* facts. */
export class ParsedRecord {
  /** UTF-8 bytes of `json`. */
  readonly bytes: number;

  constructor(
    readonly start: number,
    readonly end: number,
    readonly json: string,
    readonly flags: number,
  ) {
    // Measuring also flattens: the concatenated text is a tree of dozens of small strings (a V8 "cons string"),
    // and records wait for their batch's acknowledgement long enough to be moved to the old generation. Flattened
    // now, while young, one flat string moves and the tree dies young, where garbage is cheap; left as a tree, it
    // was flattened at send time from the old generation, at ten times the cost (measured: 1.1 µs vs 0.1 µs a
    // record), and doubled the garbage collector's work.
    this.bytes = Buffer.byteLength(json);
  }

  /** The document as an object (tests, and anything that wants fields rather than text). */
  get doc(): EcsDocument {
    return JSON.parse(this.json) as EcsDocument;
  }
}
