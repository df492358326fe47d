/**
 * End to end, the table: the nine text formats Django projects commonly use, each written by Python's own
 * logging.Formatter (3 errors with tracebacks, 3 warnings), shipped by the built CLI — once detected (no `format`),
 * once with the input's `format`. Every file gives its 6 documents, each with Python's time, level, logger, message.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EcsDocument } from '../src/record.js';
import { runOnce } from './support/agent.js';
import { assertSameRecords, NINE, writeWithPython, type FormatterCase } from './support/formatter-logs.js';
import { INDEX, scenario, type Scenario } from './support/scenario.js';

const open: Scenario[] = [];
after(() => Promise.all(open.map((s) => s.close())));

test('the nine formats: 6 documents each, detected and with format, as Python wrote them', async () => {
  const TZ = 'America/New_York';
  let detected: FormatterCase[] = [];
  let formatted: FormatterCase[] = [];
  const s = await scenario((logs) => {
    mkdirSync(join(logs, 'detected'));
    mkdirSync(join(logs, 'formatted'));
    detected = NINE.map((c, i) => ({ ...c, path: join(logs, 'detected', `django-${i}.log`) }));
    formatted = NINE.map((c, i) => ({ ...c, path: join(logs, 'formatted', `django-${i}.log`) }));
    return [
      { type: 'django', paths: [join(logs, 'detected', '*.log')], timezone: TZ },
      ...formatted.map((c) => ({ type: 'django', paths: [c.path], timezone: TZ, format: c.format, style: c.style })),
    ];
  });
  open.push(s);
  const written = writeWithPython([...detected, ...formatted], TZ);

  const { code, logs } = await runOnce(s.config);
  assert.equal(code, 0, JSON.stringify(logs.filter((l) => l['level'] === 'error')));
  const byFile = new Map<string, EcsDocument[]>();
  for (const d of s.es.docs.get(INDEX)!.values() as Iterable<EcsDocument>) {
    const list = byFile.get(d.log.file.path) ?? [];
    list.push(d);
    byFile.set(d.log.file.path, list);
  }
  for (const list of byFile.values()) list.sort((a, b) => a.log.offset - b.log.offset);
  for (const c of [...detected, ...formatted]) {
    const docs = byFile.get(c.path) ?? [];
    assert.equal(docs.length, 6, `${c.path} (${c.format})`);
    assertSameRecords(docs, written.get(c.path)!, c, `${c.format} (${c.path.includes('detected') ? 'detected' : 'with format'})`);
  }
});
