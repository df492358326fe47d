import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';

/** The built CLI, exactly what `npx logship` runs. Tests run after `npm run build` (see package.json "test"). */
export const CLI = resolve(import.meta.dirname, '../../dist/cli.js');
/** Debian's python3 (with python3-pythonjsonlogger), not whatever python3 is first on PATH. */
export const PYTHON = '/usr/bin/python3';
export const DJANGO_WRITER = resolve(import.meta.dirname, 'django_writer.py');

export function tempDir(prefix = 'logship-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Write a config file (YAML) into `dir` and return its path. */
export function writeConfig(dir: string, config: Record<string, unknown>, name = 'logship.yml'): string {
  const path = join(dir, name);
  writeFileSync(path, stringify(config));
  return path;
}

/** Fast timings so tests do not wait for production defaults. */
export const FAST = {
  scan_interval: '200ms',
  rotate_wait: '1s',
  partial_line_timeout: '1s',
  multiline_timeout: '500ms',
  checkpoint_interval: '200ms',
  shutdown_timeout: '10s',
  monitoring: { listen: '127.0.0.1:0' }, // tests run agents side by side: no fixed port
  batch: { max_events: 200, max_bytes: 1048576, flush_interval_ms: 200 },
  delivery: { concurrency: 2, max_pending_batches: 4, retry: { initial_backoff: '100ms', max_backoff: '1s' } },
};

export interface AgentProcess {
  readonly child: ChildProcess;
  /** The agent's own log lines (JSON on stderr), parsed. */
  readonly logs: Record<string, unknown>[];
  stdout(): string;
  exited(): Promise<number | null>;
  signal(sig: NodeJS.Signals): void;
}

/** Agents still running when a test file's process ends (a failed test that never stopped its agent) are killed. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** One line of the agent's own log (JSON); a line that is not JSON is kept as `{ msg, unparsed: true }`. */
export function parseLogLine(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { msg: line, unparsed: true };
  }
}

/** All the agent's log lines in a captured stderr. */
export function parseAgentLog(stderr: string): Record<string, unknown>[] {
  return stderr.split('\n').filter((l) => l !== '').map(parseLogLine);
}

/** An NDJSON file (dead letters, the file sink's output) as objects. */
export function readNdjson<T = Record<string, any>>(path: string): T[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as T);
}

/**
 * The agents a test file starts, so that its `after` hook can SIGKILL those a failed test left running (they would
 * keep the test process alive).
 */
export class StartedAgents {
  private readonly all: AgentProcess[] = [];

  start(configPath: string, args: string[] = []): AgentProcess {
    const agent = startAgent(configPath, args);
    this.all.push(agent);
    return agent;
  }

  killRunning(): void {
    for (const a of this.all) if (a.child.exitCode === null && a.child.signalCode === null) a.signal('SIGKILL');
  }
}

export function startAgent(configPath: string, args: string[] = []): AgentProcess {
  const child = spawn(process.execPath, [CLI, 'run', '--config', configPath, '--log-level', 'debug', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' },
  });
  const logs: Record<string, unknown>[] = [];
  let out = '';
  let errBuf = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    errBuf += d.toString();
    let nl: number;
    while ((nl = errBuf.indexOf('\n')) !== -1) {
      const line = errBuf.slice(0, nl);
      errBuf = errBuf.slice(nl + 1);
      logs.push(parseLogLine(line));
    }
  });
  running.add(child);
  const exit = new Promise<number | null>((res) =>
    child.on('exit', (code, sig) => {
      running.delete(child);
      res(code ?? (sig ? -1 : null));
    }),
  );
  return {
    child,
    logs,
    stdout: () => out,
    exited: () => exit,
    signal: (sig) => child.kill(sig),
  };
}

/** Run `logship run --once` to completion; returns exit code and logs. */
export async function runOnce(configPath: string): Promise<{ code: number | null; logs: Record<string, unknown>[] }> {
  const agent = startAgent(configPath, ['--once']);
  const code = await agent.exited();
  return { code, logs: agent.logs };
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Run the real Python writer (RotatingFileHandler) to completion. */
export function runPythonWriter(args: string[]): Promise<void> {
  return new Promise((res, rej) => {
    const child = spawn(PYTHON, [DJANGO_WRITER, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? res() : rej(new Error(`django_writer.py exited ${code}: ${err}`))));
  });
}

/** The "seq=N" numbers in a set of messages; throws on a message without one. */
export function seqsOf(messages: Iterable<string>): number[] {
  const out: number[] = [];
  for (const m of messages) {
    const match = /seq=(\d+)/.exec(m);
    if (!match) throw new Error(`message without seq: ${m.slice(0, 200)}`);
    out.push(Number(match[1]));
  }
  return out;
}

/**
 * Assert exactly the seqs [0, n) arrived, each once. Returns a description of what is wrong, or null.
 * Lost and duplicated are reported separately so a failure says which it is.
 */
export function checkExactlyOnce(seqs: number[], expected: number): string | null {
  const counts = new Map<number, number>();
  for (const s of seqs) counts.set(s, (counts.get(s) ?? 0) + 1);
  const lost: number[] = [];
  for (let i = 0; i < expected; i++) if (!counts.has(i)) lost.push(i);
  const dup = [...counts].filter(([, c]) => c > 1).map(([s]) => s);
  const extra = [...counts.keys()].filter((s) => s < 0 || s >= expected);
  if (lost.length === 0 && dup.length === 0 && extra.length === 0) return null;
  return `lost ${lost.length} (first ${lost.slice(0, 5).join(',')}), duplicated ${dup.length} (first ${dup
    .slice(0, 5)
    .join(',')}), unexpected ${extra.length}`;
}
