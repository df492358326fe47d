/**
 * A Python logging Formatter string, read as Python reads it, into literal text and fields: the three styles of
 * `logging.Formatter(fmt, style=...)` — "%" (printf: `%(levelname)-8s`), "{" (str.format: `{process:d}`,
 * `{levelname!r:<8}`) and "$" (string.Template: `$name`, `${name}`).
 *
 * Runs once per input at configuration time, never per line: it may allocate freely. What Python itself would
 * refuse (a stray "%", a single "{", a bare "$", a format without any field) is refused here too, with the position,
 * and so is what Python accepts but no log line can be read back from (positional or nested fields, attribute
 * access, `*` widths).
 */

export const FORMAT_STYLES = ['%', '{', '$'] as const;
export type FormatStyle = (typeof FORMAT_STYLES)[number];

/** The format spec of a field, in the terms of Python's format mini-language (printf flags map onto it). */
export interface FieldSpec {
  /** Padding character ('' when the field has no width). */
  readonly fill: string;
  /** '<' left, '>' right, '^' centred, '=' after the sign; '' for the value type's default. */
  readonly align: '' | '<' | '>' | '^' | '=';
  /** Zero padding asked for ('0' flag). */
  readonly zero: boolean;
  /** Minimum width; 0 for none. */
  readonly width: number;
  /** Maximum characters of a string, digits after the point of a float; -1 for none. */
  readonly precision: number;
  /** Thousands separator of a number: ',' or '_', or ''. */
  readonly grouping: string;
  /** Alternate form ('#'): 0x before hex digits. */
  readonly alternate: boolean;
  /** The presentation type: d i u o x X e E f F g G n % c s b, or '' for none. */
  readonly type: string;
}

export interface LiteralToken {
  readonly kind: 'literal';
  readonly text: string;
}

export interface FieldToken {
  readonly kind: 'field';
  /** The LogRecord attribute (or an `extra` key). */
  readonly name: string;
  /** How the value was turned into text: str() ('s'), repr() ('r') or ascii() ('a'). */
  readonly conversion: 's' | 'r' | 'a';
  readonly spec: FieldSpec;
}

export type FormatToken = LiteralToken | FieldToken;

/** A format that cannot be read; the message says what and where, for `<key>: <message>`. */
export class FormatError extends Error {}

const NO_SPEC: FieldSpec = { fill: '', align: '', zero: false, width: 0, precision: -1, grouping: '', alternate: false, type: '' };

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Splits a format string of `style` into tokens (adjacent literals merged); throws FormatError. */
export function tokenize(format: string, style: FormatStyle): FormatToken[] {
  const tokens = style === '%' ? percentTokens(format) : style === '{' ? braceTokens(format) : dollarTokens(format);
  if (!tokens.some((t) => t.kind === 'field')) {
    const example = style === '%' ? '%(message)s' : style === '{' ? '{message}' : '$message';
    throw new FormatError(`has no field for style "${style}" (e.g. ${example}); is style right?`);
  }
  return tokens;
}

class TokenList {
  readonly tokens: FormatToken[] = [];
  private literal = '';

  text(s: string): void {
    this.literal += s;
  }

  field(name: string, conversion: FieldToken['conversion'], spec: FieldSpec): void {
    this.flush();
    this.tokens.push({ kind: 'field', name, conversion, spec });
  }

  done(): FormatToken[] {
    this.flush();
    return this.tokens;
  }

  private flush(): void {
    if (this.literal !== '') this.tokens.push({ kind: 'literal', text: this.literal });
    this.literal = '';
  }
}

/** printf style with a mapping: `%(name)[#0- +]*[width][.precision]type`, `%%`. */
const PERCENT_FIELD = /\(([^)]*)\)([#0\- +]*)(\*|\d*)(?:\.(\*|\d*))?([hlL]?)([diouxXeEfFgGcrsa%]?)/y;

function percentTokens(format: string): FormatToken[] {
  const out = new TokenList();
  let i = 0;
  while (i < format.length) {
    const p = format.indexOf('%', i);
    if (p < 0) {
      out.text(format.slice(i));
      break;
    }
    out.text(format.slice(i, p));
    if (format.charCodeAt(p + 1) === 37 /* % */) {
      out.text('%');
      i = p + 2;
      continue;
    }
    PERCENT_FIELD.lastIndex = p + 1;
    const m = format.charCodeAt(p + 1) === 40 /* ( */ ? PERCENT_FIELD.exec(format) : null;
    if (m === null) throw new FormatError(`"%" at position ${p} starts no field: write %(name)s, or %% for a percent sign`);
    const [, name, flags, width, precision, , type] = m as unknown as [string, string, string, string, string | undefined, string, string];
    if (!IDENTIFIER.test(name)) throw new FormatError(`%(${name}) at position ${p} is not an attribute name`);
    if (type === '') throw new FormatError(`%(${name}) at position ${p} has no conversion type (e.g. %(${name})s)`);
    if (type === '%') throw new FormatError(`%(${name})% at position ${p} is not a field Python can format`);
    if (width === '*' || precision === '*') throw new FormatError(`%(${name}) at position ${p}: a "*" width or precision needs positional arguments`);
    const left = flags.includes('-');
    const conversion = type === 'r' ? 'r' : type === 'a' ? 'a' : 's';
    out.field(name, conversion, {
      fill: width === '' ? '' : flags.includes('0') && !left && !'rsac'.includes(type) ? '0' : ' ',
      align: width === '' ? '' : left ? '<' : '>',
      zero: flags.includes('0') && !left,
      width: width === '' ? 0 : Number(width),
      precision: precision === undefined ? -1 : Number(precision || '0'),
      grouping: '',
      alternate: flags.includes('#'),
      type: type === 'r' || type === 'a' ? 's' : type,
    });
    i = PERCENT_FIELD.lastIndex;
  }
  return out.done();
}

/** str.format's spec: [[fill]align][sign][z][#][0][width][grouping][.precision][type] */
const BRACE_SPEC = /^(?:(.)?([<>=^]))?([-+ ])?(z)?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/s;

function braceTokens(format: string): FormatToken[] {
  const out = new TokenList();
  let i = 0;
  while (i < format.length) {
    const c = format.charCodeAt(i);
    if (c === 125 /* } */) {
      if (format.charCodeAt(i + 1) !== 125) throw new FormatError(`single "}" at position ${i}: write }} for a brace`);
      out.text('}');
      i += 2;
      continue;
    }
    if (c !== 123 /* { */) {
      let j = i;
      while (j < format.length && format.charCodeAt(j) !== 123 && format.charCodeAt(j) !== 125) j++;
      out.text(format.slice(i, j));
      i = j;
      continue;
    }
    if (format.charCodeAt(i + 1) === 123) {
      out.text('{');
      i += 2;
      continue;
    }
    const close = format.indexOf('}', i);
    if (close < 0) throw new FormatError(`single "{" at position ${i}: write {{ for a brace`);
    const inner = format.slice(i + 1, close);
    if (inner.includes('{')) throw new FormatError(`{${inner}} at position ${i}: nested fields in a format spec cannot be read back`);
    const colon = inner.indexOf(':');
    const head = colon < 0 ? inner : inner.slice(0, colon);
    const specText = colon < 0 ? '' : inner.slice(colon + 1);
    const bang = head.indexOf('!');
    const name = bang < 0 ? head : head.slice(0, bang);
    const conv = bang < 0 ? 's' : head.slice(bang + 1);
    if (name === '' || /^\d+$/.test(name)) throw new FormatError(`{${inner}} at position ${i}: positional fields are not LogRecord attributes`);
    if (!IDENTIFIER.test(name)) throw new FormatError(`{${inner}} at position ${i}: only plain attribute names can be read back (no . or [ ])`);
    if (conv !== 's' && conv !== 'r' && conv !== 'a') throw new FormatError(`{${inner}} at position ${i}: unknown conversion "!${conv}" (use !s, !r or !a)`);
    const m = BRACE_SPEC.exec(specText);
    if (m === null) throw new FormatError(`{${inner}} at position ${i}: invalid format spec "${specText}"`);
    const [, fill, align, , , alt, zero, width, grouping, precision, type] = m;
    out.field(name, conv, {
      fill: width === undefined ? '' : (fill ?? (zero !== undefined && align === undefined ? '0' : ' ')),
      align: width === undefined ? '' : ((align as FieldSpec['align'] | undefined) ?? (zero !== undefined ? '=' : '')),
      zero: zero !== undefined,
      width: width === undefined ? 0 : Number(width),
      precision: precision === undefined ? -1 : Number(precision),
      grouping: grouping ?? '',
      alternate: alt !== undefined,
      type: type ?? '',
    });
    i = close + 1;
  }
  return out.done();
}

/** string.Template: `$$`, `$identifier`, `${identifier}` (Python's idpattern, ASCII letters, digits and _). */
const DOLLAR_FIELD = /\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})/y;

function dollarTokens(format: string): FormatToken[] {
  const out = new TokenList();
  let i = 0;
  while (i < format.length) {
    const p = format.indexOf('$', i);
    if (p < 0) {
      out.text(format.slice(i));
      break;
    }
    out.text(format.slice(i, p));
    if (format.charCodeAt(p + 1) === 36 /* $ */) {
      out.text('$');
      i = p + 2;
      continue;
    }
    DOLLAR_FIELD.lastIndex = p;
    const m = DOLLAR_FIELD.exec(format);
    if (m === null) throw new FormatError(`bare "$" at position ${p}: write $name, \${name}, or $$ for a dollar sign`);
    out.field((m[1] ?? m[2])!, 's', NO_SPEC);
    i = DOLLAR_FIELD.lastIndex;
  }
  return out.done();
}
