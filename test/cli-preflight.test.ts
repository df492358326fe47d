/**
 * `check` and `run` accept exactly the same configs (issue #13, item 14): both go through src/preflight.ts. Run on a
 * set of configs, the two commands agree, and a refused config gets the same one line from both. Also the checks
 * that came with it: data_dir writable (item 20, without spinning on /proc), a file sink an input would read back
 * (item 6), the warnings check prints and run logs (item 10), and input patterns that match nothing (item 15).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, parseAgentLog, startAgent, tempDir, waitFor } from './support/agent.js';
import { startEsServer, type EsServerHandle } from './support/es-server.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function cli(args: string[], timeoutMs = 20_000): Promise<Run> {
  const started = Date.now();
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
      res({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

let es: EsServerHandle;
before(async () => {
  es = await startEsServer();
});
after(() => es.close());

/** A directory with logs/app.log (one line) and a config file: `body(dir)` is its YAML text. */
function configIn(body: (dir: string) => string): { dir: string; config: string } {
  const dir = tempDir('logship-preflight-');
  mkdirSync(join(dir, 'logs'));
  writeFileSync(join(dir, 'logs', 'app.log'), '{"asctime": "2026-11-27 12:00:00,000", "levelname": "INFO", "message": "hello"}\n');
  const config = join(dir, 'logship.yml');
  writeFileSync(config, body(dir));
  return { dir, config };
}

const INPUTS = 'inputs: [{type: django, paths: [logs/*.log]}]\n';
const FAST = 'monitoring: {enabled: false}\nscan_interval: 200ms\n';

/** Configs, accepted or not: check and run must agree on each. */
const CONFIGS: Record<string, (dir: string) => string> = {
  'a file sink': () => `${INPUTS}${FAST}sink: {type: file, path: out/logship.ndjson}\n`,
  'an Elasticsearch sink': () => `${INPUTS}${FAST}sink: {type: elasticsearch, node: "${es.url}"}\n`,
  'a top-level __proto__': () => `__proto__: {data_dir: /proc/x}\n${INPUTS}${FAST}sink: {type: stdout}\n`,
  'a nested constructor': () => `${INPUTS}${FAST}sink: {type: stdout}\nbatch: {constructor: {max_events: 1}}\n`,
  'a password that is not percent-encoded': () => `${INPUTS}${FAST}sink: {type: elasticsearch, node: "http://u:S3c%ZZret@127.0.0.1:9"}\n`,
  'a user name that is not percent-encoded': () => `${INPUTS}${FAST}sink: {type: elasticsearch, node: "http://u%G0:x@127.0.0.1:9"}\n`,
  'a node without a scheme': () => `${INPUTS}${FAST}sink: {type: elasticsearch, node: "elastic:S3cretPW@es.example:9200"}\n`,
  'data_dir under /proc': () => `${INPUTS}${FAST}data_dir: /proc/x\nsink: {type: stdout}\n`,
  'data_dir a regular file': (dir) => `${INPUTS}${FAST}data_dir: ${join(dir, 'logs', 'app.log')}\nsink: {type: stdout}\n`,
  'data_dir under a regular file': (dir) => `${INPUTS}${FAST}data_dir: ${join(dir, 'logs', 'app.log', 'data')}\nsink: {type: stdout}\n`,
  'a file sink the inputs read': () => `${INPUTS}${FAST}sink: {type: file, path: logs/out.log}\n`,
  'a CA file that does not exist': () => `${INPUTS}${FAST}sink: {type: elasticsearch, node: "https://127.0.0.1:9", tls: {ca: nope.pem}}\n`,
  'a key file that is not JSON': (dir) => {
    writeFileSync(join(dir, 'sa.json'), 'not json S3cret');
    return `${INPUTS}${FAST}sink: {type: cloud_logging, project_id: my-project, key_filename: sa.json}\n`;
  },
  'an unknown key': () => `${INPUTS}${FAST}sink: {type: stdout}\nscan_intervall: 1s\n`,
};

describe('check and run accept exactly the same configs', () => {
  for (const [name, body] of Object.entries(CONFIGS)) {
    test(name, async () => {
      const { config } = configIn(body);
      const check = await cli(['check', '--config', config]);
      const run = await cli(['run', '--once', '--config', config]);
      assert.notEqual(run.code, null, `run did not end: ${run.stderr.slice(-500)}`);
      const refused = (r: Run) => r.code === 1;
      assert.equal(refused(run), refused(check), `check exit ${check.code}, run exit ${run.code}\ncheck: ${check.stderr}\nrun: ${run.stderr}`);
      if (refused(check)) {
        const lines = check.stderr.split('\n').filter((l) => l !== '');
        assert.equal(lines.length, 1, check.stderr);
        assert.equal(run.stderr, check.stderr, 'the same one line from both');
        assert.ok(!check.stderr.includes('S3c'), 'no password in the message');
      } else {
        assert.equal(check.code, 0, check.stderr);
        assert.equal(run.code, 0, run.stderr);
      }
    });
  }
});

describe('what the checks say', () => {
  test('a file sink an input reads is refused with one line naming sink.path, its rotated generations too', async () => {
    for (const [paths, what] of [
      ['logs/*.log', 'out.log is matched by inputs[0].paths[0]'],
      ['logs/*.log.[0-9]', 'out.log.1, one of its rotated generations, is matched by inputs[0].paths[0]'],
    ] as const) {
      const { config } = configIn(() => `inputs: [{type: django, paths: ["${paths}"]}]\n${FAST}sink: {type: file, path: logs/out.log, max_files: 3}\n`);
      for (const command of ['check', 'run'] as const) {
        const r = await cli([command, '--config', config]);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, new RegExp(`^logship: sink\\.path: \\S*${what.replace(/[.[\]*]/g, '\\$&')}`));
      }
    }
    // Excluded, it is fine.
    const { config } = configIn(() => `inputs: [{type: django, paths: ["logs/*"], exclude: ["out.log*"]}]\n${FAST}sink: {type: file, path: logs/out.log}\n`);
    assert.equal((await cli(['check', '--config', config])).code, 0);
  });

  test('data_dir under /proc: both fail at once with one line, nothing spins', async () => {
    const { config } = configIn(CONFIGS['data_dir under /proc']!);
    for (const command of ['check', 'run'] as const) {
      const r = await cli([command, '--config', config], 10_000);
      assert.equal(r.code, 1, `${command}: ${r.stderr}`);
      assert.equal(r.stderr, 'logship: data_dir: cannot create the directory /proc/x: no such file or directory\n');
      assert.ok(r.ms < 5_000, `${command} took ${r.ms} ms`);
    }
  });

  test('check creates and writes data_dir to be sure, and leaves nothing behind; run keeps it', async () => {
    const { dir, config } = configIn(() => `${INPUTS}${FAST}data_dir: state/deep/data\nsink: {type: file, path: out/x.ndjson}\n`);
    const r = await cli(['check', '--config', config]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(existsSync(join(dir, 'state')), false, 'check removed what it created');
    assert.equal((await cli(['run', '--once', '--config', config])).code, 0);
    assert.equal(existsSync(join(dir, 'state', 'deep', 'data', 'registry.json')), true);
  });

  test('check warns (exit 0) about disabled verification and credentials sent in clear; run logs the same once', async () => {
    const { config } = configIn(
      () =>
        `${INPUTS}${FAST}sink: {type: elasticsearch, nodes: ["http://192.0.2.1:9200", "https://192.0.2.2:9200", "http://127.0.0.1:9200"], ` +
        `auth: {username: elastic, password: S3cret}, tls: {verify: false}}\n`,
    );
    const check = await cli(['check', '--config', config]);
    assert.equal(check.code, 0, check.stderr);
    const warnings = check.stderr.split('\n').filter((l) => l !== '');
    assert.deepEqual(warnings, [
      "logship: warning: sink.tls.verify: false: the server's certificate is not checked at all (neither who signed it nor its host name): whoever is between logship and Elasticsearch can read the records and the credentials; give tls.ca instead",
      'logship: warning: sink.auth: the password (sink.auth.password) is sent unencrypted over http:// to 192.0.2.1:9200; use https://',
    ]);
    // run: the same warnings, once each, in the agent's JSON log at start. Only loopback is contacted in tests, and the
    // clear-text warning is for other hosts: run gets the verification one, on a loopback https node nothing answers.
    const loopback = configIn(
      () => `${INPUTS}${FAST}sink: {type: elasticsearch, node: "https://127.0.0.1:9", auth: {username: elastic, password: S3cret}, tls: {verify: false}}\n`,
    ).config;
    const agent = startAgent(loopback);
    try {
      await waitFor(() => agent.logs.some((l) => l['msg'] === 'logship starting'), 10_000, 'the start');
      await new Promise((r) => setTimeout(r, 500));
      const logged = agent.logs.filter((l) => l['level'] === 'warn' && String(l['msg']).startsWith('sink.')).map((l) => `logship: warning: ${String(l['msg'])}`);
      assert.deepEqual(logged, [warnings[0]]);
    } finally {
      agent.signal('SIGKILL');
      await agent.exited();
    }
  });

  test('check warns about each input pattern that matches no file now, and still exits 0', async () => {
    const { config } = configIn(
      () => `inputs: [{type: django, paths: [logs/*.log, missing/*.log]}, {type: docker, paths: [logs/app.log, logs/none.log], exclude: [app.log]}]\n${FAST}sink: {type: stdout}\n`,
    );
    const r = await cli(['check', '--config', config]);
    assert.equal(r.code, 0, r.stderr);
    const dir = config.slice(0, -'/logship.yml'.length);
    assert.deepEqual(r.stderr.split('\n').filter((l) => l !== ''), [
      `logship: warning: inputs[0].paths[1]: "${dir}/missing/*.log" matches no file now`,
      `logship: warning: inputs[1].paths[0]: "${dir}/logs/app.log" matches no file now`,
      `logship: warning: inputs[1].paths[1]: "${dir}/logs/none.log" matches no file now`,
    ]);
    assert.match(r.stdout, /: ok — /);
  });
});

test('the agent log of a run is JSON only', async () => {
  const { config } = configIn(CONFIGS['a file sink']!);
  const r = await cli(['run', '--once', '--config', config]);
  assert.equal(r.code, 0);
  assert.ok(parseAgentLog(r.stderr).every((l) => l['unparsed'] !== true), r.stderr);
});

test('a data_dir the agent\'s user cannot create: check and run refuse it with one line (as nobody)', async (t) => {
  const { dir, config } = configIn(() => `${INPUTS}${FAST}data_dir: locked/data\nsink: {type: stdout}\n`);
  mkdirSync(join(dir, 'locked'), { mode: 0o755 }); // root's: nobody may not create in it
  chmodSync(dir, 0o755);
  chmodSync(join(dir, 'logs'), 0o755);
  chmodSync(join(dir, 'logs', 'app.log'), 0o644);
  chmodSync(config, 0o644);
  if (process.getuid?.() !== 0) return t.skip('needs root, to run the CLI as nobody');
  const asNobody = (command: string): Run => {
    const r = spawnSync(process.execPath, [CLI, command, '--config', config], { uid: 65534, gid: 65534, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: 0 };
  };
  const check = asNobody('check');
  if (check.code !== 1 || !check.stderr.startsWith('logship: data_dir:')) {
    if (/EACCES|permission denied.*(cli\.js|node_modules)/i.test(check.stderr)) return t.skip(`the CLI cannot run as nobody here: ${check.stderr}`);
  }
  const expected = `logship: data_dir: cannot create the directory ${join(dir, 'locked', 'data')}: permission denied\n`;
  assert.equal(check.stderr, expected);
  assert.equal(check.code, 1);
  const run = asNobody('run');
  assert.equal(run.stderr, expected);
  assert.equal(run.code, 1);
});
