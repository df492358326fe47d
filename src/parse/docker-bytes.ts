/**
 * The commonest Docker json-file line, recognised on its bytes: one whole line of plain ASCII output, exactly as
 * Docker writes it, `{"log":"…\n","stream":"stdout","time":"2026-11-27T12:00:00.123456789Z"}`.
 *
 * Why bytes: such a line becomes a document that is the same bytes plus constants — the log text as Docker escaped
 * it, a timestamp, an offset. Decoding the line into a string, scanning the string, and concatenating and encoding the
 * document again was most of the parse thread's work on container logs. A line this does not recognise goes the
 * string way, which decides everything else; this only ever says yes to lines the string way's own fast path
 * (DockerRecordParser.pushPlainEntry) takes, and the document is the same (tests compare them).
 */

import { skipPlainWords, wordsOf } from './plain-words.js';
import { isoFromDocker } from './time.js';
import { IsoBytes } from './timestamp-bytes.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LOG_KEY = Buffer.from('{"log":"');
const STDOUT_KEYS = Buffer.from(',"stream":"stdout","time":"');
const STDERR_KEYS = Buffer.from(',"stream":"stderr","time":"');

/** What a byte of the log string is to the scan: most are plain, and one table lookup says so. */
const PLAIN = 0;
const STOP = 1; // a quote or a backslash
const BAD = 2; // a control character or a non-ASCII byte
const BYTE_CLASS = new Uint8Array(256).map((_, b) => (b === QUOTE || b === BACKSLASH ? STOP : b < 0x20 || b >= 0x80 ? BAD : PLAIN));
/** The escapes that may follow a backslash besides "u" (JSON). */
const SIMPLE_ESCAPES = new Set([QUOTE, BACKSLASH, 0x2f /* / */, 0x62 /* b */, 0x66 /* f */, 0x6e /* n */, 0x72 /* r */, 0x74 /* t */]);

/** Where the parts of a recognised line are (offsets into the buffer). */
export interface PlainEntry {
  /** The log value's opening quote. */
  readonly logAt: number;
  /** The backslash of its final `\n` escape: the text's JSON ends here (a closing quote is to be added). */
  readonly textEnd: number;
  readonly stderr: boolean;
  /** The time value, without quotes. */
  readonly timeAt: number;
  readonly timeEnd: number;
}

/**
 * The parts of the line in buf[from, to) (without its newline) if it is a whole plain line: ASCII only, the keys in
 * Docker's order, a `log` string whose only line feed is its final `\n` escape (no `\\n` sequence, no `\u000…`, not
 * `\r\n`), valid escapes, no raw control character, and at most `maxRecordBytes / 3` bytes of log JSON (the string
 * way measures longer ones for truncation). Null for anything else.
 */
export function plainEntryAt(buf: Buffer, from: number, to: number, maxRecordBytes: number): PlainEntry | null {
  if (to - from < LOG_KEY.length + 4 || !bytesAt(buf, from, LOG_KEY)) return null;
  const logAt = from + LOG_KEY.length - 1;
  // The log string: ASCII without control characters, valid escapes, up to its closing quote. The string way's fast
  // path declines a text with "\n" (backslash, n) anywhere but at its end, "\u000" anywhere, or "\r" or a backslash
  // right before the final "\n"; these are checked here as the escapes go by (an escaped backslash followed by n, u,
  // r or another backslash is declined outright: a little more than the string way declines, never less).
  let p = logAt + 1;
  let newlineAt = -1;
  // Plain bytes are skipped a word at a time where the buffer has words (plain-words.ts): most of a line is plain.
  const words = wordsOf(buf);
  for (;;) {
    if (p >= to) return null;
    const b = buf[p]!;
    const kind = BYTE_CLASS[b]!;
    if (kind === PLAIN) {
      p++;
      if (words !== null && (p & 3) === 0) p = skipPlainWords(words, p, to);
      continue;
    }
    if (kind === BAD) return null;
    if (b === QUOTE) break;
    const e = buf[p + 1]!;
    if (e === 0x75 /* u */) {
      if (!(isHex(buf[p + 2]!) && isHex(buf[p + 3]!) && isHex(buf[p + 4]!) && isHex(buf[p + 5]!))) return null;
      if (buf[p + 2] === 0x30 && buf[p + 3] === 0x30 && buf[p + 4] === 0x30) return null; // \u000…
      p += 6;
      continue;
    }
    if (e === 0x6e /* n */) {
      if (buf[p + 2] !== QUOTE) return null; // a line feed inside the text
      newlineAt = p;
    } else if (e === 0x72 /* r */) {
      if (buf[p + 2] === BACKSLASH && buf[p + 3] === 0x6e && buf[p + 4] === QUOTE) return null; // "\r\n" at the end
    } else if (e === BACKSLASH) {
      const after = buf[p + 2];
      if (after === 0x6e || after === 0x75 || after === 0x72 || after === BACKSLASH) return null;
    } else if (!SIMPLE_ESCAPES.has(e)) {
      return null;
    }
    p += 2;
  }
  const close = p;
  // It ends in the "\n" escape: the text's JSON is what comes before it.
  const textEnd = close - 2;
  if (newlineAt !== textEnd || textEnd <= logAt) return null;
  if ((close + 1 - logAt) * 3 > maxRecordBytes) return null;
  // Then the stream and the time, in Docker's order, and nothing after.
  const keys = close + 1;
  let stderr: boolean;
  if (bytesAt(buf, keys, STDOUT_KEYS)) stderr = false;
  else if (bytesAt(buf, keys, STDERR_KEYS)) stderr = true;
  else return null;
  const timeAt = keys + STDOUT_KEYS.length;
  const timeEnd = to - 2;
  if (timeEnd <= timeAt || buf[timeEnd] !== QUOTE || buf[timeEnd + 1] !== 0x7d /* } */) return null;
  for (let i = timeAt; i < timeEnd; i++) {
    const b = buf[i]!;
    if (b === QUOTE || b === BACKSLASH || b < 0x20 || b >= 0x80) return null;
  }
  return { logAt, textEnd, stderr, timeAt, timeEnd };
}

/** Does buf hold `expected` at `at`? (A loop: these are a few bytes, and Buffer.compare costs more to call.) */
function bytesAt(buf: Buffer, at: number, expected: Buffer): boolean {
  if (at + expected.length > buf.length) return false;
  for (let i = 0; i < expected.length; i++) if (buf[at + i] !== expected[i]) return false;
  return true;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** "YYYY-MM-DDTHH:MM:SS": the part of a Docker time that a second's lines share. */
const SECOND_LENGTH = 19;
/**
 * The Docker times of plain lines (one per stream), made into @timestamp bytes. A container writes thousands of
 * lines a second: a time whose second is the one last read in full (with isoFromDocker) and which ends in
 * `.digits` + `Z` has its milliseconds copied, as isoFromDocker's own same-second path does, without a string made
 * of it or of the answer. Anything else goes to isoFromDocker. The timestamp is made into text only when asked for
 * (a line without a time of its own takes the last one).
 */
export class DockerTimeBytes extends IsoBytes {
  private readonly second = Buffer.alloc(SECOND_LENGTH);
  private secondKnown = false;

  /** Reads the time buf[from, to) (without quotes): true, and it is the current one; false if it does not read. */
  read(buf: Buffer, from: number, to: number): boolean {
    const n = to - from;
    const out = this.next;
    if (this.secondKnown && n >= SECOND_LENGTH + 1 && buf[to - 1] === 0x5a /* Z */ && this.sameSecond(buf, from)) {
      const digits = n - SECOND_LENGTH - 2;
      let plain = n === SECOND_LENGTH + 1 || (digits > 0 && buf[from + SECOND_LENGTH] === 0x2e /* . */);
      for (let i = from + SECOND_LENGTH + 1; plain && i < to - 1; i++) plain = buf[i]! >= 0x30 && buf[i]! <= 0x39;
      if (plain) {
        for (let j = 0; j < SECOND_LENGTH; j++) out[j] = this.second[j]!;
        out[SECOND_LENGTH] = 0x2e;
        // Milliseconds: the fraction's first three digits, truncated, or padded with zeros.
        for (let j = 0; j < 3; j++) out[SECOND_LENGTH + 1 + j] = j < digits ? buf[from + SECOND_LENGTH + 1 + j]! : 0x30;
        out[SECOND_LENGTH + 4] = 0x5a;
        this.take(SECOND_LENGTH + 5);
        return true;
      }
    }
    const ts = isoFromDocker(buf.toString('latin1', from, to));
    if (ts === null || !this.readString(ts)) return false;
    // A UTC time read in full: its second is the answer's first 19 bytes, as it is the input's.
    this.secondKnown = n >= SECOND_LENGTH + 1 && buf[to - 1] === 0x5a && ts.length === SECOND_LENGTH + 5 && ts.endsWith('Z');
    if (this.secondKnown) this.second.write(ts, 0, SECOND_LENGTH, 'latin1');
    return true;
  }

  private sameSecond(buf: Buffer, from: number): boolean {
    const second = this.second;
    for (let j = 0; j < SECOND_LENGTH; j++) if (buf[from + j] !== second[j]) return false;
    return true;
  }
}
