/**
 * The members of a JSON object line, as the Django JSON parser reads them: key, kind, the value as JSON text, and
 * (on demand) the decoded string or number.
 *
 * Two implementations:
 * - ScannedObject reads the line where it lies: it validates the JSON and records where each value is, without
 *   building an object. A value is re-emitted as the exact JSON text it was written as, so most of a line is copied,
 *   not decoded and re-encoded. It declines what it does not handle (nested objects or arrays, escaped keys): this
 *   is the fast path for the flat lines python-json-logger writes, and a hot-path module (see the comments on why).
 * - ParsedObject wraps JSON.parse's result: every other object line, with the same answers.
 * The two must agree on every line ScannedObject accepts; the tests compare them on real and mutated lines.
 */

export const JSON_STRING = 1;
export const JSON_NUMBER = 2;
/** true, false, null, an object or an array. */
export const JSON_OTHER = 3;

export interface JsonMembers {
  readonly count: number;
  key(i: number): string;
  /** The key as JSON text (quoted). */
  keyJson(i: number): string;
  kind(i: number): number;
  /** The value as JSON text. */
  json(i: number): string;
  /** The decoded value of a JSON_STRING member. */
  string(i: number): string;
  /** The value of a JSON_NUMBER member. */
  number(i: number): number;
  /** Does the decoded value of a JSON_STRING member contain a line feed? */
  hasNewline(i: number): boolean;
}

/** JSON.parse's result as JsonMembers. */
export class ParsedObject implements JsonMembers {
  private readonly keys: string[];
  private readonly values: unknown[];

  constructor(obj: Record<string, unknown>) {
    this.keys = Object.keys(obj);
    this.values = this.keys.map((k) => obj[k]);
  }

  get count(): number {
    return this.keys.length;
  }
  key(i: number): string {
    return this.keys[i]!;
  }
  keyJson(i: number): string {
    return JSON.stringify(this.keys[i]);
  }
  kind(i: number): number {
    const v = this.values[i];
    return typeof v === 'string' ? JSON_STRING : typeof v === 'number' ? JSON_NUMBER : JSON_OTHER;
  }
  json(i: number): string {
    return JSON.stringify(this.values[i]);
  }
  string(i: number): string {
    return this.values[i] as string;
  }
  number(i: number): number {
    return this.values[i] as number;
  }
  hasNewline(i: number): boolean {
    return (this.values[i] as string).includes('\n');
  }
}

// Character codes.
const QUOTE = 34;
const BACKSLASH = 92;
const OPEN = 123;
const CLOSE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const COLON = 58;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/**
 * The deepest nesting of objects and arrays a JSON line may have (the line's own object is level 1), as serde_json's
 * recursion limit. JSON.parse reads any depth, but what is done with a parsed value after (JSON.stringify of a member,
 * a sink walking the document) recurses: a 40 KB line of 20,000 nested arrays overflowed the stack and ended the
 * agent, on every restart. A deeper line is shipped as its text, tagged (see the Django parser).
 */
export const MAX_JSON_DEPTH = 128;

/**
 * Does the JSON text nest objects and arrays deeper than `limit`? A scan of the text without parsing it, run only on
 * the lines ScannedObject declines (before they go to JSON.parse): brackets inside strings do not count. Text that
 * is not JSON gets an answer too; JSON.parse then refuses it (or it is too deep either way).
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  const n = text.length;
  let depth = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Skip the string: to the next quote preceded by an even number of backslashes.
      for (;;) {
        const close = text.indexOf('"', i + 1);
        if (close < 0) return false; // unterminated: not JSON
        i = close;
        let j = close - 1;
        while (text.charCodeAt(j) === BACKSLASH) j--;
        if (((close - 1 - j) & 1) === 0) break;
      }
    } else if (c === OPEN || c === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (c === CLOSE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** Most members a line may have on the fast path; more goes to JSON.parse (the duplicate check is quadratic). */
const MAX_MEMBERS = 64;

/**
 * A raw control character: not allowed inside JSON strings, rare anywhere in a log line. A line with one goes to
 * JSON.parse, so strings can be skipped with indexOf instead of being checked character by character.
 */
const CONTROL_RE = /[\u0000-\u001f]/;

/**
 * A flat JSON object line read in place. `scan` is called once per line and the instance reused: its arrays are
 * overwritten, not reallocated.
 */
export class ScannedObject implements JsonMembers {
  count = 0;
  private text = '';
  private readonly keyStart: number[] = [];
  private readonly keyEnd: number[] = [];
  private readonly start: number[] = [];
  private readonly end: number[] = [];
  private readonly kinds: number[] = [];
  /** Bit 1: the string has escapes; bit 2: one of them is a line feed. */
  private readonly escapes: number[] = [];
  private readonly keys: string[] = [];

  /**
   * True when `text` is exactly one JSON object (whitespace around it allowed) whose values are strings, numbers,
   * true, false or null, whose keys have no escapes and are distinct. False for anything else, valid JSON or not:
   * the caller then uses JSON.parse, which decides.
   */
  scan(text: string): boolean {
    this.text = text;
    this.count = 0;
    if (CONTROL_RE.test(text)) return false;
    const n = text.length;
    // The next backslash at or after the scan position (n when there is none): found once, not once per string.
    let backslash = text.indexOf('\\');
    if (backslash < 0) backslash = n;
    // Keys seen, by a 5-bit digest of length and end characters: only a digest seen before costs string compares.
    let digests = 0;
    let i = 0;
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== OPEN) return false;
    i++;
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) === CLOSE) return this.trailing(i + 1);
    for (;;) {
      // Key: a string without escapes.
      if (text.charCodeAt(i) !== QUOTE) return false;
      const ks = i + 1;
      const ke = text.indexOf('"', ks);
      if (ke < 0 || backslash < ke) return false;
      i = ke + 1;
      while (i < n && isSpace(text.charCodeAt(i))) i++;
      if (text.charCodeAt(i) !== COLON) return false;
      i++;
      while (i < n && isSpace(text.charCodeAt(i))) i++;
      // Value.
      const vs = i;
      const c = text.charCodeAt(i);
      let kind: number;
      let escapes = 0;
      if (c === QUOTE) {
        kind = JSON_STRING;
        i++;
        for (;;) {
          // Jump to the closing quote when no escape comes before it (the common case), else walk the escapes.
          const close = text.indexOf('"', i);
          if (close < 0) return false;
          if (close < backslash) {
            i = close;
            break;
          }
          i = backslash;
          const e = text.charCodeAt(i + 1);
          escapes |= 1;
          if (e === 117 /* u */) {
            if (!(isHex(text.charCodeAt(i + 2)) && isHex(text.charCodeAt(i + 3)) && isHex(text.charCodeAt(i + 4)) && isHex(text.charCodeAt(i + 5)))) {
              return false;
            }
            if (text.charCodeAt(i + 2) === ZERO && text.charCodeAt(i + 3) === ZERO && text.charCodeAt(i + 4) === ZERO && (text.charCodeAt(i + 5) | 32) === 97) {
              escapes |= 2; // \u000a or \u000A
            }
            i += 6;
          } else {
            if (e === 110 /* n */) escapes |= 2;
            else if (!(e === QUOTE || e === BACKSLASH || e === 47 || e === 98 || e === 102 || e === 114 || e === 116)) return false;
            i += 2;
          }
          backslash = text.indexOf('\\', i);
          if (backslash < 0) backslash = n;
        }
        i++;
      } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
        kind = JSON_NUMBER;
        i = this.numberEnd(i);
        if (i < 0) return false;
      } else if (c === 116 && text.startsWith('true', i)) {
        kind = JSON_OTHER;
        i += 4;
      } else if (c === 102 && text.startsWith('false', i)) {
        kind = JSON_OTHER;
        i += 5;
      } else if (c === 110 && text.startsWith('null', i)) {
        kind = JSON_OTHER;
        i += 4;
      } else {
        return false; // an object, an array, or not JSON
      }
      const k = this.count;
      if (k === MAX_MEMBERS) return false;
      const key = text.slice(ks, ke);
      // JSON.parse keeps the last of duplicate keys at the first one's place: leave that to it.
      const digest = 1 << ((ke - ks + text.charCodeAt(ks) * 7 + text.charCodeAt(ke - 1) * 13) & 31);
      if (digests & digest) {
        for (let j = 0; j < k; j++) if (this.keys[j] === key) return false;
      }
      digests |= digest;
      this.keys[k] = key;
      this.keyStart[k] = ks - 1;
      this.keyEnd[k] = ke + 1;
      this.start[k] = vs;
      this.end[k] = i;
      this.kinds[k] = kind;
      this.escapes[k] = escapes;
      this.count = k + 1;
      while (i < n && isSpace(text.charCodeAt(i))) i++;
      const sep = text.charCodeAt(i);
      if (sep === CLOSE) return this.trailing(i + 1);
      if (sep !== COMMA) return false;
      i++;
      while (i < n && isSpace(text.charCodeAt(i))) i++;
    }
  }

  key(i: number): string {
    return this.keys[i]!;
  }
  keyJson(i: number): string {
    return this.text.slice(this.keyStart[i]!, this.keyEnd[i]!);
  }
  kind(i: number): number {
    return this.kinds[i]!;
  }
  json(i: number): string {
    return this.text.slice(this.start[i]!, this.end[i]!);
  }
  string(i: number): string {
    return this.escapes[i] === 0 ? this.text.slice(this.start[i]! + 1, this.end[i]! - 1) : (JSON.parse(this.json(i)) as string);
  }
  number(i: number): number {
    // Small non-negative integers (pids, line numbers, thread ids) without making a string of them.
    const text = this.text;
    const end = this.end[i]!;
    let v = 0;
    for (let j = this.start[i]!; j < end; j++) {
      const c = text.charCodeAt(j) - ZERO;
      if (c < 0 || c > 9 || v > 1e14) return Number(this.json(i));
      v = v * 10 + c;
    }
    return v;
  }
  hasNewline(i: number): boolean {
    return (this.escapes[i]! & 2) !== 0;
  }

  /** Only whitespace may follow the object. */
  private trailing(i: number): boolean {
    const text = this.text;
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    return i === text.length;
  }

  /** A JSON number starting at i: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? — its end, or -1. */
  private numberEnd(i: number): number {
    const text = this.text;
    if (text.charCodeAt(i) === MINUS) i++;
    let c = text.charCodeAt(i);
    if (c === ZERO) {
      i++;
    } else if (c >= 49 && c <= NINE) {
      do i++;
      while ((c = text.charCodeAt(i)) >= ZERO && c <= NINE);
    } else {
      return -1;
    }
    if (text.charCodeAt(i) === DOT) {
      i++;
      c = text.charCodeAt(i);
      if (!(c >= ZERO && c <= NINE)) return -1;
      do i++;
      while ((c = text.charCodeAt(i)) >= ZERO && c <= NINE);
    }
    c = text.charCodeAt(i);
    if (c === 101 || c === 69 /* e E */) {
      i++;
      c = text.charCodeAt(i);
      if (c === 43 || c === MINUS) i++;
      c = text.charCodeAt(i);
      if (!(c >= ZERO && c <= NINE)) return -1;
      do i++;
      while ((c = text.charCodeAt(i)) >= ZERO && c <= NINE);
    }
    return i;
  }
}
