/**
 * Issue #11 §1 and §3b, end to end through the built CLI, with Python's own RotatingFileHandler writing: a sink outage
 * while Django rotates (generations renamed, shifted and deleted while reading is paused), max_open_files too small
 * for that (the loss must be exactly what is counted and logged), and a first generation that rotates before the
 * agent ever looked at its path.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { checkExactlyOnce, CLI, runPythonWriter, seqsOf, StartedAgents, waitFor, type AgentProcess } from './support/agent.js';
import { INDEX, scenario, type Scenario } from './support/scenario.js';

const open: Scenario[] = [];
const agents = new StartedAgents();
after(async () => {
  agents.killRunning();
  await Promise.all(open.map((s) => s.close()));
});

async function djangoScenario(extra: Record<string, unknown> = {}): Promise<Scenario> {
  const s = await scenario((logs) => [{ type: 'django', paths: [join(logs, 'django.log')], timezone: 'UTC' }], extra);
  open.push(s);
  return s;
}

function start(s: Scenario): AgentProcess {
  return agents.start(s.config);
}

/**
 * Waits until the agent has prepared its sink. The outage must begin after that: a server stopped under the agent's
 * first request leaves that request to time out (request_timeout) rather than fail at once, and these tests are about
 * an outage while files rotate, not a sink never reached.
 */
async function sinkConnected(agent: AgentProcess): Promise<void> {
  await waitFor(() => agent.logs.some((l) => l['msg'] === 'connected to Elasticsearch'), 15_000, 'the sink prepared');
}

/** The agent's /metrics URL, once it logged it. */
async function metricsUrl(agent: AgentProcess): Promise<string> {
  await waitFor(() => agent.logs.some((l) => l['msg'] === 'monitoring listening'), 15_000, 'the monitoring server');
  return String(agent.logs.find((l) => l['msg'] === 'monitoring listening')!['metrics']);
}

async function metric(url: string, series: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** seq → bytes that record took in the file, as the writer noted them (--ledger). */
function recordSizes(path: string): Map<number, number> {
  const sizes = new Map<number, number>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const [seq, bytes] = line.split(' ');
    if (seq && bytes) sizes.set(Number(seq), Number(bytes));
  }
  return sizes;
}

/** Waits until `n` documents are stored, or until the count stopped moving for `quietMs`. */
async function settle(s: Scenario, n: number, timeoutMs: number, quietMs = 4000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let lastChange = Date.now();
  while (Date.now() < deadline && s.es.count(INDEX) < n) {
    const c = s.es.count(INDEX);
    if (c !== last) {
      last = c;
      lastChange = Date.now();
    } else if (Date.now() - lastChange >= quietMs) {
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopped(agent: AgentProcess): Promise<Record<string, unknown>> {
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0, 'exit code after SIGTERM');
  return agent.logs.find((l) => l['msg'] === 'logship stopped')!;
}

// ~330-byte lines, 64 KB files: a rotation every ~0.4 s at 500 lines/s; with 3 backups each generation is deleted
// about 1.6 s after it was rotated away — while Elasticsearch refuses connections for the whole 12 s of writing.
const OUTAGE_WRITER = ['--count', '6000', '--rate', '500', '--max-bytes', '64000', '--backups', '3', '--pad', '100'];

test('Elasticsearch down while Django rotates and deletes generations: every record arrives once, none lost', async () => {
  const s = await djangoScenario();
  const agent = start(s);
  const url = await metricsUrl(agent);
  await sinkConnected(agent);
  await s.es.stop();
  let heldDeleted = 0;
  const seen: string[] = [];
  const writing = runPythonWriter([join(s.logs, 'django.log'), ...OUTAGE_WRITER]);
  let done = false;
  void writing.finally(() => (done = true));
  while (!done) {
    // Generations deleted while the sink is down stay open (and their disk space with them) until read.
    const deleted = await metric(url, 'logship_files_open{state="deleted"}');
    heldDeleted = Math.max(heldDeleted, deleted);
    seen.push(`${deleted}/${await metric(url, 'logship_files_open{state="rotated"}')}/${await metric(url, 'logship_queue_batches')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  await writing;
  assert.ok(heldDeleted >= 1, `deleted generations were held open during the outage (deleted/rotated/queue: ${seen.join(' ')})`);
  await s.es.start();
  await settle(s, 6000, 60_000);
  const summary = await stopped(agent);
  assert.equal(checkExactlyOnce(seqsOf(s.stored()), 6000), null);
  assert.equal(summary['lost_bytes'], 0);
  assert.ok(Number(summary['rotations']) >= 20, `rotations seen: ${summary['rotations']}`);
});

test('max_open_files too small for an outage: the records lost are exactly the bytes counted and logged as lost', async () => {
  const s = await djangoScenario({ max_open_files: 3 });
  const sizesFile = join(s.dir, 'sizes.txt');
  const agent = start(s);
  const url = await metricsUrl(agent);
  await sinkConnected(agent);
  await s.es.stop();
  // 5 backups here: a generation waits ~2 s beside the log before it is deleted, time for the scans to see its final
  // size (the loss counted is the size the agent last saw: a file it never opened is known by its stats only).
  await runPythonWriter([join(s.logs, 'django.log'), ...OUTAGE_WRITER.map((a, i, all) => (all[i - 1] === '--backups' ? '5' : a)), '--ledger', sizesFile]);
  await s.es.start();
  await settle(s, 6000, 60_000);
  const lostMetric = await metric(url, 'logship_rotation_lost_bytes_total{reason="deleted_before_open"}');
  const summary = await stopped(agent);

  const seqs = seqsOf(s.stored());
  const stored = new Set(seqs);
  assert.equal(seqs.length, stored.size, 'nothing stored twice');
  const sizes = recordSizes(sizesFile);
  const missing = [...sizes.keys()].filter((q) => !stored.has(q));
  const missingBytes = missing.reduce((sum, q) => sum + sizes.get(q)!, 0);
  const warned = agent.logs.filter((l) => l['msg'] === 'bytes lost: a file could not be read to its end');
  const warnedBytes = warned.reduce((sum, l) => sum + Number(l['lost_bytes']), 0);
  assert.ok(missing.length > 0, 'three descriptors cannot hold the generations of this outage');
  assert.equal(warnedBytes, missingBytes, `the warnings name ${warnedBytes} bytes; the ${missing.length} records missing took ${missingBytes}`);
  assert.equal(summary['lost_bytes'], missingBytes, 'the stop summary counts them');
  assert.equal(lostMetric, missingBytes, 'and so does the metric');
  for (const w of warned) assert.match(String(w['path']), /django\.log(\.\d)?$/, 'each warning names the file');
  // logship status shows them too (from the registry).
  const status = spawnSync(process.execPath, [CLI, 'status', '--config', s.config, '--json'], { encoding: 'utf8' });
  assert.equal(status.status, 0, status.stderr);
  const losses = (JSON.parse(status.stdout) as { losses: { bytes: number; reason: string }[] }).losses;
  assert.equal(losses.reduce((sum, l) => sum + l.bytes, 0), missingBytes, 'logship status lists the same losses');
});

test('a first generation that rotates before the agent looked at its path is read (RotatingFileHandler at 1,000 lines/s)', async () => {
  const s = await djangoScenario({ scan_interval: '1s' });
  const agent = start(s);
  await waitFor(() => agent.logs.some((l) => l['msg'] === 'a path pattern matches no file'), 15_000, 'the agent to look once');
  // ~230-byte lines, 200 KB files: the first file rotates after ~0.85 s, before the agent's next look.
  await runPythonWriter([join(s.logs, 'django.log'), '--count', '3000', '--rate', '1000', '--max-bytes', '200000', '--backups', '5']);
  await settle(s, 3000, 30_000);
  const summary = await stopped(agent);
  assert.equal(checkExactlyOnce(seqsOf(s.stored()), 3000), null);
  assert.equal(summary['lost_bytes'], 0);
});

test('rotated generations still waiting for a descriptor at a stop are read after the restart, not taken for history', async () => {
  const s = await djangoScenario({ max_open_files: 2 });
  const agent = start(s);
  await metricsUrl(agent);
  await sinkConnected(agent);
  await s.es.stop();
  // 3,000 records into 64 KB files, 20 backups: ~15 generations, none deleted; two descriptors cannot hold them.
  await runPythonWriter([join(s.logs, 'django.log'), '--count', '3000', '--rate', '1000', '--max-bytes', '64000', '--backups', '20', '--pad', '100']);
  await new Promise((r) => setTimeout(r, 1000)); // a scan or two: every generation seen
  await stopped(agent);
  const registry = JSON.parse(readFileSync(join(s.dir, 'data', 'registry.json'), 'utf8')) as { checkpoints: { fingerprintBytes: number }[] };
  assert.ok(registry.checkpoints.some((c) => c.fingerprintBytes === 0), 'generations seen and not read yet are in the registry');
  await s.es.start();
  const again = start(s);
  await settle(s, 3000, 60_000);
  const summary = await stopped(again);
  assert.equal(checkExactlyOnce(seqsOf(s.stored()), 3000), null);
  assert.equal(summary['lost_bytes'], 0);
});
