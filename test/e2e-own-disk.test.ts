/**
 * End to end, through the built CLI: the agent's own disk (data_dir full: a real tmpfs filled to ENOSPC), the
 * permissions of what it creates, and the exit codes of `run --once` and of a stop before the sink is ready.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FAST, readNdjson, runOnce, runPythonWriter, seqsOf, StartedAgents, tempDir, type AgentProcess, waitFor, writeConfig } from './support/agent.js';
import { startCloudWatchServer, TEST_AWS_ENV, TEST_REGION, type CloudWatchServerHandle } from './support/cloudwatch-server.js';
import { startEsServer, type EsServerHandle } from './support/es-server.js';
import { mountSmallDisk } from './support/small-disk.js';

Object.assign(process.env, TEST_AWS_ENV);

const GROUP = '/accreditrack/django';
const DAY = 24 * 3600_000;
const servers: (CloudWatchServerHandle | EsServerHandle)[] = [];
const agents = new StartedAgents();
after(async () => {
  agents.killRunning();
  await Promise.all(servers.map((s) => s.close()));
});

function agentFor(config: string, args: string[] = []): AgentProcess {
  return agents.start(config, args);
}

function asctime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`;
}

/** Django JSON lines seq=from…to-1; every tenth (seq % 10 === 3) 20 days old, which CloudWatch cannot take. */
function appendLines(file: string, from: number, to: number): void {
  let text = '';
  for (let i = from; i < to; i++) {
    const at = i % 10 === 3 ? Date.now() - 20 * DAY : Date.now();
    text += JSON.stringify({ asctime: asctime(at), levelname: 'INFO', name: 'django.request', message: `GET /items/${i} seq=${i}` }) + '\n';
  }
  appendFileSync(file, text);
}

interface Health {
  status: string;
  reasons: string[];
}

async function health(url: string): Promise<{ code: number; body: Health }> {
  const res = await fetch(`${url}/health`);
  return { code: res.status, body: (await res.json()) as Health };
}

test('data_dir full: nothing more acknowledged, /health failing with the reason, reading paused; all resumes when space returns', async (t) => {
  const disk = mountSmallDisk(512);
  if (!disk) return t.skip('needs root to mount a small tmpfs');
  try {
    const dir = tempDir('logship-disk-');
    mkdirSync(join(dir, 'logs'));
    const file = join(dir, 'logs', 'django.log');
    const dataDir = join(disk.dir, 'data');
    const cw = await startCloudWatchServer();
    servers.push(cw);
    const config = writeConfig(dir, {
      data_dir: dataDir,
      host_name: 'web-1',
      ...FAST,
      batch: { max_events: 20, max_bytes: 1_048_576, flush_interval_ms: 100 },
      inputs: [{ type: 'django', paths: [file] }],
      sink: { type: 'cloudwatch', region: TEST_REGION, log_group: GROUP, endpoint: cw.url },
    });
    appendLines(file, 0, 100);
    const agent = agentFor(config);
    await waitFor(() => agent.logs.some((l) => l['msg'] === 'monitoring listening'), 10_000, 'the monitoring server');
    const url = String(agent.logs.find((l) => l['msg'] === 'monitoring listening')!['url']);
    const stored = (): string[] => cw.events(GROUP).map((e) => (JSON.parse(e.message) as { message: string }).message);
    const deadLetters = join(dataDir, 'dead_letters.ndjson');
    const dead = (): number => (existsSync(deadLetters) ? readNdjson(deadLetters).length : 0);
    await waitFor(() => stored().length === 90 && dead() === 10, 20_000, '90 stored and 10 dead letters');
    await waitFor(async () => (await health(url)).code === 200, 10_000, '/health ok');
    // Files the agent created: only its user (and group) may read them.
    assert.equal(statSync(dataDir).mode & 0o777, 0o750);
    assert.equal(statSync(join(dataDir, 'registry.json')).mode & 0o777, 0o600);
    assert.equal(statSync(deadLetters).mode & 0o777, 0o600);

    disk.fill();
    appendLines(file, 100, 200);
    let last: { code: number; body: Health } | null = null;
    await waitFor(async () => (last = await health(url)).code === 503 && last.body.status === 'failing', 15_000, '/health failing');
    const reasons = last!.body.reasons.join('; ');
    assert.match(reasons, /(checkpoints|dead letters) cannot be written .*reading is paused: .*ENOSPC/);
    await waitFor(() => agent.logs.some((l) => /^cannot write (checkpoints|dead letters)/.test(String(l['msg']))), 5_000, 'the error in the log');
    // Paused: no more is sent while nothing more can be made durable (the batch in flight when the disk filled aside).
    const atFault = stored().length;
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(stored().length, atFault, 'nothing more sent while acknowledgements cannot be made durable');
    assert.ok(atFault < 180, `${atFault} stored: reading paused`);
    const registry = JSON.parse(readFileSync(join(dataDir, 'registry.json'), 'utf8')) as { checkpoints: unknown[] };
    assert.equal(registry.checkpoints.length, 1, 'the previous registry is intact');
    assert.deepEqual(readdirSync(dataDir).filter((n) => n.endsWith('.tmp')), [], 'no temp file left behind');

    disk.free();
    await waitFor(() => stored().length >= 180 && dead() >= 20, 20_000, 'the rest once space returned');
    await waitFor(async () => (await health(url)).code === 200, 15_000, '/health ok again');
    assert.ok(agent.logs.some((l) => /written again; reading resumes$/.test(String(l['msg']))));
    agent.signal('SIGTERM');
    assert.equal(await agent.exited(), 0);
    assert.deepEqual(readdirSync(dataDir).filter((n) => n.endsWith('.tmp')), []);

    // Everything acknowledged was durable: a new run sends nothing again, and nothing was stored twice.
    assert.equal((await runOnce(config)).code, 0);
    const seqs = seqsOf(stored());
    assert.equal(seqs.length, 180);
    assert.equal(new Set(seqs).size, 180);
    const deadSeqs = seqsOf(readNdjson(deadLetters).map((d) => String(d['document']['message'])));
    assert.equal(new Set(deadSeqs).size, 20);
    assert.equal(deadSeqs.length, 20, 'no dead letter written twice');
    assert.ok(deadSeqs.every((s) => s % 10 === 3));
  } finally {
    disk.unmount();
  }
});

test('run --once with the sink unreachable: retry.max_attempts is honoured at start, exit 2 with the reason', async () => {
  const dir = tempDir('logship-once-');
  const file = join(dir, 'django.log');
  appendLines(file, 0, 10);
  const config = writeConfig(dir, {
    data_dir: join(dir, 'data'),
    ...FAST,
    delivery: { retry: { initial_backoff: '100ms', max_backoff: '200ms', max_attempts: 3 } },
    inputs: [{ type: 'django', paths: [file] }],
    sink: { type: 'elasticsearch', node: 'http://127.0.0.1:1' },
  });
  const started = Date.now();
  const { code, logs } = await runOnce(config);
  assert.equal(code, 2);
  assert.ok(Date.now() - started < 15_000);
  assert.equal(logs.filter((l) => l['msg'] === 'sink not ready, retrying').length, 2);
  const failed = logs.find((l) => l['msg'] === 'delivery failed');
  assert.match(String(failed?.['reason']), /^sink not ready after 3 attempts \(delivery\.retry\.max_attempts\): .*ECONNREFUSED/);
});

test('a signal before the sink is ready stops at once: exit 0 when following, 2 for --once (nothing shipped)', async () => {
  const dir = tempDir('logship-early-');
  const file = join(dir, 'django.log');
  appendLines(file, 0, 10);
  const config = writeConfig(dir, {
    data_dir: join(dir, 'data'),
    ...FAST,
    shutdown_timeout: '30s',
    inputs: [{ type: 'django', paths: [file] }],
    sink: { type: 'elasticsearch', node: 'http://127.0.0.1:1' },
  });
  for (const [args, expected] of [[[], 0], [['--once'], 2]] as const) {
    const agent = agentFor(config, [...args]);
    await waitFor(() => agent.logs.some((l) => l['msg'] === 'sink not ready, retrying'), 10_000, 'the first failed attempt');
    const signalled = Date.now();
    agent.signal('SIGTERM');
    const code = await agent.exited();
    const said = agent.logs.filter((l) => l['level'] === 'error' || l['level'] === 'warn').map((l) => JSON.stringify(l));
    assert.equal(code, expected, `exit code of run ${args.join(' ')}; what it said: ${said.join('\n')}`);
    assert.ok(Date.now() - signalled < 3_000, `stopped in ${Date.now() - signalled} ms, not after shutdown_timeout`);
  }
});

test('run --once exits 2, never 0, when records were given up after retries or a signal stopped it early', async () => {
  const es = await startEsServer();
  servers.push(es);
  const dir = tempDir('logship-once2-');
  const file = join(dir, 'django.log');
  await runPythonWriter([file, '--count', '200']);
  const base = { data_dir: join(dir, 'data'), ...FAST, inputs: [{ type: 'django', paths: [file] }], sink: { type: 'elasticsearch', node: es.url } };

  // Every bulk item refused with 429: after max_attempts the records go to the dead letters, and that is no success.
  es.itemRejectRate = 1;
  const config = writeConfig(dir, { ...base, delivery: { retry: { initial_backoff: '50ms', max_backoff: '100ms', max_attempts: 2 } } });
  try {
    const { code, logs } = await runOnce(config);
    assert.equal(code, 2);
    assert.ok(logs.some((l) => l['msg'] === 'delivery incomplete: records dead-lettered after delivery.retry.max_attempts' && l['records'] === 200));
    assert.equal(readNdjson(join(dir, 'data', 'dead_letters.ndjson')).length, 200);
  } finally {
    es.itemRejectRate = 0;
  }

  // A signal while the files are still being read: what was read is shipped, the rest is not: exit 2.
  const big = join(dir, 'big.log');
  await runPythonWriter([big, '--count', '30000']);
  es.delayMs = 200;
  const slow = writeConfig(dir, { ...base, data_dir: join(dir, 'data2'), inputs: [{ type: 'django', paths: [big] }], batch: { max_events: 100, max_bytes: 1_048_576, flush_interval_ms: 100 } }, 'slow.yml');
  const agent = agentFor(slow, ['--once']);
  await waitFor(() => es.count('logs-django-default') > 0, 20_000, 'the first documents');
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 2);
  assert.ok(agent.logs.some((l) => l['msg'] === 'delivery incomplete: stopped by a signal before every file was shipped'));
  es.delayMs = 0;
});

test('run --once with the file sink: output 0640, data_dir 0750, registry 0600, whatever the umask it was started with', async () => {
  const dir = tempDir('logship-modes-');
  const file = join(dir, 'django.log');
  appendLines(file, 0, 5);
  const out = join(dir, 'out', 'logship.ndjson');
  const config = writeConfig(dir, { data_dir: join(dir, 'data'), ...FAST, inputs: [{ type: 'django', paths: [file] }], sink: { type: 'file', path: out } });
  const previous = process.umask(0o000); // the agent sets its own umask (0027): a permissive parent changes nothing
  try {
    assert.equal((await runOnce(config)).code, 0);
  } finally {
    process.umask(previous);
  }
  assert.equal(statSync(out).mode & 0o777, 0o640);
  assert.equal(statSync(join(dir, 'out')).mode & 0o777, 0o750);
  assert.equal(statSync(join(dir, 'data')).mode & 0o777, 0o750);
  assert.equal(statSync(join(dir, 'data', 'registry.json')).mode & 0o777, 0o600);
});
