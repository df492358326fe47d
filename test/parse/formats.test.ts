/**
 * Django text logs in the layouts projects use, written by Python's own logging.Formatter: every record read back
 * as Python wrote it, both with the input's `format` and without it (detected), through the file parser.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createParser } from '../../src/parse/index.js';
import type { FormatterSpec } from '../../src/parse/formatter/index.js';
import type { Line } from '../../src/parse/types.js';
import type { EcsDocument } from '../../src/record.js';
import { tempDir } from '../support/agent.js';
import { assertSameRecords, NINE, writeWithPython, type FormatterCase } from '../support/formatter-logs.js';
import { parserContext } from '../support/parsing.js';

/** Every style, a set of datefmts, padding, precision, conversions, fields after the message's prefix. */
const MORE: readonly Omit<FormatterCase, 'path'>[] = [
  { format: '%(asctime)s %(levelname)-8s %(name)-24s %(message)s', style: '%', datefmt: null },
  { format: '%(asctime)s.%(msecs)03d %(levelname)8s [%(process)d:%(thread)x] %(name)s: %(message)s', style: '%', datefmt: '%Y-%m-%d %H:%M:%S' },
  { format: '%(levelname).4s %(asctime)s %(module)s:%(lineno)4d %(funcName)s() %(message)s', style: '%', datefmt: '%d/%b/%Y:%H:%M:%S' },
  { format: '%(asctime)s|%(levelname)s|%(name)s|%(filename)s:%(lineno)d|%(message)s', style: '%', datefmt: '%Y-%m-%dT%H:%M:%S%z' },
  { format: '{asctime} {levelname:<8} [{name:>24}] {process:d}/{thread:d} {filename}:{lineno:>4} {funcName} - {message}', style: '{', datefmt: null },
  { format: '{asctime}.{msecs:03.0f} {levelname:^10} {name!r}: {message}', style: '{', datefmt: '%m/%d/%Y %I:%M:%S %p' },
  { format: '{asctime} {levelname!s:*>9} {processName} {threadName} {name} {message}', style: '{', datefmt: '%a, %d %b %Y %H:%M:%S' },
  { format: '$asctime [$levelname] ${name}: $message', style: '$', datefmt: null },
  { format: '$levelname $asctime $module $process $message', style: '$', datefmt: '%Y-%m-%d %H:%M:%S' },
  { format: '%(asctime)s %(levelno)s %(name)s %(relativeCreated)d %(pathname)s %(message)s', style: '%', datefmt: '%b %d %Y %H:%M:%S' },
];

const TZ = 'Europe/Paris';

/** A file's lines, as the tailer hands them over. */
function linesOf(path: string): Line[] {
  const text = readFileSync(path, 'utf8');
  const lines: Line[] = [];
  let at = 0;
  for (const t of text.split('\n').slice(0, -1)) {
    const end = at + Buffer.byteLength(t) + 1;
    lines.push({ text: t, start: at, end, truncated: false, invalidUtf8: false, partial: false });
    at = end;
  }
  return lines;
}

/** The documents the file parser makes of a file, with the input's formatter or without. */
function parse(path: string, formatter: FormatterSpec | null): EcsDocument[] {
  const docs: EcsDocument[] = [];
  const p = createParser('django', parserContext(path, { timezone: TZ, formatter, maxRecordBytes: 1 << 20 }), (r) => docs.push(r.doc));
  const now = Date.now();
  for (const l of linesOf(path)) p.push(l, now);
  p.flush(now, true);
  return docs;
}

const dir = tempDir('logship-formats-');
const cases = (list: readonly Omit<FormatterCase, 'path'>[], name: string): FormatterCase[] =>
  list.map((c, i) => ({ ...c, path: join(dir, `${name}-${i}.log`) }));
const nine = cases(NINE, 'nine');
const more = cases(MORE, 'more');
const written = writeWithPython([...nine, ...more], TZ);

describe("the nine formats of Django projects, written by Python's logging", () => {
  for (const c of nine) {
    it(`${c.format}: 6 records detected, and 6 with format`, () => {
      const expected = written.get(c.path)!;
      assert.equal(expected.length, 6);
      assertSameRecords(parse(c.path, null), expected, c, 'detected');
      assertSameRecords(parse(c.path, { format: c.format, style: c.style, datefmt: c.datefmt }), expected, c, 'with format');
    });
  }
});

describe('formats with padding, precision, conversions, datefmts, in every style: read with format', () => {
  for (const c of more) {
    it(`${c.style} ${c.format} (datefmt ${c.datefmt})`, () => {
      assertSameRecords(parse(c.path, { format: c.format, style: c.style, datefmt: c.datefmt }), written.get(c.path)!, c, 'with format');
    });
  }

  it('reads the other fields where the format has them', () => {
    const c = more[4]!; // {process:d}/{thread:d} {filename}:{lineno:>4} {funcName}
    const docs = parse(c.path, { format: c.format, style: c.style, datefmt: c.datefmt });
    for (const d of docs) {
      assert.equal(d.log.origin?.file?.name, 'formatter_writer.py');
      assert.ok(Number.isInteger(d.log.origin?.file?.line) && d.log.origin!.file!.line! > 0);
      assert.match(d.log.origin?.function ?? '', /^(error|write)$/);
      assert.ok(Number.isInteger(d.process?.pid) && d.process!.pid! > 0);
      assert.ok(Number.isInteger(d.process?.thread?.id));
    }
    const named = parse(more[6]!.path, { format: more[6]!.format, style: '{', datefmt: more[6]!.datefmt });
    assert.deepEqual([named[0]!.process?.thread?.name, named[0]!.django?.['processName']], ['MainThread', 'MainProcess']);
    const extra = parse(more[9]!.path, { format: more[9]!.format, style: '%', datefmt: more[9]!.datefmt });
    assert.equal(extra[0]!.django?.['levelno'], 40);
    assert.equal(typeof extra[0]!.django?.['relativeCreated'], 'number');
    assert.match(String(extra[0]!.django?.['pathname']), /formatter_writer\.py$/);
  });
});
