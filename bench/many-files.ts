/**
 * `npm run bench:files [-- --files 20000 --max-open 1024]`: many small files (issue #13 item 5). Writes N one-line
 * Django JSON files, starts `logship run` (follow mode, defaults but a free monitoring port) against the local
 * `_bulk` receiver, and measures the time until every file's record is received, then keeps following for a while
 * with every file idle: the CPU that idle following costs, and the peak RSS (/proc VmHWM), which must not grow with
 * the number of idle files beyond what each one is remembered by. Everything runs on 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { startReceiver } from './receiver-client.js';

const CLI = resolve(import.meta.dirname, '..', 'dist/cli.js');
const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '20000' },
    'max-open': { type: 'string', default: '1024' },
    idle: { type: 'string', default: '20' },
  },
});
const files = Number(args.files);
const idleSeconds = Number(args.idle);

/** CPU seconds (user + system) and peak RSS (MiB) of a process, from /proc. */
function usage(pid: number): { cpu: number; peakMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpu: ticks / 100, peakMiB: Math.round(Number(hwm?.[1] ?? 0) / 1024) };
}

const dir = mkdtempSync(join(tmpdir(), 'logship-many-'));
const logs = join(dir, 'logs');
mkdirSync(logs);
for (let i = 0; i < files; i++) {
  const line = JSON.stringify({ asctime: '2026-12-06 10:00:00,000', levelname: 'INFO', name: 'app', message: `file ${i}` });
  writeFileSync(join(logs, `f${String(i).padStart(6, '0')}.log`), line + '\n');
}
const receiver = await startReceiver();
const config = join(dir, 'logship.yml');
writeFileSync(
  config,
  stringify({
    data_dir: join(dir, 'data'),
    max_open_files: Number(args['max-open']),
    monitoring: { listen: '127.0.0.1:0' },
    inputs: [{ type: 'django', paths: [join(logs, '*.log')], timezone: 'UTC' }],
    sink: { type: 'elasticsearch', node: receiver.url, index: 'logs-bench-default' },
  }),
);
const started = Date.now();
const agent = spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'ignore'] });
let shippedAt = 0;
let peak = 0;
for (;;) {
  await new Promise((r) => setTimeout(r, 250));
  peak = Math.max(peak, usage(agent.pid!).peakMiB);
  const { unique } = await receiver.stats();
  if (process.env['BENCH_TRACE']) {
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${agent.pid}/status`, 'utf8'))?.[1];
    console.error(`${((Date.now() - started) / 1000).toFixed(1)}s rss ${Math.round(Number(rss) / 1024)} MiB, ${unique} shipped`);
  }
  if (unique >= files) {
    shippedAt = Date.now();
    break;
  }
  if (Date.now() - started > 30 * 60_000) throw new Error(`only ${unique} of ${files} records after 30 minutes`);
}
const atShipped = usage(agent.pid!);
// Every file idle now: what following them costs.
for (let waited = 0; waited < idleSeconds * 1000; waited += 250) {
  await new Promise((r) => setTimeout(r, 250));
  peak = Math.max(peak, usage(agent.pid!).peakMiB);
  if (process.env['BENCH_TRACE']) {
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${agent.pid}/status`, 'utf8'))?.[1];
    console.error(`${((Date.now() - started) / 1000).toFixed(1)}s rss ${Math.round(Number(rss) / 1024)} MiB (idle)`);
  }
}
const atEnd = usage(agent.pid!);
peak = Math.max(peak, atEnd.peakMiB);
agent.kill('SIGTERM');
await new Promise((r) => agent.on('exit', r));
const { docs, unique } = await receiver.stats();
receiver.close();
rmSync(dir, { recursive: true, force: true });
const seconds = (shippedAt - started) / 1000;
console.log(`| files | max_open_files | shipped all in | CPU to ship | CPU idle (per second of ${idleSeconds} s) | peak RSS | documents (unique) |`);
console.log('|--:|--:|--:|--:|--:|--:|--:|');
console.log(
  `| ${files.toLocaleString('en')} | ${args['max-open']} | ${seconds.toFixed(1)} s | ${atShipped.cpu.toFixed(1)} s | ` +
    `${((atEnd.cpu - atShipped.cpu) / idleSeconds).toFixed(3)} s | ${peak} MiB | ${docs.toLocaleString('en')} (${unique.toLocaleString('en')}) |`,
);
if (docs !== files || unique !== files) {
  console.log(`FAILED: ${docs} documents, ${unique} unique, for ${files} files`);
  process.exitCode = 1;
}
