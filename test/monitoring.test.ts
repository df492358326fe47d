/**
 * /health and /metrics of the built CLI, against the test Elasticsearch: the sink going down and coming back,
 * checkpoints that cannot be written, and the metrics after a known workload. Every agent listens on port 0
 * (`monitoring.listen: 127.0.0.1:0`) and the test reads the address from its log, so tests never collide.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, renameSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkExactlyOnce, seqsOf, startAgent, waitFor, type AgentProcess } from './support/agent.js';
import { appendSeqLines, INDEX, scenario, type Scenario } from './support/scenario.js';

const open: Scenario[] = [];
const agents: AgentProcess[] = [];
after(async () => {
  for (const a of agents) if (a.child.exitCode === null) a.signal('SIGKILL');
  await Promise.all(open.map((s) => s.close()));
});

const UNHEALTHY_AFTER_MS = 1000;

async function monitoredScenario(): Promise<Scenario> {
  const s = await scenario((logs) => [{ type: 'django', paths: [join(logs, 'django.log')], timezone: 'UTC' }], {
    monitoring: { listen: '127.0.0.1:0', unhealthy_after_ms: UNHEALTHY_AFTER_MS },
  });
  open.push(s);
  return s;
}

/** Start the agent and wait for its monitoring address (it logs the real port). */
async function startMonitored(config: string): Promise<{ agent: AgentProcess; url: string }> {
  const agent = startAgent(config);
  agents.push(agent);
  await waitFor(() => agent.logs.some((l) => l['msg'] === 'monitoring listening'), 10_000, 'the monitoring server');
  const url = String(agent.logs.find((l) => l['msg'] === 'monitoring listening')!['url']);
  return { agent, url };
}

interface HealthBody {
  status: string;
  reasons: string[];
  sinks: Record<string, { status: string; last_error: string | null; failing_since: string | null }>;
  inputs: { type: string; files: number; bytes_behind: number }[];
  checkpoints: { status: string; last_error: string | null };
}

async function health(url: string): Promise<{ code: number; body: HealthBody }> {
  const res = await fetch(`${url}/health`);
  return { code: res.status, body: (await res.json()) as HealthBody };
}

async function waitForHealth(url: string, code: number, status: string, what: string): Promise<HealthBody> {
  let last: { code: number; body: HealthBody } | null = null;
  await waitFor(
    async () => {
      last = await health(url);
      return last.code === code && last.body.status === status;
    },
    15_000,
    `${what} (last: ${JSON.stringify(last)})`,
  );
  return last!.body;
}

async function metrics(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

test('/health: sink down → 503 failing with the reason → sink back → 200 ok; nothing lost', async () => {
  const s = await monitoredScenario();
  const file = join(s.logs, 'django.log');
  appendSeqLines(file, 0, 200);
  const { agent, url } = await startMonitored(s.config);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  await waitFor(() => s.es.count(INDEX) >= 200, 15_000, '200 documents');
  const ok = await waitForHealth(url, 200, 'ok', 'healthy while shipping');
  assert.deepEqual(ok.reasons, []);
  assert.equal(ok.sinks['elasticsearch']?.status, 'ok');
  assert.equal(ok.inputs[0]?.files, 1);

  await s.es.stop();
  appendSeqLines(file, 200, 500);
  const down = await waitForHealth(url, 503, 'failing', 'failing while Elasticsearch is down');
  assert.equal(down.sinks['elasticsearch']?.status, 'failing');
  assert.match(down.reasons[0] ?? '', /^sink elasticsearch has failed continuously for \d+s: /);
  assert.ok(down.sinks['elasticsearch']?.last_error, 'the last error is shown');
  assert.ok((down.inputs[0]?.bytes_behind ?? 0) > 0, 'bytes behind while the sink is down');
  assert.ok(agent.logs.some((l) => l['msg'] === 'health changed' && l['to'] === 'failing'), 'the change is logged');

  await s.es.start();
  const back = await waitForHealth(url, 200, 'ok', 'healthy again once Elasticsearch is back');
  assert.equal(back.sinks['elasticsearch']?.failing_since, null);
  await waitFor(() => s.es.count(INDEX) >= 500, 15_000, '500 documents');
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  assert.equal(checkExactlyOnce(seqsOf(s.stored()), 500), null);
});

test('/health: checkpoints that cannot be written → 503 failing, reading paused → writable again → 200, all shipped', async () => {
  const s = await monitoredScenario();
  const file = join(s.logs, 'django.log');
  appendSeqLines(file, 0, 50);
  const { agent, url } = await startMonitored(s.config);
  await waitFor(() => s.es.count(INDEX) >= 50, 15_000, '50 documents');
  await waitForHealth(url, 200, 'ok', 'healthy');

  // The registry is written to registry.json.tmp, then renamed: a directory in its way makes every write fail.
  const blocker = join(s.dir, 'data', 'registry.json.tmp');
  mkdirSync(blocker);
  appendSeqLines(file, 50, 60);
  const failing = await waitForHealth(url, 503, 'failing', 'failing while checkpoints fail');
  assert.match(failing.reasons[0] ?? '', /^checkpoints cannot be written .*reading is paused: .*EISDIR/);
  assert.equal(failing.checkpoints.status, 'failing');
  const m = await metrics(url);
  assert.ok((m.get('logship_checkpoint_write_failures_total') ?? 0) > 0);
  assert.equal(m.get('logship_health_status{status="failing"}'), 1);

  rmdirSync(blocker);
  await waitForHealth(url, 200, 'ok', 'healthy once checkpoints are written again');
  await waitFor(() => s.es.count(INDEX) >= 60, 15_000, 'the 10 lines written while checkpoints failed');
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
});

test('/metrics after a known workload: the counters equal what was written', async () => {
  const s = await monitoredScenario();
  const file = join(s.logs, 'django.log');
  const N = 1000;
  appendSeqLines(file, 0, N);
  // One text record with a traceback: 5 lines, one record, counted as multi-line.
  appendFileSync(
    file,
    `[2026-11-27 12:00:00,000] ERROR [django.request:42] Internal Server Error: /x seq=${N}\n` +
      'Traceback (most recent call last):\n' +
      '  File "/app/views.py", line 3, in view\n' +
      '    raise ValueError("bad")\n' +
      'ValueError: bad\n',
  );
  appendSeqLines(file, N + 1, N + 2); // ends the held text record
  const firstSize = statSync(file).size;
  const { agent, url } = await startMonitored(s.config);
  await waitFor(() => s.es.count(INDEX) >= N + 2, 15_000, `${N + 2} documents`);

  // A rotation (rename and create), then more lines in the new file.
  renameSync(file, `${file}.1`);
  appendSeqLines(file, N + 2, N + 102);
  const secondSize = statSync(file).size;
  const total = N + 102;
  await waitFor(() => s.es.count(INDEX) >= total, 15_000, `${total} documents`);

  let m = new Map<string, number>();
  await waitFor(
    async () => {
      m = await metrics(url);
      return (
        m.get('logship_sink_records_acknowledged_total{sink="elasticsearch"}') === total &&
        m.get('logship_records_unacknowledged') === 0 &&
        // A file with nothing behind has no series (thousands of idle files would be thousands of zeros).
        !m.has(`logship_file_bytes_behind{path="${file}",input="django"}`)
      );
    },
    10_000,
    'every record acknowledged in the metrics',
  );
  const lines = N + 6 + 100;
  assert.equal(m.get('logship_input_lines_total{input="django"}'), lines);
  assert.equal(m.get('logship_input_bytes_total{input="django"}'), firstSize + secondSize);
  assert.equal(m.get('logship_records_parsed_total{input="django"}'), total);
  assert.equal(m.get('logship_parse_errors_total{input="django"}'), 0);
  assert.equal(m.get('logship_multiline_records_total{input="django"}'), 1);
  assert.equal(m.get('logship_sink_records_sent_total{sink="elasticsearch"}'), total);
  assert.equal(m.get('logship_sink_records_dead_lettered_total{sink="elasticsearch"}'), 0);
  assert.equal(m.get('logship_sink_records_retried_total{sink="elasticsearch"}'), 0);
  assert.equal(m.get('logship_sink_batches_failed_total{sink="elasticsearch"}'), 0);
  assert.equal(
    m.get('logship_sink_batches_sent_total{sink="elasticsearch"}'),
    m.get('logship_sink_send_duration_seconds_count{sink="elasticsearch"}'),
  );
  assert.ok((m.get('logship_sink_batches_sent_total{sink="elasticsearch"}') ?? 0) >= Math.ceil(total / 200), 'batches of at most 200');
  assert.equal(m.get('logship_rotations_total'), 1);
  assert.equal(m.get('logship_truncations_total'), 0);
  for (const reason of ['deleted_before_open', 'deleted_while_closed', 'truncated', 'gone_at_restart']) {
    assert.equal(m.get(`logship_rotation_lost_bytes_total{reason="${reason}"}`), 0);
  }
  assert.equal(m.get('logship_queue_batches'), 0);
  assert.equal(m.get('logship_records_unacknowledged'), 0);
  assert.equal(m.get('logship_sink_failing_seconds{sink="elasticsearch"}'), 0);
  assert.equal(m.get('logship_health_status{status="ok"}'), 1);
  assert.ok((m.get('logship_checkpoint_writes_total') ?? 0) > 0);
  assert.ok((m.get('logship_open_files') ?? 0) >= 1);
  assert.ok(m.has('process_cpu_seconds_total') && m.has('process_resident_memory_bytes'), 'default process metrics');
  assert.equal(s.es.stats.items, total, 'each record sent once');

  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  assert.equal(checkExactlyOnce(seqsOf(s.stored()), total), null);
});
