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
import { FixedPart } from './byte-parts.js';
import {
  TAG_INVALID_UTF8,
  TAG_NO_TIMESTAMP,
  TAG_PARSE_ERROR,
  TAG_PARTIAL_TAIL,
  TAG_PARTIAL_TIMEOUT,
  TAG_TOO_DEEP,
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
/** The line is the rest of one whose beginning was shipped after partial_line_timeout. */
export const LINE_PARTIAL_TAIL = 64;
/** A JSON line nesting deeper than MAX_JSON_DEPTH (always with REC_PARSE_ERROR). */
export const REC_TOO_DEEP = 128;

/** Every bit that is a tag (REC_MULTILINE is not one: the table has duplicate entries for it, unused). */
const TAG_BITS = 31 | LINE_PARTIAL_TAIL | REC_TOO_DEEP;

/** The `"tags":[…]` member for each combination of tag bits, in a fixed order so documents are deterministic. */
const TAGS_JSON: readonly string[] = Array.from({ length: TAG_BITS + 1 }, (_, flags) => {
  const tags: string[] = [];
  if (flags & REC_PARSE_ERROR) tags.push(TAG_PARSE_ERROR);
  if (flags & REC_TOO_DEEP) tags.push(TAG_TOO_DEEP);
  if (flags & REC_NO_TIMESTAMP) tags.push(TAG_NO_TIMESTAMP);
  if (flags & LINE_TRUNCATED) tags.push(TAG_TRUNCATED);
  if (flags & LINE_INVALID_UTF8) tags.push(TAG_INVALID_UTF8);
  if (flags & LINE_PARTIAL) tags.push(TAG_PARTIAL_TIMEOUT);
  if (flags & LINE_PARTIAL_TAIL) tags.push(TAG_PARTIAL_TAIL);
  return tags.length === 0 ? '' : `,"tags":${JSON.stringify(tags)}`;
});

/** JSON text of one string. */
export const quote = JSON.stringify as (s: string) => string;

/**
 * The fields of one document. A parser keeps one instance and resets it per record: every field is always present
 * (undefined when unused), so the object keeps one shape and nothing is allocated for it per record.
 *
 * Text fields hold JSON text (quoted and escaped), so that a parser can pass on a value exactly as a JSON line
 * wrote it, without decoding and re-encoding it; `quote` makes JSON text of a decoded string.
 */
export class DocumentFields {
  /** ISO 8601, as the parsers' time functions write it: never anything to escape. */
  timestamp = '';
  messageJson = '""';
  offset = 0;
  levelJson: string | undefined = undefined;
  loggerJson: string | undefined = undefined;
  originFileJson: string | undefined = undefined;
  originLine: number | undefined = undefined;
  originFunctionJson: string | undefined = undefined;
  stackTraceJson: string | undefined = undefined;
  errorTypeJson: string | undefined = undefined;
  errorMessageJson: string | undefined = undefined;
  pid: number | undefined = undefined;
  threadId: number | undefined = undefined;
  threadNameJson: string | undefined = undefined;
  /** The members of the `django` object as JSON text ('"k":v,"k2":v2'); '' for no `django` object. */
  django = '';
  /** event.original (only with include_original). */
  originalJson: string | undefined = undefined;
  /** LINE_* and REC_* bits. */
  flags = 0;

  reset(timestamp: string, messageJson: string, offset: number, flags: number): this {
    this.timestamp = timestamp;
    this.messageJson = messageJson;
    this.offset = offset;
    this.levelJson = this.loggerJson = this.originFileJson = this.originFunctionJson = undefined;
    this.originLine = this.pid = this.threadId = undefined;
    this.stackTraceJson = this.errorTypeJson = this.errorMessageJson = this.threadNameJson = undefined;
    this.django = '';
    this.originalJson = undefined;
    this.flags = flags;
    return this;
  }
}

/** JSON text of a string; undefined stays undefined. */
export function quoteOptional(s: string | undefined): string | undefined {
  return s === undefined ? undefined : quote(s);
}

/** Appends `"key":value` (both already JSON text) to a members text. */
export function addMemberJson(members: string, keyJson: string, valueJson: string): string {
  return (members === '' ? '' : members + ',') + keyJson + ':' + valueJson;
}

const DOC_HEAD = '{"@timestamp":"';
const DOC_MESSAGE = '","message":';

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

  /**
   * The constant parts of a document that has only @timestamp, message and offset (and no tags), as bytes, for a
   * parser that writes such documents itself (see parse/docker-bytes.ts): head + timestamp + `message` + message JSON
   * + `logFile` + offset + `tail` is what write() gives for those fields.
   */
  plainTemplate(): { readonly head: FixedPart; readonly message: FixedPart; readonly logFile: FixedPart; readonly tail: FixedPart } {
    return {
      head: FixedPart.of(DOC_HEAD),
      message: FixedPart.of(DOC_MESSAGE),
      logFile: FixedPart.of(this.logFile),
      tail: FixedPart.of('}' + this.host + this.decoration + TAGS_JSON[0] + '}'),
    };
  }

  write(f: DocumentFields): string {
    let s = DOC_HEAD + f.timestamp + DOC_MESSAGE + f.messageJson + this.logFile + f.offset;
    if (f.levelJson !== undefined) s += ',"level":' + f.levelJson;
    if (f.loggerJson !== undefined) s += ',"logger":' + f.loggerJson;
    const hasFile = f.originFileJson !== undefined || f.originLine !== undefined;
    if (hasFile || f.originFunctionJson !== undefined) {
      s += ',"origin":{';
      if (hasFile) {
        s += '"file":{';
        if (f.originFileJson !== undefined) s += '"name":' + f.originFileJson + (f.originLine !== undefined ? ',' : '');
        if (f.originLine !== undefined) s += '"line":' + f.originLine;
        s += '}';
      }
      if (f.originFunctionJson !== undefined) s += (hasFile ? ',' : '') + '"function":' + f.originFunctionJson;
      s += '}';
    }
    s += '}';
    if (f.stackTraceJson !== undefined) {
      s += ',"error":{"stack_trace":' + f.stackTraceJson;
      if (f.errorTypeJson !== undefined) s += ',"type":' + f.errorTypeJson;
      if (f.errorMessageJson !== undefined) s += ',"message":' + f.errorMessageJson;
      s += '}';
    }
    const hasThread = f.threadId !== undefined || f.threadNameJson !== undefined;
    if (f.pid !== undefined || hasThread) {
      s += ',"process":{';
      if (f.pid !== undefined) s += '"pid":' + f.pid + (hasThread ? ',' : '');
      if (hasThread) {
        s += '"thread":{';
        if (f.threadId !== undefined) s += '"id":' + f.threadId + (f.threadNameJson !== undefined ? ',' : '');
        if (f.threadNameJson !== undefined) s += '"name":' + f.threadNameJson;
        s += '}';
      }
      s += '}';
    }
    if (f.django !== '') s += ',"django":{' + f.django + '}';
    s += this.host;
    if (f.originalJson !== undefined) s += ',"event":{"original":' + f.originalJson + '}';
    return s + this.decoration + TAGS_JSON[f.flags & TAG_BITS] + '}';
  }
}

/**
 * Where a parser may write a document's bytes itself, and hand on the record it wrote (the parse thread's chunks:
 * see parse-thread/reply-writer.ts). Parsers without one make JSON text (ParsedRecord).
 */
export interface DocumentPlacement {
  /**
   * Room for `bytes` bytes: write them at `at` in `buffer`. `start` is where the record starts in its file (written()
   * is given it again): a sink's item head naming it may go just before the room (see ItemFraming).
   */
  place(bytes: number, start: number): { readonly buffer: Buffer; readonly at: number };
  /**
   * The record whose document was just written in the room last placed: all of it, or its first `length` bytes (a
   * parser that placed room for the most its document could be gives the rest back).
   */
  written(start: number, end: number, flags: number, length?: number): void;
}

/** A finished record whose document a parser wrote itself (DocumentPlacement): where it is, in chunk `chunk`. */
export class WrittenRecord {
  constructor(
    readonly start: number,
    readonly end: number,
    readonly flags: number,
    readonly chunk: number,
    readonly at: number,
    readonly length: number,
    /** Bytes of the item head before `at` (0: not framed; see ItemFraming). */
    readonly frame: number = 0,
  ) {}
}

/** A finished record: its document as JSON text, the byte range [start, end) it came from, and REC_* facts. */
export class ParsedRecord {
  constructor(
    readonly start: number,
    readonly end: number,
    readonly json: string,
    readonly flags: number,
    /** Non-zero for a record that began in the previous generation of the file (see tail/carried.ts). */
    readonly link: number = 0,
  ) {}

  /** The document as an object (tests, and anything that wants fields rather than text). */
  get doc(): EcsDocument {
    return JSON.parse(this.json) as EcsDocument;
  }
}
