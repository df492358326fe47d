/**
 * End to end against a test Elasticsearch speaking the real _bulk protocol, through the built CLI and the real
 * @elastic/elasticsearch client. Each test counts unique records written vs. stored: 0 lost, 0 duplicated.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { checkExactlyOnce, CLI, readNdjson, runOnce, runPythonWriter, seqsOf, startAgent, waitFor } from './support/agent.js';
import { appendSeqLines, INDEX, scenario, type Scenario } from './support/scenario.js';

const open: Scenario[] = [];
after(() => Promise.all(open.map((s) => s.close())));

async function djangoScenario(extra: Record<string, unknown> = {}): Promise<Scenario> {
  const s = await scenario((logs) => [{ type: 'django', paths: [join(logs, 'django.log')], timezone: 'Europe/Paris' }], extra);
  open.push(s);
  return s;
}

test('steady writing by a real Django logger: every record once, with ECS fields', async () => {
  const s = await djangoScenario();
  const agent = startAgent(s.config);
  await runPythonWriter([join(s.logs, 'django.log'), '--count', '3000', '--rate', '3000', '--traceback-every', '100']);
  await waitFor(() => s.es.count(INDEX) >= 3000, 30_000, '3000 documents');
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  assert.equal(checkExactlyOnce(seqsOf(s.stored()), 3000), null);
  assert.ok([...s.es.createAttempts.values()].every((n) => n === 1), 'no record was sent twice');

  const docs = [...s.es.docs.get(INDEX)!.values()];
  const error = docs.find((d) => String(d['message']).includes('seq=100 '))!;
  assert.match(String(error['@timestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$/);
  const log = error['log'] as Record<string, unknown>;
  assert.equal(log['level'], 'ERROR');
  assert.equal(log['logger'], 'django.request');
  assert.equal((log['file'] as Record<string, unknown>)['path'], join(s.logs, 'django.log'));
  assert.equal(typeof log['offset'], 'number');
  const stack = String((error['error'] as Record<string, unknown>)['stack_trace']);
  assert.match(stack, /^Traceback \(most recent call last\):/);
  assert.match(stack, /The above exception was the direct cause of the following exception:/);
  assert.match(stack, /ValueError: bad value for seq=100$/);
  assert.equal((error['django'] as Record<string, unknown>)['status_code'], 500);
});

test('SIGTERM then restart ships nothing twice', async () => {
  const s = await djangoScenario();
  const file = join(s.logs, 'django.log');
  appendSeqLines(file, 0, 2000);
  let agent = startAgent(s.config);
  await waitFor(() => s.es.count(INDEX) >= 2000, 30_000, '2000 documents');
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  appendSeqLines(file, 2000, 3000);
  agent = startAgent(s.config);
  await waitFor(() => s.es.count(INDEX) >= 3000, 30_000, '3000 documents');
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  assert.equal(checkExactlyOnce(seqsOf(s.stored()), 3000), null);
  const resent = [...s.es.createAttempts.values()].filter((n) => n > 1).length;
  assert.equal(resent, 0, 'records sent again after a clean restart');
});

test('every id names its record\'s offset, framed by the parse thread or not: a file read in many requests, then resumed', async () => {
  // The first read of a new file is parsed before its identity is known (its items cannot be framed yet); the reads
  // after it, and every read of the resumed file, write each document as its `_bulk` item (see ItemFraming).
  const s = await djangoScenario();
  const file = join(s.logs, 'django.log');
  appendSeqLines(file, 0, 15_000, 'p'.repeat(120)); // ~3 MB: three reads at least
  let agent = startAgent(s.config);
  await waitFor(() => s.es.count(INDEX) >= 15_000, 30_000, '15000 documents');
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  appendSeqLines(file, 15_000, 20_000, 'q'.repeat(120));
  agent = startAgent(s.config);
  await waitFor(() => s.es.count(INDEX) >= 20_000, 30_000, '20000 documents');
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  assert.equal(checkExactlyOnce(seqsOf(s.stored()), 20_000), null);
  const prefixes = new Set<string>();
  for (const [id, doc] of s.es.docs.get(INDEX)!) {
    const dash = id.lastIndexOf('-');
    prefixes.add(id.slice(0, dash));
    assert.equal(id.slice(dash + 1), String((doc['log'] as Record<string, unknown>)['offset']), `id ${id} and its document's offset`);
  }
  assert.equal(prefixes.size, 1, 'one file, one identity');
  assert.ok([...s.es.createAttempts.values()].every((n) => n === 1), 'no record was sent twice');
});

test('SIGKILL mid-stream, then restart: nothing lost, nothing stored twice', async () => {
  const s = await djangoScenario();
  const file = join(s.logs, 'django.log');
  // The agent follows the file before the writer starts: files rotated away before its first scan would be
  // invisible to a config that names only django.log, and that would be the test's doing, not the agent's.
  writeFileSync(file, '');
  let agent = startAgent(s.config);
  await waitFor(() => agent.logs.some((l) => l['msg'] === 'logship starting'), 10_000, 'the agent to start');
  await new Promise((r) => setTimeout(r, 500));
  const writer = runPythonWriter([file, '--count', '20000', '--rate', '4000', '--max-bytes', '400000', '--backups', '20']);
  await waitFor(() => s.es.count(INDEX) >= 3000, 30_000, 'the first 3000 documents').catch((err: unknown) => {
    agent.signal('SIGKILL');
    throw err;
  });
  agent.signal('SIGKILL');
  await agent.exited();
  await new Promise((r) => setTimeout(r, 500));
  agent = startAgent(s.config);
  await writer;
  await waitFor(() => s.es.count(INDEX) >= 20000, 60_000, '20000 documents');
  await new Promise((r) => setTimeout(r, 500)); // anything extra would show up now
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  assert.equal(checkExactlyOnce(seqsOf(s.stored()), 20000), null);
});

test('Elasticsearch down for seconds, then back: every record arrives once', async () => {
  const s = await djangoScenario();
  const file = join(s.logs, 'django.log');
  appendSeqLines(file, 0, 500);
  const agent = startAgent(s.config);
  await waitFor(() => s.es.count(INDEX) >= 500, 30_000, '500 documents');
  await s.es.stop();
  appendSeqLines(file, 500, 3000);
  await new Promise((r) => setTimeout(r, 3000));
  assert.ok(agent.logs.some((l) => l['msg'] === 'send failed, will retry'), 'the outage was noticed');
  await s.es.start();
  await waitFor(() => s.es.count(INDEX) >= 3000, 30_000, '3000 documents');
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  assert.equal(checkExactlyOnce(seqsOf(s.stored()), 3000), null);
});

test('10% of items answered 429: only those are retried, every record arrives once', async () => {
  const s = await djangoScenario();
  s.es.itemRejectRate = 0.1;
  appendSeqLines(join(s.logs, 'django.log'), 0, 5000);
  const { code } = await runOnce(s.config);
  assert.equal(code, 0);
  assert.equal(checkExactlyOnce(seqsOf(s.stored()), 5000), null);
  assert.ok(s.es.stats.items > 5000 && s.es.stats.items < 6000, `retried only the rejected items (${s.es.stats.items} items sent)`);
});

test('mapping errors go to dead letters with the reason; the rest is stored; nothing lost', async () => {
  const s = await djangoScenario();
  s.es.mappingErrorWhen((doc) => /seq=\d*7 /.test(String(doc['message'])), 'django.status_code');
  appendSeqLines(join(s.logs, 'django.log'), 0, 1000);
  const { code } = await runOnce(s.config);
  assert.equal(code, 0);
  const deadFile = join(s.dir, 'data', 'dead_letters.ndjson');
  assert.ok(existsSync(deadFile));
  const dead = readNdjson(deadFile);
  assert.equal(dead.length, 100);
  assert.match(dead[0]!['reason'], /^400 mapper_parsing_exception/);
  const all = [...seqsOf(s.stored()), ...seqsOf(dead.map((d) => d['document']['message']))];
  assert.equal(checkExactlyOnce(all, 1000), null);
  assert.ok(seqsOf(dead.map((d) => d['document']['message'])).every((n) => n % 10 === 7));
  // The operator sees them in `logship status`.
  const status = spawnSync(process.execPath, [CLI, 'status', '--config', s.config], { encoding: 'utf8' });
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`dead letters: 100 in ${deadFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} — 100× 400 mapper_parsing_exception$`, 'm'));
});
