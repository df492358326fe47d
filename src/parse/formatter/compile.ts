/**
 * A Formatter string compiled, once per file, into a matcher for a record's first line: one anchored regex, the
 * characters such a line can start with, and what each captured group is.
 *
 * The message is what follows the header. When `%(message)s` ends the format, the regex covers only the header and
 * the message is the rest of the line, never captured. When fields follow it (`%(message)s [%(name)s]`), they are
 * matched at the end of the line when there (a multi-line message has them on its last line: then they stay in the
 * message). Python appends a traceback (exc_info) and stack_info on the lines after the formatted text.
 *
 * Performance: the matcher runs on every line of a file. A table of possible first characters turns most
 * continuation lines away before the regex; the regex is anchored, its fields bounded or lazy; the fields go into a
 * reused Header, and the captured text is only read for the fields the format has.
 */
import { addMemberJson, quote } from '../document.js';
import type { Header } from '../header.js';
import { isoFromEpochSeconds } from '../time.js';
import { createDateReader, DatefmtError, type DateReader } from './datefmt.js';
import { FormatError, tokenize, type FieldToken, type FormatStyle, type FormatToken } from './tokens.js';
import { escapeRe, firstOf, paddedPattern, planField, readNumber, Target, unrepr, type FieldPlan } from './values.js';

/** A Formatter configuration as an input gives it. */
export interface FormatterSpec {
  /** The Formatter string, as in settings.py's LOGGING['formatters'][…]['format']. */
  readonly format: string;
  readonly style: FormatStyle;
  /** time.strftime format of asctime; null for Python's default ("%Y-%m-%d %H:%M:%S,mmm"). */
  readonly datefmt: string | null;
}

/** Which key of the input a compile problem is about. */
export class FormatterError extends Error {
  constructor(
    readonly key: 'format' | 'datefmt',
    message: string,
  ) {
    super(message);
  }
}

const LEVEL_NAMES: Record<number, string> = { 0: 'NOTSET', 10: 'DEBUG', 20: 'INFO', 30: 'WARNING', 40: 'ERROR', 50: 'CRITICAL' };

/** Django's runserver writes server_time as "27/Nov/2026 12:00:00"; ServerFormatter's own fallback is asctime's. */
const SERVER_TIME_DATEFMT = '%d/%b/%Y %H:%M:%S';

interface Capture {
  readonly group: number;
  readonly plan: FieldPlan;
  /** `"name"` as JSON text, for fields kept under `django`. */
  readonly keyJson: string;
}

export class CompiledFormat {
  /** Can every record's first line be told from other lines? False when the format starts with the message. */
  readonly anchored: boolean;
  private readonly re: RegExp;
  private readonly captures: readonly Capture[];
  /** ASCII first characters a header can have (1 = possible); `firstOther` for the rest. */
  private readonly firstAscii = new Uint8Array(128);
  private readonly firstOther: boolean;
  /** The message is the rest of the line after the match (and not a group): -1; else its group, 0 for none. */
  private readonly messageGroup: number;
  private readonly asctime: DateReader;
  private readonly serverTime: DateReader;
  private readonly serverTimeIso: DateReader;

  constructor(spec: FormatterSpec, timezone: string) {
    let tokens: FormatToken[];
    try {
      tokens = tokenize(spec.format, spec.style);
    } catch (err) {
      throw err instanceof FormatError ? new FormatterError('format', err.message) : err;
    }
    try {
      this.asctime = createDateReader(spec.datefmt, timezone);
    } catch (err) {
      throw err instanceof DatefmtError ? new FormatterError('datefmt', err.message) : err;
    }
    this.serverTime = createDateReader(SERVER_TIME_DATEFMT, timezone);
    this.serverTimeIso = createDateReader(null, timezone);
    const serverTimePattern = `(?:${this.serverTime.source}|${this.serverTimeIso.source})`;

    // The message: the first plain %(message)s; when nothing but literal text follows, the rest of the line.
    const m = tokens.findIndex((t) => t.kind === 'field' && t.name === 'message' && t.conversion === 's' && t.spec.precision < 0 && t.spec.width === 0);
    const restIsMessage = m >= 0 && m === tokens.length - 1;
    const timeFirst = firstOfTime(spec.datefmt);
    const captures: Capture[] = [];
    let group = 0;
    const part = (list: FormatToken[]): string => {
      let source = '';
      for (const t of list) {
        if (t.kind === 'literal') {
          source += escapeRe(t.text);
          continue;
        }
        const plan = planField(t, this.asctime.source, timeFirst, serverTimePattern);
        source += paddedPattern(plan);
        captures.push({ group: ++group, plan, keyJson: quote(t.name) });
      }
      return source;
    };
    let source: string;
    if (m < 0) {
      source = `^${part(tokens)}$`;
      this.messageGroup = 0;
    } else if (restIsMessage) {
      source = `^${part(tokens.slice(0, m))}`;
      this.messageGroup = -1;
    } else {
      const head = part(tokens.slice(0, m));
      this.messageGroup = ++group;
      source = `^${head}(.*?)(?:${part(tokens.slice(m + 1))})?$`;
    }
    this.captures = captures;
    try {
      this.re = new RegExp(source, 's');
    } catch (err) {
      throw new FormatterError('format', `cannot be matched: ${(err as Error).message}`);
    }

    // The first character: that of the first token, or any when the message comes first.
    const firstToken = tokens[0]!;
    let first: string | null;
    if (m === 0) first = null;
    else if (firstToken.kind === 'literal') first = escapeRe(firstToken.text.charAt(0));
    else first = firstOf(planField(firstToken as FieldToken, this.asctime.source, timeFirst, serverTimePattern));
    this.anchored = m !== 0;
    const one = first === null ? null : new RegExp(`^(?:${first})$`, 's');
    for (let c = 0; c < 128; c++) this.firstAscii[c] = one === null || one.test(String.fromCharCode(c)) ? 1 : 0;
    this.firstOther = one === null || one.test('é') || one.test('\u4e00');
  }

  /** Is `text` a record's first line in this format? Then its fields are in `h` (cleared first). */
  match(text: string, h: Header, nowMs: number): boolean {
    const c = text.charCodeAt(0);
    if (c < 128 ? this.firstAscii[c] === 0 : !this.firstOther) return false;
    const m = this.re.exec(text);
    if (m === null) return false;
    h.clear();
    let asctime: string | null = null;
    let serverTime: string | null = null;
    let created = NaN;
    let createdKey = '';
    let msecs = -1;
    let levelNo = NaN;
    const captures = this.captures;
    for (let i = 0; i < captures.length; i++) {
      const cap = captures[i]!;
      const raw = m[cap.group];
      if (raw === undefined) continue; // a field after the message, not on this line
      const plan = cap.plan;
      switch (plan.target) {
        case Target.Asctime: asctime = raw; break;
        case Target.ServerTime: serverTime = raw; break;
        case Target.Created: created = readNumber(raw, plan.read); createdKey = cap.keyJson; break;
        case Target.Msecs: msecs = Math.floor(readNumber(raw, plan.read)); break;
        case Target.Level: h.level = plan.spec.precision >= 0 ? levelOfPrefix(raw) : valueText(raw, plan); break;
        case Target.LevelNo:
          levelNo = readNumber(raw, plan.read);
          if (Number.isFinite(levelNo)) h.django = addMemberJson(h.django, cap.keyJson, String(levelNo));
          break;
        case Target.Logger: h.logger = valueText(raw, plan); break;
        case Target.Module: h.originName ??= valueText(raw, plan); break;
        case Target.Filename: h.originName = valueText(raw, plan); break; // preferred to module: ECS wants a file name
        case Target.Line: h.originLine = integer(raw, plan); break;
        case Target.Function: h.originFunction = valueText(raw, plan); break;
        case Target.Pid: h.pid = integer(raw, plan); break;
        case Target.ThreadId: h.threadId = integer(raw, plan); break;
        case Target.ThreadName: h.threadName = valueText(raw, plan); break;
        case Target.Message: h.message = valueText(raw, plan); break;
        case Target.DjangoNumber: {
          const n = readNumber(raw, plan.read);
          h.django = addMemberJson(h.django, cap.keyJson, Number.isFinite(n) ? String(n) : quote(raw));
          break;
        }
        case Target.DjangoString: {
          const v = valueText(raw, plan);
          if (v !== 'None') h.django = addMemberJson(h.django, cap.keyJson, quote(v)); // taskName outside a task
          break;
        }
        default: break;
      }
    }
    if (this.messageGroup === -1) h.message = text.slice(m[0].length);
    else if (this.messageGroup > 0) h.message = m[this.messageGroup]!;
    if (h.level === undefined && Number.isFinite(levelNo)) h.level = LEVEL_NAMES[levelNo] ?? `Level ${levelNo}`;

    // @timestamp: asctime (with msecs when its datefmt has no fractions) when it has a date, else created.
    const millis = msecs >= 0 && msecs < 1000 ? msecs : -1;
    const createdOk = Number.isFinite(created) && created >= 0;
    if (asctime !== null && (this.asctime.hasDate || !createdOk)) {
      h.timestamp = this.asctime.read(asctime, this.asctime.hasMillis ? -1 : millis, nowMs);
    } else if (createdOk) {
      h.timestamp = isoFromEpochSeconds(Number.isInteger(created) && millis >= 0 ? created + millis / 1000 : created);
    } else if (serverTime !== null) {
      h.timestamp = this.serverTime.read(serverTime, -1, nowMs) ?? this.serverTimeIso.read(serverTime, -1, nowMs);
    }
    if (createdKey !== '' && (asctime !== null && this.asctime.hasDate) && Number.isFinite(created)) {
      h.django = addMemberJson(h.django, createdKey, String(created)); // not the record's time: kept as it was
    }
    return true;
  }
}

const LEVELS_BY_RANK = ['ERROR', 'WARNING', 'INFO', 'DEBUG', 'CRITICAL', 'NOTSET'];

/** %(levelname).4s writes "ERRO", "WARN": the level they are the beginning of (as written when none is). */
function levelOfPrefix(prefix: string): string {
  for (const level of LEVELS_BY_RANK) if (level.startsWith(prefix)) return level;
  return prefix;
}

function valueText(raw: string, plan: FieldPlan): string {
  return plan.read === 'repr' ? unrepr(raw) : raw;
}

function integer(raw: string, plan: FieldPlan): number | undefined {
  const n = readNumber(raw, plan.read);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The first character of asctime's text, as a pattern (null: any). */
function firstOfTime(datefmt: string | null): string | null {
  if (datefmt === null) return '[0-9]';
  if (datefmt.charAt(0) !== '%') return escapeRe(datefmt.charAt(0));
  const d = datefmt.charAt(1);
  if ('YyGgCmdjHIMSsVUWuwDFTRrxX'.includes(d)) return '[0-9]';
  if ('ekl'.includes(d)) return '[ 0-9]';
  return null;
}

/** Compiles an input's Formatter; throws FormatterError naming the key at fault. */
export function compileFormat(spec: FormatterSpec, timezone: string): CompiledFormat {
  return new CompiledFormat(spec, timezone);
}

