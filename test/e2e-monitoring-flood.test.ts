/**
 * A connection flood on the monitoring port (issue #13, item 11): under `ulimit -n 300` (prlimit around the spawned
 * agent), 320 connections sending half a request, reopened as soon as the agent closes one, made checkpoint writes
 * fail with EMFILE, /health stop answering and new log files unopenable. Now the monitoring server serves at most 32
 * connections (more are closed at once) and closes a half-sent request after 5 s: during the flood, a new log file
 * is opened and shipped, checkpoints are written, no EMFILE is logged; /health answers when a slot is free, and at
 * once when the flood stops. The figures are printed (test diagnostics) for the record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { CLI, FAST, parseLogLine, tempDir, waitFor, writeConfig } from './support/agent.js';

const FLOOD = 320;
const NOFILE = 300;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** GET /health on a new connection: the status, or null when refused, reset or silent for `timeoutMs`. */
function health(port: number, timeoutMs = 2_000): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const done = (v: number | null): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.on('connect', () => socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'));
    socket.on('data', (d) => {
      text += d.toString();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m) done(Number(m[1]));
    });
    socket.on('error', () => done(null));
    socket.on('close', () => done(null));
  });
}

const line = (m: string): string => JSON.stringify({ asctime: '2026-11-27 12:00:00,000', levelname: 'INFO', message: m }) + '\n';

test(`${FLOOD} half-request connections under ulimit -n ${NOFILE}: files still opened and shipped, checkpoints still written`, async (t) => {
  const dir = tempDir('logship-flood-');
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const port = await freePort();
  const out = join(dir, 'out', 'logship.ndjson');
  const config = writeConfig(dir, {
    ...FAST,
    data_dir: join(dir, 'data'),
    inputs: [{ type: 'django', paths: [join(logs, '*.log')], timezone: 'UTC' }],
    sink: { type: 'file', path: out },
    monitoring: { listen: `127.0.0.1:${port}`, unhealthy_after_ms: 5000 },
  });
  writeFileSync(join(logs, 'a.log'), line('a0') + line('a1'));

  const child = spawn('prlimit', [`--nofile=${NOFILE}:${NOFILE}`, process.execPath, CLI, 'run', '--config', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logsSeen: Record<string, unknown>[] = [];
  let buffered = '';
  child.stderr!.on('data', (d: Buffer) => {
    buffered += d.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      logsSeen.push(parseLogLine(buffered.slice(0, nl)));
      buffered = buffered.slice(nl + 1);
    }
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const shipped = (): string[] => (existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n').filter((l) => l !== '').map((l) => String(JSON.parse(l).message)) : []);
  const checkpointOf = (name: string): { offset: number } | undefined => {
    try {
      const registry = JSON.parse(readFileSync(join(dir, 'data', 'registry.json'), 'utf8')) as { checkpoints: { path: string; offset: number }[] };
      return registry.checkpoints.find((c) => c.path === join(logs, name));
    } catch {
      return undefined;
    }
  };
  const descriptors = (): number => readdirSync(`/proc/${child.pid}/fd`).length;

  const sockets = new Set<Socket>();
  let flooding = true;
  let opened = 0;
  let closedAtOnce = 0;
  let closedLater = 0;
  const open = (): void => {
    const started = Date.now();
    const s = connect(port, '127.0.0.1', () => s.write('GET /health HTTP/1.1\r\nHost: x\r\n')); // and never the end
    opened++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => {
      sockets.delete(s);
      if (Date.now() - started < 500) closedAtOnce++;
      else closedLater++;
      if (flooding) setTimeout(open, 20); // the attacker comes back
    });
  };
  try {
    await waitFor(() => logsSeen.some((l) => l['msg'] === 'monitoring listening'), 20_000, 'the agent to listen');
    await waitFor(() => shipped().length === 2, 20_000, 'a.log shipped');
    const before = descriptors();
    assert.equal(await health(port), 200);

    for (let i = 0; i < FLOOD; i++) open();
    await new Promise((r) => setTimeout(r, 1_000));
    let maxDescriptors = descriptors();
    const sample = setInterval(() => (maxDescriptors = Math.max(maxDescriptors, descriptors())), 100);

    // During the flood: a new file is found, opened, read and shipped; its checkpoint is written.
    const flooded = Date.now();
    writeFileSync(join(logs, 'b.log'), line('b0') + line('b1') + line('b2'));
    await waitFor(() => shipped().includes('b2'), 15_000, 'b.log shipped during the flood');
    await waitFor(() => checkpointOf('b.log')?.offset === 3 * line('b0').length, 15_000, 'b.log checkpointed during the flood');
    const shippedAfterMs = Date.now() - flooded;
    // /health during the flood: answered when a slot is free, refused (closed) otherwise; never a hang of the agent.
    const during: (number | null)[] = [];
    for (let i = 0; i < 5; i++) during.push(await health(port));
    clearInterval(sample);

    flooding = false;
    for (const s of sockets) s.destroy();
    await waitFor(async () => (await health(port, 1_000)) === 200, 10_000, '/health once the flood stopped');

    const emfile = logsSeen.filter((l) => JSON.stringify(l).includes('EMFILE'));
    t.diagnostic(
      `flood figures: ${opened} connections opened (${FLOOD} at once, reopened when closed); ${closedAtOnce} closed by the agent at once ` +
        `(over maxConnections), ${closedLater} after the header timeout; agent descriptors ${before} before, at most ${maxDescriptors} ` +
        `during (limit ${NOFILE}); b.log shipped and checkpointed ${shippedAfterMs} ms after it was written; /health during the flood: ` +
        `${during.map((s) => s ?? 'refused').join(', ')}; EMFILE log lines: ${emfile.length}`,
    );
    assert.equal(emfile.length, 0, JSON.stringify(emfile.slice(0, 3)));
    assert.ok(maxDescriptors < NOFILE - 100, `descriptors during the flood: ${maxDescriptors}`);
    assert.ok(closedAtOnce > 0, 'connections over the limit are closed at once');
    assert.ok(!logsSeen.some((l) => l['msg'] === 'cannot write checkpoints'), 'every checkpoint write succeeded');
  } finally {
    flooding = false;
    for (const s of sockets) s.destroy();
    child.kill('SIGTERM');
    await exited;
  }
});
