/**
 * A scenario's figures → a row of the table, and the rule that passes or fails it:
 *
 * - nothing lost that logship did not count: the bytes of the records neither stored nor dead-lettered are at most
 *   the bytes the agent reported lost (warnings naming the file, `lost_bytes` of its stop summary); where the
 *   scenario forces a loss, exactly those bytes; where its writer keeps every file long enough to be read, none;
 * - nothing repeated beyond the rule: after a clean stop, no record is sent again to any sink; after a SIGKILL,
 *   sinks that deduplicate (Elasticsearch by _id, Cloud Logging by insertId) store no record twice, and the others
 *   (CloudWatch Logs, file, stdout) repeat at most one batch per stream;
 * - no piece of a record shipped as a record of its own, and whatever the scenario checks besides.
 */
import type { FaultRun } from './harness.js';
import type { Observation } from './sinks.js';

export type RepeatRule =
  /** Only clean stops: no record sent twice. */
  | { readonly kind: 'clean' }
  /** A SIGKILL: deduplicating sinks store nothing twice; others repeat at most `perStream` records per stream. */
  | { readonly kind: 'crash'; readonly dedupes: boolean; readonly perStream: number };

export interface Outcome {
  readonly run: FaultRun;
  /** The seqs written, [0, written) unless `expected` says otherwise. */
  readonly written: number;
  readonly expected?: Iterable<number>;
  /** Bytes a record took in its file (the ledger of the writer). */
  readonly bytesOf: (seq: number) => number;
  readonly observed: Observation;
  readonly deadLettered: ReadonlySet<number>;
  readonly repeats: RepeatRule;
  /** The scenario forces a loss: it must equal what the agent counted, not merely stay below it. */
  readonly lossMustEqualCount?: boolean;
  /**
   * The writer keeps every generation long enough to be read (its backups outlast any delay of the agent's): any loss,
   * counted or not, fails the row.
   */
  readonly noLoss?: boolean;
  /** Scenario-specific reasons to fail. */
  readonly failures?: readonly string[];
  readonly notes?: readonly string[];
}

export interface Row {
  readonly scenario: string;
  readonly written: number;
  readonly delivered: number;
  readonly deadLettered: number;
  readonly missing: number;
  readonly missingBytes: number;
  readonly countedLostBytes: number;
  readonly lossWarnings: number;
  readonly repeated: number;
  readonly storedTwice: number;
  readonly peakRssMib: number | null;
  readonly seconds: number;
  /** Why it fails; empty: it passes. */
  readonly failures: readonly string[];
  readonly notes: readonly string[];
  /** Why it could not run here (then it neither passes nor fails). */
  readonly skipped?: string;
}

export function judge(o: Outcome, seconds: number): Row {
  const failures = [...(o.failures ?? [])];
  const expected = [...(o.expected ?? range(o.written))];
  const wanted = new Set(expected);
  let delivered = 0;
  let missingBytes = 0;
  const missing: number[] = [];
  for (const seq of expected) {
    if (o.observed.stored.has(seq)) delivered++;
    else if (!o.deadLettered.has(seq)) {
      missing.push(seq);
      missingBytes += o.bytesOf(seq);
    }
  }
  const unexpected = [...o.observed.stored.keys()].filter((s) => !wanted.has(s));
  if (unexpected.length > 0) failures.push(`${unexpected.length} records stored that were never written (first seq=${unexpected[0]})`);
  const counted = o.run.countedLost();
  if (o.lossMustEqualCount ? missingBytes !== counted.bytes : missingBytes > counted.bytes) {
    failures.push(
      `${missing.length} records lost (${bytes(missingBytes)}; seqs ${ranges(missing)}), logship counted ${bytes(counted.bytes)}` +
        (o.lossMustEqualCount ? ' (must be equal)' : ''),
    );
  }
  if (o.noLoss && (missing.length > 0 || counted.bytes > 0)) {
    failures.push(`${missing.length} records missing and ${bytes(counted.bytes)} counted lost, where the writer kept every file long enough to be read`);
  }
  let storedTwice = 0;
  for (const n of o.observed.stored.values()) storedTwice += n - 1;
  let repeated = 0;
  for (const n of o.observed.repeats.values()) repeated += n;
  const rule = o.repeats;
  if (rule.kind === 'clean') {
    if (repeated > 0 || storedTwice > 0) failures.push(`${Math.max(repeated, storedTwice)} records sent again after a clean stop`);
  } else if (rule.dedupes) {
    if (storedTwice > 0) failures.push(`${storedTwice} records stored twice by a deduplicating sink`);
  } else {
    for (const [stream, n] of o.observed.repeats) {
      if (n > rule.perStream) failures.push(`${n} records repeated to ${stream === '' ? 'the sink' : `stream ${stream}`}, more than one batch (${rule.perStream})`);
    }
  }
  if (o.observed.strays.length > 0) {
    const first = o.observed.strays[0]!;
    failures.push(`${o.observed.strays.length} pieces of records shipped as records (first: ${JSON.stringify(first.length > 60 ? first.slice(0, 60) + '…' : first)})`);
  }
  return {
    scenario: o.run.name,
    written: expected.length,
    delivered,
    deadLettered: [...o.deadLettered].filter((s) => wanted.has(s)).length,
    missing: missing.length,
    missingBytes,
    countedLostBytes: counted.bytes,
    lossWarnings: counted.warnings,
    repeated,
    storedTwice,
    peakRssMib: o.run.peakRssMib(),
    seconds,
    failures,
    notes: [...(o.notes ?? [])],
  };
}

/** A row for a scenario that could not finish (an exception, a timeout), or could not run here (`skipped`). */
export function broken(run: FaultRun, reason: string, seconds: number, skipped = false): Row {
  const counted = run.countedLost();
  return {
    scenario: run.name,
    written: 0,
    delivered: 0,
    deadLettered: 0,
    missing: 0,
    missingBytes: 0,
    countedLostBytes: counted.bytes,
    lossWarnings: counted.warnings,
    repeated: 0,
    storedTwice: 0,
    peakRssMib: run.peakRssMib(),
    seconds,
    failures: skipped ? [] : [reason],
    notes: [],
    ...(skipped ? { skipped: reason } : {}),
  };
}

/** The Markdown table the README shows. */
export function table(rows: readonly Row[]): string {
  const head = '| scenario | written | delivered | dead-lettered | missing | counted lost | repeated | peak RSS | result |';
  const rule = '|---|--:|--:|--:|--:|--:|--:|--:|---|';
  const body = rows.map((r) => {
    const missing = r.missing === 0 ? '0' : `${num(r.missing)} (${bytes(r.missingBytes)})`;
    const counted = r.countedLostBytes === 0 ? '0' : `${bytes(r.countedLostBytes)} (${r.lossWarnings} warnings)`;
    const repeated = r.storedTwice > 0 ? `${num(r.repeated)} (${num(r.storedTwice)} stored twice)` : num(r.repeated);
    const result = r.skipped !== undefined ? `skipped: ${r.skipped}` : r.failures.length === 0 ? 'pass' : `**FAIL**: ${r.failures.join('; ')}`;
    const notes = r.notes.length === 0 ? '' : ` — ${r.notes.join('; ')}`;
    const cells = [r.scenario, num(r.written), num(r.delivered), num(r.deadLettered), missing, counted, repeated, r.peakRssMib === null ? '–' : `${r.peakRssMib} MiB`, result + notes];
    return `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  });
  return [head, rule, ...body].join('\n');
}

function num(n: number): string {
  return n.toLocaleString('en-US');
}

export function bytes(n: number): string {
  if (n < 10_000) return `${n} B`;
  if (n < 10_000_000) return `${(n / 1024).toFixed(0)} KiB`;
  return `${(n / 1048576).toFixed(1)} MiB`;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** "3-7, 12, 40-99", at most 6 ranges. */
export function ranges(nums: readonly number[]): string {
  const sorted = [...nums].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(i === j ? `${sorted[i]}` : `${sorted[i]}–${sorted[j]}`);
    i = j + 1;
  }
  return out.length > 6 ? `${out.slice(0, 6).join(', ')}, … (${out.length} ranges)` : out.join(', ');
}
