/**
 * A `datefmt` (what logging.Formatter gives time.strftime for `asctime`) → a regular expression that matches the
 * text it makes, and a reader that turns that text back into ISO 8601.
 *
 * Python's `asctime` without a datefmt is "%Y-%m-%d %H:%M:%S" + ",mmm" (its default_msec_format): that and the other
 * ISO-shaped datefmts are read by the shared timestamp reader directly (time.ts: cached zone offsets, no Date per
 * line). Any other datefmt has its parts picked out by a second, anchored regex and put in that shape first. What the
 * text leaves out is filled in: the milliseconds from %(msecs) when the format has it, the zone from the input's
 * `timezone` (unless %z or a UTC %Z names one), the year — or the whole date — from the current date there.
 *
 * strftime here is glibc's, as time.strftime uses it: unknown directives (Python's %f among them: strftime has no
 * fractions) are written as they are, and so matched as they are.
 */
import { createTimestampReader, isoFromEpochSeconds, type TimestampReader } from '../time.js';

/** Python's own: formatTime without a datefmt. */
export const DEFAULT_DATEFMT = '%Y-%m-%d %H:%M:%S,mmm';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAMES = '(?:January|February|March|April|May|June|July|August|September|October|November|December)';
const MONTH_ABBRS = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const DAY_NAMES = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const DAY_ABBRS = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';

/** The parts a datefmt can give. */
const enum Part {
  Year = 1,
  Year2,
  Month,
  MonthName,
  Day,
  DayOfYear,
  Hour,
  Hour12,
  AmPm,
  Minute,
  Second,
  Zone,
  ZoneName,
  Epoch,
}

/** Composite directives, as glibc expands them in the C locale. */
const EXPANSIONS: Record<string, string> = {
  c: '%a %b %e %H:%M:%S %Y',
  D: '%m/%d/%y',
  x: '%m/%d/%y',
  F: '%Y-%m-%d',
  T: '%H:%M:%S',
  X: '%H:%M:%S',
  R: '%H:%M',
  r: '%I:%M:%S %p',
  h: '%b',
};

/** One directive: its pattern with `flag` ('-' no padding, '_' space padding, '' default). */
function directive(d: string, flag: string): { re: string; part: Part | 0 } | null {
  const num = (digits: number, space = false): string => {
    if (flag === '-') return `\\d{1,${digits}}`;
    if (flag === '_' || space) return digits === 2 ? '[ \\d]\\d' : `[ \\d]{${digits - 1}}\\d`;
    return `\\d{${digits}}`;
  };
  switch (d) {
    case 'Y': return { re: '\\d{4}', part: Part.Year };
    case 'y': return { re: num(2), part: Part.Year2 };
    case 'G': return { re: '\\d{4}', part: 0 };
    case 'g': case 'C': case 'V': case 'U': case 'W': return { re: num(2), part: 0 };
    case 'm': return { re: num(2), part: Part.Month };
    case 'd': return { re: num(2), part: Part.Day };
    case 'e': return { re: num(2, true), part: Part.Day };
    case 'j': return { re: num(3), part: Part.DayOfYear };
    case 'H': return { re: num(2), part: Part.Hour };
    case 'k': return { re: num(2, true), part: Part.Hour };
    case 'I': return { re: num(2), part: Part.Hour12 };
    case 'l': return { re: num(2, true), part: Part.Hour12 };
    case 'p': return { re: '(?:AM|PM)', part: Part.AmPm };
    case 'P': return { re: '(?:am|pm)', part: Part.AmPm };
    case 'M': return { re: num(2), part: Part.Minute };
    case 'S': return { re: num(2), part: Part.Second };
    case 'z': return { re: '[+-]\\d{4}', part: Part.Zone };
    case 'Z': return { re: '[A-Za-z][A-Za-z0-9+-]*|[+-]\\d\\d(?:\\d\\d)?', part: Part.ZoneName };
    case 's': return { re: '\\d+', part: Part.Epoch };
    case 'b': return { re: MONTH_ABBRS, part: Part.MonthName };
    case 'B': return { re: MONTH_NAMES, part: Part.MonthName };
    case 'a': return { re: DAY_ABBRS, part: 0 };
    case 'A': return { re: DAY_NAMES, part: 0 };
    case 'u': return { re: '[1-7]', part: 0 };
    case 'w': return { re: '[0-6]', part: 0 };
    case 't': return { re: '\\t', part: 0 };
    case '%': return { re: '%', part: 0 };
    default: return null;
  }
}

function escapeRe(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/** A datefmt that cannot be used, and why. */
export class DatefmtError extends Error {}

/** Reads the text a datefmt made (and %(msecs), when the format has it) into ISO 8601, or null. */
export interface DateReader {
  /** The pattern of the text, without capture groups, to put in a line's pattern. */
  readonly source: string;
  /** Has a year, month and day (or epoch seconds): a record's date needs nothing else. */
  readonly hasDate: boolean;
  /** Has fractions of a second of its own (only the default does: ",mmm"). */
  readonly hasMillis: boolean;
  /** `millis`: whole milliseconds from %(msecs), or -1. `nowMs`: the clock, for a date the text leaves out. */
  read(text: string, millis: number, nowMs: number): string | null;
}

interface Compiled {
  source: string;
  groups: string;
  parts: Part[];
}

function compileDatefmt(datefmt: string): Compiled {
  let source = '';
  let groups = '';
  const parts: Part[] = [];
  const walk = (fmt: string, depth: number): void => {
    let i = 0;
    while (i < fmt.length) {
      const p = fmt.indexOf('%', i);
      if (p < 0) {
        const lit = escapeRe(fmt.slice(i));
        source += lit;
        groups += lit;
        return;
      }
      const lit = escapeRe(fmt.slice(i, p));
      source += lit;
      groups += lit;
      let j = p + 1;
      let flag = '';
      if ('-_0^#'.includes(fmt.charAt(j)) && j < fmt.length - 1) flag = fmt.charAt(j++);
      if ((fmt.charAt(j) === 'E' || fmt.charAt(j) === 'O') && j < fmt.length - 1) j++;
      const d = fmt.charAt(j);
      if (d === 'n') throw new DatefmtError('%n puts a line break inside asctime: a record\'s first line could not be told');
      const expansion = EXPANSIONS[d];
      if (expansion !== undefined && depth === 0) {
        walk(expansion, 1);
      } else {
        const dir = d === '' ? null : directive(d, flag === '0' ? '' : flag);
        if (dir === null) {
          // glibc writes what it does not know as it is.
          const text = escapeRe(fmt.slice(p, j + 1));
          source += text;
          groups += text;
        } else {
          // '^' and '#' change the case of names: any letters then (the month is read whatever its case).
          const re = (flag === '^' || flag === '#') && 'bBaApPZ'.includes(d) ? '[A-Za-z]+' : dir.re;
          source += `(?:${re})`;
          if (dir.part === 0) {
            groups += `(?:${re})`;
          } else {
            groups += `(${re})`;
            parts.push(dir.part);
          }
        }
      }
      i = j + 1;
    }
  };
  walk(datefmt, 0);
  return { source, groups, parts };
}

const ISO_READABLE = new Set(['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S%z', '%Y-%m-%dT%H:%M:%S%z']);

/**
 * The reader of a datefmt (null: Python's default) for an input whose zone-less times are in `timezone`.
 * Throws DatefmtError for a datefmt no line could be read back from.
 */
export function createDateReader(datefmt: string | null, timezone: string): DateReader {
  const readIso = createTimestampReader(timezone);
  if (datefmt === null) {
    return {
      source: '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,\\d{3}',
      hasDate: true,
      hasMillis: true,
      read: (text) => readIso(text),
    };
  }
  const c = compileDatefmt(datefmt);
  if (c.source === '') throw new DatefmtError('is empty: asctime would be an empty string');
  const has = (p: Part): boolean => c.parts.includes(p);
  const hasDate = has(Part.Epoch) || ((has(Part.Year) || has(Part.Year2)) && ((has(Part.Month) || has(Part.MonthName)) && has(Part.Day) || has(Part.DayOfYear)));
  if (ISO_READABLE.has(datefmt)) {
    // "2026-11-27 12:00:00[+0100]": the shared reader reads it as it is; milliseconds go before the zone.
    return {
      source: c.source,
      hasDate: true,
      hasMillis: false,
      read: (text, millis) => readIso(millis < 0 ? text : text.slice(0, 19) + '.' + threeDigits(millis) + text.slice(19)),
    };
  }
  return new PartsReader(new RegExp(`^${c.groups}$`), c.parts, c.source, hasDate, timezone, readIso);
}

function threeDigits(n: number): string {
  return n < 10 ? '00' + n : n < 100 ? '0' + n : String(n);
}

function two(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** A datefmt read part by part. */
class PartsReader implements DateReader {
  readonly hasMillis = false;
  private today: Intl.DateTimeFormat | null = null;
  private todayAt = -1;
  private todayParts: [number, number, number] = [1970, 1, 1];

  constructor(
    private readonly re: RegExp,
    private readonly parts: readonly Part[],
    readonly source: string,
    readonly hasDate: boolean,
    private readonly timezone: string,
    private readonly readIso: TimestampReader,
  ) {}

  read(text: string, millis: number, nowMs: number): string | null {
    const m = this.re.exec(text);
    if (m === null) return null;
    let year = -1, month = -1, day = -1, yday = -1, hour = 0, minute = 0, second = 0, pm = -1, twelve = false;
    let zone = '';
    for (let i = 0; i < this.parts.length; i++) {
      const v = m[i + 1]!.trim();
      switch (this.parts[i]) {
        case Part.Year: year = Number(v); break;
        case Part.Year2: year = 2000 + Number(v); break; // glibc's %y of 1969..1999 is rare in logs written now
        case Part.Month: month = Number(v); break;
        case Part.MonthName: month = MONTHS.indexOf(v.slice(0, 3).toLowerCase()) + 1; break;
        case Part.Day: day = Number(v); break;
        case Part.DayOfYear: yday = Number(v); break;
        case Part.Hour: hour = Number(v); break;
        case Part.Hour12: hour = Number(v); twelve = true; break;
        case Part.AmPm: pm = v.toLowerCase() === 'pm' ? 1 : 0; break;
        case Part.Minute: minute = Number(v); break;
        case Part.Second: second = Number(v); break;
        case Part.Zone: zone = v; break;
        case Part.ZoneName: if (v === 'UTC' || v === 'GMT' || v === 'Z') zone = 'Z'; break;
        case Part.Epoch: return isoFromEpochSeconds(Number(v) + (millis < 0 ? 0 : millis / 1000));
        default: break;
      }
    }
    if (twelve && pm >= 0) hour = (hour % 12) + (pm === 1 ? 12 : 0);
    if (year < 0 || (month < 0 && yday < 0) || (day < 0 && yday < 0)) {
      const [ty, tm, td] = this.todayIn(nowMs);
      if (year < 0) {
        year = ty;
        // A date later than today in a log is last year's (December's lines read in January).
        if (month > tm || (month === tm && day > td)) year--;
      }
      if (month < 0 && yday < 0) month = tm;
      if (day < 0 && yday < 0) day = td;
    }
    if (yday > 0 && (month < 0 || day < 0)) {
      const d = new Date(Date.UTC(2000, 0, 1));
      d.setUTCFullYear(year, 0, yday);
      month = d.getUTCMonth() + 1;
      day = d.getUTCDate();
    }
    if (year < 0 || year > 9999) return null;
    const y = String(year).padStart(4, '0');
    const local = `${y}-${two(month)}-${two(day)} ${two(hour)}:${two(minute)}:${two(second)}`;
    return this.readIso(local + (millis < 0 ? '' : '.' + threeDigits(millis)) + zone);
  }

  /** The date now in the input's zone (year, month, day), recomputed once a minute. */
  private todayIn(nowMs: number): [number, number, number] {
    const minute = Math.floor(nowMs / 60_000);
    if (minute !== this.todayAt) {
      this.today ??= new Intl.DateTimeFormat('en-CA', { timeZone: this.timezone, year: 'numeric', month: 'numeric', day: 'numeric' });
      const parts = this.today.formatToParts(nowMs);
      const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value ?? NaN);
      this.todayParts = [get('year'), get('month'), get('day')];
      this.todayAt = minute;
    }
    return this.todayParts;
  }
}
