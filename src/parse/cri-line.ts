/**
 * One line of the CRI log format that containerd and CRI-O write for kubelet (/var/log/pods/…/<n>.log):
 *
 *   2026-12-05T10:00:00.123456789Z stdout F message
 *   2026-12-05T10:00:00.123456789+01:00 stderr P first 16 KiB of a longer line
 *
 * `<time> <stream> <tags> <content>`, split on the first three spaces (the content may hold spaces, or be empty:
 * "… stdout F " is an empty line). The time is RFC 3339 with nanoseconds: containerd writes Go's RFC3339Nano of its
 * local clock (trailing zeros of the fraction dropped, "Z" in UTC, else "+hh:mm"), CRI-O's conmon always nine digits
 * and a numeric offset. The tags are ":"-separated, the first says whether the content ends the line (F) or is a
 * piece of a longer one (P): containerd cuts lines longer than max_container_log_line_size (16 KiB) into P pieces
 * ending with an F, and writes a last P when the output stops without a newline. Like kubelet's own reader
 * (pkg/kubelet/kuberuntime/logs/logs.go, parseCRILog), only the first tag counts, and any tag but P ends a line.
 *
 * The reader is one reused object per parser: reading a line allocates nothing but the time string.
 */
import { isoFromDocker } from './time.js';

const SPACE = 0x20;
const COLON = 0x3a;
const P = 0x50;

export class CriLineReader {
  /** The line's time, ISO 8601 with milliseconds (see time.ts isoFromDocker). */
  time = '';
  stderr = false;
  /** The content is a piece of a longer line (tag P). */
  partial = false;
  /** Where the content starts (index in the text, or byte offset in the buffer). */
  contentAt = 0;
  /** Bytes form: where the time is, for a caller that decodes it later. */
  timeFrom = 0;
  timeTo = 0;

  /** Reads a decoded line; false when it is not a CRI line (its fields are then meaningless). */
  read(text: string): boolean {
    const s1 = text.indexOf(' ');
    if (s1 <= 0) return false;
    const s2 = text.indexOf(' ', s1 + 1);
    if (s2 < 0) return false;
    const stream = s2 - s1 - 1;
    // "stdout" / "stderr", checked on characters: no substring is made.
    if (stream !== 6 || !text.startsWith('std', s1 + 1)) return false;
    const o = text.charCodeAt(s1 + 4);
    if (o === 111 /* o */ ? !text.startsWith('out', s1 + 4) : !text.startsWith('err', s1 + 4)) return false;
    const s3 = text.indexOf(' ', s2 + 1);
    if (s3 <= s2 + 1) return false;
    const time = isoFromDocker(text.slice(0, s1));
    if (time === null) return false;
    this.time = time;
    this.stderr = o !== 111;
    this.partial = text.charCodeAt(s2 + 1) === P && (s3 === s2 + 2 || text.charCodeAt(s2 + 2) === COLON);
    this.contentAt = s3 + 1;
    return true;
  }

  /**
   * Reads the line in buf[from, to) (no newline) without decoding it; false when it is not a CRI line. The time is
   * not converted: it is at [timeFrom, timeTo) (readTime() converts it).
   */
  readBytes(buf: Buffer, from: number, to: number): boolean {
    const s1 = buf.indexOf(SPACE, from);
    if (s1 <= from || s1 >= to) return false;
    const s2 = buf.indexOf(SPACE, s1 + 1);
    if (s2 < 0 || s2 >= to || s2 - s1 - 1 !== 6) return false;
    if (buf[s1 + 1] !== 0x73 || buf[s1 + 2] !== 0x74 || buf[s1 + 3] !== 0x64) return false; // "std"
    const o = buf[s1 + 4];
    if (o === 0x6f) {
      if (buf[s1 + 5] !== 0x75 || buf[s1 + 6] !== 0x74) return false; // "out"
    } else if (o !== 0x65 || buf[s1 + 5] !== 0x72 || buf[s1 + 6] !== 0x72) {
      return false; // "err"
    }
    const s3 = buf.indexOf(SPACE, s2 + 1);
    if (s3 <= s2 + 1 || s3 >= to) return false;
    this.stderr = o !== 0x6f;
    this.partial = buf[s2 + 1] === P && (s3 === s2 + 2 || buf[s2 + 2] === COLON);
    this.contentAt = s3 + 1;
    this.timeFrom = from;
    this.timeTo = s1;
    return true;
  }

  /** After readBytes: the time converted (into `time`); false when it is no RFC 3339 time. */
  readTime(buf: Buffer): boolean {
    const time = isoFromDocker(buf.toString('latin1', this.timeFrom, this.timeTo));
    if (time === null) return false;
    this.time = time;
    return true;
  }
}
