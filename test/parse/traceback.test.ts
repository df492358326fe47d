import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  errorFromTraceback,
  isTracebackStart,
  KIND_EXCEPTION,
  KIND_EXCEPTION_MORE,
  parseExceptionLine,
  TracebackTracker,
} from '../../src/parse/traceback.js';

/**
 * Genuine tracebacks from the real interpreter (Python 3.11+ draws ^^^^ markers and exception groups). Each entry is
 * printed by traceback / logging exactly as an app would print it.
 */
const PY_TRACEBACKS = String.raw`
import json, logging, sys, traceback

out = {}
def fmt():
    return "".join(traceback.format_exception(*sys.exc_info())).rstrip("\n")

def inner():
    return {}["missing"]
def view():
    try:
        inner()
    except KeyError as e:
        raise ValueError("bad value") from e
try:
    try:
        view()
    except ValueError:
        1/0
except Exception:
    out["chained"] = fmt()

def grouped():
    try:
        raise ExceptionGroup("eg", [ValueError("a"), ExceptionGroup("inner", [KeyError("k")])])
    except ExceptionGroup as e:
        raise RuntimeError("wrapped") from e
try:
    grouped()
except Exception:
    out["group_chained"] = fmt()
try:
    raise ExceptionGroup("eg", [ValueError("a"), TypeError("b")])
except Exception:
    out["group"] = fmt()

class UndefinedTable(Exception):
    pass
UndefinedTable.__module__ = "psycopg2.errors"
class ProgrammingError(Exception):
    pass
ProgrammingError.__module__ = "django.db.utils"
PG = 'relation "foo" does not exist\nLINE 1: SELECT "foo"."id" FROM "foo"\n                               ^'
def query():
    try:
        raise UndefinedTable(PG)
    except UndefinedTable as e:
        raise ProgrammingError(PG) from e
try:
    query()
except Exception:
    out["psycopg"] = fmt()

f = logging.Formatter("%(message)s")
try:
    raise KeyboardInterrupt
except BaseException:
    r = logging.LogRecord("x", logging.ERROR, __file__, 1, "msg", None, sys.exc_info(), sinfo="Stack (most recent call last):\n  File \"manage.py\", line 22, in <module>\n    main()")
    out["with_stack"] = f.format(r).split("\n", 1)[1]

print(json.dumps(out))
`;
import { runPython } from '../support/parsing.js';

const python = runPython;

const pyOut = python(PY_TRACEBACKS);
const TB: Record<string, string> = pyOut === null ? {} : (JSON.parse(pyOut) as Record<string, string>);
const noPython = pyOut === null ? 'python3 >= 3.11 not available' : false;

/** Feeds all lines of `text` to a fresh tracker; returns which of them it accepted after the first. */
function follow(text: string): { tracker: TracebackTracker; accepted: boolean[] } {
  const lines = text.split('\n');
  const tracker = new TracebackTracker();
  assert.equal(tracker.begin(lines[0]!), true, `begin: ${lines[0]}`);
  const accepted = lines.slice(1).map((l) => tracker.next(l));
  return { tracker, accepted };
}

describe('isTracebackStart', () => {
  it('knows plain, group and stack_info starts, and nothing else', () => {
    assert.equal(isTracebackStart('Traceback (most recent call last):'), true);
    assert.equal(isTracebackStart('  + Exception Group Traceback (most recent call last):'), true);
    assert.equal(isTracebackStart('Stack (most recent call last):'), true);
    assert.equal(isTracebackStart('Traceback'), false);
    assert.equal(isTracebackStart('  File "x.py", line 1, in f'), false);
    assert.equal(isTracebackStart(''), false);
    assert.equal(isTracebackStart('ValueError: boom'), false);
  });
});

describe('TracebackTracker', { skip: noPython }, () => {
  it('follows a chained traceback with ^^^^ markers to its end, then lets go', () => {
    const text = TB.chained!;
    // The fixture really has what we claim to handle.
    assert.match(text, /\n +~+\^+\n/);
    assert.match(text, /\nThe above exception was the direct cause of the following exception:\n/);
    assert.match(text, /\nDuring handling of the above exception, another exception occurred:\n/);
    const { tracker, accepted } = follow(text);
    assert.deepEqual(accepted, accepted.map(() => true));
    assert.equal(tracker.active, true);
    assert.equal(tracker.next('[2026-11-27 12:00:01,000] INFO [django.server:1] next'), false);
    assert.equal(tracker.active, false);
  });

  it('follows exception groups, alone and chained', () => {
    for (const key of ['group', 'group_chained']) {
      const text = TB[key]!;
      assert.match(text, /^ {2}\+ Exception Group Traceback/m);
      const { tracker, accepted } = follow(text);
      assert.deepEqual(accepted, accepted.map(() => true), key);
      assert.equal(tracker.next('hello'), false);
    }
  });

  it('keeps psycopg multi-line messages (LINE 1: / ^) and the chain after them', () => {
    const { tracker, accepted } = follow(TB.psycopg!);
    assert.deepEqual(accepted, accepted.map(() => true));
    assert.equal(tracker.next('Booting worker with pid: 8'), false);
  });

  it('follows exc_info followed by logging stack_info', () => {
    const { tracker, accepted } = follow(TB.with_stack!);
    assert.deepEqual(accepted, [true, true, true, true, true, true]);
    assert.equal(tracker.next('INFO done'), false);
  });

  it('marks exception lines and their continuations', () => {
    const lines = TB.psycopg!.split('\n');
    const tracker = new TracebackTracker();
    tracker.begin(lines[0]!);
    const kinds: [string, number][] = [];
    for (const l of lines.slice(1)) {
      tracker.next(l);
      if (tracker.kind !== 0) kinds.push([l, tracker.kind]);
    }
    assert.deepEqual(kinds, [
      ['psycopg2.errors.UndefinedTable: relation "foo" does not exist', KIND_EXCEPTION],
      ['LINE 1: SELECT "foo"."id" FROM "foo"', KIND_EXCEPTION_MORE],
      ['                               ^', KIND_EXCEPTION_MORE],
      ['django.db.utils.ProgrammingError: relation "foo" does not exist', KIND_EXCEPTION],
      ['LINE 1: SELECT "foo"."id" FROM "foo"', KIND_EXCEPTION_MORE],
      ['                               ^', KIND_EXCEPTION_MORE],
    ]);
  });
});

describe('TracebackTracker on hand-made input', () => {
  it('ends at unindented text after the exception line, and at a non-chain line after the blank', () => {
    const t = new TracebackTracker();
    assert.equal(t.begin('Traceback (most recent call last):'), true);
    assert.equal(t.next('  File "a.py", line 1, in <module>'), true);
    assert.equal(t.next('KeyboardInterrupt'), true);
    assert.equal(t.kind, KIND_EXCEPTION);
    assert.equal(t.next('\tcontinued message'), true);
    assert.equal(t.kind, KIND_EXCEPTION_MORE);
    assert.equal(t.next(''), true);
    assert.equal(t.next('Watching for file changes with StatReloader'), false);
    assert.equal(t.active, false);

    assert.equal(t.begin('Traceback (most recent call last):'), true);
    assert.equal(t.next('  File "a.py", line 1, in <module>'), true);
    assert.equal(t.next('ValueError: boom'), true);
    assert.equal(t.next('Performing system checks...'), false);
  });

  it('ends at a new traceback after a completed exception line (another exception), not at stack_info', () => {
    const t = new TracebackTracker();
    t.begin('Traceback (most recent call last):');
    t.next('  File "a.py", line 1, in <module>');
    t.next('ValueError: boom');
    assert.equal(t.next('Traceback (most recent call last):'), false);
    assert.equal(t.active, false);
    // After a blank line too: only a chain marker links two tracebacks.
    t.begin('Traceback (most recent call last):');
    t.next('  File "a.py", line 1, in <module>');
    t.next('ValueError: boom');
    assert.equal(t.next(''), true);
    assert.equal(t.next('Traceback (most recent call last):'), false);
    // logging's stack_info right after the exception belongs to the same record.
    t.begin('Traceback (most recent call last):');
    t.next('  File "a.py", line 1, in <module>');
    t.next('ValueError: boom');
    assert.equal(t.next('Stack (most recent call last):'), true);
    assert.equal(t.next('  File "b.py", line 2, in <module>'), true);
  });

  it('does not begin on other lines', () => {
    const t = new TracebackTracker();
    assert.equal(t.begin('hello'), false);
    assert.equal(t.active, false);
    assert.equal(t.next('  File "a.py"'), false);
  });
});

describe('parseExceptionLine', () => {
  it('splits type and message at the first ": "', () => {
    assert.deepEqual(parseExceptionLine('ValueError: boom'), { type: 'ValueError', message: 'boom' });
    assert.deepEqual(parseExceptionLine('django.db.utils.OperationalError: could not connect: refused'), {
      type: 'django.db.utils.OperationalError',
      message: 'could not connect: refused',
    });
    assert.deepEqual(parseExceptionLine('KeyboardInterrupt'), { type: 'KeyboardInterrupt' });
    assert.deepEqual(parseExceptionLine('StopIteration:'), { type: 'StopIteration' });
    assert.equal(parseExceptionLine('not an exception: really'), null);
    assert.equal(parseExceptionLine('hello world'), null);
  });
});

describe('errorFromTraceback', { skip: noPython }, () => {
  it('names the last exception of a chain', () => {
    assert.deepEqual(errorFromTraceback(TB.chained!), {
      type: 'ZeroDivisionError',
      message: 'division by zero',
      line: 'ZeroDivisionError: division by zero',
    });
    assert.deepEqual(errorFromTraceback(TB.group_chained!), {
      type: 'RuntimeError',
      message: 'wrapped',
      line: 'RuntimeError: wrapped',
    });
  });

  it('names the top-level exception of a group', () => {
    assert.deepEqual(errorFromTraceback(TB.group!), {
      type: 'ExceptionGroup',
      message: 'eg (2 sub-exceptions)',
      line: 'ExceptionGroup: eg (2 sub-exceptions)',
    });
  });

  it('keeps a multi-line message', () => {
    const msg = 'relation "foo" does not exist\nLINE 1: SELECT "foo"."id" FROM "foo"\n                               ^';
    assert.deepEqual(errorFromTraceback(TB.psycopg!), {
      type: 'django.db.utils.ProgrammingError',
      message: msg,
      line: 'django.db.utils.ProgrammingError: ' + msg,
    });
  });

  it('ignores the stack_info section after the exception', () => {
    assert.deepEqual(errorFromTraceback(TB.with_stack!), { type: 'KeyboardInterrupt', line: 'KeyboardInterrupt' });
  });
});

describe('errorFromTraceback on hand-made input', () => {
  it('returns null without an exception line', () => {
    assert.equal(errorFromTraceback('Stack (most recent call last):\n  File "a.py", line 1, in <module>\n    main()'), null);
    assert.equal(errorFromTraceback('hello'), null);
  });

  it('reads CRLF text', () => {
    assert.deepEqual(errorFromTraceback('Traceback (most recent call last):\r\n  File "a.py", line 1\r\nValueError: boom\r\n'), {
      type: 'ValueError',
      message: 'boom',
      line: 'ValueError: boom',
    });
  });
});
