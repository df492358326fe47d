/**
 * The traceback of a Django text record held as bytes (django-text-bytes.ts), kept as bytes while it has the shape
 * Python prints for one uncaught exception, which is what nearly every traceback in a Django log is:
 *
 *   Traceback (most recent call last):
 *     File "/app/backend/api/views.py", line 88, in retrieve      frames and code: every line indented
 *       profile = Profile.objects.get(user_id=request.user.id)
 *   api.models.Profile.DoesNotExist: Profile matching query does not exist.      the exception line
 *
 * Why: a record with a traceback went the string way, a line at a time (decoded, tracked, joined into strings, the
 * exception found again by errorFromTraceback, the document concatenated and encoded); on the bench's text corpus
 * its records were 5% of the records, 27% of the lines, and a third of the parse thread's time.
 *
 * The lines are joined with "\n", as the file has them and as the string way joins them into error.stack_trace, so
 * the stack's JSON is those bytes escaped (copied only across reads: see `src`). The record is complete when the next verbose first line comes (or at the
 * multi-line timeout) after the exception line. Anything else — a line after the exception line, a blank line or a
 * second "Traceback" in the frames, a chain, an exception line that does not name a type, a line with invalid UTF-8
 * or a CR, trailing whitespace the string way would trim, more than max_line_bytes — is declined, and the parser
 * hands every line held to the string way (replay), exactly as if they had gone that way.
 */
import { copyEscaped, escapesIn, putPart } from './json-text-bytes.js';
import { TRACEBACK_START } from './traceback.js';

const TRACEBACK_LINE = Buffer.from(TRACEBACK_START);
/** Most bytes copied: a larger traceback takes the string way. */
const MAX_TRACEBACK_BYTES = 64 * 1024;

// The error object, between the record's `log` and `process` (DocumentWriter.write's order).
const STACK_TO_TYPE = Buffer.from('","type":"');
const TYPE_TO_MESSAGE = Buffer.from('","message":"');
/** The constant parts' bytes besides the stack, the type and the message. */
const PARTS_BYTES = STACK_TO_TYPE.length + TYPE_TO_MESSAGE.length + 1;

/** Nothing held; a "Traceback" line and frames, no exception line yet; the exception line came. */
const NONE = 0;
const FRAMES = 1;
const DONE = 2;

/** One line held, as the string way would have been given it. */
export interface HeldLine {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly nowMs: number;
}

export class TracebackBytes {
  private state = NONE;
  /**
   * The lines joined with "\n": src[base, base + used). In the file they are joined so already: while they come in
   * one read they are where the caller has them, and they are copied into `own` only when a line comes from another
   * buffer or the caller's is about to be reused (detach).
   */
  private src: Buffer;
  private base = 0;
  private used = 0;
  private own = Buffer.alloc(2048);
  /** Bytes JSON escapes add to the stack (its "\n"s included). */
  private escapes = 0;
  /** Per line: its end in the joined lines (from `base`), its file range, when it came. */
  private readonly lineEnds: number[] = [];
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly times: number[] = [];
  /** In the joined lines: the exception line's start, its type's end, and its message's start (-1: a bare type). */
  private exceptionFrom = 0;
  private typeTo = 0;
  private messageFrom = -1;
  /** JSON escapes the exception line's message needs. */
  private messageEscapes = 0;

  /** @param maxRecordBytes max_line_bytes: the most a record's lines take, joined with "\n" */
  constructor(private readonly maxRecordBytes: number) {
    this.src = this.own;
  }

  get held(): boolean {
    return this.state !== NONE;
  }

  /** Between the "Traceback" line and the exception line: every line is the traceback's, whatever it looks like. */
  get inFrames(): boolean {
    return this.state === FRAMES;
  }

  /** The exception line came: the record is complete when the next first line does. */
  get complete(): boolean {
    return this.state === DONE;
  }

  /** When the last line came (for the multi-line timeout). */
  get lastMs(): number {
    return this.times[this.times.length - 1]!;
  }

  /** Where the last line ends in the file. */
  get end(): number {
    return this.ends[this.ends.length - 1]!;
  }

  /**
   * Takes buf[from, to) as the start of a traceback after a first line of `firstBytes` bytes: true when it is a
   * "Traceback (most recent call last):" line the byte way takes.
   */
  begin(buf: Buffer, from: number, to: number, start: number, end: number, nowMs: number, firstBytes: number): boolean {
    if (!startsWith(buf, from, to, TRACEBACK_LINE)) return false;
    this.src = this.own;
    this.base = 0;
    this.used = 0;
    this.escapes = 0;
    this.lineEnds.length = this.starts.length = this.ends.length = this.times.length = 0;
    if (!this.copy(buf, from, to, start, end, nowMs, firstBytes)) return false;
    this.state = FRAMES;
    return true;
  }

  /** Takes the next line of the traceback: an indented frame line, or the exception line. False: declined. */
  add(buf: Buffer, from: number, to: number, start: number, end: number, nowMs: number, firstBytes: number): boolean {
    if (this.state !== FRAMES || from === to) return false;
    const c = buf[from];
    if (c === 0x20 || c === 0x09) return this.copy(buf, from, to, start, end, nowMs, firstBytes);
    // The first unindented line: the exception line. (One that starts a section again, where the string way's
    // tracker restarts, names no type — "Traceback (most recent call last):", "Stack (…):" — and is declined below.)
    // It ends the stack trace, which the string way trims at its end (String.prototype.trimEnd).
    if (endsWithSpace(buf, from, to)) return false;
    const at = this.used + (this.used > 0 ? 1 : 0);
    if (!this.exceptionAt(buf, from, to)) return false;
    if (!this.copy(buf, from, to, start, end, nowMs, firstBytes)) return false;
    this.typeTo += at;
    this.exceptionFrom = at;
    if (this.messageFrom >= 0) this.messageFrom += at;
    this.state = DONE;
    return true;
  }

  /** Lets go of the lines (written, or handed to the string way). */
  clear(): void {
    this.state = NONE;
  }

  /** The lines held, for the string way to take them in order (the byte way declined one after them). */
  lines(): HeldLine[] {
    const lines: HeldLine[] = [];
    let from = this.base;
    for (let i = 0; i < this.lineEnds.length; i++) {
      const to = this.base + this.lineEnds[i]!;
      lines.push({ text: this.src.toString('utf8', from, to), start: this.starts[i]!, end: this.ends[i]!, nowMs: this.times[i]! });
      from = to + 1;
    }
    return lines;
  }

  /** The buffer the lines are in is about to be reused: they are copied into one of their own. */
  detach(): void {
    if (this.src === this.own) return;
    if (this.own.length < this.used) this.own = Buffer.alloc(Math.max(this.used, this.own.length * 2));
    this.src.copy(this.own, 0, this.base, this.base + this.used);
    this.src = this.own;
    this.base = 0;
  }

  /** Most bytes writeError() can take. */
  bound(): number {
    const exception = this.used - this.exceptionFrom;
    return this.used + this.escapes + exception + this.messageEscapes + PARTS_BYTES;
  }

  /**
   * Writes the inside of the `error` object from its stack trace's opening quote on: the stack, the type and the
   * message, up to the closing quote of the last; returns the offset after it. Only once complete.
   */
  writeError(out: Buffer, p: number): number {
    const s = this.src;
    const b = this.base;
    p = copyEscaped(s, b, b + this.used, out, p);
    p = putPart(out, p, STACK_TO_TYPE);
    // A type is a dotted identifier: nothing to escape.
    for (let j = b + this.exceptionFrom; j < b + this.typeTo; j++) out[p++] = s[j]!;
    if (this.messageFrom >= 0) {
      p = putPart(out, p, TYPE_TO_MESSAGE);
      p = copyEscaped(s, b + this.messageFrom, b + this.used, out, p);
    }
    out[p++] = 0x22;
    return p;
  }

  /**
   * Reads buf[from, to) as parseExceptionLine reads the exception line: "Type: message", or a bare "Type" (with or
   * without a final ":"), where Type is a dotted identifier. Sets typeTo and messageFrom relative to `from`.
   */
  private exceptionAt(buf: Buffer, from: number, to: number): boolean {
    let colon = -1;
    for (let j = from; j + 1 < to; j++) {
      if (buf[j] === 0x3a && buf[j + 1] === 0x20) {
        colon = j;
        break;
      }
    }
    let typeTo: number;
    if (colon > from) {
      typeTo = colon;
      this.messageFrom = colon + 2 - from;
    } else if (colon === from) {
      return false;
    } else {
      typeTo = buf[to - 1] === 0x3a ? to - 1 : to;
      this.messageFrom = -1;
    }
    if (!isDottedIdentifier(buf, from, typeTo)) return false;
    this.typeTo = typeTo - from;
    this.messageEscapes = this.messageFrom >= 0 ? escapesIn(buf, from + this.messageFrom, to) : 0;
    return true;
  }

  /** Copies a line that fits (valid UTF-8, no CR at its end, within the room): false when it does not. */
  private copy(buf: Buffer, from: number, to: number, start: number, end: number, nowMs: number, firstBytes: number): boolean {
    const n = to - from;
    const sep = this.used > 0 ? 1 : 0;
    const used = this.used + sep + n;
    // The string way cuts a record at max_line_bytes: its first line, then "\n" + each line.
    if (used > MAX_TRACEBACK_BYTES || firstBytes + 1 + used > this.maxRecordBytes) return false;
    if (buf[to - 1] === 0x0d) return false; // the string way strips one more CR
    const escapes = escapesIn(buf, from, to);
    if (escapes < 0) return false;
    if (this.used === 0) {
      // The first line: where the caller has it.
      this.src = buf;
      this.base = from;
    } else if (this.src !== buf || from !== this.base + this.used + 1) {
      // Not right after the last one in the same buffer (its "\n" between): copied after those held.
      this.detach();
      if (this.own.length < used) {
        const wider = Buffer.alloc(Math.max(used, this.own.length * 2));
        this.own.copy(wider, 0, 0, this.used);
        this.own = this.src = wider;
      }
      const s = this.own;
      let p = this.used;
      s[p++] = 0x0a;
      if (n <= 160) for (let j = from; j < to; j++) s[p++] = buf[j]!;
      else s.set(buf.subarray(from, to), p);
    }
    this.used = used;
    this.escapes += sep + escapes; // the "\n" joining it is one escape
    this.lineEnds.push(used);
    this.starts.push(start);
    this.ends.push(end);
    this.times.push(nowMs);
    return true;
  }
}

function startsWith(buf: Buffer, from: number, to: number, word: Buffer): boolean {
  if (to - from < word.length) return false;
  for (let j = 0; j < word.length; j++) if (buf[from + j] !== word[j]) return false;
  return true;
}

/**
 * Does buf[from, to) end with what String.prototype.trimEnd removes: ASCII whitespace, or in UTF-8 U+00A0, U+1680,
 * U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000 or U+FEFF? (A control byte below 0x20 is declined too.)
 */
function endsWithSpace(buf: Buffer, from: number, to: number): boolean {
  const last = buf[to - 1]!;
  if (last <= 0x20) return true;
  if (last < 0x80) return false;
  const b1 = to - from >= 2 ? buf[to - 2]! : -1;
  if (b1 === 0xc2 && last === 0xa0) return true;
  if (to - from < 3) return false;
  const b0 = buf[to - 3]!;
  if (b0 === 0xe1) return b1 === 0x9a && last === 0x80;
  if (b0 === 0xe2 && b1 === 0x80) return last <= 0x8a || last === 0xa8 || last === 0xa9 || last === 0xaf;
  if (b0 === 0xe2) return b1 === 0x81 && last === 0x9f;
  if (b0 === 0xe3) return b1 === 0x80 && last === 0x80;
  return b0 === 0xef && b1 === 0xbb && last === 0xbf;
}

function isIdentifierStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}

/** traceback.ts's EXC_TYPE_RE on bytes: identifiers joined by ".", each starting with a letter or "_". */
function isDottedIdentifier(buf: Buffer, from: number, to: number): boolean {
  let segmentStart = true;
  for (let j = from; j < to; j++) {
    const c = buf[j]!;
    if (segmentStart) {
      if (!isIdentifierStart(c)) return false;
      segmentStart = false;
    } else if (c === 0x2e) {
      segmentStart = true;
    } else if (!isIdentifierStart(c) && !(c >= 0x30 && c <= 0x39)) {
      return false;
    }
  }
  return to > from && !segmentStart;
}
