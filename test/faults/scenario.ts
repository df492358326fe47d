/**
 * What a fault scenario is, and the steps most of them share: a Django input, a probe line to know the agent
 * follows the file, the Python writer with its ledger, and a clean stop at the end.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Agent, type FaultRun, PythonWriter, readLedger, sleep, until } from './harness.js';
import { PROBE, type SinkUnderTest } from './sinks.js';
import type { Outcome } from './verdict.js';

/** Thrown by a scenario that cannot run here (root needed, say): its row says skipped, and it neither passes nor fails. */
export class Skip extends Error {}

export interface FaultScenario {
  readonly name: string;
  /** Only at full scale (`--full`). */
  readonly fullOnly?: boolean;
  /** Seconds before the scenario counts as hung and fails, at CI and at full scale. */
  readonly timeout: { readonly ci: number; readonly full: number };
  run(run: FaultRun): Promise<Outcome>;
}

/** `logs/django.log`, as a user configures a Django input. */
export function djangoFile(run: FaultRun): string {
  return join(run.logs, 'django.log');
}

export function djangoInput(file: string): Record<string, unknown> {
  return { type: 'django', paths: [file] };
}

export const ledgerPath = (run: FaultRun): string => join(run.dir, 'ledger');

export interface WriterOptions {
  count: number;
  rate: number;
  start?: number;
  maxBytes?: number;
  backups?: number;
  pad?: number;
  copytruncateEvery?: number;
  copytruncatePause?: number;
  /** python-json-logger lines (the default), or Django's "verbose" text layout. */
  format?: 'json' | 'text';
  /** Every n-th record is logged with logger.exception(): a chained Python traceback after its line. */
  tracebackEvery?: number;
}

/** The Django writer (RotatingFileHandler through Python's logging) writing seq [start, start+count) to `file`. */
export function djangoWriter(run: FaultRun, file: string, o: WriterOptions): PythonWriter {
  const args = [file, '--count', String(o.count), '--rate', String(o.rate), '--ledger', ledgerPath(run)];
  if (o.start !== undefined) args.push('--start', String(o.start));
  if (o.maxBytes !== undefined) args.push('--max-bytes', String(o.maxBytes));
  if (o.backups !== undefined) args.push('--backups', String(o.backups));
  if (o.pad !== undefined) args.push('--pad', String(o.pad));
  if (o.copytruncateEvery !== undefined) args.push('--copytruncate-every', String(o.copytruncateEvery));
  if (o.copytruncatePause !== undefined) args.push('--copytruncate-pause', String(o.copytruncatePause));
  if (o.format !== undefined) args.push('--format', o.format);
  if (o.tracebackEvery !== undefined) args.push('--traceback-every', String(o.tracebackEvery));
  return run.python(args);
}

/** Bytes of each record from the writer's ledger (0 for one it has no entry for). */
export function ledgerBytes(run: FaultRun): (seq: number) => number {
  const ledger = readLedger(ledgerPath(run));
  return (seq) => ledger.get(seq) ?? 0;
}

/**
 * Appends probe lines (no seq, left out of the counts) until one is stored: from then on the agent follows the file.
 * A writer started before that could rotate a generation away before the agent ever saw the path, which is not
 * the fault a scenario means to test (the quick-first-rotation scenario tests exactly that, without a probe).
 */
export async function following(sink: SinkUnderTest, file: string, timeoutMs = 30_000): Promise<void> {
  let n = 0;
  const line = (): string => JSON.stringify({ asctime: '2026-11-27 12:00:00,000', levelname: 'INFO', name: 'probe', message: `${PROBE} ${n++}` }) + '\n';
  appendFileSync(file, line());
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await until(() => sink.count() > 0, 1000)) return;
    appendFileSync(file, line());
  }
  throw new Error(`the agent did not ship a probe line of ${file} within ${timeoutMs / 1000} s`);
}

/** Documents stored that carry no seq (probes), to add to a target count of records. */
export function countProbes(sink: SinkUnderTest): number {
  return Math.max(0, sink.count() - [...sink.observe().stored.values()].reduce((a, b) => a + b, 0));
}

/**
 * Has every one of `records` records been stored at least once? A copy stored twice (a crash repeats a batch on a
 * sink that cannot deduplicate) does not stand in for one not stored yet: stopping then would leave the records the
 * agent still holds (a text record waits for multiline_timeout) to a next run that never comes, and count them lost.
 * The cheap count is checked first; the tally parses every stored document.
 */
function allStored(sink: SinkUnderTest, records: number, target: number): boolean {
  return sink.count() >= target && sink.observe().stored.size >= records;
}

/**
 * Waits until the sink holds each of `records` records (probes and repeats aside), or the agent says it has shipped everything it knows
 * of (for 3 s, longer than a scan interval: /health, see Agent.caughtUp), or nothing moved for `quietMs`; then
 * stops it with SIGTERM, and gives a reason to fail when it did not exit 0. Progress is judged by the agent as well
 * as by the sink, so that an agent slow to start on a loaded machine is not stopped before it ships (and its records
 * counted as lost).
 */
export async function drainAndStop(agent: Agent, sink: SinkUnderTest, records: number, o: { quietMs?: number; timeoutMs?: number } = {}): Promise<string[]> {
  const target = records + countProbes(sink);
  const quietMs = o.quietMs ?? 15_000;
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  let last = -1;
  let since = Date.now();
  let caughtUpAt: number | null = null;
  while (Date.now() < deadline && !allStored(sink, records, target)) {
    const n = sink.count();
    if (n !== last) {
      last = n;
      since = Date.now();
      caughtUpAt = null;
    } else if (Date.now() - since >= quietMs) break;
    if (await agent.caughtUp()) {
      caughtUpAt ??= Date.now();
      if (Date.now() - caughtUpAt >= 3000) break;
    } else caughtUpAt = null;
    await sleep(250);
  }
  await sleep(1000); // a record sent again late shows up now
  const code = await agent.stop('SIGTERM');
  return code === 0 ? [] : [`exit code ${code === null ? 'none: still running 30 s after SIGTERM' : code} after SIGTERM`];
}
