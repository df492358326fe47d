/**
 * What every fault scenario needs: a temp directory, the built CLI run as a separate process (as a user runs it),
 * the real writers, and the figures a row of the table is made of — lost bytes the agent counted (its warnings and
 * its stop summary) and its peak RSS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, DJANGO_WRITER, parseLogLine, PYTHON, tempDir, writeConfig } from '../support/agent.js';

export type Scale = 'ci' | 'full';

/** One run of `logship run` (following, or --once). */
export class Agent {
  readonly child: ChildProcess;
  readonly logs: Record<string, unknown>[] = [];
  /** Exit code, or -1 when killed by a signal. */
  readonly exited: Promise<number>;
  /** Peak RSS seen in /proc while it ran (VmHWM), MiB: the figure a SIGKILLed run has no summary for. */
  private hwmMib = 0;
  /** logship_rotation_lost_bytes_total as last scraped from /metrics (every second while it runs). */
  private metricLost = 0;
  private ticks = 0;
  private readonly sampler: NodeJS.Timeout;

  /** `logFile`: where its stderr is kept as it came (the run's directory, kept with --keep when a row fails). */
  constructor(config: string, args: string[], logFile: string) {
    this.child = spawn(process.execPath, [CLI, 'run', '--config', config, '--log-level', process.env['FAULTS_LOG_LEVEL'] ?? 'info', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' },
    });
    let rest = '';
    const keep = createWriteStream(logFile);
    this.child.stderr!.pipe(keep);
    this.child.stderr!.on('data', (d: Buffer) => {
      rest += d.toString();
      let nl: number;
      while ((nl = rest.indexOf('\n')) !== -1) {
        this.logs.push(parseLogLine(rest.slice(0, nl)));
        rest = rest.slice(nl + 1);
      }
    });
    this.sampler = setInterval(() => {
      this.sampleRss();
      if (++this.ticks % 4 === 0) void this.scrapeLost();
    }, 250);
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => {
        clearInterval(this.sampler);
        resolve(code ?? (signal ? -1 : 1));
      }),
    );
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) {
      if (sig === 'SIGKILL') this.sampleRss();
      this.child.kill(sig);
    }
  }

  /** Stops it with `sig` and waits at most `ms` for it to exit (then SIGKILL); its exit code, or null if it hung. */
  async stop(sig: NodeJS.Signals = 'SIGTERM', ms = 30_000): Promise<number | null> {
    this.signal(sig);
    const code = await Promise.race([this.exited, sleep(ms).then(() => null)]);
    if (code === null) this.signal('SIGKILL');
    return code;
  }

  /** The stop summary ("logship stopped"), if it got that far. */
  summary(): Record<string, unknown> | undefined {
    return this.logs.find((l) => l['msg'] === 'logship stopped');
  }

  /**
   * Bytes this run said it lost: the largest of its stop summary, the sum of its warnings naming a file, and
   * logship_rotation_lost_bytes_total on /metrics.
   */
  lostBytes(): { bytes: number; warnings: number } {
    let fromWarnings = 0;
    let warnings = 0;
    for (const l of this.logs) {
      const n = l['lost_bytes'];
      if (l['msg'] !== 'logship stopped' && typeof n === 'number' && n > 0) {
        fromWarnings += n;
        warnings++;
      }
    }
    const summary = this.summary()?.['lost_bytes'];
    return { bytes: Math.max(fromWarnings, typeof summary === 'number' ? summary : 0, this.metricLost), warnings };
  }

  peakRssMib(): number | null {
    const s = this.summary()?.['max_rss_mib'];
    const best = Math.max(typeof s === 'number' ? s : 0, this.hwmMib);
    return best > 0 ? best : null;
  }

  /** The monitoring URL it logged at start, once it did. */
  monitoringUrl(): string | null {
    const l = this.logs.find((x) => x['msg'] === 'monitoring listening');
    return typeof l?.['url'] === 'string' ? l['url'] : null;
  }

  /**
   * Whether the agent says it has shipped everything it knows of: per /health, every input follows a file and has
   * no byte behind (every byte on disk acknowledged), and no record is waiting for an acknowledgement. False while
   * it cannot tell (not listening yet, busy).
   */
  async caughtUp(): Promise<boolean> {
    const url = this.monitoringUrl();
    if (url === null || !this.running) return false;
    try {
      const h = (await (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).json()) as {
        inputs?: { files: number; bytes_behind: number }[];
        sinks?: Record<string, { unacknowledged_records?: number }>;
      };
      const inputs = h.inputs ?? [];
      const sinks = Object.values(h.sinks ?? {});
      return inputs.length > 0 && inputs.every((i) => i.files > 0 && i.bytes_behind === 0) && sinks.every((x) => (x.unacknowledged_records ?? 0) === 0);
    } catch {
      return false;
    }
  }

  /** Log lines at warn or error, for a row's notes. */
  problems(): Record<string, unknown>[] {
    return this.logs.filter((l) => l['level'] === 'warn' || l['level'] === 'error' || l['unparsed']);
  }

  private async scrapeLost(): Promise<void> {
    const url = this.monitoringUrl();
    if (url === null || !this.running) return;
    try {
      const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(1000) })).text();
      let sum = 0;
      for (const m of text.matchAll(/^logship_rotation_lost_bytes_total(?:\{[^}]*\})? (\S+)$/gm)) sum += Number(m[1]);
      this.metricLost = Math.max(this.metricLost, sum);
    } catch {
      // stopping, or busy: the next scrape
    }
  }

  private sampleRss(): void {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'));
      if (m) this.hwmMib = Math.max(this.hwmMib, Math.round(Number(m[1]) / 1024));
    } catch {
      // exited
    }
  }
}

/** The real Django writer (Python's RotatingFileHandler), running. */
export class PythonWriter {
  readonly done: Promise<void>;
  private readonly child: ChildProcess;

  constructor(args: string[]) {
    this.child = spawn(PYTHON, [DJANGO_WRITER, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    this.child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    this.done = new Promise((resolve, reject) =>
      this.child.on('exit', (code, signal) =>
        code === 0 ? resolve() : reject(new Error(`django_writer.py exited ${code ?? signal}: ${err.slice(-500)}`)),
      ),
    );
    this.done.catch(() => undefined); // awaited by the scenario; a run torn down early must not crash the runner
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** Configuration every scenario starts from: the production defaults, but fast retries and a free monitoring port. */
export const BASE_CONFIG = {
  host_name: 'web-1',
  shutdown_timeout: '10s',
  monitoring: { listen: '127.0.0.1:0' },
  delivery: { retry: { initial_backoff: '200ms', max_backoff: '2s' } },
};

/**
 * One scenario's run: its directory, the processes it started (all stopped by close()), and the agents' figures.
 */
export class FaultRun {
  readonly dir: string;
  readonly logs: string;
  readonly data: string;
  readonly agents: Agent[] = [];
  private readonly writers: PythonWriter[] = [];
  private readonly closers: (() => unknown)[] = [];

  constructor(
    readonly name: string,
    readonly scale: Scale,
  ) {
    this.dir = tempDir('logship-fault-');
    this.logs = join(this.dir, 'logs');
    this.data = join(this.dir, 'data');
    mkdirSync(this.logs);
  }

  /** CI figure or full figure. */
  pick<T>(ci: T, full: T): T {
    return this.scale === 'ci' ? ci : full;
  }

  /** Writes the config (BASE_CONFIG, then `config` over it, shallowly) and returns its path. */
  config(config: Record<string, unknown>, name = 'logship.yml'): string {
    return writeConfig(this.dir, { data_dir: this.data, ...BASE_CONFIG, ...config }, name);
  }

  agent(config: string, args: string[] = []): Agent {
    const a = new Agent(config, args, join(this.dir, `agent-${this.agents.length + 1}.log`));
    this.agents.push(a);
    return a;
  }

  /** `run --once` to its end, or killed after `timeoutMs`: exit code (null when it had to be killed) and seconds. */
  async once(config: string, timeoutMs: number): Promise<{ agent: Agent; code: number | null; seconds: number }> {
    const started = Date.now();
    const agent = this.agent(config, ['--once']);
    const code = await Promise.race([agent.exited, sleep(timeoutMs).then(() => null)]);
    if (code === null) {
      agent.signal('SIGKILL');
      await agent.exited;
    }
    return { agent, code, seconds: (Date.now() - started) / 1000 };
  }

  python(args: string[]): PythonWriter {
    const w = new PythonWriter(args);
    this.writers.push(w);
    return w;
  }

  /** Something to undo when the run ends (a server to close, a mount to take down). */
  onClose(fn: () => unknown): void {
    this.closers.push(fn);
  }

  /** Lost bytes the agents counted, over all their runs. */
  countedLost(): { bytes: number; warnings: number } {
    let bytes = 0;
    let warnings = 0;
    for (const a of this.agents) {
      const l = a.lostBytes();
      bytes += l.bytes;
      warnings += l.warnings;
    }
    return { bytes, warnings };
  }

  peakRssMib(): number | null {
    const all = this.agents.map((a) => a.peakRssMib()).filter((x): x is number => x !== null);
    return all.length === 0 ? null : Math.max(...all);
  }

  async close(keep: boolean): Promise<void> {
    for (const a of this.agents) a.signal('SIGKILL');
    for (const w of this.writers) w.kill();
    await Promise.all(this.agents.map((a) => a.exited));
    for (const fn of this.closers.reverse()) {
      try {
        await fn();
      } catch {
        // best effort
      }
    }
    if (!keep && process.env['FAULTS_KEEP_ALL'] === undefined && existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** seq → bytes the record took in its file, from django_writer.py --ledger. */
export function readLedger(path: string): Map<number, number> {
  const out = new Map<number, number>();
  if (!existsSync(path)) return out;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0) out.set(Number(line.slice(0, sp)), Number(line.slice(sp + 1)));
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits for `check`, up to `timeoutMs`; false when it never held. */
export async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(50);
  }
  return check();
}
