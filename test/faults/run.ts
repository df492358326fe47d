/**
 * The fault suite: `npm run test:faults` (CI scale) or `npm run test:faults -- --full` (the issue's figures).
 *
 * Each scenario of test/faults/scenarios runs the built CLI (dist/cli.js) against the local protocol servers of
 * test/support with real writers, counts what was written, stored, dead-lettered, lost and repeated, and is judged
 * by the rule in verdict.ts. The table is printed in Markdown on stdout (progress goes to stderr); the exit code is
 * 1 when any row fails.
 *
 * Options: --full; --only <text>[,<text>…] (scenarios whose name contains one of them); --jobs <n> (scenarios run at
 * once, default 2); --keep (keep the temp directory of a failed scenario, for a look at its files); --list.
 * FAULTS_KEEP_ALL=1 keeps every scenario's directory, passed or not (the agent's log of a run that lost what it counted).
 */
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { CLI } from '../support/agent.js';
import { FaultRun, type Scale } from './harness.js';
import { SCENARIOS } from './scenarios/index.js';
import { Skip, type FaultScenario } from './scenario.js';
import { broken, judge, table, type Row } from './verdict.js';

interface Options {
  readonly scale: Scale;
  readonly only: readonly string[];
  readonly jobs: number;
  readonly keep: boolean;
  readonly list: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  let scale: Scale = 'ci';
  let only: string[] = [];
  let jobs = 2;
  let keep = false;
  let list = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--full') scale = 'full';
    else if (a === '--keep') keep = true;
    else if (a === '--list') list = true;
    else if (a.startsWith('--only')) only = value().split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
    else if (a.startsWith('--jobs')) jobs = Math.max(1, Number(value()) || 1);
    else throw new Error(`unknown option ${a} (--full, --only <text>, --jobs <n>, --keep, --list)`);
  }
  return { scale, only, jobs, keep, list };
}

async function runOne(s: FaultScenario, o: Options): Promise<Row> {
  const run = new FaultRun(s.name, o.scale);
  const started = Date.now();
  const seconds = (): number => (Date.now() - started) / 1000;
  const limit = o.scale === 'ci' ? s.timeout.ci : s.timeout.full;
  let timer: NodeJS.Timeout | undefined;
  let row: Row;
  try {
    const outcome = await Promise.race([
      s.run(run),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${limit} s`)), limit * 1000))),
    ]);
    row = judge(outcome, seconds());
  } catch (err) {
    row = err instanceof Skip ? broken(run, err.message, seconds(), true) : broken(run, `did not finish: ${(err as Error).message}`, seconds());
  } finally {
    clearTimeout(timer);
  }
  const keep = o.keep && row.failures.length > 0;
  await run.close(keep);
  const verdict = row.skipped !== undefined ? 'skipped' : row.failures.length === 0 ? 'pass' : 'FAIL';
  process.stderr.write(`${verdict.padEnd(7)} ${s.name} (${row.seconds.toFixed(1)} s)${keep ? ` — kept ${run.dir}` : ''}\n`);
  for (const f of row.failures) process.stderr.write(`        ${f}\n`);
  return row;
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const chosen = SCENARIOS.filter((s) => (o.scale === 'full' || !s.fullOnly) && (o.only.length === 0 || o.only.some((t) => s.name.toLowerCase().includes(t))));
  if (o.list) {
    for (const s of SCENARIOS) process.stdout.write(`${s.name}${s.fullOnly ? ' (--full only)' : ''}\n`);
    return 0;
  }
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm run test:faults does)`);
  if (chosen.length === 0) throw new Error('no scenario matches --only');
  const started = Date.now();
  const loadAtStart = loadavg()[0]!;
  process.stderr.write(`fault suite, ${o.scale === 'ci' ? 'CI' : 'full'} scale: ${chosen.length} scenarios, ${o.jobs} at a time\n`);
  // The longest first, so that the pool does not end waiting on one of them.
  const queue = [...chosen].sort((a, b) => (o.scale === 'ci' ? b.timeout.ci - a.timeout.ci : b.timeout.full - a.timeout.full));
  const rows = new Map<FaultScenario, Row>();
  const worker = async (): Promise<void> => {
    for (let s = queue.shift(); s !== undefined; s = queue.shift()) rows.set(s, await runOne(s, o));
  };
  await Promise.all(Array.from({ length: Math.min(o.jobs, chosen.length) }, worker));
  const ordered = chosen.map((s) => rows.get(s)!);
  const seconds = (Date.now() - started) / 1000;
  const failed = ordered.filter((r) => r.failures.length > 0).length;
  process.stdout.write(`\n${table(ordered)}\n\n`);
  // The machine's load says how far the timings (and timing-sensitive losses) can be compared with another run's.
  process.stdout.write(
    `${o.scale === 'ci' ? 'CI' : 'Full'} scale, ${new Date().toISOString().slice(0, 10)}: ${ordered.length} scenarios in ${seconds.toFixed(0)} s ` +
      `(${o.jobs} at a time, ${availableParallelism()} cores, load average ${loadAtStart.toFixed(1)} at the start and ` +
      `${loadavg()[0]!.toFixed(1)} at the end), ${failed} failed.\n`,
  );
  return failed === 0 ? 0 : 1;
}

process.on('unhandledRejection', (err) => process.stderr.write(`unhandled rejection: ${String(err)}\n`));
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fault suite: ${(err as Error).message}\n`);
    process.exit(2);
  },
);
