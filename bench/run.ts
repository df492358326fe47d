/**
 * `npm run bench [-- --lines N --runs R --mode throughput|latency|backlog|all --corpus NAME --peers --fluent-bit PATH]`
 *
 * Throughput: per corpus (django-json, docker, mixed = both in one run, django-text), `logship run --once` from cold
 * (no checkpoint) into a local `_bulk` receiver; prints events/s, input MB/s, CPU seconds (user+sys, all threads)
 * per GB of input, peak RSS, and checks the documents received against the records written (a run that loses or
 * duplicates is reported FAILED, not timed). With --peers, rsyslog and Fluent Bit (when built: bench/fluent-bit.ts)
 * ship the same corpus to the same receiver, and logship's ratios to each are printed.
 * Latency: lines written at a steady 2,000/s for 30 s while the agent follows; p50/p99 of write-to-acknowledged.
 * Backlog: the receiver stalls for 60 s while 500 MB waits; peak RSS must stay flat.
 * Last, issue #15's targets, met or not. Everything runs on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { CORPORA, CORPUS_FILES, writeCorpus, type CorpusFile, type CorpusKind, type CorpusName } from './corpus.js';
import { DEFAULT_FLUENT_BIT, findFluentBit, fluentBitDocuments, fluentBitVersion, runFluentBit } from './fluent-bit.js';
import type { PeerRun } from './peer-process.js';
import { startReceiver, type Receiver } from './receiver-client.js';
import { figures, HEADER, medians, ratios, row, type RunFigures } from './report.js';
import { runRsyslog, RSYSLOGD } from './rsyslog.js';
import { printTargets, type BenchResults, type CorpusMedians } from './targets.js';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist/cli.js');
const CONTAINER = 'b'.repeat(64);

const { values: args } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    mode: { type: 'string', default: 'throughput' },
    peers: { type: 'boolean', default: false },
    'fluent-bit': { type: 'string' },
    corpus: { type: 'string' },
  },
});

/** Where a kind's file lives under a corpus's own folder (Docker's path names its container, as dockerd's does). */
function corpusPath(dir: string, kind: CorpusKind): string {
  return kind === 'docker' ? join(dir, 'containers', CONTAINER, `${CONTAINER}-json.log`) : join(dir, 'logs', `${kind}.log`);
}

function configFor(dir: string, name: string, files: readonly CorpusFile[], receiver: string): string {
  const path = join(dir, `logship-${name}.yml`);
  const config = {
    data_dir: join(dir, `data-${name}-${Date.now()}`),
    inputs: files.map((f) => ({ type: f.kind === 'docker' ? 'docker' : 'django', paths: [f.path], timezone: 'UTC' })),
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

/** One shipper on one corpus: how to run it once, and what its documents must add up to. */
interface Shipper {
  label: string;
  key: keyof CorpusMedians;
  /** Documents one run must deliver. */
  expected: number;
  /** One run from cold: its figures, or why it FAILED. */
  run(): Promise<{ timed: RunFigures; receiverCpu: number } | { failure: string }>;
}

/** logship once from cold on `files`: counted by the receiver (unique ids on the first run: they repeat across runs). */
function logshipShipper(dir: string, corpus: CorpusName, files: CorpusFile[], receiver: Receiver, records: number, bytes: number): Shipper {
  let first = true;
  return {
    label: 'logship',
    key: 'logship',
    expected: records,
    async run() {
      const before = await receiver.stats();
      const run = await runAgent(configFor(dir, corpus, files, receiver.url), ['--once']).done;
      const after = await receiver.stats();
      const received = after.docs - before.docs;
      const unique = after.unique - before.unique;
      const checkUnique = first;
      first = false;
      if (run.code !== 0 || received !== records || (checkUnique && unique !== records)) {
        return { failure: `exit ${run.code}, received ${received} documents (${unique} unique) for ${records} records` };
      }
      return { timed: figures(records, bytes, run.wallSeconds, run.cpuSeconds, run.rssMiB), receiverCpu: after.cpuSeconds - before.cpuSeconds };
    },
  };
}

/** A peer once from cold (bench/peer-process.ts). */
function peerShipper(label: string, key: keyof CorpusMedians, expected: number, records: number, bytes: number, run: () => Promise<PeerRun>): Shipper {
  return {
    label,
    key,
    expected,
    async run() {
      const result = await run();
      if (result.failure !== null) {
        return { failure: `received ${result.received} documents for ${expected} expected — ${result.failure.split('\n').slice(0, 12).join('\n    ')}` };
      }
      return { timed: figures(records, bytes, result.wallSeconds, result.cpuSeconds, result.rssMiB), receiverCpu: result.receiverCpuSeconds };
    },
  };
}

async function throughput(dir: string, lines: number, runs: number, results: BenchResults): Promise<void> {
  const receiver = await startReceiver();
  const corpora = args.corpus ? [args.corpus as CorpusName] : CORPORA;
  let fluentBit: string | null = null;
  if (args.peers) {
    fluentBit = findFluentBit(args['fluent-bit'], ROOT);
    if (fluentBit === null) {
      results.fluentBitMissing = `no Fluent Bit binary (${DEFAULT_FLUENT_BIT} or --fluent-bit PATH: README "Performance")`;
    } else console.log(`Fluent Bit: ${fluentBit} (${fluentBitVersion(fluentBit)})`);
  } else results.fluentBitMissing = 'peers not run (--peers)';
  console.log(
    `\nThroughput: ${lines.toLocaleString('en-US')} records per corpus file, ${runs} runs each, from cold → _bulk on 127.0.0.1` +
      `\n(events/s counts the corpus's records; mixed ships a Django JSON and a Docker file at once;` +
      `\n the shippers take turns, run by run, so that a slow minute of a shared machine falls on all of them)`,
  );
  console.log(HEADER);
  for (const corpus of corpora) {
    const root = join(dir, corpus);
    const files: CorpusFile[] = CORPUS_FILES[corpus].map((kind) => ({ kind, path: corpusPath(root, kind) }));
    let bytes = 0;
    for (const f of files) bytes += await writeCorpus(f.kind, f.path, lines);
    const records = lines * files.length;
    const medianByShipper: CorpusMedians = {};
    results.corpora.set(corpus, medianByShipper);

    const shippers: Shipper[] = [logshipShipper(dir, corpus, files, receiver, records, bytes)];
    if (args.peers) {
      if (fluentBit !== null) {
        const binary = fluentBit;
        const expected = fluentBitDocuments(files, lines);
        shippers.push(peerShipper('Fluent Bit', 'fluentBit', expected, records, bytes, () => runFluentBit(binary, dir, files, receiver, expected)));
      }
      if (existsSync(RSYSLOGD)) {
        shippers.push(peerShipper('rsyslog', 'rsyslog', records, records, bytes, () => runRsyslog(dir, files, receiver, records)));
      } else console.log(`  rsyslog: ${RSYSLOGD} not installed (apt-get install rsyslog rsyslog-elasticsearch)`);
    }
    const timed = new Map<Shipper, RunFigures[]>(shippers.map((s) => [s, []]));
    const receiverCpu = new Map<Shipper, number>(shippers.map((s) => [s, 0]));
    for (let r = 0; r < runs; r++) {
      for (const shipper of shippers) {
        const outcome = await shipper.run();
        if ('failure' in outcome) {
          results.countsOk = false;
          console.log(`  ${shipper.label} ${corpus} run ${r + 1} FAILED: ${outcome.failure}`);
          continue;
        }
        timed.get(shipper)!.push(outcome.timed);
        receiverCpu.set(shipper, Math.max(receiverCpu.get(shipper)!, outcome.receiverCpu));
      }
    }
    const input = `${(bytes / 1e6).toFixed(0)} MB input, ${records.toLocaleString('en-US')} records; `;
    for (const shipper of shippers) {
      const runsOf = timed.get(shipper)!;
      if (runsOf.length === runs) medianByShipper[shipper.key] = medians(runsOf);
      if (runsOf.length === 0) continue;
      const documents = shipper.expected === records ? '' : `${shipper.expected.toLocaleString('en-US')} documents (bench/fluent-bit.ts); `;
      const notes = `${shipper.key === 'logship' ? input : documents}receiver CPU ≤ ${receiverCpu.get(shipper)!.toFixed(2)} s`;
      console.log(row(`${corpus} ${shipper.label}`, runsOf, notes));
    }
    for (const peer of shippers.slice(1)) {
      const theirs = medianByShipper[peer.key];
      if (medianByShipper.logship && theirs) console.log(`  logship / ${peer.label}: ${ratios(medianByShipper.logship, theirs)}`);
    }
  }
  receiver.close();
}

/** Lines written at a steady 2,000/s for 30 s while the agent follows the file (default flush_interval_ms). */
async function latency(dir: string, results: BenchResults): Promise<void> {
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
  results.countsOk &&= ok;
  if (ok) results.latencyP99Ms = pct(99);
}

/** The receiver stalls for 60 s while ~500 MB waits: peak RSS must stay flat (reading pauses on backpressure). */
async function backlog(dir: string, results: BenchResults): Promise<void> {
  const receiver = await startReceiver();
  const records = Math.round(500e6 / 343);
  const file: CorpusFile = { kind: 'django-json', path: corpusPath(join(dir, 'backlog'), 'django-json') };
  const bytes = await writeCorpus(file.kind, file.path, records);
  await receiver.stall(60_000);
  const run = await runAgent(configFor(dir, 'backlog', [file], receiver.url), ['--once']).done;
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
  results.countsOk &&= ok;
  if (ok) results.backlogRssMiB = run.rssMiB;
}

/** A wrong option is a one-line error before anything runs. */
function checkArgs(): void {
  const fail = (why: string): never => {
    console.error(`bench: ${why}`);
    process.exit(2);
  };
  if (args.corpus !== undefined && !CORPORA.includes(args.corpus as CorpusName)) fail(`--corpus must be one of ${CORPORA.join(', ')}`);
  if (!['throughput', 'latency', 'backlog', 'all'].includes(args.mode)) fail('--mode must be throughput, latency, backlog or all');
  if (args['fluent-bit'] !== undefined && !args.peers) fail('--fluent-bit PATH runs with --peers');
  if (!(Number(args.lines) > 0) || !(Number(args.runs) > 0)) fail('--lines and --runs must be positive numbers');
}

async function main(): Promise<void> {
  checkArgs();
  const dir = mkdtempSync(join(tmpdir(), 'logship-bench-'));
  const lines = Number(args.lines);
  const runs = Number(args.runs);
  console.log(`logship benchmark — ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}`);
  const results: BenchResults = { corpora: new Map(), fluentBitMissing: null, countsOk: true };
  try {
    if (args.mode === 'throughput' || args.mode === 'all') await throughput(dir, lines, runs, results);
    if (args.mode === 'latency' || args.mode === 'all') await latency(dir, results);
    if (args.mode === 'backlog' || args.mode === 'all') await backlog(dir, results);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  printTargets(results);
  process.exitCode = results.countsOk ? 0 : 1;
}

await main();
