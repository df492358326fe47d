/**
 * `npm run bench [-- --lines N --runs R --mode throughput|latency|backlog|all]`
 *
 * Throughput: per corpus, `logship run --once` from cold (no checkpoint) into a local `_bulk` receiver; prints
 * events/s, input MB/s, CPU seconds (user+sys, all threads) per GB of input, peak RSS, and the documents received,
 * which must equal the records written (a run that loses or duplicates is reported FAILED, not timed).
 * Latency: lines written at a steady 2,000/s for 30 s while the agent follows; p50/p99 of write-to-acknowledged.
 * Backlog: the receiver stalls for 60 s while 500 MB waits; peak RSS must stay flat.
 * Everything runs on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { CORPUS_KINDS, writeCorpus, type CorpusKind } from './corpus.js';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist/cli.js');
const CONTAINER = 'b'.repeat(64);

const { values: args } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    mode: { type: 'string', default: 'throughput' },
    peers: { type: 'boolean', default: false },
    corpus: { type: 'string' },
  },
});

interface Receiver {
  readonly url: string;
  stats(): Promise<{ docs: number; unique: number; bulkRequests: number; cpuSeconds: number; latencies: number[] }>;
  stall(ms: number): Promise<void>;
  close(): void;
}

async function startReceiver(): Promise<Receiver> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/receiver.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((res) => {
    child.stdout!.on('data', (d: Buffer) => {
      const m = /listening (\d+)/.exec(d.toString());
      if (m) res(Number(m[1]));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    stats: async () => (await (await fetch(`${url}/_bench/stats`)).json()) as Awaited<ReturnType<Receiver['stats']>>,
    stall: async (ms) => void (await fetch(`${url}/_bench/stall?ms=${ms}`, { method: 'POST' })),
    close: () => child.kill(),
  };
}

function corpusPath(dir: string, kind: CorpusKind): string {
  return kind === 'docker' ? join(dir, 'containers', CONTAINER, `${CONTAINER}-json.log`) : join(dir, 'logs', `${kind}.log`);
}

function configFor(dir: string, kind: CorpusKind, receiver: string): string {
  const path = join(dir, `logship-${kind}.yml`);
  const config = {
    data_dir: join(dir, `data-${kind}-${Date.now()}`),
    inputs: [{ type: kind === 'docker' ? 'docker' : 'django', paths: [corpusPath(dir, kind)], timezone: 'UTC' }],
    sink: { type: 'elasticsearch', node: receiver, index: 'logs-bench-default' },
  };
  writeFileSync(path, stringify(config));
  return path;
}

interface AgentRun {
  wallSeconds: number;
  cpuSeconds: number;
  rssMiB: number;
  code: number | null;
}

function runAgent(config: string, extra: string[] = []): { child: ChildProcess; done: Promise<AgentRun> } {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [CLI, 'run', '--config', config, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<AgentRun>((res) =>
    child.on('exit', (code) => {
      const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      const stopped = stderr
        .split('\n')
        .filter((l) => l.includes('"logship stopped"'))
        .map((l) => JSON.parse(l) as Record<string, number>)[0];
      if (!stopped) process.stderr.write(stderr.slice(-2000));
      res({
        wallSeconds,
        cpuSeconds: (stopped?.['cpu_user_s'] ?? NaN) + (stopped?.['cpu_system_s'] ?? NaN),
        rssMiB: stopped?.['max_rss_mib'] ?? NaN,
        code,
      });
    }),
  );
  return { child, done };
}

interface PeerRun {
  wallSeconds: number;
  cpuSeconds: number;
  rssMiB: number;
  received: number;
}

/** /proc/<pid>: CPU seconds (utime + stime, all threads) and peak RSS (VmHWM) of a running process. */
function procUsage(pid: number): { cpuSeconds: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat(5))
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuSeconds: ticks / 100, rssMiB: Number(hwm?.[1] ?? 0) / 1024 };
}

/**
 * rsyslog (Debian's rsyslog + rsyslog-elasticsearch) on the same corpus and receiver: imfile → mmjsonparse →
 * omelasticsearch in bulk mode. Started in the foreground with its own config and work directory, never as the
 * system daemon. JSON corpora are parsed and shipped as JSON; the text corpus is joined on its header lines
 * (startmsg.regex) and shipped as {"message": …}.
 * Tuned for it, not against it: omelasticsearch 8.2302's cost per batch grows faster than the batch, so small
 * batches win (measured here on 1M JSON lines: 1000 → 10k events/s, 128 → 52k, 32 → 82k, 16 → 72k).
 */
async function runRsyslog(dir: string, kind: CorpusKind, receiver: Receiver, lines: number): Promise<PeerRun | null> {
  if (!existsSync('/usr/sbin/rsyslogd')) return null;
  const work = mkdtempSync(join(dir, 'rsyslog-'));
  const port = new URL(receiver.url).port;
  const json = kind !== 'django-text';
  const conf = join(work, 'rsyslog.conf');
  writeFileSync(
    conf,
    `global(workDirectory="${work}" maxMessageSize="128k")
module(load="imfile" mode="inotify")
module(load="mmjsonparse")
module(load="omelasticsearch")
template(name="doc" type="string" string="%$!all-json%")
template(name="text" type="list") { constant(value="{\\"message\\":\\"") property(name="msg" format="json") constant(value="\\"}") }
input(type="imfile" file="${corpusPath(dir, kind)}" tag="bench" ruleset="ship" addMetadata="off"${json ? '' : ' startmsg.regex="^(INFO|ERROR|WARNING|DEBUG|CRITICAL) " readTimeout="1"'})
ruleset(name="ship" queue.type="LinkedList" queue.size="100000" queue.dequeueBatchSize="32") {
  ${json ? 'action(type="mmjsonparse" cookie="")' : ''}
  action(type="omelasticsearch" server="127.0.0.1" serverport="${port}" searchIndex="logs-bench-default"
         template="${json ? 'doc' : 'text'}" bulkmode="on" maxbytes="5m" action.resumeRetryCount="-1"
         queue.type="LinkedList" queue.size="100000" queue.dequeueBatchSize="32")
}
`,
  );
  const before = (await receiver.stats()).docs;
  const started = process.hrtime.bigint();
  const child = spawn('/usr/sbin/rsyslogd', ['-n', '-f', conf, '-i', join(work, 'rsyslogd.pid')], { stdio: 'ignore' });
  let usage = { cpuSeconds: NaN, rssMiB: NaN };
  let received = 0;
  const deadline = Date.now() + 180_000; // a peer that has not finished by then is reported FAILED
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    received = (await receiver.stats()).docs - before;
    if (child.pid !== undefined && existsSync(`/proc/${child.pid}/stat`)) usage = procUsage(child.pid);
    if (received >= lines || child.exitCode !== null) break;
  }
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { wallSeconds, cpuSeconds: usage.cpuSeconds, rssMiB: usage.rssMiB, received };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (x: number, digits = 1): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const range = (xs: number[], digits = 1): string => `${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)}`;

async function throughput(dir: string, lines: number, runs: number): Promise<boolean> {
  const receiver = await startReceiver();
  let allOk = true;
  const kinds = args.corpus ? [args.corpus as CorpusKind] : CORPUS_KINDS;
  console.log(`\nThroughput: ${lines.toLocaleString('en-US')} records per corpus, ${runs} runs each, logship run --once from cold → _bulk on 127.0.0.1`);
  console.log('corpus       | events/s (median, min–max)  | MB/s          | CPU s/GB      | peak RSS MiB | receiver CPU s | docs ok');
  for (const kind of kinds) {
    const path = corpusPath(dir, kind);
    const bytes = await writeCorpus(kind, path, lines);
    const rows: { eps: number; mbps: number; cpuPerGb: number; rss: number; recvCpu: number }[] = [];
    let ok = true;
    for (let r = 0; r < runs; r++) {
      const before = await receiver.stats();
      const config = configFor(dir, kind, receiver.url);
      const run = await runAgent(config, ['--once']).done;
      const after = await receiver.stats();
      const received = after.docs - before.docs;
      const unique = after.unique - before.unique;
      // Ids repeat across runs of the same corpus (same file identity + offset): count uniques on the first run only.
      const runOk = run.code === 0 && received === lines && (r > 0 || unique === lines);
      if (!runOk) {
        ok = false;
        console.log(`  ${kind} run ${r + 1} FAILED: exit ${run.code}, received ${received} documents (${unique} unique) for ${lines} records`);
        continue;
      }
      rows.push({
        eps: lines / run.wallSeconds,
        mbps: bytes / 1e6 / run.wallSeconds,
        cpuPerGb: run.cpuSeconds / (bytes / 1e9),
        rss: run.rssMiB,
        recvCpu: after.cpuSeconds - before.cpuSeconds,
      });
    }
    allOk &&= ok;
    if (rows.length === 0) continue;
    const col = (f: (x: (typeof rows)[0]) => number, d = 1): string => `${fmt(median(rows.map(f)), d)} (${range(rows.map(f), d)})`;
    console.log(
      `${kind.padEnd(12)} | ${col((x) => x.eps, 0).padEnd(27)} | ${col((x) => x.mbps).padEnd(13)} | ${col((x) => x.cpuPerGb).padEnd(13)} | ${fmt(median(rows.map((x) => x.rss)), 0).padEnd(12)} | ${fmt(median(rows.map((x) => x.recvCpu)), 2).padEnd(14)} | ${ok ? 'yes' : 'NO'} (${(bytes / 1e6).toFixed(0)} MB input)`,
    );
    if (!args.peers) continue;
    const peer: typeof rows = [];
    for (let r = 0; r < runs; r++) {
      const run = await runRsyslog(dir, kind, receiver, lines);
      if (run === null) {
        console.log('  rsyslog: /usr/sbin/rsyslogd not installed (apt-get install rsyslog rsyslog-elasticsearch)');
        break;
      }
      if (run.received !== lines) {
        console.log(`  rsyslog ${kind} run ${r + 1} FAILED: received ${run.received} documents for ${lines} records`);
        continue;
      }
      peer.push({ eps: lines / run.wallSeconds, mbps: bytes / 1e6 / run.wallSeconds, cpuPerGb: run.cpuSeconds / (bytes / 1e9), rss: run.rssMiB, recvCpu: 0 });
    }
    if (peer.length === 0) continue;
    const pcol = (f: (x: (typeof rows)[0]) => number, d = 1): string => `${fmt(median(peer.map(f)), d)} (${range(peer.map(f), d)})`;
    console.log(
      `${'  rsyslog'.padEnd(12)} | ${pcol((x) => x.eps, 0).padEnd(27)} | ${pcol((x) => x.mbps).padEnd(13)} | ${pcol((x) => x.cpuPerGb).padEnd(13)} | ${fmt(median(peer.map((x) => x.rss)), 0).padEnd(12)} |`,
    );
    const ratio = (f: (x: (typeof rows)[0]) => number): string => (median(rows.map(f)) / median(peer.map(f))).toFixed(2);
    console.log(`${'  ratio'.padEnd(12)} | logship/rsyslog events/s ×${ratio((x) => x.eps)}, CPU/GB ×${ratio((x) => x.cpuPerGb)}, RSS ×${ratio((x) => x.rss)}`);
  }
  receiver.close();
  return allOk;
}

/** Lines written at a steady 2,000/s for 30 s while the agent follows the file (default flush_interval_ms). */
async function latency(dir: string): Promise<boolean> {
  const receiver = await startReceiver();
  const file = join(dir, 'logs', 'latency.log');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, '');
  const config = join(dir, 'logship-latency.yml');
  writeFileSync(
    config,
    stringify({
      data_dir: join(dir, 'data-latency'),
      monitoring: { enabled: false },
      inputs: [{ type: 'django', paths: [file], timezone: 'UTC' }],
      sink: { type: 'elasticsearch', node: receiver.url, index: 'logs-bench-default' },
    }),
  );
  const agent = runAgent(config);
  await new Promise((r) => setTimeout(r, 1500));
  const rate = 2000;
  const seconds = 30;
  let written = 0;
  const started = Date.now();
  while (written < rate * seconds) {
    const due = Math.min(rate * seconds, Math.floor(((Date.now() - started) / 1000) * rate));
    let chunk = '';
    for (; written < due; written++) {
      chunk += `{"asctime": "2026-11-27 12:00:00,000", "levelname": "INFO", "name": "django.request", "message": "GET /api/items/${written} 200 seq=${written} wt=${Date.now()}"}\n`;
    }
    if (chunk) appendFileSync(file, chunk);
    await new Promise((r) => setTimeout(r, 10));
  }
  const deadline = Date.now() + 30_000;
  let stats = await receiver.stats();
  while (stats.docs < written && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    stats = await receiver.stats();
  }
  agent.child.kill('SIGTERM');
  await agent.done;
  receiver.close();
  const sorted = [...stats.latencies].sort((a, b) => a - b);
  const pct = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
  const ok = stats.docs === written;
  console.log(`\nLatency: ${written.toLocaleString('en-US')} lines at ${rate}/s for ${seconds} s, flush_interval_ms 1000 (default)`);
  console.log(`write-to-acknowledged p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${sorted.at(-1)} ms; documents ${stats.docs} of ${written}${ok ? '' : ' — FAILED'}`);
  return ok;
}

/** The receiver stalls for 60 s while ~500 MB waits: peak RSS must stay flat (reading pauses on backpressure). */
async function backlog(dir: string): Promise<boolean> {
  const receiver = await startReceiver();
  const records = Math.round(500e6 / 343);
  const path = corpusPath(dir, 'django-json');
  rmSync(path, { force: true });
  const bytes = await writeCorpus('django-json', path, records);
  await receiver.stall(60_000);
  const run = await runAgent(configFor(dir, 'django-json', receiver.url), ['--once']).done;
  const { docs, unique } = await receiver.stats();
  receiver.close();
  // A request stalled past request_timeout (30 s) is sent again, and the stalled one is answered too when the stall
  // ends: Elasticsearch would answer the second copy 409. So it is unique ids that must equal the records written.
  const ok = run.code === 0 && unique === records;
  console.log(`\nBacklog: ${(bytes / 1e6).toFixed(0)} MB waiting, receiver stalled 60 s, then catch-up with run --once`);
  console.log(
    `peak RSS ${run.rssMiB} MiB, wall ${run.wallSeconds.toFixed(1)} s, unique documents ${unique} of ${records}` +
      ` (${docs - unique} re-sent after request timeouts)${ok ? '' : ' — FAILED'}`,
  );
  return ok;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'logship-bench-'));
  const lines = Number(args.lines);
  const runs = Number(args.runs);
  console.log(`logship benchmark — ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}`);
  let ok = true;
  try {
    if (args.mode === 'throughput' || args.mode === 'all') ok = (await throughput(dir, lines, runs)) && ok;
    if (args.mode === 'latency' || args.mode === 'all') ok = (await latency(dir)) && ok;
    if (args.mode === 'backlog' || args.mode === 'all') ok = (await backlog(dir)) && ok;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exitCode = ok ? 0 : 1;
}

await main();
