/**
 * Text timestamps of JSON lines (Python's asctime, "2026-11-27 12:00:00,123") written into documents as bytes: the
 * TimestampReader's answer for a line's hour is kept, and the lines of the same hour (thousands a second, in a busy
 * log) reuse it, their minutes, seconds and milliseconds copied. Reading every one as a string (a string made from the
 * bytes, read, the answer encoded again) was a tenth of the Django JSON byte path.
 *
 * The same answer as the reader, always: an hour is reused only after the reader read a timestamp of it, and only
 * when its offset is the same at :00 and at :59 (the reader's own rule for caching an hour; zones whose offset
 * changes within an hour are read line by line). Anything but the exact asctime shape goes to the reader.
 */
import type { TimestampReader } from './time.js';

/** "YYYY-MM-DD HH:MM:SS,mmm": the shape reused. */
const ASCTIME_LENGTH = 23;
/** "YYYY-MM-DD HH": the hour, compared byte for byte. */
const HOUR_LENGTH = 13;
/** Room for an ISO timestamp: the readers write at most "YYYY-MM-DDTHH:MM:SS.mmm+hh:mm" (29 bytes). */
export const MAX_ISO_LENGTH = 40;

/** Where a parser's last timestamp is, when it was written as bytes: made into text only if asked for. */
export interface TimestampSource {
  text(): string | null;
}

/**
 * A parser's latest timestamp, for a line that has none of its own: text, or where a line written on its bytes left
 * it (made into text only if such a line comes).
 */
export class LastTimestamp {
  private value: string | null = null;
  private source: TimestampSource | null = null;

  set(ts: string | null): void {
    this.value = ts;
    this.source = null;
  }

  /** The latest timestamp is the one `source` holds now (it keeps it until the next line of its own). */
  from(source: TimestampSource): void {
    this.source = source;
  }

  text(): string | null {
    return this.source !== null ? this.source.text() : this.value;
  }
}

/**
 * A timestamp read into ISO bytes, kept until the next one reads (the byte ways' @timestamp): `next` is written,
 * then swapped in by take(), so a read that fails leaves the current one as it was. Made into text only if asked.
 */
export class IsoBytes implements TimestampSource {
  private current = Buffer.alloc(MAX_ISO_LENGTH);
  /** Where a read writes (take() makes it current). */
  protected next = Buffer.alloc(MAX_ISO_LENGTH);
  /** Bytes of the current timestamp (0: none yet); it as a string, once asked for. */
  length = 0;
  private currentString: string | null = null;

  /** Makes `ts` (an ISO timestamp made elsewhere) the current one; false if it is too long to. */
  readString(ts: string): boolean {
    if (ts.length > MAX_ISO_LENGTH) return false;
    this.take(this.next.write(ts, 0, 'latin1'));
    return true;
  }

  /** Copies the current timestamp to out at p; returns the offset after it. */
  copyTo(out: Buffer, p: number): number {
    const current = this.current;
    for (let j = 0; j < this.length; j++) out[p + j] = current[j]!;
    return p + this.length;
  }

  /** The current timestamp as text, or null before the first. */
  text(): string | null {
    if (this.length === 0) return null;
    return (this.currentString ??= this.current.toString('latin1', 0, this.length));
  }

  /** The `length` bytes written into `next` are the current timestamp now. */
  protected take(length: number): void {
    const read = this.next;
    this.next = this.current;
    this.current = read;
    this.length = length;
    this.currentString = null;
  }
}

export class TimestampBytes extends IsoBytes {
  /** The hour reused, as the lines write it; its ISO text ("YYYY-MM-DDTHH") and offset suffix ("Z", "+01:00"). */
  private readonly hourText = Buffer.alloc(HOUR_LENGTH);
  private readonly isoHour = Buffer.alloc(HOUR_LENGTH);
  private suffix = Buffer.alloc(0);
  private hourKnown = false;

  constructor(private readonly read: TimestampReader) {
    super();
  }

  /** Reads the text timestamp buf[from, to): true, and it is the current one; false (nothing changed) if it does not read. */
  readText(buf: Uint8Array, from: number, to: number): boolean {
    const out = this.next;
    let length: number;
    if (this.hourKnown && to - from === ASCTIME_LENGTH && this.sameHour(buf, from) && restOfAsctime(buf, from)) {
      let p = 0;
      for (let j = 0; j < HOUR_LENGTH; j++) out[p++] = this.isoHour[j]!;
      for (let j = HOUR_LENGTH; j < 19; j++) out[p++] = buf[from + j]!; // ":MM:SS"
      out[p++] = 0x2e; // .
      out[p++] = buf[from + 20]!;
      out[p++] = buf[from + 21]!;
      out[p++] = buf[from + 22]!;
      const suffix = this.suffix;
      for (let j = 0; j < suffix.length; j++) out[p++] = suffix[j]!;
      length = p;
    } else {
      for (let j = from; j < to; j++) if (buf[j]! >= 0x80) return false; // the reader reads ASCII only
      const text = Buffer.prototype.toString.call(buf, 'latin1', from, to) as string;
      const ts = this.read(text);
      if (ts === null || ts.length > MAX_ISO_LENGTH) return false;
      this.learnHour(text, ts);
      length = out.write(ts, 0, 'latin1');
    }
    this.take(length);
    return true;
  }

  /** Keeps the hour of an asctime the reader read, when its offset holds for the whole hour. */
  private learnHour(text: string, ts: string): void {
    this.hourKnown = false;
    if (text.length !== ASCTIME_LENGTH || ts.length < ASCTIME_LENGTH || !restOfAsctime(Buffer.from(text, 'latin1'), 0)) return;
    const suffix = ts.slice(ASCTIME_LENGTH);
    const hour = text.slice(0, HOUR_LENGTH);
    if (this.read(`${hour}:00:00,000`)?.slice(ASCTIME_LENGTH) !== suffix || this.read(`${hour}:59:59,999`)?.slice(ASCTIME_LENGTH) !== suffix) return;
    this.hourText.write(hour, 0, 'latin1');
    this.isoHour.write(ts.slice(0, HOUR_LENGTH), 0, 'latin1');
    this.suffix = Buffer.from(suffix, 'latin1');
    this.hourKnown = true;
  }

  private sameHour(buf: Uint8Array, from: number): boolean {
    const hour = this.hourText;
    for (let j = 0; j < HOUR_LENGTH; j++) if (buf[from + j] !== hour[j]) return false;
    return true;
  }
}

/** Are bytes 13–22 of the asctime at `from` ":MM:SS,mmm" (or ".mmm"), minutes and seconds in range? */
function restOfAsctime(buf: Uint8Array, from: number): boolean {
  const sep = buf[from + 19];
  return (
    buf[from + 13] === 0x3a &&
    buf[from + 16] === 0x3a &&
    (sep === 0x2c || sep === 0x2e) &&
    digitUpTo(buf[from + 14]!, 5) &&
    digitUpTo(buf[from + 15]!, 9) &&
    digitUpTo(buf[from + 17]!, 5) &&
    digitUpTo(buf[from + 18]!, 9) &&
    digitUpTo(buf[from + 20]!, 9) &&
    digitUpTo(buf[from + 21]!, 9) &&
    digitUpTo(buf[from + 22]!, 9)
  );
}

function digitUpTo(c: number, max: number): boolean {
  return c >= 0x30 && c <= 0x30 + max;
}
