/**
 * End to end against the test CloudWatch Logs server (awsJson1.1, SigV4-checked, real PutLogEvents limits), through
 * the built CLI and the real @aws-sdk/client-cloudwatch-logs client. The agent gets test credentials from its
 * environment (the SDK's default provider chain), AWS_EC2_METADATA_DISABLED=true and an endpoint on 127.0.0.1:
 * nothing leaves loopback. Each test counts unique records written vs. stored (+ dead letters).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkExactlyOnce, FAST, readNdjson, runOnce, runPythonWriter, seqsOf, StartedAgents, tempDir, type AgentProcess, waitFor, writeConfig } from './support/agent.js';
import { startCloudWatchServer, TEST_AWS_ENV, TEST_REGION, type CloudWatchServerHandle } from './support/cloudwatch-server.js';

// startAgent passes process.env to the agent: the SDK's default chain finds these and nothing else.
Object.assign(process.env, TEST_AWS_ENV);

const GROUP = '/accreditrack/django';
const HOUR = 3600_000;
const DAY = 24 * HOUR;

interface StoredDoc {
  '@timestamp': string;
  message: string;
  log: Record<string, any>;
  error?: Record<string, any>;
  django?: Record<string, any>;
  event: { id: string };
  tags?: string[];
}

interface CwScenario {
  readonly dir: string;
  readonly file: string;
  readonly cw: CloudWatchServerHandle;
  readonly config: string;
  docs(): StoredDoc[];
  /** Unique seq numbers stored. */
  uniqueSeqs(): Set<number>;
}

const open: CloudWatchServerHandle[] = [];
const agents = new StartedAgents();
after(async () => {
  agents.killRunning();
  await Promise.all(open.map((s) => s.close()));
});

function agentFor(config: string): AgentProcess {
  return agents.start(config);
}

async function cwScenario(sink: Record<string, unknown> = {}): Promise<CwScenario> {
  const dir = tempDir('logship-cw-');
  mkdirSync(join(dir, 'logs'));
  const file = join(dir, 'logs', 'django.log');
  const cw = await startCloudWatchServer();
  open.push(cw);
  const config = writeConfig(dir, {
    data_dir: join(dir, 'data'),
    host_name: 'web-1',
    ...FAST,
    inputs: [{ type: 'django', paths: [file] }],
    sink: {
      type: 'cloudwatch',
      region: TEST_REGION,
      log_group: GROUP,
      log_stream: '{host}/{file}',
      create_group: true,
      retention_days: 30,
      endpoint: cw.url,
      ...sink,
    },
  });
  const docs = (): StoredDoc[] => cw.events(GROUP).map((e) => JSON.parse(e.message) as StoredDoc);
  const uniqueSeqs = (): Set<number> => new Set(seqsOf(docs().map((d) => d.message).filter((m) => m !== 'warm-up')));
  return { dir, file, cw, config, docs, uniqueSeqs };
}

/** Django JSON lines "line seq=N" written now (or at `at`), in this machine's zone as Python's asctime is. */
function appendLines(path: string, from: number, to: number, at: (seq: number) => number = () => Date.now()): void {
  let body = '';
  for (let i = from; i < to; i++) {
    body += JSON.stringify({ asctime: asctime(at(i)), levelname: 'INFO', name: 'test', message: `line seq=${i}` }) + '\n';
  }
  appendFileSync(path, body);
}

function asctime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`;
}

test('a real Django logger through the built CLI: every record once, one stream per file, ECS fields queryable', async () => {
  const s = await cwScenario();
  const agent = agentFor(s.config);
  await runPythonWriter([s.file, '--count', '3000', '--rate', '3000', '--traceback-every', '100']);
  await waitFor(() => s.cw.events(GROUP).length >= 3000, 30_000, '3000 events');
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  const docs = s.docs();
  assert.equal(checkExactlyOnce(seqsOf(docs.map((d) => d.message)), 3000), null);
  assert.equal(new Set(docs.map((d) => d.event.id)).size, 3000);
  assert.deepEqual([...s.cw.groups.get(GROUP)!.streams.keys()], ['web-1/django.log']);
  assert.equal(s.cw.groups.get(GROUP)!.retentionInDays, 30);
  assert.ok(!s.cw.requests.some((r) => r.error === 'InvalidParameterException' || r.operation === 'DescribeLogStreams'));

  const error = docs.find((d) => d.message.includes('seq=100 '))!;
  assert.equal(error.log['level'], 'ERROR');
  assert.equal(error.log['logger'], 'django.request');
  assert.equal(error.log['file']['path'], s.file);
  assert.match(String(error.error?.['stack_trace']), /^Traceback \(most recent call last\):[\s\S]*ValueError: bad value for seq=100$/);
  assert.equal(error.django?.['status_code'], 500);
  // The event timestamp is the record's @timestamp.
  const stored = s.cw.events(GROUP).find((e) => e.message.includes('seq=100 '))!;
  assert.equal(stored.timestamp, Date.parse(error['@timestamp']));
  assert.ok(!agent.logs.some((l) => l['unparsed']), 'the agent log stays JSON lines (no SDK warning text)');
  assert.ok(!JSON.stringify(agent.logs).includes(TEST_AWS_ENV['AWS_SECRET_ACCESS_KEY']!), 'no secret in the log');
});

test('throttling bursts and a missing group: retried with backoff, every record once', async () => {
  const s = await cwScenario();
  appendLines(s.file, 0, 1000);
  const agent = agentFor(s.config);
  await waitFor(() => s.cw.events(GROUP).length >= 1000, 30_000, '1000 events');
  s.cw.throttleNext(10);
  appendLines(s.file, 1000, 4000);
  await waitFor(() => s.cw.events(GROUP).length >= 4000, 30_000, '4000 events');
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  assert.equal(s.cw.requests.filter((r) => r.error === 'ThrottlingException').length, 10);
  assert.ok(agent.logs.some((l) => l['msg'] === 'send failed, will retry' && /ThrottlingException/.test(String(l['reason']))));
  assert.ok(agent.logs.some((l) => l['msg'] === 'created CloudWatch log group'));
  assert.equal(checkExactlyOnce(seqsOf(s.docs().map((d) => d.message)), 4000), null);
});

test('SIGTERM then restart: nothing stored twice', async () => {
  const s = await cwScenario();
  appendLines(s.file, 0, 2000);
  let agent = agentFor(s.config);
  await waitFor(() => s.cw.events(GROUP).length >= 2000, 30_000, '2000 events');
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  appendLines(s.file, 2000, 3000);
  agent = agentFor(s.config);
  await waitFor(() => s.cw.events(GROUP).length >= 3000, 30_000, '3000 events');
  await new Promise((r) => setTimeout(r, 300)); // anything extra would show up now
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  assert.equal(checkExactlyOnce(seqsOf(s.docs().map((d) => d.message)), 3000), null);
});

test('SIGKILL mid-stream, then restart: nothing lost; what is stored twice was stored before the kill', async (t) => {
  const s = await cwScenario();
  // The agent follows django.log before the writer starts: a generation rotated away before the agent first saw the
  // path is not one it was asked to follow (the writer rotates about every second here).
  appendFileSync(s.file, JSON.stringify({ asctime: asctime(Date.now()), levelname: 'INFO', name: 'test', message: 'warm-up' }) + '\n');
  let agent = agentFor(s.config);
  await waitFor(() => s.cw.events(GROUP).length >= 1, 30_000, 'the warm-up event');
  const writer = runPythonWriter([s.file, '--count', '20000', '--rate', '4000', '--max-bytes', '400000', '--backups', '20']);
  await waitFor(() => s.cw.events(GROUP).length >= 3000, 30_000, 'the first 3000 events');
  agent.signal('SIGKILL');
  await agent.exited();
  await new Promise((r) => setTimeout(r, 300)); // a request that reached the server before the kill is stored by now
  const beforeKill = new Set(s.docs().map((d) => d.event.id));
  agent = agentFor(s.config);
  await writer;
  await waitFor(() => s.uniqueSeqs().size >= 20000, 60_000, '20000 unique records').catch((err: unknown) => {
    const have = s.uniqueSeqs();
    const missing = Array.from({ length: 20000 }, (_, i) => i).filter((i) => !have.has(i));
    throw new Error(`${(err as Error).message}: ${missing.length} missing (${missing.slice(0, 10).join(',')}…${missing.slice(-3).join(',')})`);
  });
  await new Promise((r) => setTimeout(r, 500)); // anything extra would show up now
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);

  const docs = s.docs().filter((d) => d.message !== 'warm-up');
  const seqs = seqsOf(docs.map((d) => d.message));
  const unique = new Set(seqs);
  const lost = Array.from({ length: 20000 }, (_, i) => i).filter((i) => !unique.has(i));
  assert.deepEqual(lost, [], 'no record lost');
  assert.ok([...unique].every((n) => n >= 0 && n < 20000));
  const ids = docs.map((d) => d.event.id);
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  const twice = [...counts].filter(([, n]) => n > 1);
  // Checkpoints move only for acknowledged records, so after the restart only what was sent before the kill (and
  // stored, or in flight) is sent again, and once: a record stored twice that was not stored before the kill, or
  // stored three times, would be the agent sending the same bytes twice in one run.
  const unexpected = twice.filter(([id, n]) => n !== 2 || !beforeKill.has(id));
  assert.equal(unexpected.length, 0, `sent again beyond what the kill explains: ${JSON.stringify(unexpected.slice(0, 5))}`);
  assert.equal(new Set(ids).size, unique.size, 'the same seq is always the same record id');
  assert.deepEqual([...s.cw.groups.get(GROUP)!.streams.keys()], ['web-1/django.log'], 'rotated generations go to the stream of their file');
  t.diagnostic(`SIGKILL: ${beforeKill.size} events stored before the kill, ${ids.length} stored in all for 20000 records: ${twice.length} records stored twice (at least once: CloudWatch cannot deduplicate; event.id names them)`);
});

test('what CloudWatch cannot take: too old to the dead letters, too new sent at the send time; in = stored + dead', async () => {
  const s = await cwScenario();
  const now = Date.now();
  appendLines(s.file, 0, 300, (i) => (i % 10 === 3 ? now - 20 * DAY : i % 10 === 7 ? now + 5 * HOUR : now - HOUR));
  const { code } = await runOnce(s.config);
  assert.equal(code, 0);
  const deadFile = join(s.dir, 'data', 'dead_letters.ndjson');
  assert.ok(existsSync(deadFile));
  const dead = readNdjson(deadFile);
  assert.equal(dead.length, 30);
  assert.ok(dead.every((d) => d['sink'] === 'cloudwatch' && /^too old for CloudWatch Logs: @timestamp .* is more than 14 days before the send time$/.test(d['reason'])));
  const deadSeqs = seqsOf(dead.map((d) => d['document']['message']));
  assert.ok(deadSeqs.every((n) => n % 10 === 3));
  const docs = s.docs();
  assert.equal(checkExactlyOnce([...seqsOf(docs.map((d) => d.message)), ...deadSeqs], 300), null);
  const ahead = docs.filter((d) => d.tags?.includes('_logship_timestamp_clamped'));
  assert.deepEqual(seqsOf(ahead.map((d) => d.message)).sort((a, b) => a - b), Array.from({ length: 30 }, (_, k) => k * 10 + 7));
  assert.ok(!s.cw.requests.some((r) => r.error === 'InvalidParameterException'));
});

test('access denied stops the agent (exit 2, checkpoints kept); with the permission back, every record once', async () => {
  const s = await cwScenario();
  appendLines(s.file, 0, 500);
  s.cw.deny('PutLogEvents');
  const denied = await runOnce(s.config);
  assert.equal(denied.code, 2);
  const failed = denied.logs.find((l) => l['msg'] === 'delivery failed');
  assert.match(String(failed?.['reason']), /AccessDeniedException: .*logs:PutLogEvents.*the credentials lack a permission/);
  assert.equal(s.cw.events(GROUP).length, 0);
  s.cw.deny(null);
  const again = await runOnce(s.config);
  assert.equal(again.code, 0);
  assert.equal(checkExactlyOnce(seqsOf(s.docs().map((d) => d.message)), 500), null);
});
