/**
 * `logship status` through the built CLI after a known workload shipped to the test Elasticsearch: per file path,
 * identity, size, committed offset, bytes behind and last acknowledgement; the table and --json; files grown or
 * rotated since; while the agent runs (and its /health); no registry yet; a broken registry.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI, runOnce, startAgent, waitFor, writeConfig, FAST, tempDir } from './support/agent.js';
import { appendSeqLines, INDEX, scenario, type Scenario } from './support/scenario.js';
import type { StatusReport } from '../src/status.js';

const run = promisify(execFile);
const open: Scenario[] = [];
after(() => Promise.all(open.map((s) => s.close())));

async function status(config: string, json: boolean): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, 'status', '--config', config, ...(json ? ['--json'] : [])]);
  return stdout;
}

async function statusJson(config: string): Promise<StatusReport> {
  return JSON.parse(await status(config, true)) as StatusReport;
}

/** A port that was free a moment ago (for the agent's monitoring server, which `status` then asks). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('status after a known workload: per file size, committed offset, 0 behind; then growth and rotation show', async () => {
  const port = await freePort();
  const s = await scenario(
    (logs) => [{ type: 'django', paths: [join(logs, 'django.log'), join(logs, 'errors.log')], timezone: 'UTC' }],
    { monitoring: { listen: `127.0.0.1:${port}`, unhealthy_after_ms: 5000 } },
  );
  open.push(s);
  const django = join(s.logs, 'django.log');
  const errors = join(s.logs, 'errors.log');
  appendSeqLines(django, 0, 300);
  appendSeqLines(errors, 300, 400);
  const before = Date.now();
  const once = await runOnce(s.config);
  assert.equal(once.code, 0);
  assert.equal(s.es.count(INDEX), 400);
  assert.ok(!once.logs.some((l) => l['msg'] === 'monitoring listening'), 'run --once serves no monitoring');

  const report = await statusJson(s.config);
  assert.equal(report.exists, true);
  assert.equal(report.registry, join(s.dir, 'data', 'registry.json'));
  assert.equal(report.files.length, 2);
  assert.equal(report.total_bytes_behind, 0);
  assert.deepEqual(report.agent, { url: `http://127.0.0.1:${port}/health`, reachable: false });
  for (const [path, f] of [[django, report.files[0]!], [errors, report.files[1]!]] as const) {
    const st = statSync(path);
    assert.equal(f.path, path);
    assert.equal(f.state, 'live');
    assert.equal(f.location, path);
    assert.equal(f.identity.dev, st.dev);
    assert.equal(f.identity.ino, st.ino);
    assert.match(f.identity.fingerprint, /^[0-9a-f]{32}$/);
    assert.equal(f.size, st.size);
    assert.equal(f.committed_offset, st.size);
    assert.equal(f.bytes_behind, 0);
    const acked = Date.parse(f.last_acknowledged);
    assert.ok(acked >= before - 1000 && acked <= Date.now(), `last acknowledged ${f.last_acknowledged}`);
  }

  const table = await status(s.config, false);
  const lines = table.trimEnd().split('\n');
  assert.match(lines[0]!, /^registry: .*registry\.json \(written /);
  assert.match(lines[1]!, /^agent: {4}not answering/);
  assert.match(lines[2]!, /^PATH +STATE +IDENTITY +SIZE +COMMITTED +BEHIND +LAST ACK$/);
  const row = lines.find((l) => l.startsWith(django))!;
  const size = String(statSync(django).size);
  assert.match(row, new RegExp(`^${django} +live +\\d+:\\d+/[0-9a-f]{8} +${size} +${size} +0 +\\d{4}-\\d\\d-\\d\\dT[^ ]+ \\(\\d+s ago\\)$`));
  assert.equal(lines.at(-1), '2 files, 0 bytes behind in total');

  // Written since, not shipped (the agent is stopped): bytes behind is what was appended.
  const sizeBefore = statSync(django).size;
  appendSeqLines(django, 400, 450);
  const grown = statSync(django).size - sizeBefore;
  // Rotated since: found beside its old path.
  renameSync(errors, `${errors}.1`);
  const later = await statusJson(s.config);
  const d = later.files.find((f) => f.path === django)!;
  assert.equal(d.bytes_behind, grown);
  assert.equal(d.size, sizeBefore + grown);
  assert.equal(d.size_at_last_read, sizeBefore);
  const e = later.files.find((f) => f.path === errors)!;
  assert.equal(e.state, 'rotated');
  assert.equal(e.location, `${errors}.1`);
  assert.equal(e.bytes_behind, 0);
  assert.equal(later.total_bytes_behind, grown);
  assert.match(await status(s.config, false), new RegExp(`${errors} → ${errors}\\.1 +rotated`));

  // While the agent runs: it catches up, status reads the registry it keeps writing, and shows its /health.
  const agent = startAgent(s.config);
  try {
    await waitFor(() => s.es.count(INDEX) >= 450, 15_000, '450 documents');
    let live: StatusReport | null = null;
    await waitFor(
      async () => {
        live = await statusJson(s.config);
        return live.files.find((f) => f.path === django)?.bytes_behind === 0 && live.agent?.status === 'ok';
      },
      15_000,
      'status to show the running agent caught up',
    );
    assert.equal(live!.agent?.reachable, true);
    assert.match(await status(s.config, false), /^agent: {4}ok \(pid \d+\) \(http:\/\/127\.0\.0\.1:\d+\/health\)$/m);
  } finally {
    agent.signal('SIGTERM');
    assert.equal(await agent.exited(), 0);
  }
});

test('status without a registry yet, and with a broken one', async () => {
  const dir = tempDir();
  const config = writeConfig(dir, {
    data_dir: join(dir, 'data'),
    ...FAST,
    inputs: [{ type: 'django', paths: [join(dir, 'django.log')] }],
    sink: { type: 'stdout' },
    monitoring: { enabled: false },
  });
  const empty = await statusJson(config);
  assert.equal(empty.exists, false);
  assert.deepEqual(empty.files, []);
  assert.equal(empty.agent, null, 'nothing to ask when monitoring is off');
  assert.match(await status(config, false), /no checkpoints yet/);

  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'registry.json'), '{"version": 1, "checkpoints": [');
  const failed = await run(process.execPath, [CLI, 'status', '--config', config]).then(
    () => assert.fail('status should exit 1'),
    (err: { code: number; stderr: string }) => err,
  );
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /^logship: the registry .*registry\.json is not JSON/);
});

test('status counts the dead letters across the current and the rotated files', async () => {
  const dir = tempDir('logship-status-dl-');
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'dead_letters.ndjson.1'), '{"reason":"400 mapper_parsing_exception: a"}\n{"reason":"400 mapper_parsing_exception: b"}\n');
  writeFileSync(join(dir, 'data', 'dead_letters.ndjson'), '{"reason":"gave up after 3 attempts: 503"}\n');
  const config = writeConfig(dir, { data_dir: join(dir, 'data'), monitoring: { enabled: false }, inputs: [{ type: 'django', paths: [join(dir, 'x.log')] }], sink: { type: 'stdout' } });
  const text = await status(config, false);
  const path = join(dir, 'data', 'dead_letters.ndjson');
  assert.ok(text.includes(`dead letters: 3 in ${path} and its rotated files (2 files) — 2× 400 mapper_parsing_exception; 1× gave up after 3 attempts\n`), text);
  assert.equal((await statusJson(config)).dead_letters?.count, 3);
});
