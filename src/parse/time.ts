/**
 * Timestamps as the logs write them, turned into ISO 8601 with milliseconds and an explicit offset.
 *
 * Python's `asctime` ("2026-11-27 12:00:00,123") carries no zone: it is wall-clock time in the zone the app ran in,
 * which the configuration names. Converting it must be cheap (it runs once per record, at up to 200k lines/s) and
 * right on DST edges. The trick: the output is the same wall-clock digits plus an offset suffix, so no Date arithmetic
 * is needed per line, only the zone's offset for that local hour, which is computed once with Intl and cached.
 *
 * Every reader returns null for input it cannot read; none of them throws.
 */

const MS_PER_MIN = 60_000;
const MS_PER_DAY = 86_400_000;
/** Bound on the per-zone offset cache: one entry per local hour seen, so ~8760 per year of logs; clear past that. */
const MAX_CACHED_HOURS = 4096;
/** Cached marker for an hour whose offset changes inside it (a transition not on the hour): computed per line. */
const VARIES_IN_HOUR = 'varies';

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

// Scratch results of scanLocal(). Module-level so scanning allocates nothing; JS runs one scan at a time.
let sYear = 0;
let sMonth = 0;
let sDay = 0;
let sHour = 0;
let sMinute = 0;
/** The three millisecond digits ("123", "100", "000"). */
let sMillis = '000';
/** Index just past the seconds and fraction: where a zone designator would start. */
let sZoneAt = 0;

/** Value of the two ASCII digits at i, or -1. */
function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  // NaN (past the end) fails these comparisons too.
  if (!(a >= 0 && a <= 9 && b >= 0 && b <= 9)) return -1;
  return a * 10 + b;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Reads "YYYY-MM-DD[ T]HH:MM:SS[.,fraction]" at the start of s into the scratch fields. Checks ranges (a month 13
 * or a 31st of April is not a timestamp), not just shapes, so garbage never reaches the output.
 */
function scanLocal(s: string): boolean {
  if (s.length < 19) return false;
  const y1 = two(s, 0);
  const y2 = two(s, 2);
  if (y1 < 0 || y2 < 0 || s.charCodeAt(4) !== 45 /* - */ || s.charCodeAt(7) !== 45) return false;
  const sep = s.charCodeAt(10);
  if (sep !== 32 /* space */ && sep !== 84 /* T */) return false;
  if (s.charCodeAt(13) !== 58 /* : */ || s.charCodeAt(16) !== 58) return false;
  const month = two(s, 5);
  const day = two(s, 8);
  const hour = two(s, 11);
  const minute = two(s, 14);
  const second = two(s, 17);
  if (month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59) return false;
  if (second < 0 || second > 59) return false;
  const year = y1 * 100 + y2;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const maxDay = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day > maxDay) return false;

  let i = 19;
  let millis = '000';
  const f = s.charCodeAt(19);
  if (f === 44 /* , */ || f === 46 /* . */) {
    i = 20;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    const digits = i - 20;
    if (digits === 0) return false;
    // Truncate (not round) like Python's msecs does; pad "1" to "100".
    millis = digits >= 3 ? s.slice(20, 23) : digits === 2 ? s.slice(20, 22) + '0' : s.slice(20, 21) + '00';
  }
  sYear = year;
  sMonth = month;
  sDay = day;
  sHour = hour;
  sMinute = minute;
  sMillis = millis;
  sZoneAt = i;
  return true;
}

/**
 * Reads the zone designator at s[at..]: "Z", "±hh:mm", "±hhmm" or "±hh", normalised to "Z" or "±hh:mm".
 * Returns '' when there is none (end of string) and null when what follows is not a zone.
 */
function readZone(s: string, at: number): string | null {
  const rest = s.length - at;
  if (rest === 0) return '';
  const c = s.charCodeAt(at);
  if (c === 90 /* Z */ || c === 122 /* z */) return rest === 1 ? 'Z' : null;
  if (c !== 43 /* + */ && c !== 45 /* - */) return null;
  const hh = two(s, at + 1);
  let mm = 0;
  if (rest === 3) {
    // ±hh
  } else if (rest === 5) {
    mm = two(s, at + 3);
  } else if (rest === 6 && s.charCodeAt(at + 3) === 58) {
    mm = two(s, at + 4);
  } else {
    return null;
  }
  if (hh < 0 || hh > 23 || mm < 0 || mm > 59) return null;
  if (hh === 0 && mm === 0) return 'Z';
  return (c === 43 ? '+' : '-') + pad2(hh) + ':' + pad2(mm);
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** "2026-11-27T12:00:00.123" from the scanned input: the digits as written, only the separator normalised. */
function localPart(s: string): string {
  return s.slice(0, 10) + 'T' + s.slice(11, 19) + '.' + sMillis;
}

/** Offset in minutes → "Z" or "±hh:mm". Offsets with seconds (pre-1900 local mean time) are rounded to minutes. */
function offsetSuffix(minutes: number): string {
  const m = Math.round(minutes);
  if (m === 0) return 'Z';
  const abs = Math.abs(m);
  return (m > 0 ? '+' : '-') + pad2(Math.floor(abs / 60)) + ':' + pad2(abs % 60);
}

/** Epoch ms of a wall-clock time read as if it were UTC. Date.UTC maps years 0..99 to 19xx; undo that. */
function wallAsUtc(year: number, month: number, day: number, hour: number, minute: number): number {
  const ms = Date.UTC(year, month - 1, day, hour, minute);
  if (year >= 100) return ms;
  const d = new Date(ms);
  d.setUTCFullYear(year);
  return d.getTime();
}

/**
 * Zone data is read from ICU only when a zone other than UTC is used: the first Intl.DateTimeFormat maps ~9 MiB of
 * it into memory (measured), for nothing when timestamps are UTC, as in containers.
 */
const UTC = 'UTC';

/** True when `tz` is an IANA zone name (or "UTC") that this runtime knows. */
export function isValidTimezone(tz: string): boolean {
  if (typeof tz !== 'string' || tz.length === 0) return false;
  if (tz === UTC) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Reads a local timestamp string into ISO 8601 with offset, or null. */
export type TimestampReader = (text: string) => string | null;

/**
 * A reader for timestamps written in `timezone` (IANA name). Zone-less input is read as wall-clock time there;
 * input that names its own zone ("...Z", "...+02:00") is honoured as-is. Throws RangeError at creation for an
 * unknown zone (configuration should have checked with isValidTimezone); the returned reader never throws.
 *
 * Ambiguous and missing local times (DST fall-back and spring-forward hours) get the offset in force before the
 * transition, which is what Python's zoneinfo does for `fold=0`, i.e. what the app meant when it formatted them.
 */
export function createTimestampReader(timezone: string): TimestampReader {
  if (!isValidTimezone(timezone)) throw new RangeError(`unknown time zone: ${timezone}`);
  // One formatter per reader, built once: constructing Intl objects is far too slow for the per-line path. UTC needs
  // none (its offset is always 0).
  const fmt = timezone === UTC ? null : new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
    era: 'short',
  });
  /** Local (date, hour) as a number yyyymmddhh → offset suffix, or VARIES_IN_HOUR. */
  const cache = new Map<number, string>();
  // The previous line's hour: consecutive lines nearly always share it, so skip even the map lookup.
  let lastKey = -1;
  let lastSuffix = '';

  /** The zone's UTC offset in minutes at an instant. */
  function offsetAt(ms: number): number {
    if (fmt === null) return 0;
    const whole = Math.floor(ms / 1000) * 1000;
    let year = 0;
    let month = 1;
    let day = 1;
    let hour = 0;
    let minute = 0;
    let second = 0;
    let bc = false;
    for (const p of fmt.formatToParts(whole)) {
      switch (p.type) {
        case 'year': year = Number(p.value); break;
        case 'month': month = Number(p.value); break;
        case 'day': day = Number(p.value); break;
        case 'hour': hour = Number(p.value); break;
        case 'minute': minute = Number(p.value); break;
        case 'second': second = Number(p.value); break;
        case 'era': bc = p.value.startsWith('B'); break;
        default: break;
      }
    }
    const wall = wallAsUtc(bc ? 1 - year : year, month, day, hour, minute) + second * 1000;
    return (wall - whole) / MS_PER_MIN;
  }

  /** Offset (minutes) for a local wall-clock time; see the fold=0 rule above. */
  function offsetForWall(wall: number): number {
    // A day either side brackets any single transition: before = offset before it, after = offset after it.
    const before = offsetAt(wall - MS_PER_DAY);
    if (offsetAt(wall - before * MS_PER_MIN) === before) return before; // normal time, or ambiguous: first occurrence
    const after = offsetAt(wall + MS_PER_DAY);
    if (offsetAt(wall - after * MS_PER_MIN) === after) return after;
    return before; // in the gap of a spring-forward: the clock had not been moved yet
  }

  /** Offset suffix for the scanned local time, through the per-hour cache. */
  function suffixForScanned(): string {
    const key = ((sYear * 100 + sMonth) * 100 + sDay) * 100 + sHour;
    let suffix: string | undefined;
    if (key === lastKey) {
      suffix = lastSuffix;
    } else {
      suffix = cache.get(key);
      if (suffix === undefined) {
        // Transitions happen on the hour almost everywhere; when the offset at :00 and :59 agree, it holds for the
        // whole hour. Otherwise (e.g. Lord Howe's half-hour shifts) mark the hour to be computed per line.
        const top = wallAsUtc(sYear, sMonth, sDay, sHour, 0);
        const o1 = offsetForWall(top);
        const o2 = offsetForWall(top + 59 * MS_PER_MIN);
        suffix = o1 === o2 ? offsetSuffix(o1) : VARIES_IN_HOUR;
        if (cache.size >= MAX_CACHED_HOURS) cache.clear();
        cache.set(key, suffix);
      }
      lastKey = key;
      lastSuffix = suffix;
    }
    if (suffix === VARIES_IN_HOUR) {
      return offsetSuffix(offsetForWall(wallAsUtc(sYear, sMonth, sDay, sHour, sMinute)));
    }
    return suffix;
  }

  return function readTimestamp(text: string): string | null {
    if (typeof text !== 'string' || !scanLocal(text)) return null;
    const zone = readZone(text, sZoneAt);
    if (zone === null) return null;
    if (zone !== '') return localPart(text) + zone;
    return localPart(text) + suffixForScanned();
  };
}

/**
 * Docker's RFC3339Nano UTC time ("2026-11-27T12:00:00.123456789Z"; Go trims trailing zeros of the fraction, and
 * drops it when zero) → "2026-11-27T12:00:00.123Z". Pure string work; any other zone is honoured like above.
 */
export function isoFromDocker(time: string): string | null {
  if (typeof time !== 'string') return null;
  const fast = sameSecondAsLast(time);
  if (fast !== null) return fast;
  if (!scanLocal(time) || time.charCodeAt(10) !== 84 /* T */) return null;
  const zone = readZone(time, sZoneAt);
  if (zone === null || zone === '') return null;
  if (zone === 'Z') {
    lastDockerSecond = time.slice(0, 19);
    lastDockerIsoPrefix = lastDockerSecond + '.';
  }
  return localPart(time) + zone;
}

/**
 * The last UTC Docker time read in full, up to its seconds ("2026-11-27T12:00:00"), and the output up to its
 * milliseconds. A container writes thousands of lines a second: those of the same second need only their fraction
 * read (the date and time were checked already). Anything but `.digits` + `Z` after the second takes the full path.
 */
let lastDockerSecond = '';
let lastDockerIsoPrefix = '';

function sameSecondAsLast(time: string): string | null {
  const n = time.length;
  if (lastDockerSecond === '' || n < 20 || time.charCodeAt(n - 1) !== 90 /* Z */ || !time.startsWith(lastDockerSecond)) return null;
  if (n === 20) return lastDockerIsoPrefix + '000Z';
  if (time.charCodeAt(19) !== 46 /* . */) return null;
  for (let i = 20; i < n - 1; i++) if (!isDigit(time.charCodeAt(i))) return null;
  const digits = n - 21;
  if (digits === 0) return null;
  const millis = digits >= 3 ? time.slice(20, 23) : digits === 2 ? time.slice(20, 22) + '0' : time.slice(20, 21) + '00';
  return lastDockerIsoPrefix + millis + 'Z';
}

/** Epoch seconds (Python's `record.created`) → ISO 8601 UTC with milliseconds, or null. */
export function isoFromEpochSeconds(seconds: number): string | null {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return null;
  // Truncate to the millisecond like Python's msecs, with a hair of slack so 1700000000.123 (stored as
  // ...122.99999) does not turn into .122.
  const ms = Math.floor(seconds * 1000 + 1e-3);
  const d = new Date(ms);
  const t = d.getTime();
  if (Number.isNaN(t)) return null;
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) return null;
  return d.toISOString();
}
