/**
 * The descriptor budget, idle close and reopen, the partial-line hold, and the polling fallback, end to end.
 * Each counts unique records written vs. stored.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readdirSync, readlinkSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkExactlyOnce, runOnce, seqsOf, startAgent, waitFor } from './support/agent.js';
import { appendSeqLines, dockerLine, INDEX, scenario, type Scenario } from './support/scenario.js';

const open: Scenario[] = [];
after(() => Promise.all(open.map((s) => s.close())));

test('max_open_files: 2 with 6 files: every file is read, none left behind', async () => {
  const s = await scenario((logs) => [{ type: 'django', paths: [join(logs, '*.log')] }], { max_open_files: 2, close_inactive: '300ms' });
  open.push(s);
  for (let f = 0; f < 6; f++) appendSeqLines(join(s.logs, `app${f}.log`), f * 100, f * 100 + 100);
  const agent = startAgent(s.config);
  // Sample the agent's descriptors on the log files all along: never more than max_open_files.
  let mostOpen = 0;
  const sampler = setInterval(() => {
    let entries: string[];
    try {
      entries = readdirSync(`/proc/${agent.child.pid}/fd`);
    } catch {
      return; // exited
    }
    const fds = entries.map((fd) => {
      try {
        return readlinkSync(`/proc/${agent.child.pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
    mostOpen = Math.max(mostOpen, fds.filter((target) => target.startsWith(s.logs)).length);
  }, 20);
  await waitFor(() => s.es.count(INDEX) >= 600, 30_000, '600 documents');
  // More lines into every file: closed files must be reopened when they change.
  for (let f = 0; f < 6; f++) appendSeqLines(join(s.logs, `app${f}.log`), 600 + f * 100, 600 + f * 100 + 100);
  await waitFor(() => s.es.count(INDEX) >= 1200, 30_000, '1200 documents');
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  assert.equal(checkExactlyOnce(seqsOf(s.stored()), 1200), null);
  clearInterval(sampler);
  assert.ok(mostOpen >= 1 && mostOpen <= 2, `at most 2 log files open at once (saw ${mostOpen})`);
});

test('close_inactive: an idle file is closed, then reopened and read on change, from where it was', async () => {
  const s = await scenario((logs) => [{ type: 'django', paths: [join(logs, 'django.log')] }], { close_inactive: '300ms' });
  open.push(s);
  const file = join(s.logs, 'django.log');
  appendSeqLines(file, 0, 50);
  const agent = startAgent(s.config);
  await waitFor(() => s.es.count(INDEX) >= 50, 20_000, '50 documents');
  await new Promise((r) => setTimeout(r, 1500)); // idle: closed
  appendSeqLines(file, 50, 100);
  await waitFor(() => s.es.count(INDEX) >= 100, 20_000, '100 documents');
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  assert.equal(checkExactlyOnce(seqsOf(s.stored()), 100), null);
  assert.ok([...s.es.createAttempts.values()].every((n) => n === 1), 'reopening re-sent nothing');
});

test('a last line without newline is held until its newline comes; past the timeout it ships as it is', async () => {
  const s = await scenario((logs) => [{ type: 'django', paths: [join(logs, 'django.log')] }], { partial_line_timeout: '2s' });
  open.push(s);
  const file = join(s.logs, 'django.log');
  appendSeqLines(file, 0, 1);
  appendFileSync(file, '{"asctime": "2026-11-27 12:00:00,000", "levelname": "INFO", "name": "t", "message": "line seq=1 wri');
  const agent = startAgent(s.config);
  await waitFor(() => s.es.count(INDEX) >= 1, 20_000, 'the first document');
  await new Promise((r) => setTimeout(r, 800)); // under the timeout: still held
  assert.equal(s.es.count(INDEX), 1);
  appendFileSync(file, 'tten in two writes"}\n');
  await waitFor(() => s.es.count(INDEX) >= 2, 20_000, 'the joined line');
  assert.ok(s.stored().includes('line seq=1 written in two writes'));
  appendFileSync(file, 'no newline ever seq=2');
  await waitFor(() => s.es.count(INDEX) >= 3, 20_000, 'the abandoned partial line');
  const partial = [...s.es.docs.get(INDEX)!.values()].find((d) => String(d['message']).includes('seq=2'))!;
  assert.equal(partial['message'], 'no newline ever seq=2');
  assert.deepEqual([...(partial['tags'] as string[])].sort(), [
    '_logship_parse_error',
    '_logship_partial_line_timeout',
    '_logship_timestamp_missing',
  ]);
  // The rest of that line comes after all: a record of its own at its own offset, tagged as a tail; the shipped
  // beginning stays as it was (no record gets it appended with a line feed).
  const tailAt = statSync(file).size;
  appendFileSync(file, ' and its rest seq=3\n');
  await waitFor(() => s.es.count(INDEX) >= 4, 20_000, 'the rest of the partial line');
  const tail = [...s.es.docs.get(INDEX)!.values()].find((d) => String(d['message']).includes('seq=3'))!;
  assert.equal(tail['message'], ' and its rest seq=3');
  assert.equal((tail['log'] as { offset: number }).offset, tailAt);
  assert.deepEqual([...(tail['tags'] as string[])].sort(), ['_logship_partial_line_tail', '_logship_timestamp_missing']);
  assert.equal(partial['message'], 'no newline ever seq=2');
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  assert.equal(checkExactlyOnce(seqsOf(s.stored()), 4), null);
  assert.ok(!s.stored().some((m) => m.includes('seq=2\n')), 'nothing joined to the shipped beginning');
});

test('use_polling: true (file systems without inotify): rotation followed, every record once', async () => {
  const s = await scenario((logs) => [{ type: 'django', paths: [join(logs, 'django.log')] }], { use_polling: true });
  open.push(s);
  const file = join(s.logs, 'django.log');
  appendSeqLines(file, 0, 300);
  const agent = startAgent(s.config);
  await waitFor(() => s.es.count(INDEX) >= 300, 20_000, '300 documents');
  const { renameSync } = await import('node:fs');
  renameSync(file, `${file}.1`);
  writeFileSync(file, '');
  appendSeqLines(`${file}.1`, 300, 350); // the writer still had the old file open
  appendSeqLines(file, 350, 600);
  await waitFor(() => s.es.count(INDEX) >= 600, 20_000, '600 documents');
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  assert.equal(checkExactlyOnce(seqsOf(s.stored()), 600), null);
});

test('a Docker log rotated while the agent was stopped is read on with the Docker parser, not the first input\'s', async () => {
  const id = 'c'.repeat(64);
  const s = await scenario((logs) => [
    { type: 'django', paths: [join(logs, 'django.log')] },
    { type: 'docker', paths: [join(logs, 'containers', '*', '*-json.log')] },
  ]);
  open.push(s);
  const dir = join(s.logs, 'containers', id);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${id}-json.log`);
  const lines = (from: number, to: number): string =>
    Array.from({ length: to - from }, (_, k) => dockerLine(`container line seq=${from + k}\n`, 'stdout')).join('');
  writeFileSync(file, lines(0, 100));
  assert.equal((await runOnce(s.config)).code, 0);
  appendFileSync(file, lines(100, 150)); // written after the checkpoint…
  renameSync(file, `${file}.1`); // …then dockerd rotates while the agent is stopped
  writeFileSync(file, lines(150, 200));
  assert.equal((await runOnce(s.config)).code, 0);
  assert.equal(checkExactlyOnce(seqsOf(s.stored()), 200), null);
  const docs = [...s.es.docs.get(INDEX)!.values()];
  for (const d of docs) {
    assert.deepEqual(d['container'], { id }, `parsed as Docker: ${JSON.stringify(d).slice(0, 200)}`);
    assert.equal(d['stream'], 'stdout');
    assert.match(String(d['message']), /^container line seq=\d+$/);
  }
});
