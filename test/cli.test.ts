/**
 * The command line as users meet it: the built dist/cli.js, run as a child process. Broken configs must be
 * refused by both `check` and `run` with exit code 1 and exactly one stderr line naming the key and the problem.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLI, parseAgentLog, tempDir, writeConfig } from './support/agent.js';
import { startEsServer, type EsServerHandle } from './support/es-server.js';

const ROOT = resolve(import.meta.dirname, '..');
const servers: EsServerHandle[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli.js ...args`; a process still running after timeoutMs is killed and reported as code null. */
function cli(args: string[], timeoutMs = 15_000): Promise<Run> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

/** A directory holding logs/app.log and a config made of `body` (YAML text) written as it is. */
function configDir(body: string): { dir: string; config: string } {
  const dir = tempDir('logship-cli-');
  mkdirSync(join(dir, 'logs'));
  writeFileSync(join(dir, 'logs', 'app.log'), '');
  const config = join(dir, 'logship.yml');
  writeFileSync(config, body);
  return { dir, config };
}

const INPUTS = 'inputs:\n  - type: django\n    paths: [logs/app.log]\n';
const STDOUT_SINK = 'sink:\n  type: stdout\n';

test('--version prints the version of package.json', async () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-v']) {
    const r = await cli([flag]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), version);
  }
});

test('--help lists the run and check commands', async () => {
  const r = await cli(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\s+run\b/m);
  assert.match(r.stdout, /^\s+check\b/m);
});

test('check on examples/logship.yml exits 0', async () => {
  const r = await cli(['check', '--config', join(ROOT, 'examples', 'logship.yml')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ok/);
  assert.equal(r.stderr, '');
});

/** Each broken config: the key that must be named and a pattern for the problem. */
const BROKEN: { name: string; body: string | null; key: string; problem: RegExp }[] = [
  {
    name: 'unknown key',
    body: `${INPUTS}${STDOUT_SINK}scan_intervall: 1s\n`,
    key: 'scan_intervall',
    problem: /unknown key/,
  },
  {
    name: 'unknown key inside a section',
    body: `${INPUTS}sink:\n  type: elasticsearch\n  node: http://127.0.0.1:9200\n  indexx: logs\n`,
    key: 'sink.indexx',
    problem: /unknown key/,
  },
  {
    name: 'wrong type',
    body: `${INPUTS}${STDOUT_SINK}max_open_files: lots\n`,
    key: 'max_open_files',
    problem: /integer.*"lots"/,
  },
  {
    name: 'wrong type (a list where a mapping is expected)',
    body: `${INPUTS}${STDOUT_SINK}batch: [1, 2]\n`,
    key: 'batch',
    problem: /mapping/,
  },
  {
    name: 'missing sink field (file sink without path)',
    body: `${INPUTS}sink:\n  type: file\n`,
    key: 'sink.path',
    problem: /required/,
  },
  {
    name: 'missing sink field (elasticsearch sink without node)',
    body: `${INPUTS}sink:\n  type: elasticsearch\n  index: logs\n`,
    key: 'sink.node',
    problem: /required/,
  },
  {
    name: 'bad duration',
    body: `${INPUTS}${STDOUT_SINK}scan_interval: 5 parsecs\n`,
    key: 'scan_interval',
    problem: /"5 parsecs" is not a duration/,
  },
  {
    name: 'bad glob',
    body: `inputs:\n  - type: django\n    paths: ["logs/*[.log"]\n${STDOUT_SINK}`,
    key: 'inputs[0].paths[0]',
    problem: /invalid glob "logs\/\*\[\.log"/,
  },
  {
    name: 'missing file (sink.tls.ca)',
    body: `${INPUTS}sink:\n  type: elasticsearch\n  node: https://127.0.0.1:9200\n  tls:\n    ca: certs/missing-ca.pem\n`,
    key: 'sink.tls.ca',
    problem: /missing-ca\.pem.*no such file/,
  },
  {
    name: 'missing file (the config file itself)',
    body: null,
    key: 'config',
    problem: /does-not-exist\.yml.*ENOENT|does-not-exist\.yml.*no such file/,
  },
];

for (const c of BROKEN) {
  for (const command of ['check', 'run'] as const) {
    test(`${command} refuses a broken config: ${c.name}`, async () => {
      let config: string;
      if (c.body === null) {
        config = join(tempDir('logship-cli-'), 'does-not-exist.yml');
      } else {
        config = configDir(c.body).config;
      }
      const r = await cli([command, '--config', config]);
      assert.equal(r.code, 1, `exit code (stderr: ${r.stderr})`);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 1, `exactly one stderr line, got:\n${r.stderr}`);
      const line = lines[0]!;
      assert.ok(line.startsWith(`logship: ${c.key}: `), `names the key ${c.key}: ${line}`);
      assert.match(line.slice(`logship: ${c.key}: `.length), c.problem);
      assert.equal(r.stdout, '', 'nothing on stdout');
    });
  }
}

test('run with a sink that refuses authentication exits non-zero with the reason', async () => {
  const es = await startEsServer({ auth: { basic: { username: 'elastic', password: 's3cret' } } });
  servers.push(es);
  const dir = tempDir('logship-cli-');
  mkdirSync(join(dir, 'logs'));
  writeFileSync(
    join(dir, 'logs', 'app.log'),
    JSON.stringify({ asctime: '2026-11-27 12:00:00,000', levelname: 'INFO', name: 'test', message: 'hello seq=0' }) + '\n',
  );
  const config = writeConfig(dir, {
    data_dir: join(dir, 'data'),
    inputs: [{ type: 'django', paths: [join(dir, 'logs', 'app.log')] }],
    sink: { type: 'elasticsearch', node: es.url, index: 'logs-django-default' },
    delivery: { retry: { initial_backoff: '100ms', max_backoff: '500ms' } },
  });
  const started = Date.now();
  const r = await cli(['run', '--config', config], 15_000);
  assert.notEqual(r.code, null, `still running after 15 s (killed); stderr:\n${r.stderr.slice(-2000)}`);
  assert.equal(r.code, 2, 'exit code 2: the sink failed for good');
  assert.ok(Date.now() - started < 15_000);
  const logs = parseAgentLog(r.stderr);
  const reasons = logs.filter((l) => l['level'] === 'error' && /^401 security_exception\b/.test(String(l['reason'])));
  assert.ok(reasons.length > 0, `an error gives the reason (401 security_exception …):\n${r.stderr}`);
  assert.match(String(reasons[0]!['reason']), /credentials/, 'and points at the credentials');
  assert.equal(es.count('logs-django-default'), 0);
  assert.ok(es.requests.length > 0 && es.requests.every((q) => q.status === 401), 'every request was refused with 401');
});

test('run --once with the stdout sink: every record on stdout, the agent\'s log on stderr, exit 0', async () => {
  // The agent runs on a worker thread (src/supervise.ts): stdout is written from there, straight to descriptor 1.
  const { dir, config } = configDir(`${INPUTS}${STDOUT_SINK}data_dir: data\n`);
  const lines = Array.from({ length: 500 }, (_, i) => `{"asctime": "2026-11-27 12:00:00,000", "levelname": "INFO", "message": "line ${i}"}\n`);
  writeFileSync(join(dir, 'logs', 'app.log'), lines.join(''));
  const r = await cli(['run', '--config', config, '--once']);
  assert.equal(r.code, 0, r.stderr);
  const docs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { message: string });
  assert.deepEqual(docs.map((d) => d.message), lines.map((_, i) => `line ${i}`));
  const log = parseAgentLog(r.stderr);
  assert.ok(log.some((e) => e['msg'] === 'logship stopped' && e['acked'] === 500), r.stderr);
});

test('run: a stdout whose reader went away stops the agent with exit 2 and the reason, not a crash', async () => {
  const { dir, config } = configDir(`${INPUTS}${STDOUT_SINK}data_dir: data\n`);
  writeFileSync(join(dir, 'logs', 'app.log'), '{"asctime": "2026-11-27 12:00:00,000", "levelname": "INFO", "message": "x"}\n'.repeat(50));
  const child = spawn(process.execPath, [CLI, 'run', '--config', config, '--once'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // the reader is gone before the first record is written: EPIPE
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((res) => child.on('close', res));
  assert.equal(code, 2, stderr);
  assert.match(stderr, /stdout is closed \(EPIPE\)/);
});
