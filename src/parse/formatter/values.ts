/**
 * What each LogRecord attribute looks like in a formatted line (the pattern of its text for a given conversion) and
 * where its value goes in the document. Used once, when a format is compiled; `readNumber` and `unrepr` run per
 * record, on captured text.
 */
import type { FieldSpec, FieldToken } from './tokens.js';

/** Where a field's value goes. */
export const enum Target {
  Ignore = 0,
  Asctime,
  Created,
  Msecs,
  ServerTime,
  Level,
  LevelNo,
  Logger,
  Module,
  Filename,
  Line,
  Function,
  Pid,
  ThreadId,
  ThreadName,
  Message,
  /** `django.<name>` as a number. */
  DjangoNumber,
  /** `django.<name>` as a string. */
  DjangoString,
}

/** How a value is written: its kind decides the pattern and how the text is read back. */
const enum Kind {
  Int,
  Float,
  Level,
  /** No space: names, files, functions, extras. */
  Word,
  /** May hold spaces ("Thread-1 (worker)"): bounded, lazy. */
  Text,
  Time,
}

interface Attribute {
  readonly target: Target;
  readonly kind: Kind;
}

/** The attributes Python documents for LogRecord (and Django's server_time), by name. */
const ATTRIBUTES: Record<string, Attribute> = {
  asctime: { target: Target.Asctime, kind: Kind.Time },
  created: { target: Target.Created, kind: Kind.Float },
  msecs: { target: Target.Msecs, kind: Kind.Float },
  relativeCreated: { target: Target.DjangoNumber, kind: Kind.Float },
  levelname: { target: Target.Level, kind: Kind.Level },
  levelno: { target: Target.LevelNo, kind: Kind.Int },
  name: { target: Target.Logger, kind: Kind.Word },
  module: { target: Target.Module, kind: Kind.Word },
  filename: { target: Target.Filename, kind: Kind.Word },
  pathname: { target: Target.DjangoString, kind: Kind.Word },
  funcName: { target: Target.Function, kind: Kind.Word },
  lineno: { target: Target.Line, kind: Kind.Int },
  process: { target: Target.Pid, kind: Kind.Int },
  processName: { target: Target.DjangoString, kind: Kind.Text },
  thread: { target: Target.ThreadId, kind: Kind.Int },
  threadName: { target: Target.ThreadName, kind: Kind.Text },
  taskName: { target: Target.DjangoString, kind: Kind.Text },
  message: { target: Target.Message, kind: Kind.Text },
  msg: { target: Target.DjangoString, kind: Kind.Text },
  args: { target: Target.DjangoString, kind: Kind.Text },
  exc_info: { target: Target.DjangoString, kind: Kind.Text },
  exc_text: { target: Target.DjangoString, kind: Kind.Text },
  stack_info: { target: Target.DjangoString, kind: Kind.Text },
  server_time: { target: Target.ServerTime, kind: Kind.Time },
};

/** Anything else is an `extra` the app passes (request_id, user): kept under `django`, as text. */
const EXTRA: Attribute = { target: Target.DjangoString, kind: Kind.Text };

/** Level names: Python's, plus WARN, FATAL and TRACE that apps add, and "Level N" for a level without a name. */
export const LEVEL_PATTERN = '(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL|NOTSET|TRACE|Level \\d+)';
const INT_PATTERN = '[-+ ]?\\d[\\d,_]*';
const STR_INT_PATTERN = '[-+ ]?\\d+';
const FLOAT_PATTERN = '[-+ ]?(?:\\d[\\d,_]*(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?%?|[-+ ]?(?:inf|nan|INF|NAN)';
const STR_FLOAT_PATTERN = '[-+ ]?\\d+(?:\\.\\d+)?(?:e[-+]\\d+)?|[-+ ]?inf|nan';
const HEX_PATTERN = '[-+ ]?(?:0[xX])?[0-9a-fA-F]+';
const OCT_PATTERN = '[-+ ]?(?:0o)?[0-7]+';
const BIN_PATTERN = '[-+ ]?(?:0b)?[01]+';
const WORD_PATTERN = '\\S+?';
const TEXT_PATTERN = '.{1,256}?';
/** Python's repr() of a str: quoted with ' (or " when the text has ' and no "), backslash escapes. */
const REPR_PATTERN = `'(?:[^'\\\\]|\\\\.)*'|"(?:[^"\\\\]|\\\\.)*"`;

/** One field, ready to be put in a line's pattern. */
export interface FieldPlan {
  readonly name: string;
  readonly target: Target;
  /** The value's own pattern (without padding), to be captured. */
  readonly value: string;
  /** One character the padded value may start with, as a pattern (null: any). */
  readonly first: string | null;
  /** How to read the captured text back: 'int', 'float', 'hex', 'oct', 'bin', 'repr', 'text'. */
  readonly read: 'int' | 'float' | 'hex' | 'oct' | 'bin' | 'repr' | 'text';
  readonly spec: FieldSpec;
  /** Right-aligned by default (numbers), else left. */
  readonly numeric: boolean;
}

export function escapeRe(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/** The plan for a field; `timePattern` is the pattern of the time text (from the datefmt) for asctime. */
export function planField(token: FieldToken, timePattern: string, timeFirst: string | null, serverTime: string): FieldPlan {
  const attr = ATTRIBUTES[token.name] ?? EXTRA;
  const { spec, conversion } = token;
  const type = spec.type;
  let kind = attr.kind;
  let read: FieldPlan['read'] = 'text';
  let value: string;
  let first: string | null = null;
  let numeric = false;
  if ('diu'.includes(type) && type !== '') {
    value = INT_PATTERN;
    read = 'int';
    numeric = true;
  } else if ('xX'.includes(type) && type !== '') {
    value = HEX_PATTERN;
    read = 'hex';
    numeric = true;
  } else if (type === 'o' || type === 'b') {
    value = type === 'o' ? OCT_PATTERN : BIN_PATTERN;
    read = type === 'o' ? 'oct' : 'bin';
    numeric = true;
  } else if ('eEfFgGn%'.includes(type) && type !== '') {
    value = FLOAT_PATTERN;
    read = 'float';
    numeric = true;
  } else if (type === 'c') {
    value = '.';
    kind = Kind.Text;
  } else {
    // str() (or repr()) of the value: its type decides.
    switch (kind) {
      case Kind.Int:
        // str(int) is digits; a spec may add a sign or grouping (`{thread:,}`).
        value = spec.grouping === '' && spec.align !== '=' ? STR_INT_PATTERN : INT_PATTERN;
        read = 'int';
        numeric = true;
        first = '[-+ 0-9]';
        break;
      case Kind.Float:
        value = spec.grouping === '' && spec.align !== '=' ? STR_FLOAT_PATTERN : FLOAT_PATTERN;
        read = 'float';
        numeric = true;
        first = '[-+ 0-9in]';
        break;
      case Kind.Level:
        value = LEVEL_PATTERN;
        first = '[A-Z]';
        break;
      case Kind.Time:
        value = token.name === 'server_time' ? serverTime : timePattern;
        first = token.name === 'server_time' ? '[0-9]' : timeFirst;
        break;
      case Kind.Word:
        value = WORD_PATTERN;
        first = '\\S';
        break;
      default:
        value = TEXT_PATTERN;
        break;
    }
    if (conversion !== 's' && !numeric) {
      value = REPR_PATTERN;
      read = 'repr';
      first = `['"]`;
    }
    if (spec.precision >= 0 && !numeric) {
      // A string cut to `precision` characters: any prefix of its text.
      // Lazy: the text after it decides where it ends (a cut name followed by ": " and a message starting ": ").
      const chars = kind === Kind.Level ? '[A-Za-z0-9 ]' : kind === Kind.Word ? '\\S' : '.';
      value = `${chars}{1,${spec.precision}}?`;
      read = 'text';
      first = null;
    }
  }
  if (numeric && first === null) first = '[-+ 0-9a-fA-F.inIN]';
  return { name: token.name, target: attr.target, value, first, read, spec, numeric };
}

/** The pattern of a padded field: the captured value with fill characters where its alignment puts them. */
export function paddedPattern(plan: FieldPlan): string {
  const { spec } = plan;
  const captured = `(${plan.value})`;
  if (spec.width <= 1) return captured;
  const fill = escapeRe(spec.fill === '' ? ' ' : spec.fill);
  const pad = `${fill}{0,${spec.width - 1}}`;
  const align = spec.align === '' ? (plan.numeric ? '>' : '<') : spec.align;
  if (align === '<') return captured + pad;
  if (align === '^') return pad + captured + pad;
  if (align === '=') return `[-+ ]?${pad}${captured}`;
  return pad + captured;
}

/** The characters a padded field may start with, as a pattern (null: any). */
export function firstOf(plan: FieldPlan): string | null {
  if (plan.first === null) return null;
  const { spec } = plan;
  const align = spec.align === '' ? (plan.numeric ? '>' : '<') : spec.align;
  if (spec.width > 1 && align !== '<') return `(?:${plan.first}|${escapeRe(spec.fill === '' ? ' ' : spec.fill)}|[-+ ])`;
  return plan.first;
}

/** A number as a conversion wrote it (grouping, sign, 0x prefix, percent), or NaN. */
export function readNumber(text: string, read: FieldPlan['read']): number {
  let t = text.trim();
  if (t.includes(',') || t.includes('_')) t = t.replace(/[,_]/g, '');
  switch (read) {
    case 'hex': return signed(t, /^0[xX]/, 16);
    case 'oct': return signed(t, /^0o/, 8);
    case 'bin': return signed(t, /^0b/, 2);
    case 'float': return t.endsWith('%') ? Number(t.slice(0, -1)) / 100 : Number(t);
    default: return Number(t);
  }
}

function signed(t: string, prefix: RegExp, radix: number): number {
  const negative = t.startsWith('-');
  const digits = t.replace(/^[-+ ]/, '').replace(prefix, '');
  const n = parseInt(digits, radix);
  return negative ? -n : n;
}

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0' };

/** The str whose Python repr() is `text` ('…' or "…" with backslash escapes). */
export function unrepr(text: string): string {
  const body = text.slice(1, -1);
  if (!body.includes('\\')) return body;
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g, (_, e: string) => {
    const c = e.charAt(0);
    if (c === 'x' || c === 'u' || c === 'U') return String.fromCodePoint(parseInt(e.slice(1), 16));
    return SIMPLE_ESCAPES[c] ?? '\\' + e;
  });
}
