import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeadLetters } from '../../src/pipeline/dead-letters.js';
import { summarizeDeadLetters } from '../../src/pipeline/dead-letter-summary.js';
import { mountSmallDisk } from '../support/small-disk.js';
import type { LogRecord, SourceRef } from '../../src/record.js';
import { columnBatch } from '../support/records.js';
import { tempDir } from '../support/agent.js';

const source: SourceRef = { path: '/logs/django.log', idPrefix: 'abc', ack() {} };
/** A record as the tailer makes it (a row of a batch, its document kept as JSON text). */
const record = (offset: number, message: string): LogRecord =>
  columnBatch([{ source, start: offset, end: offset + 10, seq: 0, json: JSON.stringify({ '@timestamp': 't', message, log: { file: { path: '/logs/django.log' }, offset } }) }]).records[0]!;

test('dead letters carry the document as it was, with id and reason; the summary counts them by reason', async () => {
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
    lines.map((l) => [l['id'], l['document']['log'], l['document']['message'], l['sink'], Object.keys(l).join()]),
    [
      ['abc-0', { file: { path: '/logs/django.log' }, offset: 0 }, 'a "quoted" one', 'elasticsearch', '@timestamp,sink,reason,id,document'],
      ['abc-10', { file: { path: '/logs/django.log' }, offset: 10 }, 'b', 'elasticsearch', '@timestamp,sink,reason,id,document'],
      ['abc-20', { file: { path: '/logs/django.log' }, offset: 20 }, 'c', 'elasticsearch', '@timestamp,sink,reason,id,document'],
    ],
  );
  assert.equal(statSync(dl.path).mode & 0o777, 0o600);
  appendFileSync(dl.path, '{"torn'); // a crash mid-append leaves half a line
  assert.deepEqual(await summarizeDeadLetters(dir), {
    path: dl.path,
    files: 1,
    count: 3,
    reasons: [
      { reason: '400 mapper_parsing_exception', count: 2 },
      { reason: 'gave up after 3 attempts', count: 1 },
    ],
    unreadable: 1,
  });
});

test('bounded: the file rotates at max_bytes / max_files, the oldest is dropped and counted; the summary counts every file', async () => {
  const dir = tempDir();
  const dropped: { path: string; records: number; bytes: number }[] = [];
  const dl = new DeadLetters(dir, { maxBytes: 3000, maxFiles: 3 }, { dropped: (path, records, bytes) => dropped.push({ path, records, bytes }) });
  const unbounded = new DeadLetters(tempDir());
  // 1,000 bytes per file: each write of 3 records (~3 × 200 bytes) fits once per file.
  for (let w = 0; w < 10; w++) {
    const entries = [0, 1, 2].map((k) => ({ record: record((w * 3 + k) * 10, `m${w * 3 + k}`), reason: 'r: x' }));
    await dl.write('elasticsearch', entries);
    await unbounded.write('elasticsearch', entries);
  }
  const names = readdirSync(dir).sort();
  assert.deepEqual(names, ['dead_letters.ndjson', 'dead_letters.ndjson.1', 'dead_letters.ndjson.2']);
  let total = 0;
  for (const n of names) total += statSync(join(dir, n)).size;
  assert.ok(total <= 3000, `${total} bytes kept`);
  const kept = names.flatMap((n) => readFileSync(join(dir, n), 'utf8').trim().split('\n')).map((l) => JSON.parse(l) as { document: { message: string } });
  const droppedRecords = dropped.reduce((n, d) => n + d.records, 0);
  assert.equal(kept.length + droppedRecords, 30, 'every dead letter is kept or counted as dropped');
  assert.ok(droppedRecords > 0);
  assert.equal(dropped.reduce((n, d) => n + d.bytes, 0) + total, statSync(unbounded.path).size, 'every byte written is kept or counted as dropped');
  assert.ok(dropped.every((d) => d.path === join(dir, 'dead_letters.ndjson.2')));
  // The oldest go first: what is kept are the newest records.
  const keptSeqs = kept.map((k) => Number(k.document.message.slice(1))).sort((a, b) => a - b);
  assert.deepEqual(keptSeqs, Array.from({ length: kept.length }, (_, i) => 30 - kept.length + i));
  const summary = await summarizeDeadLetters(dir);
  assert.equal(summary?.files, 3);
  assert.equal(summary?.count, kept.length);
});

test('a full disk: the write fails, nothing of it stays in the file, and it succeeds once space returns', async (t) => {
  const disk = mountSmallDisk(256);
  if (!disk) return t.skip('needs root to mount a small tmpfs');
  try {
    const dl = new DeadLetters(disk.dir);
    await dl.write('elasticsearch', [{ record: record(0, 'before'), reason: 'r: x' }]);
    const before = readFileSync(dl.path, 'utf8');
    disk.fill();
    const big = 'y'.repeat(64 * 1024);
    await assert.rejects(dl.write('elasticsearch', [{ record: record(10, big), reason: 'r: x' }]), /ENOSPC/);
    assert.equal(readFileSync(dl.path, 'utf8'), before, 'no half line left behind');
    disk.free();
    await dl.write('elasticsearch', [{ record: record(10, 'after'), reason: 'r: x' }]);
    const lines = readFileSync(dl.path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { document: { message: string } });
    assert.deepEqual(lines.map((l) => l.document.message), ['before', 'after']);
  } finally {
    disk.unmount();
  }
});

test('the summary also reads rotated files written by an earlier run', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'dead_letters.ndjson.2'), '{"reason":"a: 1"}\n');
  writeFileSync(join(dir, 'dead_letters.ndjson.1'), '{"reason":"b: 1"}\n{"reason":"b: 2"}\n');
  writeFileSync(join(dir, 'dead_letters.ndjson.x'), '{"reason":"not a rotated file"}\n');
  const s = await summarizeDeadLetters(dir);
  assert.deepEqual(s, { path: join(dir, 'dead_letters.ndjson'), files: 2, count: 3, reasons: [{ reason: 'b', count: 2 }, { reason: 'a', count: 1 }], unreadable: 0 });
});

test('a dead-letter file moved aside by an operator (to replay it) is recreated, 0600, and nothing is dropped for it', async () => {
  const dir = tempDir();
  const dropped: number[] = [];
  const dl = new DeadLetters(dir, { maxBytes: 2000, maxFiles: 2 }, { dropped: (_p, records) => dropped.push(records) });
  await dl.write('elasticsearch', [0, 1, 2].map((k) => ({ record: record(k * 10, `m${k}`), reason: 'r: x' })));
  const { renameSync } = await import('node:fs');
  renameSync(dl.path, `${dl.path}.replayed-today`);
  await dl.write('elasticsearch', [{ record: record(100, 'after'), reason: 'r: x' }]);
  assert.equal(statSync(dl.path).mode & 0o777, 0o600);
  assert.equal(readFileSync(dl.path, 'utf8').trim().split('\n').length, 1);
  assert.deepEqual(readdirSync(dir).sort(), ['dead_letters.ndjson', 'dead_letters.ndjson.replayed-today']);
  assert.deepEqual(dropped, []);
});
