/**
 * The commonest Django text record, made into its document on its bytes: one line of the layout Django's own docs
 * call "verbose" — `{levelname} {asctime} {module} {process:d} {thread:d} {message}` — that the next record's first
 * line of the same layout follows, with nothing between or with a traceback of the plain shape (traceback-bytes.ts).
 *
 * Why: on Django text logs the parse thread was the limit. A line went through a string (decoded), the layout
 * detector (slices for the level, the time, the module, the message), a held record of strings, and a document
 * concatenated as text and encoded again into the chunk; half of the parse thread's time and most of its garbage.
 *
 * A text record is held until the next line says it is complete, and its document written only when the next first
 * line is taken too, or at the multi-line timeout. The held line stays where the caller's read buffer has it until
 * that buffer is about to be reused (detach: then it is copied). Anything else that comes while one is held — a
 * traceback of another shape, an indented line, JSON, a line cut short — makes the parser hand the held lines to the
 * string way (DjangoRecordParser.materialize), exactly as if they had gone that way, and that line then takes the
 * string way too.
 *
 * This says yes only to lines for which the layout detector (layouts.ts: levelFirst, then moduleAndIds' verbose case)
 * reads the same fields, and writes the document DocumentWriter.write makes of them, byte for byte. It declines a
 * line with invalid UTF-8 or a CR at its end, a pid or thread id of more than 15 digits, and a time the reader cannot
 * read (the string way tags those). The tests compare the two ways on generated, hand-picked and Python-written logs.
 */
import { writeDigits } from './digits.js';
import { REC_MULTILINE, type DocumentPlacement } from './document.js';
import type { DjangoTemplate } from './django-json-bytes.js';
import type { TimestampReader } from './time.js';
import { ISO_DIGITS } from './layouts.js';
import { copyEscaped, escapesIn, putPart } from './json-text-bytes.js';
import { TimestampBytes } from './timestamp-bytes.js';
import { type HeldLine, TracebackBytes } from './traceback-bytes.js';

/** Python's level names (and WARN, FATAL), as layouts.ts's levelAt knows them. */
const LEVELS = ['DEBUG', 'INFO', 'WARNING', 'WARN', 'ERROR', 'CRITICAL', 'FATAL', 'NOTSET'].map((l) => Buffer.from(l));

// Document parts between fields (DocumentWriter.write writes the same as text), joined where nothing comes between.
/** Per level (by LEVELS' index): the level, and what opens the module's name. */
const LEVEL_TO_NAME = LEVELS.map((l) => Buffer.from(`,"level":"${l.toString('latin1')}","origin":{"file":{"name":"`));
/** Closes the name, `file`, `origin` and `log`; opens `process`. */
const NAME_TO_PID = Buffer.from('"}}},"process":{"pid":');
/** The same, with an `error` between (its inside: traceback-bytes.ts). */
const NAME_TO_STACK = Buffer.from('"}}},"error":{"stack_trace":"');
const ERROR_TO_PID = Buffer.from('},"process":{"pid":');
const THREAD_OPEN = Buffer.from(',"thread":{"id":');
/** The parts above, the quotes around the message, two ids of 15 digits and the offset's digits, and the braces. */
const PARTS_BOUND = Math.max(...LEVEL_TO_NAME.map((b) => b.length)) + NAME_TO_STACK.length + ERROR_TO_PID.length + THREAD_OPEN.length + 2 + 30 + 16 + 2;

/** Digits a pid or thread id may have: up to 15 a Number holds exactly, as the string way reads them. */
const MAX_ID_DIGITS = 15;
/** A line longer than this takes the string way (it may be copied while held). */
const MAX_LINE_BYTES = 64 * 1024;

/**
 * The end of the last document written without a traceback, from its level on (level, module, pid, thread id, host,
 * tags), and the line's bytes it was made of. Lines of one process and thread, from a few modules, follow each other
 * in a log: a line whose level and "module pid thread" bytes are the last one's gets that end in one copy, instead of
 * four parts and three fields written one by one.
 */
class DocumentEnding {
  private level = -1;
  private key = Buffer.alloc(64);
  private keyLength = -1;
  private own = Buffer.alloc(512);
  /** The end, as written. */
  bytes: Buffer = this.own.subarray(0, 0);

  /** Is it the end of a line of this level, whose module, pid and thread id are s[from, to)? */
  is(level: number, s: Buffer, from: number, to: number): boolean {
    if (level !== this.level || to - from !== this.keyLength) return false;
    const key = this.key;
    for (let j = 0; j < this.keyLength; j++) if (s[from + j] !== key[j]) return false;
    return true;
  }

  /** Keeps out[at, end) as the end of such a line (a key longer than the room kept is not kept). */
  keep(level: number, s: Buffer, from: number, to: number, out: Buffer, at: number, end: number): void {
    const n = to - from;
    if (n > this.key.length || end - at > this.own.length) {
      this.level = -1;
      return;
    }
    for (let j = 0; j < n; j++) this.key[j] = s[from + j]!;
    this.keyLength = n;
    this.level = level;
    out.copy(this.own, 0, at, end);
    this.bytes = this.own.subarray(0, end - at);
  }
}

/**
 * One verbose first line, and where its fields are (offsets from its start). It is read where the caller has it, and
 * copied into a buffer of its own only when that one is about to be reused (detach): a line whose record is complete
 * before the end of the read it came in — nearly all of them — is never copied.
 */
class VerboseLine {
  /** The buffer the line is in, from `base`: the caller's, or `own` once detached. */
  src: Buffer;
  base = 0;
  private own = Buffer.alloc(512);
  length = 0;
  level = 0;
  timeFrom = 0;
  timeTo = 0;
  moduleFrom = 0;
  moduleTo = 0;
  pid = 0;
  pidTo = 0;
  threadId = 0;
  threadTo = 0;
  messageFrom = 0;
  /** Bytes JSON escapes add to the module and the message. */
  escapes = 0;
  start = 0;
  end = 0;
  lastMs = 0;

  constructor() {
    this.src = this.own;
  }

  /** Reads buf[from, to): true when it is a verbose first line this takes, then it is this line (not copied). */
  read(buf: Buffer, from: number, to: number): boolean {
    const level = levelAt(buf, from, to);
    if (level < 0 || to - from > MAX_LINE_BYTES) return false;
    // "LEVEL asctime module pid tid message", as levelFirst and moduleAndIds read it.
    const le = from + LEVELS[level]!.length;
    if (le >= to || buf[le] !== 0x20) return false;
    const te = isoEnd(buf, le + 1, to);
    if (te < 0 || te === to || buf[te] !== 0x20) return false;
    const p = te + 1;
    let m1 = p; // the module's end (a loop: Buffer.indexOf's native call costs more than the few bytes it passes)
    while (m1 < to && buf[m1] !== 0x20) m1++;
    if (m1 === p || m1 === to) return false;
    const m2 = digitsEnd(buf, m1 + 1, to);
    if (m2 < 0 || m2 === to || buf[m2] !== 0x20) return false;
    const pid = digitsValue;
    const m3 = digitsEnd(buf, m2 + 1, to);
    if (m3 < 0 || (m3 !== to && buf[m3] !== 0x20)) return false;
    if (buf[to - 1] === 0x0d) return false; // the string way strips one more CR
    // Escapes and UTF-8: the module and the message are the only parts that may have anything but ASCII.
    const escapes = escapesIn(buf, p, to);
    if (escapes < 0) return false;

    // Taken: its fields by offset from its start.
    const n = to - from;
    this.src = buf;
    this.base = from;
    this.length = n;
    this.level = level;
    this.timeFrom = le + 1 - from;
    this.timeTo = te - from;
    this.moduleFrom = p - from;
    this.moduleTo = m1 - from;
    this.pid = pid;
    this.pidTo = m2 - from;
    this.threadId = digitsValue;
    this.threadTo = m3 - from;
    this.messageFrom = Math.min(m3 + 1, to) - from;
    this.escapes = escapes;
    return true;
  }

  /** The buffer the line is in is about to be reused: the line is copied into one of its own. */
  detach(): void {
    if (this.src === this.own) return;
    const n = this.length;
    if (this.own.length < n) this.own = Buffer.alloc(Math.max(n, this.own.length * 2));
    this.src.copy(this.own, 0, this.base, this.base + n);
    this.src = this.own;
    this.base = 0;
  }

  /** The line as text. */
  text(): string {
    return this.src.toString('utf8', this.base, this.base + this.length);
  }

  /**
   * Writes the document at `first` in `out`, with `traceback`'s error when it holds one; returns the offset after it.
   * Without one, the document's end after the offset is `ending`'s when the line's level, module and ids are those of
   * the line before (see DocumentEnding).
   */
  write(out: Buffer, first: number, t: DjangoTemplate, tailRest: Buffer, ts: TimestampBytes, traceback: TracebackBytes, ending: DocumentEnding): number {
    const s = this.src;
    const b = this.base;
    let p = putPart(out, first, t.head.bytes);
    p = ts.copyTo(out, p);
    p = putPart(out, p, t.message.bytes);
    out[p++] = 0x22;
    p = copyEscaped(s, b + this.messageFrom, b + this.length, out, p);
    out[p++] = 0x22;
    p = putPart(out, p, t.logFile.bytes);
    p = writeDigits(out, p, this.start);
    const plain = !traceback.held;
    if (plain && ending.is(this.level, s, b + this.moduleFrom, b + this.threadTo)) return putPart(out, p, ending.bytes);
    const endingFrom = p;
    p = putPart(out, p, LEVEL_TO_NAME[this.level]!);
    p = copyEscaped(s, b + this.moduleFrom, b + this.moduleTo, out, p);
    if (plain) {
      p = putPart(out, p, NAME_TO_PID);
    } else {
      p = putPart(out, p, NAME_TO_STACK);
      p = traceback.writeError(out, p);
      p = putPart(out, p, ERROR_TO_PID);
    }
    p = this.id(out, p, b + this.moduleTo + 1, b + this.pidTo, this.pid);
    p = putPart(out, p, THREAD_OPEN);
    p = this.id(out, p, b + this.pidTo + 1, b + this.threadTo, this.threadId);
    out[p++] = 0x7d; // thread
    out[p++] = 0x7d; // process
    p = putPart(out, p, tailRest);
    if (plain) ending.keep(this.level, s, b + this.moduleFrom, b + this.threadTo, out, endingFrom, p);
    return p;
  }

  /** A pid or thread id: its digits as the line has them, unless a leading zero makes the number's differ. */
  private id(out: Buffer, p: number, from: number, to: number, value: number): number {
    const s = this.src;
    if (s[from] === 0x30 && to - from > 1) return writeDigits(out, p, value);
    for (let j = from; j < to; j++) out[p++] = s[j]!;
    return p;
  }

  /** Most bytes write() can take. */
  bound(t: DjangoTemplate, ts: TimestampBytes): number {
    return t.head.length + ts.length + t.message.length + t.logFile.length + t.tail.length + this.length + this.escapes + PARTS_BOUND;
  }
}

export class DjangoTextBytes {
  /** The line held (its record waits for the next line), and the one read into while trying a line; they swap. */
  private heldLine = new VerboseLine();
  private trying = new VerboseLine();
  private readonly ending = new DocumentEnding();
  /** The held line's traceback, while it has the shape traceback-bytes.ts takes. */
  private readonly traceback: TracebackBytes;
  held = false;
  /** The @timestamp of the line held (and of the last one written). */
  readonly timestamps: TimestampBytes;
  private readonly tailRest: Buffer;

  constructor(
    private readonly template: DjangoTemplate,
    readTimestamp: TimestampReader,
    private readonly placement: DocumentPlacement,
    maxRecordBytes: number,
  ) {
    this.timestamps = new TimestampBytes(readTimestamp);
    this.tailRest = template.tail.bytes.subarray(1);
    this.traceback = new TracebackBytes(maxRecordBytes);
  }

  /** Where the held record starts in the file. */
  get heldStart(): number {
    return this.heldLine.start;
  }

  /** When the held record's last line came (for the multi-line timeout). */
  get heldSince(): number {
    return this.traceback.held ? this.traceback.lastMs : this.heldLine.lastMs;
  }

  /** The held record has a traceback whose exception line has not come: any next line is the traceback's. */
  get inFrames(): boolean {
    return this.traceback.inFrames;
  }

  /** The held record is whole as it is: no traceback, or one that came to its exception line. */
  get complete(): boolean {
    return !this.traceback.held || this.traceback.complete;
  }

  /** Is buf[from, to) a verbose first line this takes? Read into the trying slot: hold() takes it. */
  matches(buf: Buffer, from: number, to: number): boolean {
    return this.trying.read(buf, from, to);
  }

  /**
   * Holds the line matches() read, at file bytes [start, end), once its time reads: true. False when it does not;
   * then nothing is held. Whatever was held must be written (writeHeld) or handed on (release) first.
   */
  hold(start: number, end: number, nowMs: number): boolean {
    const line = this.trying;
    if (!this.timestamps.readText(line.src, line.base + line.timeFrom, line.base + line.timeTo)) return false;
    line.start = start;
    line.end = end;
    line.lastMs = nowMs;
    this.trying = this.heldLine;
    this.heldLine = line;
    this.held = true;
    return true;
  }

  /**
   * Takes buf[from, to), at file bytes [start, end), as the next line of the held record's traceback (its start
   * first): true. False when the byte way declines it; then the held lines go to the string way (release).
   */
  takeTraceback(buf: Buffer, from: number, to: number, start: number, end: number, nowMs: number): boolean {
    const tb = this.traceback;
    const firstBytes = this.heldLine.length;
    return tb.held ? tb.add(buf, from, to, start, end, nowMs, firstBytes) : tb.begin(buf, from, to, start, end, nowMs, firstBytes);
  }

  /** The buffer of the lines held is about to be reused: they are copied. */
  detach(): void {
    if (!this.held) return;
    this.heldLine.detach();
    this.traceback.detach();
  }

  /** Writes the held record's document (complete): the next line showed it is whole (or the timeout did). */
  writeHeld(): void {
    const line = this.heldLine;
    const tb = this.traceback;
    this.held = false;
    const ts = this.timestamps;
    const bound = line.bound(this.template, ts) + (tb.held ? tb.bound() : 0);
    const { buffer: out, at: first } = this.placement.place(bound, line.start);
    const p = line.write(out, first, this.template, this.tailRest, ts, tb, this.ending);
    if (tb.held) {
      this.placement.written(line.start, tb.end, REC_MULTILINE, p - first);
      tb.clear();
    } else {
      this.placement.written(line.start, line.end, 0, p - first);
    }
  }

  /** Lets go of the held lines, for the string way to take them in order: their text and where they came from. */
  release(): HeldLine[] {
    const line = this.heldLine;
    this.held = false;
    const first: HeldLine = { text: line.text(), start: line.start, end: line.end, nowMs: line.lastMs };
    if (!this.traceback.held) return [first];
    const lines = [first, ...this.traceback.lines()];
    this.traceback.clear();
    return lines;
  }
}

/** The index in LEVELS of the level name that buf[from, to) starts with, as layouts.ts's levelAt reads it; or -1. */
function levelAt(buf: Buffer, from: number, to: number): number {
  let level: number;
  switch (buf[from]) {
    case 0x44: level = 0; break; // D
    case 0x49: level = 1; break; // I
    case 0x57: level = startsWith(buf, from, to, LEVELS[2]!) ? 2 : 3; break; // W: WARNING, else WARN
    case 0x45: level = 4; break; // E
    case 0x43: level = 5; break; // C
    case 0x46: level = 6; break; // F
    case 0x4e: level = 7; break; // N
    default: return -1;
  }
  return startsWith(buf, from, to, LEVELS[level]!) ? level : -1;
}

function startsWith(buf: Buffer, from: number, to: number, word: Buffer): boolean {
  if (to - from < word.length) return false;
  for (let j = 0; j < word.length; j++) if (buf[from + j] !== word[j]) return false;
  return true;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/** layouts.ts's isoEnd on the bytes s[i, n): the end of an ISO-shaped timestamp, or -1. */
function isoEnd(s: Buffer, i: number, n: number): number {
  if (n < i + 19) return -1;
  for (let k = 0; k < ISO_DIGITS.length; k++) if (!isDigit(s[i + ISO_DIGITS[k]!])) return -1;
  const sep = s[i + 10];
  if (s[i + 4] !== 0x2d || s[i + 7] !== 0x2d || (sep !== 0x20 && sep !== 0x54) || s[i + 13] !== 0x3a || s[i + 16] !== 0x3a) return -1;
  let e = i + 19;
  const f = byteAt(s, e, n);
  if ((f === 0x2c || f === 0x2e) && isDigit(byteAt(s, e + 1, n))) {
    e += 2;
    while (isDigit(byteAt(s, e, n))) e++;
  }
  const z = byteAt(s, e, n);
  if (z === 0x5a /* Z */) return e + 1;
  if ((z === 0x2b || z === 0x2d) && isDigit(byteAt(s, e + 1, n)) && isDigit(byteAt(s, e + 2, n))) {
    e += 3;
    const colon = byteAt(s, e, n) === 0x3a ? 1 : 0;
    if (isDigit(byteAt(s, e + colon, n)) && isDigit(byteAt(s, e + colon + 1, n))) e += colon + 2;
  }
  return e;
}

/** s[j] when j is inside the line (before n), else undefined: what charCodeAt past a string's end reads as. */
function byteAt(s: Buffer, j: number, n: number): number | undefined {
  return j < n ? s[j] : undefined;
}

/** Scratch result of digitsEnd: the value of the digits. */
let digitsValue = 0;

/** End of a run of 1 to MAX_ID_DIGITS digits at s[i, n), or -1 (none, or more). Sets digitsValue. */
function digitsEnd(s: Buffer, i: number, n: number): number {
  let e = i;
  let v = 0;
  while (e < n && isDigit(s[e])) v = v * 10 + (s[e++]! - 0x30);
  digitsValue = v;
  return e > i && e - i <= MAX_ID_DIGITS ? e : -1;
}
