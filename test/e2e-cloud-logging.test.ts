/**
 * End to end against the test Cloud Logging (a gRPC server on 127.0.0.1 speaking google.logging.v2 from the client's
 * own protos), through the built CLI and the real @google-cloud/logging client, plaintext (`insecure`, loopback) with
 * an explicit project and resource: nothing leaves loopback. Each test counts unique records written against entries
 * stored + dead letters: 0 lost, 0 duplicated.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TAG_TRUNCATED } from '../src/record.js';
import { checkExactlyOnce, FAST, readNdjson, runPythonWriter, seqsOf, StartedAgents, tempDir, type AgentProcess, waitFor, writeConfig } from './support/agent.js';
import { appendSeqLines, dockerLine } from './support/scenario.js';
import { startCloudLoggingServer, type CloudLoggingServerHandle, type StoredEntry } from './support/cloud-logging-server.js';

const PROJECT = 'test-project';
const CONTAINER = 'c0ffee'.padEnd(64, '0');

interface ClScenario {
  readonly dir: string;
  readonly logs: string;
  readonly server: CloudLoggingServerHandle;
  readonly config: string;
  /** Stored entries whose message carries "seq=". */
  seqEntries(): StoredEntry[];
  deadLetters(): { reason: string; document: { message: string } }[];
}

const open: CloudLoggingServerHandle[] = [];
const agents = new StartedAgents();
after(async () => {
  agents.killRunning();
  await Promise.all(open.map((s) => s.close()));
});

function startAgent(config: string, args: string[] = []): AgentProcess {
  return agents.start(config, args);
}

async function runOnce(config: string): Promise<{ code: number | null; logs: Record<string, unknown>[] }> {
  const agent = startAgent(config, ['--once']);
  return { code: await agent.exited(), logs: agent.logs };
}

const TIMEOUT = { timeout: 60_000 };

async function scenario(inputs: (logs: string) => Record<string, unknown>[], sink: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<ClScenario> {
  const dir = tempDir('logship-cl-');
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const server = await startCloudLoggingServer();
  open.push(server);
  const config = writeConfig(dir, {
    data_dir: join(dir, 'data'),
    host_name: 'web-1',
    ...FAST,
    inputs: inputs(logs),
    sink: {
      type: 'cloud_logging',
      project_id: PROJECT,
      log_name: '{input}',
      resource: { type: 'generic_node', labels: { location: 'europe-west1', namespace: 'accreditrack', node_id: '{host}' } },
      labels: { app: 'accreditrack' },
      api_endpoint: server.address,
      insecure: true,
      ...sink,
    },
    ...extra,
  });
  const deadFile = join(dir, 'data', 'dead_letters.ndjson');
  return {
    dir,
    logs,
    server,
    config,
    seqEntries: () => [...server.entries.values()].filter((e) => /seq=\d+/.test(String(e.jsonPayload?.['message']))),
    deadLetters: () =>
      existsSync(deadFile)
        ? readNdjson<{ reason: string; document: { message: string } }>(deadFile)
        : [],
  };
}

const djangoInput = (logs: string) => [{ type: 'django', paths: [join(logs, 'django.log')], timezone: 'Europe/Paris' }];
const messages = (entries: StoredEntry[]) => entries.map((e) => String(e.jsonPayload?.['message']));

test('a real Django logger and a container: every record once, with severity, resource, labels and log name', TIMEOUT, async () => {
  const s = await scenario((logs) => [
    ...djangoInput(logs),
    { type: 'docker', paths: [join(logs, 'containers', '*', '*-json.log')] },
  ]);
  const containerDir = join(s.logs, 'containers', CONTAINER);
  mkdirSync(containerDir, { recursive: true });
  const agent = startAgent(s.config);
  await runPythonWriter([join(s.logs, 'django.log'), '--count', '2000', '--rate', '4000', '--traceback-every', '100']);
  appendFileSync(
    join(containerDir, `${CONTAINER}-json.log`),
    dockerLine('gunicorn: worker timeout (pid 42)\n', 'stderr') +
      dockerLine('plain stdout line\n', 'stdout') +
      dockerLine(JSON.stringify({ levelname: 'WARNING', name: 'django.security', message: 'Bad host header' }) + '\n', 'stderr'),
  );
  await waitFor(() => s.seqEntries().length >= 2000 && s.server.count() >= 2003, 30_000, '2003 entries');
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  assert.equal(checkExactlyOnce(seqsOf(messages(s.seqEntries())), 2000), null);
  assert.ok([...s.server.received.values()].every((n) => n === 1), 'no record was sent twice');

  const entries = s.seqEntries();
  const error = entries.find((e) => String(e.jsonPayload?.['message']).includes('seq=100 '))!;
  assert.equal(error.severity, 'ERROR');
  assert.match(String((error.jsonPayload?.['error'] as Record<string, unknown>)['stack_trace']), /ValueError: bad value for seq=100$/);
  assert.equal((error.jsonPayload?.['django'] as Record<string, unknown>)['status_code'], 500);
  const info = entries.find((e) => String(e.jsonPayload?.['message']).includes('seq=101 '))!;
  assert.equal(info.severity, 'INFO');
  assert.equal(info.logName, `projects/${PROJECT}/logs/django`);
  assert.deepEqual(info.resource, { type: 'generic_node', labels: { location: 'europe-west1', namespace: 'accreditrack', node_id: 'web-1' } });
  assert.deepEqual(info.labels, { app: 'accreditrack' });
  assert.match(info.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  assert.match(info.insertId, /^.+-\d+$/);

  const docker = [...s.server.entries.values()].filter((e) => e.logName === `projects/${PROJECT}/logs/docker`);
  const bySeverity = Object.fromEntries(docker.map((e) => [String(e.jsonPayload?.['message']), e.severity]));
  assert.deepEqual(bySeverity, { 'gunicorn: worker timeout (pid 42)': 'ERROR', 'plain stdout line': 'DEFAULT', 'Bad host header': 'WARNING' });
});

test('UNAVAILABLE bursts, entries refused one by one, oversize records: stored + dead letters = every record once', TIMEOUT, async () => {
  const s = await scenario(djangoInput);
  const file = join(s.logs, 'django.log');
  appendSeqLines(file, 0, 3000);
  const big = (seq: number) =>
    JSON.stringify({ asctime: '2026-11-27 12:00:00,000', levelname: 'ERROR', name: 'test', message: `big seq=${seq} ${'x'.repeat(400_000)}` }) + '\n';
  appendFileSync(file, big(3000) + big(3001));
  s.server.bursts({ good: 3, bad: 2, code: 'UNAVAILABLE' });
  s.server.rejectEntriesWhen((e) => /seq=\d*7 /.test(String(e.jsonPayload?.['message'])), 'Log entry refused: jsonPayload.django is invalid');
  const { code, logs } = await runOnce(s.config);
  assert.equal(code, 0);
  assert.ok(logs.some((l) => l['msg'] === 'send failed, will retry' && /UNAVAILABLE/.test(String(l['reason']))), 'the bursts were retried');

  const dead = s.deadLetters();
  assert.equal(dead.length, 300);
  assert.ok(dead.every((d) => d.reason === 'INVALID_ARGUMENT: Log entry refused: jsonPayload.django is invalid'));
  assert.ok(seqsOf(dead.map((d) => d.document.message)).every((n) => n % 10 === 7));
  const stored = messages(s.seqEntries());
  assert.equal(stored.length + dead.length, 3002);
  assert.equal(checkExactlyOnce([...seqsOf(stored), ...seqsOf(dead.map((d) => d.document.message))], 3002), null);

  const truncated = s.seqEntries().filter((e) => (e.jsonPayload?.['tags'] as string[] | undefined)?.includes(TAG_TRUNCATED));
  assert.equal(truncated.length, 2);
  for (const e of truncated) {
    assert.ok(e.size <= 256 * 1024);
    assert.match(String(e.jsonPayload?.['message']), /…\[truncated by logship: \d+ bytes, over the Cloud Logging entry limit\]$/);
    assert.equal(e.severity, 'ERROR');
  }
  assert.ok(logs.some((l) => l['msg'] === 'record over the Cloud Logging entry limit, truncated'));
});

test('SIGKILL mid-stream, then restart: nothing lost; what is sent again is stored once (insertId + timestamp)', TIMEOUT, async () => {
  const s = await scenario(djangoInput);
  const file = join(s.logs, 'django.log');
  await runPythonWriter([file, '--count', '500', '--max-bytes', '300000', '--backups', '20']);
  let agent = startAgent(s.config);
  // Files rotated away before the agent first looked are not its to ship: let it see the file first.
  await waitFor(() => s.server.count() >= 500, 15_000, 'the first 500 entries');
  const writer = runPythonWriter([file, '--start', '500', '--count', '11500', '--rate', '4000', '--max-bytes', '300000', '--backups', '20']);
  await waitFor(() => s.server.count() >= 2500, 30_000, 'the first 2500 entries');
  agent.signal('SIGKILL');
  await agent.exited();
  await new Promise((r) => setTimeout(r, 300));
  agent = startAgent(s.config);
  await writer;
  await waitFor(() => s.seqEntries().length >= 12000, 45_000, '12000 entries');
  await new Promise((r) => setTimeout(r, 500)); // anything extra would show up now
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  assert.equal(checkExactlyOnce(seqsOf(messages(s.seqEntries())), 12000), null);
  assert.equal(s.deadLetters().length, 0);
});

test('PERMISSION_DENIED: the agent stops with a clear message instead of retrying', TIMEOUT, async () => {
  const s = await scenario(djangoInput);
  s.server.failAll('PERMISSION_DENIED');
  appendSeqLines(join(s.logs, 'django.log'), 0, 10);
  const agent = startAgent(s.config);
  const code = await agent.exited();
  assert.equal(code, 2);
  const failed = agent.logs.find((l) => l['msg'] === 'sink failed and cannot recover without an operator');
  assert.match(String(failed?.['reason']), /^PERMISSION_DENIED: .*roles\/logging\.logWriter/);
  assert.equal(s.server.count(), 0);
});
