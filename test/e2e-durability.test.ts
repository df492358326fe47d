/**
 * End to end, through the built CLI: what a crash repeats on sinks that cannot deduplicate (CloudWatch Logs, file),
 * and stops that must not repeat or lose anything (SIGHUP). The writer is Python's RotatingFileHandler at 2,000
 * lines/s; the agent is killed with SIGKILL mid-run and restarted; every copy of a record is counted.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAST, runOnce, runPythonWriter, seqsOf, StartedAgents, tempDir, type AgentProcess, waitFor, writeConfig } from './support/agent.js';
import { startCloudWatchServer, TEST_AWS_ENV, TEST_REGION, type CloudWatchServerHandle } from './support/cloudwatch-server.js';

Object.assign(process.env, TEST_AWS_ENV);

const GROUP = '/accreditrack/django';
/** batch.max_events in these tests: the bound on what a crash may repeat per log. */
const BATCH = 200;
const RATE = 2000;
const COUNT = 14_000;
/** Delivery as by default (4 batches in flight, 8 pending): the lanes, not a lack of concurrency, keep the bound. */
const CONFIG = {
  ...FAST,
  batch: { max_events: BATCH, max_bytes: 1_048_576, flush_interval_ms: 200 },
  delivery: { concurrency: 4, max_pending_batches: 8, retry: { initial_backoff: '100ms', max_backoff: '1s' } },
};

const servers: CloudWatchServerHandle[] = [];
const agents = new StartedAgents();
after(async () => {
  agents.killRunning();
  await Promise.all(servers.map((s) => s.close()));
});

function agentFor(config: string, args: string[] = []): AgentProcess {
  return agents.start(config, args);
}

/** Copies beyond the first, per key. */
function repeats(keys: Iterable<string | number>): { records: number; copies: number } {
  const counts = new Map<string | number, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  let records = 0;
  let copies = 0;
  for (const n of counts.values()) {
    if (n > 1) {
      records++;
      copies += n - 1;
    }
  }
  return { records, copies };
}

/**
 * Start the agent on an empty django.log, run the writer at RATE, SIGKILL the agent once `killAt` records are
 * delivered, restart it, and wait until all COUNT arrived. `delivered()` counts what the sink holds (every copy).
 */
async function killMidRun(config: string, file: string, delivered: () => number, unique: () => number, killAt: number): Promise<void> {
  writeFileSync(file, '');
  let agent = agentFor(config);
  await waitFor(() => agent.logs.some((l) => l['msg'] === 'logship starting'), 10_000, 'the agent to start');
  await new Promise((r) => setTimeout(r, 500));
  const writer = runPythonWriter([file, '--count', String(COUNT), '--rate', String(RATE), '--max-bytes', '400000', '--backups', '20']);
  await waitFor(() => delivered() >= killAt, 30_000, `the first ${killAt} records`);
  agent.signal('SIGKILL');
  await agent.exited();
  await new Promise((r) => setTimeout(r, 300)); // a request that reached the sink before the kill is stored by now
  agent = agentFor(config);
  await writer;
  await waitFor(() => unique() >= COUNT, 60_000, `${COUNT} unique records`);
  await new Promise((r) => setTimeout(r, 500)); // anything extra would show up now
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
}

test(`CloudWatch Logs, SIGKILL at ${RATE} lines/s: a crash repeats at most one batch per stream`, async (t) => {
  const dir = tempDir('logship-dur-cw-');
  mkdirSync(join(dir, 'logs'));
  const file = join(dir, 'logs', 'django.log');
  const cw = await startCloudWatchServer();
  servers.push(cw);
  const config = writeConfig(dir, {
    data_dir: join(dir, 'data'),
    host_name: 'web-1',
    ...CONFIG,
    // Long on purpose: the timer is what deduplicating sinks rely on; here no acknowledgement may wait for it (with
    // the timer alone, a kill would repeat up to 5 s of records: ~10,000 at this rate).
    checkpoint_interval: '5s',
    inputs: [{ type: 'django', paths: [file] }],
    sink: { type: 'cloudwatch', region: TEST_REGION, log_group: GROUP, log_stream: '{host}/{file}', endpoint: cw.url },
  });
  const docs = (): { message: string; event: { id: string } }[] => cw.events(GROUP).map((e) => JSON.parse(e.message) as { message: string; event: { id: string } });
  await killMidRun(config, file, () => cw.events(GROUP).length, () => new Set(seqsOf(docs().map((d) => d.message))).size, 5000);

  const streams = [...cw.groups.get(GROUP)!.streams.keys()];
  assert.deepEqual(streams, ['web-1/django.log']);
  for (const stream of streams) {
    const stored = cw.events(GROUP, stream).map((e) => JSON.parse(e.message) as { message: string; event: { id: string } });
    const seqs = new Set(seqsOf(stored.map((d) => d.message)));
    assert.equal(seqs.size, COUNT, 'nothing lost');
    const { records, copies } = repeats(stored.map((d) => d.event.id));
    t.diagnostic(`CloudWatch stream ${stream}: ${stored.length} events stored for ${COUNT} records, ${records} records stored twice (${copies} extra copies); bound: one batch = ${BATCH}`);
    assert.ok(copies <= BATCH, `${copies} copies repeated in ${stream}, more than one batch (${BATCH})`);
  }
});

test(`file sink, SIGKILL at ${RATE} lines/s: a crash repeats at most one batch`, async (t) => {
  const dir = tempDir('logship-dur-file-');
  mkdirSync(join(dir, 'logs'));
  const file = join(dir, 'logs', 'django.log');
  const out = join(dir, 'out', 'logship.ndjson');
  const config = writeConfig(dir, {
    data_dir: join(dir, 'data'),
    host_name: 'web-1',
    ...CONFIG,
    checkpoint_interval: '5s', // as above: acknowledgements must not wait for the timer
    inputs: [{ type: 'django', paths: [file] }],
    sink: { type: 'file', path: out, max_bytes: 1_000_000_000 },
  });
  const messages = (): string[] => (existsSync(out) ? readFileSync(out, 'utf8') : '').split('\n').filter((l) => l.endsWith('}')).map((l) => (JSON.parse(l) as { message: string }).message);
  await killMidRun(config, file, () => messages().length, () => new Set(seqsOf(messages())).size, 5000);
  const seqs = seqsOf(messages());
  assert.equal(new Set(seqs).size, COUNT, 'nothing lost');
  const { records, copies } = repeats(seqs);
  t.diagnostic(`file sink: ${seqs.length} lines written for ${COUNT} records, ${records} records written twice (${copies} extra copies); bound: one batch = ${BATCH}`);
  assert.ok(copies <= BATCH, `${copies} copies repeated, more than one batch (${BATCH})`);
});

test('SIGHUP is a graceful stop: flushed, checkpointed, exit 0; the next run sends nothing again', async () => {
  const dir = tempDir('logship-dur-hup-');
  mkdirSync(join(dir, 'logs'));
  const file = join(dir, 'logs', 'django.log');
  const out = join(dir, 'out.ndjson');
  const config = writeConfig(dir, {
    data_dir: join(dir, 'data'),
    ...FAST,
    inputs: [{ type: 'django', paths: [file] }],
    sink: { type: 'file', path: out },
  });
  await runPythonWriter([file, '--count', '3000']);
  const agent = agentFor(config);
  const lines = (): string[] => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter((l) => l !== '') : []);
  await waitFor(() => lines().length >= 3000, 30_000, '3000 records');
  agent.signal('SIGHUP');
  assert.equal(await agent.exited(), 0, 'exit 0, not killed by the signal (129)');
  assert.ok(agent.logs.some((l) => l['msg'] === 'signal received' && l['signal'] === 'SIGHUP'));
  assert.ok(agent.logs.some((l) => l['msg'] === 'logship stopped'));
  const registry = JSON.parse(readFileSync(join(dir, 'data', 'registry.json'), 'utf8')) as { checkpoints: { offset: number }[] };
  assert.equal(registry.checkpoints[0]!.offset, readFileSync(file).length, 'checkpointed to the end');
  const again = await runOnce(config);
  assert.equal(again.code, 0);
  assert.equal(lines().length, 3000, 'nothing sent again');
});

test('a registry entry with an impossible value does not stop the start: set aside, its file read again, the others kept', async () => {
  const dir = tempDir('logship-dur-reg-');
  mkdirSync(join(dir, 'logs'));
  mkdirSync(join(dir, 'data'));
  const a = join(dir, 'logs', 'a.log');
  const b = join(dir, 'logs', 'b.log');
  const out = join(dir, 'out.ndjson');
  const config = writeConfig(dir, {
    data_dir: join(dir, 'data'),
    ...FAST,
    inputs: [{ type: 'django', paths: [join(dir, 'logs', '*.log')] }],
    sink: { type: 'file', path: out },
  });
  await runPythonWriter([a, '--count', '50']);
  await runPythonWriter([b, '--count', '50', '--start', '50']);
  assert.equal((await runOnce(config)).code, 0);
  const registryFile = join(dir, 'data', 'registry.json');
  const registry = JSON.parse(readFileSync(registryFile, 'utf8')) as { checkpoints: Record<string, unknown>[] };
  const entryOfA = registry.checkpoints.find((c) => c['path'] === a)!;
  entryOfA['fingerprintBytes'] = 1e12; // made every start fail with ERR_OUT_OF_RANGE
  writeFileSync(registryFile, JSON.stringify(registry));
  const { code, logs } = await runOnce(config);
  assert.equal(code, 0);
  assert.ok(logs.some((l) => l['msg'] === 'registry entry invalid: set aside, its file is read as a new one' && String(l['reason']).startsWith('fingerprintBytes')));
  const seqs = seqsOf(readFileSync(out, 'utf8').split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { message: string }).message));
  // a.log is read again from its start (its checkpoint was unusable); b.log keeps its checkpoint: not sent again.
  assert.equal(seqs.length, 150);
  assert.equal(seqs.filter((s) => s < 50).length, 100);
  assert.equal(seqs.filter((s) => s >= 50).length, 50);
});
