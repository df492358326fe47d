/**
 * `logship status` facing what it does not control (issue #13, items 13 and 18): file names with terminal escape
 * sequences and newlines are printed escaped, one row per file; the agent answering on the monitoring port is
 * identified (this config's, another logship's, or not logship at all); LAST ACK stays put across a restart with
 * nothing acknowledged.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI, FAST, runOnce, startAgent, tempDir, waitFor, writeConfig, type AgentProcess } from './support/agent.js';
import { formatStatus, printable, type StatusReport } from '../src/status.js';

const run = promisify(execFile);
const agents: AgentProcess[] = [];
after(async () => {
  for (const a of agents) a.signal('SIGKILL');
});

async function status(config: string, json = false): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, 'status', '--config', config, ...(json ? ['--json'] : [])]);
  return stdout;
}

const line = (m: string): string => JSON.stringify({ asctime: '2026-11-27 12:00:00,000', levelname: 'INFO', message: m }) + '\n';

function setup(extra: Record<string, unknown> = {}): { dir: string; logs: string; config: string } {
  const dir = tempDir('logship-status-');
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const config = writeConfig(dir, {
    ...FAST,
    data_dir: join(dir, 'data'),
    inputs: [{ type: 'django', paths: [join(logs, '*.log')], timezone: 'UTC' }],
    sink: { type: 'file', path: join(dir, 'out', 'logship.ndjson') },
    ...extra,
  });
  return { dir, logs, config };
}

test('file names with escape sequences and a newline are printed escaped: no terminal control, no forged row', async () => {
  const { logs, config } = setup({ monitoring: { enabled: false } });
  const hostile = 'a\x1b]0;pwned\x07\x1b[2J\nFORGED live 1:2-deadbeef 0 0 0 x\u202e.log';
  writeFileSync(join(logs, hostile), line('one'));
  writeFileSync(join(logs, 'plain.log'), line('two'));
  assert.equal((await runOnce(config)).code, 0);
  const table = await status(config);
  assert.doesNotMatch(table, /[\x00-\x09\x0b-\x1f\x7f\u202e]/, 'no control character but the line ends');
  const lines = table.trimEnd().split('\n');
  assert.equal(lines.length, 5, table); // registry, header, two files, the total (monitoring off: no agent line)
  assert.ok(lines.some((l) => l.includes('a\\x1b]0;pwned\\x07\\x1b[2J\\nFORGED live 1:2-deadbeef 0 0 0 x\\u202e.log')), table);
  assert.equal(lines.filter((l) => l.startsWith('FORGED')).length, 0);
  // --json keeps the name as it is (JSON escapes it).
  const report = JSON.parse(await status(config, true)) as StatusReport;
  assert.ok(report.files.some((f) => f.path === join(logs, hostile)));
});

test('every string in the table is escaped: reasons from /health and the dead letters too', () => {
  const report: StatusReport = {
    config: '/c.yml',
    registry: '/data/registry.json',
    exists: true,
    written_at: null,
    files: [],
    total_bytes_behind: 0,
    dead_letters: { path: '/data/dead_letters.ndjson', count: 1, reasons: [{ reason: '400 x\n\x1b[31mred', count: 1 }], unreadable: 0, files: 1 },
    agent: { url: 'http://127.0.0.1:9600/health', reachable: true, status: 'ok\x1b[2J', reasons: ['r\nforged'], ours: true },
    losses: [{ path: '/logs/\x1b]0;pwned\x07django.log.3', bytes: 120, reason: 'deleted_before_open', at: '2026-12-06T04:00:00.000Z' }],
  };
  const text = formatStatus(report);
  assert.doesNotMatch(text, /\x1b/);
  assert.match(text, /lost: {5}120 bytes in 1 file/);
  assert.match(text, /120 bytes of \/logs\/\\x1b\]0;pwned\\x07django\.log\.3 \(deleted_before_open\)/);
  assert.match(text, /dead letters: 1 in \/data\/dead_letters\.ndjson — 1× 400 x\\n\\x1b\[31mred/);
  assert.match(text, /agent: {4}ok\\x1b\[2J — r\\nforged \(http/);
  assert.equal(printable('back\\slash'), 'back\\\\slash');
});

test('status tells this config\'s agent from another logship and from something else on the port', async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  const monitoring = { listen: `127.0.0.1:${port}`, unhealthy_after_ms: 5000 };
  const mine = setup({ monitoring });
  const other = setup({ monitoring });
  writeFileSync(join(mine.logs, 'app.log'), line('one'));
  const agent = startAgent(mine.config);
  agents.push(agent);
  await waitFor(() => agent.logs.some((l) => l['msg'] === 'monitoring listening'), 15_000, 'the agent to listen');

  const ours = JSON.parse(await status(mine.config, true)) as StatusReport;
  assert.equal(ours.agent?.ours, true);
  assert.equal(ours.agent?.config, mine.config);
  assert.equal(ours.agent?.pid, agent.child.pid);
  assert.match(ours.agent?.instance ?? '', /^[0-9a-f-]{36}$/);
  assert.match(await status(mine.config), new RegExp(`^agent: {4}ok \\(pid ${agent.child.pid}\\) \\(http://127\\.0\\.0\\.1:${port}/health\\)$`, 'm'));

  const theirs = JSON.parse(await status(other.config, true)) as StatusReport;
  assert.equal(theirs.agent?.ours, false);
  const table = await status(other.config);
  assert.match(table, new RegExp(`^agent: {4}not this config's agent: the logship answering \\(pid ${agent.child.pid}\\) runs ${mine.config.replace(/[/.]/g, '\\$&')}; its status: ok`, 'm'));
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);

  // Not logship at all: an HTTP server answering JSON on the port.
  const impostor = createServer((_req, res) => res.end('{"status":"ok"}'));
  await new Promise<void>((r) => impostor.listen(port, '127.0.0.1', r));
  try {
    assert.match(await status(mine.config), /^agent: {4}something that is not a logship agent answers there \(ok\)/m);
  } finally {
    await new Promise((r) => impostor.close(r));
  }
});

test('LAST ACK stays where it was when a restart acknowledges nothing', async () => {
  const { logs, dir, config } = setup({ monitoring: { enabled: false } });
  writeFileSync(join(logs, 'app.log'), line('one') + line('two'));
  assert.equal((await runOnce(config)).code, 0);
  const registry = (): { checkpoints: { ackedAt: string; offset: number }[] } => JSON.parse(readFileSync(join(dir, 'data', 'registry.json'), 'utf8'));
  const first = registry().checkpoints[0]!;
  await new Promise((r) => setTimeout(r, 1100));
  // Follow mode, long enough for several checkpoint writes (200 ms), then a clean stop.
  const agent = startAgent(config);
  agents.push(agent);
  await waitFor(() => agent.logs.some((l) => l['msg'] === 'logship starting'), 10_000, 'the start');
  await new Promise((r) => setTimeout(r, 800));
  agent.signal('SIGTERM');
  assert.equal(await agent.exited(), 0);
  const second = registry().checkpoints[0]!;
  assert.equal(second.offset, first.offset);
  assert.equal(second.ackedAt, first.ackedAt);
  // Then something is acknowledged: it moves.
  writeFileSync(join(logs, 'app.log'), line('one') + line('two') + line('three'));
  assert.equal((await runOnce(config)).code, 0);
  assert.ok(Date.parse(registry().checkpoints[0]!.ackedAt) > Date.parse(first.ackedAt));
});
