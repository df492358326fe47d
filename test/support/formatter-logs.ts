/**
 * Text logs written by Python's own logging.Formatter (formatter_writer.py, Debian's python3), and the check that a
 * document says what Python wrote: @timestamp, level, logger, message, error type.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { EcsDocument } from '../../src/record.js';
import { PYTHON } from './agent.js';

export const FORMATTER_WRITER = resolve(import.meta.dirname, 'formatter_writer.py');

export interface FormatterCase {
  readonly path: string;
  readonly format: string;
  readonly style: '%' | '{' | '$';
  readonly datefmt: string | null;
}

/** The table: the formats Django projects commonly use. */
export const NINE: readonly Omit<FormatterCase, 'path'>[] = [
  { format: '{levelname} {asctime} {module} {process:d} {thread:d} {message}', style: '{', datefmt: null },
  { format: '[%(asctime)s] %(levelname)s %(name)s: %(message)s', style: '%', datefmt: null },
  { format: '%(asctime)s %(levelname)s %(name)s %(message)s', style: '%', datefmt: null },
  { format: '{levelname} {asctime} {module} {message}', style: '{', datefmt: null },
  { format: '{levelname} {message}', style: '{', datefmt: null },
  { format: '%(levelname)s:%(name)s:%(message)s', style: '%', datefmt: null },
  { format: '%(asctime)s - %(name)s - %(levelname)s - %(message)s', style: '%', datefmt: null },
  { format: '%(asctime)s [%(levelname)s] %(name)s: %(message)s', style: '%', datefmt: null },
  { format: '[%(asctime)s] [%(levelname)s] %(name)s: %(message)s', style: '%', datefmt: null },
];

/** One record as Python made it (see formatter_writer.py). */
export interface WrittenRecord {
  readonly epoch_ms: number;
  /** asctime's UTC offset, "+0100". */
  readonly offset: string;
  readonly level: string;
  readonly logger: string;
  readonly message: string;
  readonly error_type: string | null;
}

/** Writes every case's file with Python's logging (asctime in `tz`); what each file holds, by path. */
export function writeWithPython(cases: readonly FormatterCase[], tz: string): Map<string, WrittenRecord[]> {
  const out = execFileSync(PYTHON, [FORMATTER_WRITER], { input: JSON.stringify(cases), encoding: 'utf8', env: { ...process.env, TZ: tz } });
  const byPath = new Map<string, WrittenRecord[]>();
  for (const line of out.trim().split('\n')) {
    const { path, records } = JSON.parse(line) as { path: string; records: WrittenRecord[] };
    byPath.set(path, records);
  }
  return byPath;
}

/** Does the format show this LogRecord attribute? */
export function shows(c: Pick<FormatterCase, 'format' | 'style'>, attribute: string): boolean {
  if (c.style === '%') return c.format.includes(`%(${attribute})`);
  if (c.style === '{') return new RegExp(`\\{${attribute}[}!:]`).test(c.format);
  return new RegExp(`\\$(?:${attribute}\\b|\\{${attribute}\\})`).test(c.format);
}

/**
 * Asserts that `docs` are the records Python wrote, one each, in order: the time (the instant, and the offset
 * asctime was written in), the level, the logger when the format shows it, the message, the exception.
 */
export function assertSameRecords(docs: readonly EcsDocument[], written: readonly WrittenRecord[], c: FormatterCase, what: string): void {
  assert.equal(docs.length, written.length, `${what}: ${docs.length} documents for ${written.length} records\n${docs.map((d) => JSON.stringify(d)).join('\n')}`);
  const withTime = shows(c, 'asctime');
  docs.forEach((doc, i) => {
    const w = written[i]!;
    const at = `${what}, record ${i}`;
    if (withTime) {
      assert.equal(Date.parse(doc['@timestamp']), w.epoch_ms, `${at}: @timestamp ${doc['@timestamp']}`);
      const offset = w.offset === '+0000' ? 'Z' : `${w.offset.slice(0, 3)}:${w.offset.slice(3)}`;
      assert.ok(doc['@timestamp'].endsWith(offset), `${at}: @timestamp ${doc['@timestamp']} in ${offset}`);
      assert.equal(doc.tags, undefined, `${at}: tags`);
    }
    assert.equal(doc.log.level, w.level, `${at}: level`);
    assert.equal(doc.log.logger, shows(c, 'name') ? w.logger : undefined, `${at}: logger`);
    assert.equal(doc.message, w.message, `${at}: message`);
    assert.equal(doc.error?.type, w.error_type ?? undefined, `${at}: error.type`);
    if (w.error_type !== null) assert.match(doc.error!.stack_trace!, /^Traceback \(most recent call last\):\n/, `${at}: stack trace`);
  });
}

/** The zone's UTC offset at an instant, as Intl names it ("GMT+01:00"). */
function offsetAt(ms: number, tz: string): string {
  return new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' }).formatToParts(ms).find((p) => p.type === 'timeZoneName')!.value;
}

/** Near a DST change a zone-less asctime may name two instants; logship reads the first (see time.ts). */
export function ambiguousLocalTime(ms: number, tz: string): boolean {
  return offsetAt(ms - 3_600_000, tz) !== offsetAt(ms + 3_600_000, tz);
}
