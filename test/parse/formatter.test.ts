/**
 * The Formatter-string compiler: what it refuses (as Python does, or because no line could be read back), each
 * datefmt, each field's mapping — and, property-based, lines that Python's own logging.Formatter made from random
 * records (messages full of separators, brackets, colons, newlines) read back to the record's fields.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { compileFormat, FormatterError, type FormatterSpec } from '../../src/parse/formatter/index.js';
import { createDateReader } from '../../src/parse/formatter/datefmt.js';
import { tokenize } from '../../src/parse/formatter/tokens.js';
import { Header } from '../../src/parse/header.js';
import { PYTHON } from '../support/agent.js';
import { ambiguousLocalTime, FORMATTER_WRITER, shows } from '../support/formatter-logs.js';

const TZ = 'Europe/Paris';
const NOW = Date.UTC(2026, 10, 27, 13, 0, 0);

function match(spec: Partial<FormatterSpec> & { format: string }, line: string): Header | null {
  const h = new Header();
  const c = compileFormat({ style: '%', datefmt: null, ...spec }, TZ);
  return c.match(line, h, NOW) ? h : null;
}

describe('tokenize', () => {
  it('reads the three styles, specs and conversions', () => {
    assert.deepEqual(tokenize('%(levelname)-8s %%|%(lineno)04d', '%'), [
      { kind: 'field', name: 'levelname', conversion: 's', spec: { fill: ' ', align: '<', zero: false, width: 8, precision: -1, grouping: '', alternate: false, type: 's' } },
      { kind: 'literal', text: ' %|' },
      { kind: 'field', name: 'lineno', conversion: 's', spec: { fill: '0', align: '>', zero: true, width: 4, precision: -1, grouping: '', alternate: false, type: 'd' } },
    ]);
    assert.deepEqual(tokenize('{{{name!r:*^10.3}}}', '{'), [
      { kind: 'literal', text: '{' },
      { kind: 'field', name: 'name', conversion: 'r', spec: { fill: '*', align: '^', zero: false, width: 10, precision: 3, grouping: '', alternate: false, type: '' } },
      { kind: 'literal', text: '}' },
    ]);
    assert.deepEqual(
      tokenize('$$ $name${levelname}x', '$').map((t) => (t.kind === 'literal' ? t.text : `<${t.name}>`)),
      ['$ ', '<name>', '<levelname>', 'x'],
    );
  });

  it('refuses what Python refuses, and what no line could be read back from', () => {
    const refused: [string, '%' | '{' | '$', RegExp][] = [
      ['%(message)s 100%', '%', /"%" at position 15 starts no field/],
      ['%s %(message)s', '%', /"%" at position 0 starts no field/],
      ['%(message)', '%', /has no conversion type/],
      ['%(message)*s', '%', /"\*" width/],
      ['no field at all', '%', /has no field for style "%"/],
      ['{message', '{', /single "\{" at position 0/],
      ['message}', '{', /single "\}" at position 7/],
      ['{} {message}', '{', /positional fields/],
      ['{name.upper} {message}', '{', /only plain attribute names/],
      ['{message!x}', '{', /unknown conversion "!x"/],
      ['{message:{width}}', '{', /nested fields/],
      ['{message:zz}', '{', /invalid format spec "zz"/],
      ['$message $', '$', /bare "\$" at position 9/],
      ['%(message)s', '{', /has no field for style "\{"/],
    ];
    for (const [format, style, problem] of refused) {
      assert.throws(() => compileFormat({ format, style, datefmt: null }, TZ), (e: unknown) => e instanceof FormatterError && e.key === 'format' && problem.test(e.message), format);
    }
    assert.throws(() => compileFormat({ format: '%(asctime)s %(message)s', style: '%', datefmt: '%H%n' }, TZ), (e: unknown) => e instanceof FormatterError && e.key === 'datefmt');
  });
});

describe('datefmt', () => {
  const read = (datefmt: string | null, text: string, millis = -1): string | null => {
    const r = createDateReader(datefmt, TZ);
    assert.match(text, new RegExp(`^(?:${r.source})$`), `${datefmt} matches ${text}`);
    return r.read(text, millis, NOW);
  };

  it('reads what time.strftime writes, in the input zone unless the text names one', () => {
    assert.equal(read(null, '2026-11-27 12:00:00,123'), '2026-11-27T12:00:00.123+01:00');
    assert.equal(read('%Y-%m-%d %H:%M:%S', '2026-07-01 12:00:00', 42), '2026-07-01T12:00:00.042+02:00');
    assert.equal(read('%Y-%m-%dT%H:%M:%S%z', '2026-07-01T12:00:00-0400', 5), '2026-07-01T12:00:00.005-04:00');
    assert.equal(read('%d/%b/%Y:%H:%M:%S', '27/Nov/2026:12:00:00'), '2026-11-27T12:00:00.000+01:00');
    assert.equal(read('%m/%d/%Y %I:%M:%S %p', '11/27/2026 12:30:00 AM'), '2026-11-27T00:30:00.000+01:00');
    assert.equal(read('%m/%d/%Y %I:%M:%S %p', '11/27/2026 01:30:00 PM'), '2026-11-27T13:30:00.000+01:00');
    assert.equal(read('%a, %d %B %Y %H:%M:%S %Z', 'Fri, 27 November 2026 12:00:00 UTC'), '2026-11-27T12:00:00.000Z');
    assert.equal(read('%a, %d %B %Y %H:%M:%S %Z', 'Fri, 27 November 2026 12:00:00 CET'), '2026-11-27T12:00:00.000+01:00');
    assert.equal(read('%c', 'Fri Nov 27 12:00:00 2026'), '2026-11-27T12:00:00.000+01:00');
    assert.equal(read('%c', 'Sun Dec  6 02:55:39 2026'), '2026-12-06T02:55:39.000+01:00');
    assert.equal(read('%y%m%d %T', '261127 12:00:00'), '2026-11-27T12:00:00.000+01:00');
    assert.equal(read('%Y-%j %H:%M', '2026-331 12:00'), '2026-11-27T12:00:00.000+01:00');
    assert.equal(read('%s', '1764244800', 250), '2025-11-27T12:00:00.250Z');
    assert.equal(read('%-d/%-m/%Y %H:%M:%S', '7/1/2026 09:05:00'), '2026-01-07T09:05:00.000+01:00');
    // glibc writes unknown directives as they are (time.strftime has no %f).
    assert.equal(read('%Y-%m-%d %H:%M:%S.%f', '2026-11-27 12:00:00.%f'), '2026-11-27T12:00:00.000+01:00');
  });

  it('takes a date the text leaves out from today in the input zone; a later one is last year', () => {
    assert.equal(read('%H:%M:%S', '11:59:00'), '2026-11-27T11:59:00.000+01:00');
    assert.equal(read('%b %d %H:%M:%S', 'Nov 27 11:00:00'), '2026-11-27T11:00:00.000+01:00');
    assert.equal(read('%b %d %H:%M:%S', 'Dec 31 23:59:59'), '2025-12-31T23:59:59.000+01:00');
    assert.equal(createDateReader('%H:%M:%S', TZ).hasDate, false);
    assert.equal(createDateReader('%d/%b/%Y', TZ).hasDate, true);
  });
});

describe('compiled format: fields', () => {
  it('maps every LogRecord attribute', () => {
    const h = match(
      { format: '%(asctime)s %(levelno)s %(name)s %(module)s %(filename)s:%(lineno)d %(funcName)s %(process)d %(processName)s %(thread)d %(threadName)s %(relativeCreated)d %(pathname)s %(taskName)s %(request_id)s %(message)s' },
      '2026-11-27 12:00:00,123 40 django.request views views.py:241 get 4242 MainProcess 140245 Thread-1 (worker) 1234 /app/views.py None req-7 boom: [x] - y',
    )!;
    assert.deepEqual({ ...h }, {
      timestamp: '2026-11-27T12:00:00.123+01:00',
      level: 'ERROR',
      logger: 'django.request',
      originName: 'views.py',
      originLine: 241,
      originFunction: 'get',
      pid: 4242,
      threadId: 140245,
      threadName: 'Thread-1 (worker)',
      django: '"levelno":40,"processName":"MainProcess","relativeCreated":1234,"pathname":"/app/views.py","request_id":"req-7"',
      message: 'boom: [x] - y',
    });
  });

  it('takes created when there is no asctime, with msecs when created is whole seconds', () => {
    assert.equal(match({ format: '%(created)f %(levelname)s %(message)s' }, '1764244800.250000 INFO x')!.timestamp, '2025-11-27T12:00:00.250Z');
    assert.equal(match({ format: '%(created)d.%(msecs)03d %(message)s' }, '1764244800.007 x')!.timestamp, '2025-11-27T12:00:00.007Z');
    // asctime without a date: created is exact.
    assert.equal(match({ format: '%(asctime)s %(created)f %(message)s', datefmt: '%H:%M:%S' }, '13:00:00 1764244800.5 x')!.timestamp, '2025-11-27T12:00:00.500Z');
    // Both: asctime is the record's time, created is kept.
    assert.equal(match({ format: '%(asctime)s %(created)f %(message)s' }, '2026-11-27 12:00:00,123 1764244800.5 x')!.django, '"created":1764244800.5');
  });

  it('reads repr() back, levels by number and by prefix, grouped and hex numbers', () => {
    const h = match({ format: '{levelname!r} {name!a}: {message!r} {thread:x} {process:,}', style: '{' }, `'ERROR' 'caf\\xe9': 'it\\'s\\n"two" lines' 7f6035a65040 12,345`)!;
    assert.deepEqual([h.level, h.logger, h.message, h.threadId, h.pid], ['ERROR', 'café', `it's\n"two" lines`, 0x7f6035a65040, 12345]);
    assert.equal(match({ format: '%(levelno)d %(message)s' }, '25 custom')!.level, 'Level 25');
    assert.equal(match({ format: '%(levelname).1s %(message)s' }, 'W careful')!.level, 'WARNING');
  });

  it('reads fields after the message when the line has them; a message with none keeps its text', () => {
    assert.deepEqual(pick(match({ format: '%(message)s [%(name)s:%(lineno)d]' }, 'a [b] c [django.db:12]')!), ['a [b] c', 'django.db', 12]);
    assert.deepEqual(pick(match({ format: '%(message)s [%(name)s:%(lineno)d]' }, 'first line of two')!), ['first line of two', undefined, undefined]);
    function pick(h: Header): unknown[] {
      return [h.message, h.logger, h.originLine];
    }
  });

  it('turns lines that cannot start a record away on their first character', () => {
    const c = compileFormat({ format: '[%(asctime)s] %(levelname)s %(message)s', style: '%', datefmt: null }, TZ);
    const h = new Header();
    for (const line of ['  File "x.py", line 1', 'Traceback (most recent call last):', 'ValueError: x', '', 'é']) assert.equal(c.match(line, h, NOW), false);
    assert.equal(compileFormat({ format: '%(message)s', style: '%', datefmt: null }, TZ).anchored, false);
    assert.equal(c.anchored, true);
  });
});

/** Formats the property below draws from: every style, padding, precision, conversion, datefmt. */
const TEMPLATES: readonly FormatterSpec[] = [
  { format: '%(asctime)s %(levelname)s %(name)s %(message)s', style: '%', datefmt: null },
  { format: '[%(asctime)s] %(levelname)-8s [%(name)s:%(lineno)d] %(funcName)s: %(message)s', style: '%', datefmt: null },
  { format: '%(asctime)s.%(msecs)03d|%(levelname)8s|%(name)-30s|%(message)s', style: '%', datefmt: '%d/%b/%Y %H:%M:%S' },
  { format: '%(levelname)s:%(name)s:%(message)s', style: '%', datefmt: null },
  { format: '{levelname:<9}{asctime} {name!r} {lineno:>5d} {message}', style: '{', datefmt: '%Y-%m-%dT%H:%M:%S%z' },
  { format: '{asctime}.{msecs:03.0f} [{levelname:^10}] {name:.12}: {message}', style: '{', datefmt: '%m/%d/%Y %I:%M:%S %p' },
  { format: '$asctime - $name - $levelname - $message', style: '$', datefmt: null },
  { format: '${levelname} ${asctime} ${funcName} ${message}', style: '$', datefmt: '%Y-%m-%d %H:%M:%S' },
];

describe('compiled format: property, against Python', () => {
  it("reads back the first line of random records as Python's logging.Formatter wrote them", () => {
    const piece = fc.constantFrom('a', 'Z', ' ', ': ', ' - ', '[', ']', ':', '|', '{', '}', '%', '$', '\n', 'é', '😀', 'ERROR', '2026-11-27 12:00:00,000', '\t', '"', "'", '\\');
    const record = fc.record({
      template: fc.nat(TEMPLATES.length - 1),
      name: fc.constantFrom('django.request', 'django.security.csrf', 'root', 'myapp.api.views', 'a_b.c9'),
      level: fc.constantFrom('DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'),
      message: fc.array(piece, { maxLength: 20 }).map((p) => p.join('')),
      lineno: fc.integer({ min: 1, max: 99_999 }),
      funcName: fc.constantFrom('get', '<module>', 'handle_request', 'post_2'),
      created: fc.integer({ min: 946_684_800_000, max: 1_924_991_999_999 }).map((ms) => ms / 1000),
    });
    const samples = fc.sample(record, { numRuns: 300, seed: 12 });
    const items = samples.map((s) => ({ ...TEMPLATES[s.template]!, ...s }));
    const lines = JSON.parse(execFileSync(PYTHON, [FORMATTER_WRITER, '--records'], { input: JSON.stringify(items), encoding: 'utf8', env: { ...process.env, TZ } })) as string[];
    const compiled = TEMPLATES.map((t) => compileFormat(t, TZ));
    const h = new Header();
    lines.forEach((text, i) => {
      const s = samples[i]!;
      const t = TEMPLATES[s.template]!;
      const first = text.split('\n')[0]!;
      const at = `${t.format} ← ${JSON.stringify(s)}: ${JSON.stringify(first)}`;
      assert.ok(compiled[s.template]!.match(first, h, NOW), at);
      assert.equal(h.level, s.level, at);
      if (shows(t, 'name') && !t.format.includes('name:.')) assert.equal(h.logger, s.name, at);
      // The message's first line (Python's layout: fields before it, none after).
      assert.equal(h.message, s.message.split('\n')[0], at);
      const secondPrecision = t.datefmt !== null && !t.format.includes('msecs');
      const ms = Math.floor(s.created) * 1000 + (secondPrecision ? 0 : Math.floor((s.created - Math.floor(s.created)) * 1000));
      if (shows(t, 'asctime') && !ambiguousLocalTime(ms, TZ)) assert.equal(Date.parse(h.timestamp!), ms, at);
    });
  });
});

describe('compiled format: property, any format', () => {
  it('either compiles or is refused with a FormatterError; a compiled one never throws on any line', () => {
    const text = fc.array(fc.constantFrom('%', '(', ')', 's', 'd', '-', '8', '.', '{', '}', '!', 'r', ':', '<', '$', 'name', 'message', 'asctime', 'levelname', ' ', 'x'), { maxLength: 16 }).map((p) => p.join(''));
    fc.assert(
      fc.property(text, fc.constantFrom('%', '{', '$') as fc.Arbitrary<'%' | '{' | '$'>, fc.array(fc.string(), { maxLength: 5 }), (format, style, lines) => {
        let c;
        try {
          c = compileFormat({ format, style, datefmt: null }, TZ);
        } catch (err) {
          assert.ok(err instanceof FormatterError, String(err));
          return;
        }
        const h = new Header();
        for (const l of lines) c.match(l, h, NOW);
      }),
      { numRuns: 2000, seed: 7 },
    );
  });
});
