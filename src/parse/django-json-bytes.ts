/**
 * The commonest Django JSON line, made into its document on its bytes: a flat python-json-logger line whose known
 * keys all map to ECS fields as they are (a readable text timestamp or `created`, a string message, string level,
 * logger and origin, integer line, process and thread), every other key kept under `django`. The document is the
 * line's bytes copied in a new order plus constants, written straight into the parse thread's chunk.
 *
 * Why: on Django JSON the parse thread was the limit, and most of its time went to strings (see json-bytes.ts).
 * This only ever says yes to lines for which the string way (DjangoJsonLines.write with ScannedObject) makes the
 * same document, byte for byte; anything it is unsure of (a traceback to read, a known key whose value would be kept
 * under `django`, escapes in a timestamp, event.original wanted) it declines, and the string way decides. The tests
 * compare the two on generated and real lines.
 */
import { copyBytes, FixedPart, KeptPart, putPart } from './byte-parts.js';
import { writeDigits } from './digits.js';
import { REC_MULTILINE, type DocumentPlacement } from './document.js';
import { BYTES_NUMBER, BYTES_STRING, HAS_NEWLINE, ScannedBytes } from './json-bytes.js';
import { isoFromEpochSeconds, type TimestampReader } from './time.js';
import { TimestampBytes } from './timestamp-bytes.js';

// The keys DjangoJsonLines knows, by id (0: any other key, kept under `django`).
const ASCTIME = 1, TIMESTAMP = 2, TIME = 3, AT_TIMESTAMP = 4, CREATED = 5, LEVELNAME = 6, LEVEL = 7, NAME = 8;
const LOGGER = 9, MESSAGE = 10, MSG = 11, EXC_INFO = 12, EXC_TEXT = 13, STACK_INFO = 14, FILENAME = 15, MODULE = 16;
const LINENO = 17, FUNC_NAME = 18, PROCESS = 19, THREAD = 20, THREAD_NAME = 21;
const KNOWN_KEYS = [
  '', 'asctime', 'timestamp', 'time', '@timestamp', 'created', 'levelname', 'level', 'name', 'logger', 'message', 'msg',
  'exc_info', 'exc_text', 'stack_info', 'filename', 'module', 'lineno', 'funcName', 'process', 'thread', 'threadName',
].map((k) => Buffer.from(k));
/** How many ids there are (the size of a table by id). */
const KEY_IDS = KNOWN_KEYS.length;

/**
 * Known key id by a hash of length and three bytes: a table of 64 where these 21 keys do not collide (checked here, at
 * load), so that a key costs a few additions and one compare, not a map lookup (13 keys a line, every line).
 */
const KEY_SLOTS = new Uint8Array(64);
for (let id = 1; id < KEY_IDS; id++) {
  const k = KNOWN_KEYS[id]!;
  const slot = keySlot(k, 0, k.length);
  if (KEY_SLOTS[slot] !== 0) throw new Error(`django-json-bytes: keys ${KNOWN_KEYS[KEY_SLOTS[slot]!]} and ${k} share a slot`);
  KEY_SLOTS[slot] = id;
}

/** The slot of the key buf[from, to) (at least one byte). */
function keySlot(buf: Uint8Array, from: number, to: number): number {
  return (to - from + buf[from]! + buf[from + 1]! + buf[to - 1]! * 13) & 63;
}

// Document parts between fields (document.ts's DocumentWriter.write writes the same as text).
const LEVEL_KEY = FixedPart.of(',"level":');
const LOGGER_KEY = FixedPart.of(',"logger":');
const ORIGIN_OPEN = FixedPart.of(',"origin":{');
const FILE_OPEN = FixedPart.of('"file":{');
const NAME_KEY = FixedPart.of('"name":');
const LINE_KEY = FixedPart.of('"line":');
const FUNCTION_KEY = FixedPart.of('"function":');
const PROCESS_OPEN = FixedPart.of(',"process":{');
const PID_KEY = FixedPart.of('"pid":');
const THREAD_OPEN = FixedPart.of('"thread":{');
const ID_KEY = FixedPart.of('"id":');
const DJANGO_OPEN = FixedPart.of(',"django":{');
/** Most bytes the parts above can add to a document (each at most once), with the single-byte `,` `:` `}` between. */
const FIELD_PARTS_BOUND =
  [LEVEL_KEY, LOGGER_KEY, ORIGIN_OPEN, FILE_OPEN, NAME_KEY, LINE_KEY, FUNCTION_KEY, PROCESS_OPEN, PID_KEY, THREAD_OPEN, ID_KEY, NAME_KEY, DJANGO_OPEN]
    .reduce((sum, part) => sum + part.length, 0) + 16;

/** The constant parts of this file's documents (DocumentWriter.plainTemplate). */
export interface DjangoTemplate {
  readonly head: FixedPart;
  readonly message: FixedPart;
  readonly logFile: FixedPart;
  /** `}` (closing `log`), then host, decoration, no tags, and the document's `}`. */
  readonly tail: FixedPart;
}

/** Members writeFields writes (fieldMembers). */
const FIELD_COUNT = 8;

/**
 * The part of the last document from its level to the end of `process` — level, logger, origin, pid and thread —
 * and the JSON texts of the members it was made of. Lines of one logger, module, function, process and thread follow
 * each other in a log: a line whose members there are the same texts gets that part in one copy, instead of up to
 * sixteen keys and values written one by one.
 */
class FieldsMade {
  /** Per field: its JSON text's length in `texts` (-1: absent; -2: nothing kept). */
  private readonly lengths = new Int32Array(FIELD_COUNT).fill(-2);
  private readonly offsets = new Int32Array(FIELD_COUNT);
  private texts = Buffer.alloc(256);
  /** What was written of them. */
  readonly made = new KeptPart(512);

  /** Are the members `fields` of the line `m` scanned the texts kept? */
  is(m: ScannedBytes, fields: Int32Array): boolean {
    const buf = m.buf;
    const texts = this.texts;
    for (let k = 0; k < FIELD_COUNT; k++) {
      const i = fields[k]!;
      const length = this.lengths[k]!;
      if (i < 0) {
        if (length !== -1) return false;
        continue;
      }
      const from = m.valueStart[i]!;
      if (m.valueEnd[i]! - from !== length) return false;
      const at = this.offsets[k]!;
      for (let j = 0; j < length; j++) if (buf[from + j] !== texts[at + j]) return false;
    }
    return true;
  }

  /** Keeps out[at, end), written of the members `fields` of `m`. */
  keep(m: ScannedBytes, fields: Int32Array, out: Buffer, at: number, end: number): void {
    let size = 0;
    for (let k = 0; k < FIELD_COUNT; k++) if (fields[k]! >= 0) size += m.valueEnd[fields[k]!]! - m.valueStart[fields[k]!]!;
    if (size > this.texts.length || end - at > this.made.bytes.length) {
      this.lengths.fill(-2); // too large to keep: nothing matches
      return;
    }
    let p = 0;
    for (let k = 0; k < FIELD_COUNT; k++) {
      const i = fields[k]!;
      if (i < 0) {
        this.lengths[k] = -1;
        continue;
      }
      const from = m.valueStart[i]!;
      const length = m.valueEnd[i]! - from;
      m.buf.copy(this.texts, p, from, from + length);
      this.offsets[k] = p;
      this.lengths[k] = length;
      p += length;
    }
    this.made.keep(out, at, end);
  }
}

export class DjangoJsonBytes {
  private readonly m = new ScannedBytes();
  /** Member index of each known key in the line scanned (-1: absent), by id. */
  private readonly at = new Int32Array(KEY_IDS);
  /** Member indexes of the other keys, in line order, then `created` when it is kept. */
  private readonly kept = new Int32Array(64);
  /** Members of level, logger, origin file, line, function, pid, thread id and thread name (-1: absent). */
  private readonly fieldMembers = new Int32Array(FIELD_COUNT);
  /** What writeFields wrote last, and of which values. */
  private readonly fieldsMade = new FieldsMade();

  /** The template's tail after its `}` (written separately: `process` and `django` come between). */
  private tailRest: FixedPart;
  /** The @timestamp of the line being written (and of the last one written). */
  readonly timestamps: TimestampBytes;

  constructor(
    private template: DjangoTemplate,
    readTimestamp: TimestampReader,
    private readonly placement: DocumentPlacement,
  ) {
    this.timestamps = new TimestampBytes(readTimestamp);
    this.tailRest = new FixedPart(template.tail.bytes.subarray(1));
  }

  /** The documents from now on carry another decoration (see DjangoParser.redecorate). */
  retemplate(template: DjangoTemplate): void {
    this.template = template;
    this.tailRest = new FixedPart(template.tail.bytes.subarray(1));
  }

  /**
   * Writes the record of the line buf[from, to) (file bytes [start, end)): true; false, with nothing written, when
   * the line is not one this takes.
   */
  write(buf: Buffer, from: number, to: number, start: number, end: number): boolean {
    const m = this.m;
    if (!m.scan(buf, from, to)) return false;
    const at = this.at;
    at.fill(-1);
    let keptCount = 0;
    for (let i = 0; i < m.count; i++) {
      const ks = m.keyStart[i]! + 1;
      const ke = m.keyEnd[i]! - 1;
      const id = ke > ks ? KEY_SLOTS[keySlot(buf, ks, ke)]! : 0;
      if (id !== 0 && sameAs(buf, ks, ke, KNOWN_KEYS[id]!)) at[id] = i;
      else this.kept[keptCount++] = i;
    }
    // Declined: what the string way would keep under `django` in an order of its own, or read more from.
    if (at[EXC_INFO]! >= 0 || at[EXC_TEXT]! >= 0 || at[STACK_INFO]! >= 0) return false;
    const message = at[MESSAGE]! >= 0 ? at[MESSAGE]! : at[MSG]!;
    if (message < 0 || (at[MESSAGE]! >= 0 && at[MSG]! >= 0) || m.kinds[message] !== BYTES_STRING) return false;
    const level = this.oneString(LEVELNAME, LEVEL);
    const logger = this.oneString(NAME, LOGGER);
    const originFile = this.oneString(FILENAME, MODULE);
    if (level === -2 || logger === -2 || originFile === -2) return false;
    const lineno = at[LINENO]!, funcName = at[FUNC_NAME]!, pid = at[PROCESS]!, thread = at[THREAD]!, threadName = at[THREAD_NAME]!;
    if ((lineno >= 0 && !m.isPlainInt(lineno)) || (pid >= 0 && !m.isPlainInt(pid)) || (thread >= 0 && !m.isPlainInt(thread))) return false;
    if ((funcName >= 0 && m.kinds[funcName] !== BYTES_STRING) || (threadName >= 0 && m.kinds[threadName] !== BYTES_STRING)) return false;

    // @timestamp: the one text timestamp there is, read; else `created` (then not kept).
    let textTime = -1;
    for (let id = ASCTIME; id <= AT_TIMESTAMP; id++) {
      if (at[id]! < 0) continue;
      if (textTime >= 0) return false; // two: the string way keeps the second
      textTime = at[id]!;
    }
    const created = at[CREATED]!;
    const ts = this.timestamps;
    if (textTime >= 0) {
      if (!m.isPlainString(textTime) || !ts.readText(buf, m.valueStart[textTime]! + 1, m.valueEnd[textTime]! - 1)) return false;
      if (created >= 0) this.kept[keptCount++] = created;
    } else {
      if (created < 0 || m.kinds[created] !== BYTES_NUMBER) return false;
      const iso = isoFromEpochSeconds(Number(buf.toString('latin1', m.valueStart[created]!, m.valueEnd[created]!)));
      if (iso === null || !ts.readString(iso)) return false;
    }

    // The document, in DocumentWriter.write's order. Room for the largest it can be; what is unused is given back.
    const t = this.template;
    const bound = t.head.length + ts.length + t.message.length + t.logFile.length + 16 + (to - from) + FIELD_PARTS_BOUND + t.tail.length;
    const { buffer: out, at: first } = this.placement.place(bound, start);
    let p = first;
    p = putPart(out, p, t.head);
    p = ts.copyTo(out, p);
    p = putPart(out, p, t.message);
    p = this.value(out, p, message);
    p = putPart(out, p, t.logFile);
    p = writeDigits(out, p, start);
    const fields = this.fieldMembers;
    fields[0] = level;
    fields[1] = logger;
    fields[2] = originFile;
    fields[3] = lineno;
    fields[4] = funcName;
    fields[5] = pid;
    fields[6] = thread;
    fields[7] = threadName;
    p = this.fieldsMade.is(m, fields) ? putPart(out, p, this.fieldsMade.made) : this.writeFields(out, p);
    if (keptCount > 0) {
      p = putPart(out, p, DJANGO_OPEN);
      for (let j = 0; j < keptCount; j++) {
        const i = this.kept[j]!;
        if (j > 0) out[p++] = 0x2c;
        p = copyBytes(buf, m.keyStart[i]!, m.keyEnd[i]!, out, p);
        out[p++] = 0x3a; // :
        p = this.value(out, p, i);
      }
      out[p++] = 0x7d;
    }
    p = putPart(out, p, this.tailRest);
    const multiline = (m.flags[message]! & HAS_NEWLINE) !== 0;
    this.placement.written(start, end, multiline ? REC_MULTILINE : 0, p - first);
    return true;
  }


  /**
   * Writes level, logger, origin, the end of `log` and process, of the members in fieldMembers, and keeps what it
   * wrote for the next line whose values are the same (fieldsMade).
   */
  private writeFields(out: Buffer, p: number): number {
    const f = this.fieldMembers;
    const level = f[0]!, logger = f[1]!, originFile = f[2]!, lineno = f[3]!, funcName = f[4]!, pid = f[5]!, thread = f[6]!, threadName = f[7]!;
    const from = p;
    if (level >= 0) p = this.value(out, putPart(out, p, LEVEL_KEY), level);
    if (logger >= 0) p = this.value(out, putPart(out, p, LOGGER_KEY), logger);
    if (originFile >= 0 || lineno >= 0 || funcName >= 0) {
      p = putPart(out, p, ORIGIN_OPEN);
      if (originFile >= 0 || lineno >= 0) {
        p = putPart(out, p, FILE_OPEN);
        if (originFile >= 0) p = this.value(out, putPart(out, p, NAME_KEY), originFile);
        if (originFile >= 0 && lineno >= 0) out[p++] = 0x2c; // ,
        if (lineno >= 0) p = this.value(out, putPart(out, p, LINE_KEY), lineno);
        out[p++] = 0x7d; // }
        if (funcName >= 0) out[p++] = 0x2c;
      }
      if (funcName >= 0) p = this.value(out, putPart(out, p, FUNCTION_KEY), funcName);
      out[p++] = 0x7d;
    }
    out[p++] = 0x7d; // closes `log` (the template's tail starts with it: its `rest` is written below)
    if (pid >= 0 || thread >= 0 || threadName >= 0) {
      p = putPart(out, p, PROCESS_OPEN);
      if (pid >= 0) {
        p = this.value(out, putPart(out, p, PID_KEY), pid);
        if (thread >= 0 || threadName >= 0) out[p++] = 0x2c;
      }
      if (thread >= 0 || threadName >= 0) {
        p = putPart(out, p, THREAD_OPEN);
        if (thread >= 0) p = this.value(out, putPart(out, p, ID_KEY), thread);
        if (thread >= 0 && threadName >= 0) out[p++] = 0x2c;
        if (threadName >= 0) p = this.value(out, putPart(out, p, NAME_KEY), threadName);
        out[p++] = 0x7d;
      }
      out[p++] = 0x7d;
    }
    this.fieldsMade.keep(this.m, f, out, from, p);
    return p;
  }

  /**
   * The member of key a when it is there, else of key b; -1 when neither is; -2 (decline) when both are or the one
   * there is not a string: the string way would keep it under `django`.
   */
  private oneString(a: number, b: number): number {
    const ia = this.at[a]!, ib = this.at[b]!;
    if (ia >= 0 && ib >= 0) return -2;
    const i = ia >= 0 ? ia : ib;
    if (i < 0) return -1;
    return this.m.kinds[i] === BYTES_STRING ? i : -2;
  }

  /** Copies member i's value (its JSON text) to out at p. */
  private value(out: Buffer, p: number, i: number): number {
    return copyBytes(this.m.buf, this.m.valueStart[i]!, this.m.valueEnd[i]!, out, p);
  }
}

function sameAs(buf: Buffer, from: number, to: number, key: Buffer): boolean {
  if (to - from !== key.length) return false;
  for (let j = 0; j < key.length; j++) if (buf[from + j] !== key[j]) return false;
  return true;
}
