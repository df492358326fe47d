/**
 * Zod building blocks for the config schema, each with its exact one-line problem text. Values that arrive as
 * strings (what `${VAR}` produces) are accepted for numbers and booleans when they read cleanly as such.
 */
import { z } from 'zod';
import { isValidTimezone } from '../parse/time.js';
import { show } from './errors.js';
import { DURATION_HINT, MAX_DURATION_MS, formatDuration, parseDuration } from './duration.js';

interface IssueInput {
  readonly input?: unknown;
}

/** A zod error function: `required` for a missing value, else `<expectation>, got <value>`. */
function expecting(expectation: string) {
  return (iss: IssueInput): string => (iss.input === undefined ? 'required' : `${expectation}, got ${show(iss.input)}`);
}

const CLEAN_NUMBER = /^-?(\d+(\.\d+)?|\.\d+)$/;

function numberFromString(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  return CLEAN_NUMBER.test(text) ? Number(text) : value;
}

function booleanFromString(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim().toLowerCase();
  return text === 'true' ? true : text === 'false' ? false : value;
}

export function nonEmptyString() {
  const error = expecting('expected a non-empty string');
  return z.string({ error }).min(1, { error });
}

/** A credential: never echoed in messages, and a YAML number is refused (quoting keeps e.g. leading zeros). */
export function secretString() {
  const error = (iss: IssueInput): string =>
    iss.input === undefined
      ? 'required'
      : typeof iss.input === 'number'
        ? 'expected a string, got a number (quote it in YAML so that it is kept exactly)'
        : 'expected a non-empty string';
  return z.string({ error }).min(1, { error });
}

/** An integer in [min, max]; `"9200"` reads as 9200. */
export function integer(min: number, max?: number) {
  const error = expecting(
    max === undefined ? `expected an integer >= ${min}` : `expected an integer between ${min} and ${max}`,
  );
  const base = z.number({ error }).int({ error }).min(min, { error });
  return z.preprocess(numberFromString, max === undefined ? base : base.max(max, { error }));
}

/** `true`/`false`, also as the strings "true"/"false" (any case). */
export function boolean() {
  return z.preprocess(booleanFromString, z.boolean({ error: expecting('expected true or false') }));
}

/** A duration (see duration.ts) → whole milliseconds, at least `minMs`. */
export function duration(minMs = 1) {
  const error = (iss: IssueInput): string => {
    const input = iss.input;
    if (input === undefined) return 'required';
    if (typeof input === 'string') return `${show(input)} is not a duration (${DURATION_HINT})`;
    if (typeof input !== 'number') return `expected a duration (${DURATION_HINT}), got ${show(input)}`;
    if (input > MAX_DURATION_MS) return `expected a duration of at most ${formatDuration(MAX_DURATION_MS)}, got ${formatDuration(input)}`;
    return `expected a duration of at least ${formatDuration(minMs)}, got ${input < 0 ? input : formatDuration(input)}`;
  };
  return z.preprocess(
    (value) => parseDuration(value) ?? value,
    z.number({ error }).min(minMs, { error }).max(MAX_DURATION_MS, { error }),
  );
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: expecting(`expected one of ${values.join(', ')}`) });
}

/** A list of non-empty strings, at least `min` long; with `acceptSingle`, a lone string counts as a list of one. */
export function stringList(what: string, opts: { min?: number; acceptSingle?: boolean } = {}) {
  const min = opts.min ?? 0;
  const error = expecting(min > 0 ? `expected a non-empty list of ${what}` : `expected a list of ${what}`);
  const list = z.array(nonEmptyString(), { error }).min(min, { error });
  return opts.acceptSingle ? z.preprocess((v) => (typeof v === 'string' ? [v] : v), list) : list;
}

export function httpUrl() {
  const error = expecting('expected an http(s) URL');
  return nonEmptyString().superRefine((s, ctx) => {
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      return void ctx.addIssue({ code: 'custom', message: error({ input: s }) });
    }
    if (!((url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '')) {
      return void ctx.addIssue({ code: 'custom', message: error({ input: s }) });
    }
    // The clients decode the user and password (decodeURIComponent): a "%" not followed by two hex digits would throw
    // at `run` ("URI malformed") after `check` said ok. Refused here, without showing either.
    for (const [part, text] of [['user name', url.username], ['password', url.password]] as const) {
      try {
        decodeURIComponent(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: `the ${part} in the URL is not valid percent-encoding (write a literal % as %25; not shown)` });
        return;
      }
    }
  });
}

/**
 * Unix permission bits for a file logship creates: a string of octal digits ("0640", "640", "0o640") or a number
 * (YAML's 0o640, i.e. 416). A number above 0o777 is refused: `mode: 0640` unquoted is the decimal 640 in YAML 1.2,
 * which load.ts reads back as the octal text it was written as; 640 written without its 0 cannot be told apart.
 */
export function fileMode() {
  const error = expecting('expected a file mode as octal digits in quotes, e.g. "0640" (permission bits only)');
  return z.preprocess(
    (value) => {
      if (typeof value !== 'string') return value;
      const m = /^(?:0o?)?([0-7]{1,4})$/i.exec(value.trim());
      const mode = m ? parseInt(m[1]!, 8) : NaN;
      return mode <= 0o777 ? mode : value; // setuid, setgid, sticky: refused below, with the text as written
    },
    z.number({ error }).int({ error }).min(0, { error }).max(0o777, { error }),
  );
}

/** An IANA time zone name that this Node's Intl knows, e.g. UTC, Europe/Paris. */
export function timeZone() {
  return nonEmptyString().refine(isValidTimezone, {
    error: (iss) => `${show(iss.input)} is not a known IANA time zone (e.g. UTC, Europe/Paris, America/New_York)`,
  });
}



/**
 * A mapping that refuses unknown keys; the problem for the first unknown key suggests the closest known one,
 * or lists the known keys (`what` names the mapping in that list, e.g. "sink type file").
 */
export function mapping<S extends z.ZodRawShape>(shape: S, what?: string) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code === 'unrecognized_keys') return unknownKeyProblem(String(iss.keys[0]), known, what);
      return expecting('expected a mapping')(iss);
    },
  });
}

export function unknownKeyProblem(key: string, known: readonly string[], what?: string): string {
  const guess = closest(key, known);
  if (guess !== undefined) return `unknown key (did you mean "${guess}"?)`;
  return `unknown key (${what ? `valid keys for ${what}` : 'valid keys'}: ${known.join(', ')})`;
}

/** The known key nearest to `key`: same letters ignoring case and `_`/`-`, or within a small edit distance. */
function closest(key: string, known: readonly string[]): string | undefined {
  const norm = (s: string): string => s.toLowerCase().replace(/[_-]/g, '');
  const exact = known.find((k) => norm(k) === norm(key));
  if (exact !== undefined) return exact;
  const limit = Math.max(1, Math.floor(key.length / 4));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const k of known) {
    const d = editDistance(norm(key), norm(k));
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = row;
  }
  return prev[b.length]!;
}
