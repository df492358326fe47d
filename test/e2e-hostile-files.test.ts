/**
 * Issue #13, the files the operator did not mean to ship and the files that could freeze the agent, through the built
 * CLI (items 2, 4, 5, 16): a FIFO or a symbolic link at a matched path, a regular file replaced by a link while it is
 * followed, `**` and linked directories, one file reached by two paths, links followed only into symlink_roots, more
 * matched files than max_open_files, and a file the agent may not open.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { CLI, FAST, parseLogLine, readNdjson, runOnce, StartedAgents, tempDir, waitFor, writeConfig } from './support/agent.js';
import { openLogFile } from '../src/tail/open.js';
import { SHUTDOWN_GRACE_MS } from '../src/supervise.js';
import { startEsServer } from './support/es-server.js';
import { INDEX } from './support/scenario.js';

const agents = new StartedAgents();
after(() => {
  agents.killRunning();
});

const line = (message: string): string => JSON.stringify({ asctime: '2026-12-06 10:00:00,000', levelname: 'INFO', name: 'app', message }) + '\n';

/** A directory with logs/ and a config shipping `paths` (relative to logs/) into the file sink out/out.ndjson. */
function setup(paths: string[], input: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): { dir: string; logs: string; config: string; out: string } {
  const dir = tempDir('logship-hostile-');
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const out = join(dir, 'out', 'out.ndjson');
  const config = writeConfig(dir, {
    data_dir: join(dir, 'data'),
    ...FAST,
    monitoring: { enabled: false },
    inputs: [{ type: 'django', paths: paths.map((p) => join(logs, p)), timezone: 'UTC', ...input }],
    sink: { type: 'file', path: out },
    ...extra,
  });
  return { dir, logs, config, out };
}

function messages(out: string): string[] {
  try {
    return readNdjson(out).map((d) => String(d['message']));
  } catch {
    return [];
  }
}

test('opening a FIFO that was put at a log path returns at once, refused (no open() blocked in the kernel)', async () => {
  const dir = tempDir('logship-fifo-');
  const fifo = join(dir, 'django.log');
  execFileSync('mkfifo', [fifo]);
  const started = Date.now();
  const opened = await openLogFile(fifo, null);
  assert.deepEqual(opened, { kind: 'refused', reason: 'not a regular file (a FIFO)' });
  assert.ok(Date.now() - started < 2000, 'without O_NONBLOCK this open waits for a writer for ever');
  const link = join(dir, 'link.log');
  writeFileSync(join(dir, 'secret'), 'password\n');
  symlinkSync(join(dir, 'secret'), link);
  assert.deepEqual(await openLogFile(link, null), { kind: 'refused', reason: 'a symbolic link (follow_symlinks is off)' });
});

test('a FIFO among the matched files: the others are read, it is named once, and SIGTERM stops the agent at once', async () => {
  const s = setup(['*.log']);
  execFileSync('mkfifo', [join(s.logs, 'a-fifo.log')]);
  writeFileSync(join(s.logs, 'app.log'), line('shipped 1') + line('shipped 2'));
  const agent = agents.start(s.config);
  await waitFor(() => messages(s.out).length >= 2, 15_000, 'the regular file shipped');
  await new Promise((r) => setTimeout(r, 1000)); // a few scans: the FIFO is named once, not at every scan
  const started = Date.now();
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  assert.ok(Date.now() - started < 5000, `stopped in ${Date.now() - started} ms`);
  assert.deepEqual(messages(s.out).sort(), ['shipped 1', 'shipped 2']);
  const said = agent.logs.filter((l) => l['msg'] === 'a matched path is not a regular file: not read');
  assert.deepEqual(said.map((l) => l['path']), [join(s.logs, 'a-fifo.log')]);
});

test('symbolic links are not followed by default: not at a matched path, not when they replace a followed file, not as a directory under **', async () => {
  const s = setup(['*.log', 'deep/**/*.log']);
  const secrets = join(s.dir, 'secrets');
  mkdirSync(join(secrets, 'dir'), { recursive: true });
  writeFileSync(join(secrets, 'elastic'), 'S3cretPW-elastic-superuser\n');
  writeFileSync(join(secrets, 'dir', 'x.log'), line('secret dir file'));
  writeFileSync(join(s.logs, 'app.log'), line('app 1'));
  symlinkSync(join(secrets, 'elastic'), join(s.logs, 'x.log'));
  mkdirSync(join(s.logs, 'deep'));
  symlinkSync(join(secrets, 'dir'), join(s.logs, 'deep', 'linked'));
  const agent = agents.start(s.config);
  await waitFor(() => messages(s.out).includes('app 1'), 15_000, 'app.log shipped');
  // A followed file replaced by a link (to a secret) mid-run: a rotation of app.log, and the link is not read.
  renameSync(join(s.logs, 'app.log'), join(s.dir, 'app.log.old'));
  symlinkSync(join(secrets, 'elastic'), join(s.logs, 'app.log'));
  await new Promise((r) => setTimeout(r, 2500));
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  const shipped = messages(s.out).join('\n');
  assert.doesNotMatch(shipped, /S3cretPW|secret dir file/);
  assert.deepEqual(messages(s.out), ['app 1']);
  const said = agent.logs.filter((l) => String(l['msg']).startsWith('a matched path is a symbolic link')).map((l) => l['path']);
  assert.ok(said.includes(join(s.logs, 'x.log')) && said.includes(join(s.logs, 'app.log')), JSON.stringify(said));
});

test('one file reached by two paths (a hard link, two patterns) is followed once', async () => {
  const s = setup(['app.log', 'copy.log', '*.log']);
  writeFileSync(join(s.logs, 'app.log'), line('once 1') + line('once 2'));
  linkSync(join(s.logs, 'app.log'), join(s.logs, 'copy.log'));
  const { code } = await runOnce(s.config);
  assert.equal(code, 0);
  assert.deepEqual(messages(s.out).sort(), ['once 1', 'once 2']);
});

test('follow_symlinks: links are followed into symlink_roots only (Kubernetes /var/log/containers)', async () => {
  const dir = tempDir('logship-links-');
  const pods = join(dir, 'pods');
  const containers = join(dir, 'containers');
  mkdirSync(join(pods, 'ns_web_uid', 'django'), { recursive: true });
  mkdirSync(containers);
  mkdirSync(join(dir, 'elsewhere'));
  writeFileSync(join(pods, 'ns_web_uid', 'django', '0.log'), line('in a pod log'));
  writeFileSync(join(dir, 'elsewhere', 'secret.log'), line('outside the roots'));
  symlinkSync(join(pods, 'ns_web_uid', 'django', '0.log'), join(containers, 'web_ns_django-abc.log'));
  symlinkSync(join(dir, 'elsewhere', 'secret.log'), join(containers, 'evil_ns_x-def.log'));
  const out = join(dir, 'out.ndjson');
  const config = writeConfig(dir, {
    data_dir: join(dir, 'data'),
    ...FAST,
    monitoring: { enabled: false },
    inputs: [{ type: 'django', paths: [join(containers, '*.log')], follow_symlinks: true, symlink_roots: [pods], timezone: 'UTC' }],
    sink: { type: 'file', path: out },
  });
  const { code, logs } = await runOnce(config);
  assert.equal(code, 0);
  assert.deepEqual(messages(out), ['in a pod log']);
  assert.ok(logs.some((l) => l['msg'] === 'a symbolic link leads outside symlink_roots: not followed' && l['path'] === join(containers, 'evil_ns_x-def.log')));
});

test('more matched files than max_open_files: every one is read (1,100 files, run --once)', async () => {
  const s = setup(['*.log']);
  for (let i = 0; i < 1100; i++) writeFileSync(join(s.logs, `f${String(i).padStart(4, '0')}.log`), line(`file ${i}`));
  const { code } = await runOnce(s.config);
  assert.equal(code, 0);
  const got = messages(s.out);
  assert.equal(new Set(got).size, 1100, `${got.length} records, ${new Set(got).size} distinct`);
  assert.equal(got.length, 1100);
});

test('a matched file the agent may not open: one warning naming it, /health degraded with its path (run as nobody)', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root, to run the agent as nobody and keep a file from it');
  const s = setup(['*.log'], {}, { monitoring: { listen: '127.0.0.1:0', unhealthy_after_ms: 1000 } });
  chmodSync(s.dir, 0o755);
  chmodSync(s.logs, 0o755);
  mkdirSync(join(s.dir, 'data'), { mode: 0o777 });
  mkdirSync(join(s.dir, 'out'), { mode: 0o777 });
  chmodSync(join(s.dir, 'data'), 0o777);
  chmodSync(join(s.dir, 'out'), 0o777);
  writeFileSync(join(s.logs, 'open.log'), line('readable'), { mode: 0o644 });
  writeFileSync(join(s.logs, 'closed.log'), line('not for nobody'), { mode: 0o600 });
  const child = spawn(process.execPath, [CLI, 'run', '--config', s.config], { uid: 65534, gid: 65534, stdio: ['ignore', 'ignore', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  let buf = '';
  child.stderr.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      logs.push(parseLogLine(buf.slice(0, nl)));
      buf = buf.slice(nl + 1);
    }
  });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  try {
    await waitFor(() => logs.some((l) => l['msg'] === 'monitoring listening') || child.exitCode !== null, 15_000, 'the agent to start');
    if (child.exitCode !== null) return t.skip(`the CLI cannot run as nobody here: ${JSON.stringify(logs.slice(-2))}`);
    const health = String(logs.find((l) => l['msg'] === 'monitoring listening')!['health']);
    await waitFor(() => messages(s.out).includes('readable'), 15_000, 'the readable file shipped');
    await new Promise((r) => setTimeout(r, 1500)); // several scans, each trying the file again
    const res = await fetch(health);
    const body = (await res.json()) as { status: string; reasons: string[]; inputs: { cannot_open: { path: string }[] }[] };
    assert.equal(res.status, 503);
    assert.equal(body.status, 'degraded');
    assert.deepEqual(body.inputs[0]!.cannot_open.map((c) => c.path), [join(s.logs, 'closed.log')]);
    assert.ok(body.reasons.some((r) => r.includes(join(s.logs, 'closed.log')) && /EACCES|permission/i.test(r)), JSON.stringify(body.reasons));
    const warned = logs.filter((l) => l['msg'] === 'cannot open file');
    assert.equal(warned.length, 1, `one warning, not one per scan: ${warned.length}`);
    assert.equal(warned[0]!['path'], join(s.logs, 'closed.log'));
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  unlinkSync(join(s.logs, 'closed.log'));
});

test('SIGTERM ends the agent within shutdown_timeout (and its grace) even while every request to the sink hangs', async (t) => {
  const es = await startEsServer();
  try {
    const s = setup(['*.log'], {}, { shutdown_timeout: '1s', sink: { type: 'elasticsearch', node: es.url, index: INDEX } });
    writeFileSync(join(s.logs, 'app.log'), line('hang 1'));
    const agent = agents.start(s.config);
    await waitFor(() => es.count(INDEX) === 1, 15_000, 'the first record stored');
    es.delayMs = 120_000; // from now on, no request comes back within the test
    const asked = es.stats.requests;
    writeFileSync(join(s.logs, 'app.log'), line('hang 1') + line('hang 2'));
    await waitFor(() => es.stats.requests > asked, 15_000, 'a bulk request in flight');
    const started = Date.now();
    agent.signal('SIGTERM');
    const code = await agent.exited();
    const took = Date.now() - started;
    t.diagnostic(`SIGTERM → exit ${code} after ${took} ms (shutdown_timeout 1 s)`);
    assert.ok(took < 1000 + SHUTDOWN_GRACE_MS, `stopped after ${took} ms`);
    // Follow mode: a stop that had to give up on the sink still exits 0; what was not acknowledged is read again.
    assert.equal(code, 0);
    const summary = agent.logs.find((l) => l['msg'] === 'logship stopped')!;
    assert.ok(Number(summary['unacknowledged']) >= 1, JSON.stringify(summary));
  } finally {
    es.delayMs = 0;
    await es.close();
  }
});
