import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { DeadLetters, summarizeDeadLetters } from '../../src/pipeline/dead-letters.js';
import type { LogRecord, SourceRef } from '../../src/record.js';
import { columnBatch } from '../support/records.js';
import { tempDir } from '../support/agent.js';

const source: SourceRef = { path: '/logs/django.log', idPrefix: 'abc', ack() {} };
/** A record as the tailer makes it (a row of a batch, its document kept as JSON text). */
const record = (offset: number, message: string): LogRecord =>
  columnBatch([{ source, start: offset, end: offset + 10, seq: 0, json: JSON.stringify({ '@timestamp': 't', message, log: { file: { path: '/logs/django.log' }, offset } }) }]).records[0]!;

test('dead letters carry the document as it was, with id, source and reason; the summary counts them by reason', async () => {
  const dir = tempDir();
  assert.equal(await summarizeDeadLetters(dir), null);
  const dl = new DeadLetters(dir);
  await dl.write('elasticsearch', [
    { record: record(0, 'a "quoted" one'), reason: '400 mapper_parsing_exception: x' },
    { record: record(10, 'b'), reason: '400 mapper_parsing_exception: x' },
  ]);
  await dl.write('elasticsearch', [{ record: record(20, 'c'), reason: 'gave up after 3 attempts: 503' }]);
  const lines = readFileSync(dl.path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
  assert.deepEqual(
    lines.map((l) => [l['id'], l['source'], l['document']['message'], l['sink']]),
    [
      ['abc-0', { path: '/logs/django.log', offset: 0 }, 'a "quoted" one', 'elasticsearch'],
      ['abc-10', { path: '/logs/django.log', offset: 10 }, 'b', 'elasticsearch'],
      ['abc-20', { path: '/logs/django.log', offset: 20 }, 'c', 'elasticsearch'],
    ],
  );
  appendFileSync(dl.path, '{"torn'); // a crash mid-append leaves half a line
  assert.deepEqual(await summarizeDeadLetters(dir), {
    path: dl.path,
    count: 3,
    reasons: [
      { reason: '400 mapper_parsing_exception', count: 2 },
      { reason: 'gave up after 3 attempts', count: 1 },
    ],
    unreadable: 1,
  });
});
