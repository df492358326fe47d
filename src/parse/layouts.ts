/**
 * The first lines of records in the text layouts Django projects use, recognised without being told the Formatter
 * string (an input without `format`). Per file, and sticky:
 *
 *  - A *strong* layout has both a timestamp and a level name where a Formatter puts them; no line of a message or a
 *    traceback looks like that, so such a line always starts a record:
 *      {levelname} {asctime} {module} {process:d} {thread:d} {message}   (Django docs "verbose")
 *      {levelname} {asctime} {module} {message}
 *      [%(asctime)s] %(levelname)s %(name)s: %(message)s   (also "[name:lineno] message", or no logger)
 *      [%(asctime)s] [%(levelname)s] %(name)s: %(message)s
 *      %(asctime)s %(levelname)s %(name)s %(message)s
 *      %(asctime)s [%(levelname)s] %(name)s: %(message)s
 *      %(asctime)s - %(name)s - %(levelname)s - %(message)s
 *  - A *weak* layout is a shape that a message line could have too: a level name first
 *    ({levelname} {message}, basicConfig's %(levelname)s:%(name)s:%(message)s, or a level name and any separator),
 *    or a timestamp first without a level after it. One is learned only while the file has no layout yet (its first
 *    record); once a file's layout is known, a weak shape of another kind is just a line of the record before.
 *
 * The logger is read where the layout has it when it looks like one: "name: " (lowercase, dotted or not),
 * "[name:lineno]", or a dotted name ("django.request") or root/django followed by a space. In
 * "{levelname} {asctime} {module} {message}" the word after the time is the module when it is a lowercase identifier.
 * A layout the detector cannot tell apart from its neighbours needs `format:`.
 *
 * Hot path: one call per line. A first-character switch, then character-code scanners (no regex on a line that is
 * not a header, one only for the "name: " and "[name:lineno]" loggers); the fields go into a reused Header.
 */
import { createTimestampReader, type TimestampReader } from './time.js';
import type { Header } from './header.js';

/** Weak layouts, as bits of what a file has learned. */
/** "LEVEL message" ({levelname} {message}, Django docs' "simple"). */
const WEAK_SIMPLE = 1;
/** "LEVEL:name:message" (logging.basicConfig's default). */
const WEAK_BASIC = 2;
/** A timestamp, no level after it ("[27/Nov/2026 12:00:00] ..." of runserver, say). */
const WEAK_TIME = 4;
/** A level and another separator: "LEVEL: message", "LEVEL | message", "LEVEL - message". */
const WEAK_LEVEL_SEP = 8;

const DOTTED_LOGGER_COLON_RE = /^([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*): /;
const BRACKET_LOGGER_RE = /^\[([^\]\s]+):(\d+)\](?: |$)/;
const DOTTED_NAME_RE = /^[a-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$/;
const MODULE_RE = /^[a-z_][a-z0-9_]*$/;

const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec';

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Scratch result of levelAt: the index just past the level name. */
let levelEnd = 0;

/** The level name at s[i..] (one of Python's, plus WARN and FATAL), or null. Sets levelEnd. */
function levelAt(s: string, i: number): string | null {
  let level: string;
  switch (s.charCodeAt(i)) {
    case 68: level = 'DEBUG'; break; // D
    case 73: level = 'INFO'; break; // I
    case 87: level = s.startsWith('WARNING', i) ? 'WARNING' : 'WARN'; break; // W
    case 69: level = 'ERROR'; break; // E
    case 67: level = 'CRITICAL'; break; // C
    case 70: level = 'FATAL'; break; // F
    case 78: level = 'NOTSET'; break; // N
    default: return null;
  }
  if (!s.startsWith(level, i)) return null;
  levelEnd = i + level.length;
  return level;
}

/** Where "YYYY-MM-DD HH:MM:SS" and "DD/Mon/YYYY HH:MM:SS" have digits. */
export const ISO_DIGITS = new Uint8Array([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]);
const DMY_DIGITS = new Uint8Array([0, 1, 7, 8, 9, 10, 12, 13, 15, 16, 18, 19]);

/**
 * End of an ISO-shaped timestamp at s[i..]: "YYYY-MM-DD[ T]HH:MM:SS[.,fraction][Z|±hh[:mm]]", or -1. Only the shape:
 * the timestamp reader checks the values (a header with an impossible date still starts a record, tagged).
 */
function isoEnd(s: string, i: number): number {
  if (s.length < i + 19) return -1;
  for (let k = 0; k < ISO_DIGITS.length; k++) if (!isDigit(s.charCodeAt(i + ISO_DIGITS[k]!))) return -1;
  const sep = s.charCodeAt(i + 10);
  if (s.charCodeAt(i + 4) !== 45 || s.charCodeAt(i + 7) !== 45 || (sep !== 32 && sep !== 84) || s.charCodeAt(i + 13) !== 58 || s.charCodeAt(i + 16) !== 58) {
    return -1;
  }
  let e = i + 19;
  const f = s.charCodeAt(e);
  if ((f === 44 || f === 46) && isDigit(s.charCodeAt(e + 1))) {
    e += 2;
    while (isDigit(s.charCodeAt(e))) e++;
  }
  const z = s.charCodeAt(e);
  if (z === 90 /* Z */) return e + 1;
  if ((z === 43 || z === 45) && isDigit(s.charCodeAt(e + 1)) && isDigit(s.charCodeAt(e + 2))) {
    e += 3;
    const colon = s.charCodeAt(e) === 58 ? 1 : 0;
    if (isDigit(s.charCodeAt(e + colon)) && isDigit(s.charCodeAt(e + colon + 1))) e += colon + 2;
  }
  return e;
}

/** End of "DD/Mon/YYYY[ :]HH:MM:SS" at s[i..] (Django's runserver, Apache), or -1. */
function dmyEnd(s: string, i: number): number {
  if (s.length < i + 20 || s.charCodeAt(i + 2) !== 47 || s.charCodeAt(i + 6) !== 47) return -1;
  for (let k = 0; k < DMY_DIGITS.length; k++) if (!isDigit(s.charCodeAt(i + DMY_DIGITS[k]!))) return -1;
  const sep = s.charCodeAt(i + 11);
  if ((sep !== 32 && sep !== 58) || s.charCodeAt(i + 14) !== 58 || s.charCodeAt(i + 17) !== 58) return -1;
  return MONTHS.indexOf(s.slice(i + 3, i + 6)) % 3 === 0 ? i + 20 : -1;
}

/** "27/Nov/2026 12:00:00" → "2026-11-27 12:00:00", the shape the timestamp reader takes. */
function isoFromDmy(t: string): string {
  const month = MONTHS.indexOf(t.slice(3, 6)) / 3 + 1;
  return `${t.slice(7, 11)}-${month < 10 ? '0' : ''}${month}-${t.slice(0, 2)} ${t.slice(12, 20)}`;
}

export class LayoutDetector {
  private readonly readTimestamp: TimestampReader;
  /** Has a record's first line been recognised in this file yet? */
  known = false;
  /** The weak layout this file has, if any (WEAK_* bit). */
  private weak = 0;

  constructor(timezone: string) {
    this.readTimestamp = createTimestampReader(timezone);
  }

  /** Is `text` a record's first line here? Then its fields are in `h` (cleared first; on no, `h` is not to be read). */
  match(text: string, h: Header): boolean {
    const c = text.charCodeAt(0);
    let layout = -1;
    if (c === 91 /* [ */) layout = this.bracketed(text, h);
    else if (isDigit(c)) layout = this.timeFirst(text, h);
    else if (c >= 65 && c <= 90) layout = this.levelFirst(text, h);
    if (layout < 0) return false;
    if (layout > 0) {
      // A weak shape: the file's layout if it has none yet, else only if it is the one it has.
      if (this.known ? this.weak !== layout : false) return false;
      if (!this.known) this.weak = layout;
    }
    this.known = true;
    return true;
  }

  /**
   * Is `text` the first line of a strong layout? (Container output, where any other line is a record of its own
   * anyway: nothing is learned.)
   */
  matchStrong(text: string, h: Header): boolean {
    const c = text.charCodeAt(0);
    let layout = -1;
    if (c === 91 /* [ */) layout = this.bracketed(text, h);
    else if (isDigit(c)) layout = this.timeFirst(text, h);
    else if (c >= 65 && c <= 90) layout = this.levelFirst(text, h);
    return layout === 0;
  }

  /** "[asctime] …": 0 for a strong layout, a WEAK_* bit, or -1. */
  private bracketed(s: string, h: Header): number {
    let e = isoEnd(s, 1);
    let dmy = false;
    if (e < 0) {
      e = dmyEnd(s, 1);
      dmy = true;
    }
    if (e < 0 || s.charCodeAt(e) !== 93 /* ] */) return -1;
    const asctime = s.slice(1, e);
    h.clear();
    h.timestamp = this.readTimestamp(dmy ? isoFromDmy(asctime) : asctime);
    let p = e + 1;
    if (s.charCodeAt(p) === 32) {
      if (s.charCodeAt(p + 1) === 91 /* [ */ && (h.level = levelAt(s, p + 2) ?? undefined) !== undefined && s.charCodeAt(levelEnd) === 93) {
        // [asctime] [LEVEL] name: message
        p = levelEnd + 1;
        return this.afterLevel(s, p, h);
      }
      if ((h.level = levelAt(s, p + 1) ?? undefined) !== undefined && (levelEnd === s.length || s.charCodeAt(levelEnd) === 32)) {
        // [asctime] LEVEL [name:lineno] message / name: message / message
        return this.afterLevel(s, levelEnd, h);
      }
      p++;
    }
    h.level = undefined;
    h.message = s.slice(p);
    return WEAK_TIME;
  }

  /** "asctime …" */
  private timeFirst(s: string, h: Header): number {
    let e = isoEnd(s, 0);
    let dmy = false;
    if (e < 0) {
      e = dmyEnd(s, 0);
      dmy = true;
    }
    if (e < 0) return -1;
    const asctime = s.slice(0, e);
    h.clear();
    h.timestamp = this.readTimestamp(dmy ? isoFromDmy(asctime) : asctime);
    if (s.charCodeAt(e) === 32) {
      const n = s.charCodeAt(e + 1);
      if (n === 45 /* - */ && s.charCodeAt(e + 2) === 32) {
        // asctime - name - LEVEL - message
        const dash = s.indexOf(' - ', e + 3);
        if (dash > e + 3 && s.lastIndexOf(' ', dash - 1) < e + 3 && (h.level = levelAt(s, dash + 3) ?? undefined) !== undefined) {
          const after = levelEnd;
          if (after === s.length || (s.charCodeAt(after) === 32 && s.charCodeAt(after + 1) === 45)) {
            h.logger = s.slice(e + 3, dash);
            h.message = s.slice(Math.min(after + 3, s.length));
            return 0;
          }
        }
        h.level = undefined;
      } else if (n === 91 /* [ */ && (h.level = levelAt(s, e + 2) ?? undefined) !== undefined && s.charCodeAt(levelEnd) === 93) {
        // asctime [LEVEL] name: message
        return this.afterLevel(s, levelEnd + 1, h);
      } else if ((h.level = levelAt(s, e + 1) ?? undefined) !== undefined) {
        // asctime LEVEL name message
        const after = s.charCodeAt(levelEnd);
        if (levelEnd === s.length || after === 32) return this.afterLevel(s, levelEnd, h);
        if (after === 58 /* : */) {
          h.message = s.slice(s.charCodeAt(levelEnd + 1) === 32 ? levelEnd + 2 : levelEnd + 1);
          return 0;
        }
      }
      h.level = undefined;
      h.message = s.slice(e + 1);
    } else {
      h.message = s.slice(e);
    }
    return WEAK_TIME;
  }

  /** "LEVEL …" */
  private levelFirst(s: string, h: Header): number {
    const level = levelAt(s, 0);
    if (level === null) return -1;
    const le = levelEnd;
    const sep = s.charCodeAt(le);
    h.clear();
    h.level = level;
    if (sep === 32) {
      const te = isoEnd(s, le + 1);
      if (te > 0 && (te === s.length || s.charCodeAt(te) === 32)) {
        // LEVEL asctime …
        h.timestamp = this.readTimestamp(s.slice(le + 1, te));
        this.moduleAndIds(s, te, h);
        return 0;
      }
      h.message = s.slice(le + 1);
      return WEAK_SIMPLE;
    }
    if (le === s.length) return WEAK_SIMPLE;
    if (sep === 58 /* : */) {
      // basicConfig: LEVEL:name:message (a name has no space and no colon)
      const colon = s.indexOf(':', le + 1);
      if (colon > le + 1 && s.lastIndexOf(' ', colon) < le) {
        h.logger = s.slice(le + 1, colon);
        h.message = s.slice(colon + 1);
        return WEAK_BASIC;
      }
    }
    if (sep === 58 || sep === 124 /* | */ || sep === 9 /* tab */ || sep === 93 /* ] */ || sep === 45 /* - */) {
      h.message = s.slice(s.charCodeAt(le + 1) === 32 ? le + 2 : le + 1);
      return WEAK_LEVEL_SEP;
    }
    h.level = undefined;
    return -1;
  }

  /** After "LEVEL asctime": "module pid tid message" (verbose), "module message", or the message. */
  private moduleAndIds(s: string, p: number, h: Header): void {
    if (p >= s.length) return;
    p++; // the space
    const m1 = s.indexOf(' ', p);
    if (m1 > p) {
      // The numbers are read as they are scanned: no text is cut out for them.
      const m2 = digitsEnd(s, m1 + 1);
      const pid = digitsValue;
      const m3 = m2 > 0 && s.charCodeAt(m2) === 32 ? digitsEnd(s, m2 + 1) : -1;
      if (m3 > 0 && (m3 === s.length || s.charCodeAt(m3) === 32)) {
        h.originName = s.slice(p, m1);
        h.pid = pid;
        h.threadId = digitsValue;
        h.message = s.slice(Math.min(m3 + 1, s.length));
        return;
      }
    }
    const word = m1 < 0 ? s.slice(p) : s.slice(p, m1);
    if (MODULE_RE.test(word)) {
      h.originName = word;
      h.message = m1 < 0 ? '' : s.slice(m1 + 1);
      return;
    }
    h.message = s.slice(p);
  }

  /** After the level (at p: a space, or the end): the logger when it looks like one, then the message. */
  private afterLevel(s: string, p: number, h: Header): number {
    if (p >= s.length) return 0;
    if (s.charCodeAt(p) === 32) p++;
    const c = s.charCodeAt(p);
    if (c === 91 /* [ */) {
      const m = BRACKET_LOGGER_RE.exec(s.slice(p));
      if (m !== null) {
        h.logger = m[1]!;
        h.originLine = Number(m[2]);
        h.message = s.slice(p + m[0].length);
        return 0;
      }
    } else if ((c >= 97 && c <= 122) || c === 95 /* a-z _ */) {
      const space = s.indexOf(' ', p);
      const word = space < 0 ? s.slice(p) : s.slice(p, space);
      if (word.charCodeAt(word.length - 1) === 58 /* : */ && space > 0) {
        const m = DOTTED_LOGGER_COLON_RE.exec(s.slice(p, space + 1));
        if (m !== null) {
          h.logger = m[1]!;
          h.message = s.slice(space + 1);
          return 0;
        }
      } else if (word === 'root' || word === 'django' || DOTTED_NAME_RE.test(word)) {
        h.logger = word;
        h.message = space < 0 ? '' : s.slice(space + 1);
        return 0;
      }
    }
    h.message = s.slice(p);
    return 0;
  }
}

/** Scratch result of digitsEnd: the value of the digits (exact up to 2^53, like Number() of them). */
let digitsValue = 0;

/** End of a run of digits at s[i..] (at least one), or -1. Sets digitsValue. */
function digitsEnd(s: string, i: number): number {
  let e = i;
  let v = 0;
  for (let c = s.charCodeAt(e); c >= 48 && c <= 57; c = s.charCodeAt(++e)) v = v * 10 + (c - 48);
  digitsValue = v;
  return e > i ? e : -1;
}
