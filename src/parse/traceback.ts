/**
 * Python tracebacks, line by line.
 *
 * A traceback arrives as many lines (each its own Docker entry, too), and the parser must decide for every next line
 * whether it still belongs to the traceback, without looking ahead. Python's layout makes that decidable:
 *
 *   Traceback (most recent call last):            start
 *     File "x.py", line 3, in f                   body: every body line is indented
 *       return {}["k"]
 *              ~~^^^^^                            (3.11+ markers, also indented)
 *   KeyError: 'k'                                 the first unindented line is the exception line
 *                                                 blank line ...
 *   The above exception was the direct cause of the following exception:     ... chain marker
 *                                                 blank line
 *   Traceback (most recent call last):            and the next section starts
 *
 * Exception groups (3.11+) are drawn entirely indented ("  + Exception Group Traceback ...", "  | ...", "  +-+---"),
 * so their end is the first unindented line. `logging` may append "Stack (most recent call last):" (stack_info),
 * whose body is indented frames and which has no exception line.
 *
 * Multi-line exception messages: lines after the exception line continue it when indented (psycopg2's "\tIs the
 * server running...") or when they are PostgreSQL error fields ("LINE 1: ...", "DETAIL:  ...", "HINT:  ..."), which
 * Django apps print all the time. An unindented free-text continuation cannot be told apart from the next unrelated
 * output line, so it ends the traceback; callers that read whole files (where every line continues the record anyway)
 * are not affected.
 */

export const TRACEBACK_START = 'Traceback (most recent call last):';
const GROUP_START = '  + Exception Group Traceback (most recent call last):';
const STACK_START = 'Stack (most recent call last):';
const CHAIN_CAUSE = 'The above exception was the direct cause of the following exception:';
const CHAIN_CONTEXT = 'During handling of the above exception, another exception occurred:';

/** PostgreSQL error-report field lines that continue a psycopg message: "LINE 1: ...", "DETAIL:  ...". */
const PG_FIELD_RE = /^(?:LINE \d+|DETAIL|HINT|CONTEXT|QUERY|WHERE|STATEMENT|SCHEMA NAME|TABLE NAME|COLUMN NAME|CONSTRAINT NAME|DATATYPE NAME|INTERNAL QUERY|LOCATION):/;
/** An exception type: a dotted Python identifier ("ValueError", "django.db.utils.OperationalError"). */
const EXC_TYPE_RE = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;

// Tracker states.
const NONE = 0;
/** Inside "Traceback (most recent call last):": frames until the exception line. */
const BODY = 1;
/** Just after an exception line (or its continuation lines). */
const EXC = 2;
/** Inside an exception group drawing (all indented). */
const GROUP = 3;
/** Inside a logging "Stack (most recent call last):" section. */
const STACK = 4;
/** After the blank line that may precede a chain marker. */
const BLANK = 5;
/** After a chain marker: blank lines, then the next section's start. */
const CHAIN = 6;

/** What the last line accepted by a tracker was; lets errorFromTraceback find the exception without re-parsing. */
export const KIND_OTHER = 0;
/** The exception line of a section (for a group: its top-level "ExceptionGroup: ..." line, without the "  | "). */
export const KIND_EXCEPTION = 1;
/** A continuation line of the exception message. */
export const KIND_EXCEPTION_MORE = 2;

function isIndented(c: number): boolean {
  return c === 32 /* space */ || c === 9 /* tab */;
}

/** Empty or only whitespace; the first character settles it for nearly every line, without trim()'s copy. */
function isBlank(line: string): boolean {
  if (line.length === 0) return true;
  return isIndented(line.charCodeAt(0)) && line.trim().length === 0;
}

/** True for a line that starts a traceback: plain, exception group, or logging's stack_info section. */
export function isTracebackStart(line: string): boolean {
  const c = line.charCodeAt(0);
  if (c === 84 /* T */) return line.startsWith(TRACEBACK_START);
  if (c === 32) return line.startsWith(GROUP_START);
  if (c === 83 /* S */) return line.startsWith(STACK_START);
  return false;
}

/**
 * Follows one traceback through its lines. One instance per parser, reused: begin() on a candidate first line,
 * then next() for each following line until it returns false.
 */
export class TracebackTracker {
  private state = NONE;
  /** In GROUP: whether the group's own exception line was seen (sub-exceptions are nested deeper). */
  private groupExcSeen = false;
  /** Kind of the last accepted line (KIND_*). */
  kind = KIND_OTHER;

  /** Whether a traceback is being followed. */
  get active(): boolean {
    return this.state !== NONE;
  }

  /** Between a "Traceback (most recent call last):" and its exception line: the next line belongs to it. */
  get inFrames(): boolean {
    return this.state === BODY;
  }

  reset(): void {
    this.state = NONE;
    this.kind = KIND_OTHER;
  }

  /** Starts following when `line` is a traceback start; returns whether it is. */
  begin(line: string): boolean {
    this.kind = KIND_OTHER;
    const c = line.charCodeAt(0);
    if (c === 84 && line.startsWith(TRACEBACK_START)) {
      this.state = BODY;
    } else if (c === 32 && line.startsWith(GROUP_START)) {
      this.state = GROUP;
      this.groupExcSeen = false;
    } else if (c === 83 && line.startsWith(STACK_START)) {
      this.state = STACK;
    } else {
      this.state = NONE;
      return false;
    }
    return true;
  }

  /**
   * Whether `line` continues the traceback being followed. When it does not, the tracker stops (active = false)
   * and the line is left to the caller, which may begin() with it.
   */
  next(line: string): boolean {
    this.kind = KIND_OTHER;
    const c = line.charCodeAt(0);
    switch (this.state) {
      case BODY:
        if (isIndented(c) || line.length === 0) return true;
        if (this.begin(line)) return true;
        // The first unindented line ends the frames: it is the exception ("ValueError: boom", "KeyboardInterrupt").
        this.state = EXC;
        this.kind = KIND_EXCEPTION;
        return true;
      case EXC:
        if (isBlank(line)) {
          this.state = BLANK;
          return true;
        }
        if (isIndented(c) || (c >= 65 && c <= 90 && PG_FIELD_RE.test(line))) {
          this.kind = KIND_EXCEPTION_MORE;
          return true;
        }
        // logging's exc_info followed directly by stack_info, or a chain marker. A new "Traceback (most recent call
        // last):" after a completed exception line is another exception (consecutive crashes on a container's
        // stderr): it ends this traceback, and the caller starts a new record with it.
        return this.beginStack(line) || this.chainMarker(line) || this.end();
      case GROUP:
        if (isIndented(c)) {
          // "  | ExceptionGroup: eg (2 sub-exceptions)": the top level's exception line, after its frames.
          if (!this.groupExcSeen && line.startsWith('  | ') && !isIndented(line.charCodeAt(4)) && line.length > 4) {
            this.groupExcSeen = true;
            this.kind = KIND_EXCEPTION;
          }
          return true;
        }
        if (isBlank(line)) {
          this.state = BLANK;
          return true;
        }
        return this.begin(line) || this.end();
      case STACK:
        if (isIndented(c)) return true;
        if (isBlank(line)) {
          this.state = BLANK;
          return true;
        }
        return this.begin(line) || this.end();
      case BLANK:
        // After an exception and a blank line only a chain marker continues it (or logging's stack_info): a new
        // traceback without one is another exception.
        if (isBlank(line)) return true;
        return this.chainMarker(line) || this.beginStack(line) || this.end();
      case CHAIN:
        if (isBlank(line)) return true;
        return this.begin(line) || this.end();
      default:
        return false;
    }
  }

  /** begin() for logging's "Stack (most recent call last):" only. */
  private beginStack(line: string): boolean {
    return line.charCodeAt(0) === 83 /* S */ && this.begin(line);
  }

  private chainMarker(line: string): boolean {
    if (line.startsWith(CHAIN_CAUSE) || line.startsWith(CHAIN_CONTEXT)) {
      this.state = CHAIN;
      return true;
    }
    return false;
  }

  private end(): false {
    this.state = NONE;
    return false;
  }
}

/** error.type / error.message of an exception line; message absent for a bare "KeyboardInterrupt". */
export interface ExceptionInfo {
  type: string;
  message?: string;
}

/**
 * Splits an exception line: the type is the text before the first ": " when that is a dotted identifier, or the
 * whole line when it is one. Returns null for anything else (then it is not an exception line we can name).
 */
export function parseExceptionLine(line: string): ExceptionInfo | null {
  const colon = line.indexOf(': ');
  if (colon > 0) {
    const type = line.slice(0, colon);
    if (EXC_TYPE_RE.test(type)) return { type, message: line.slice(colon + 2) };
    return null;
  }
  // "ValueError:" (message of only whitespace) or a bare "KeyboardInterrupt".
  const bare = line.endsWith(':') ? line.slice(0, -1) : line.trimEnd();
  return EXC_TYPE_RE.test(bare) ? { type: bare } : null;
}

/** The final exception of a traceback text: its type, message, and full text (lines as written). */
export interface TracebackError extends ExceptionInfo {
  /** The exception line with its continuation lines, joined with "\n". */
  line: string;
}

/**
 * Pulls error.type and error.message out of a finished traceback (possibly chained, possibly followed by a stack_info
 * section): the last exception line, with its continuation lines as part of the message. Null when there is none.
 * Runs once per record that has a traceback, not per line, so it may allocate.
 */
export function errorFromTraceback(text: string): TracebackError | null {
  const tracker = new TracebackTracker();
  const lines = text.split('\n');
  let last: string | null = null;
  for (const raw of lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const accepted = tracker.active ? tracker.next(line) || tracker.begin(line) : tracker.begin(line);
    if (!accepted) continue;
    if (tracker.kind === KIND_EXCEPTION) {
      last = line.startsWith('  | ') ? line.slice(4) : line;
    } else if (tracker.kind === KIND_EXCEPTION_MORE && last !== null) {
      last += '\n' + line;
    }
  }
  if (last === null) return null;
  const nl = last.indexOf('\n');
  const info = parseExceptionLine(nl < 0 ? last : last.slice(0, nl));
  if (info === null) return null;
  if (nl >= 0) info.message = (info.message ?? '') + last.slice(nl);
  return { ...info, line: last };
}
