/**
 * Issue #15's targets, each with the figure that decides it: met, not met, or not measured (and why). Medians of
 * the same bench run; logship's own figures against Fluent Bit's where the target is relative.
 */
import { CORPUS_TITLES, type CorpusName } from './corpus.js';
import { fmt, type RunFigures } from './report.js';

/** Medians per corpus of each shipper that ran there and passed. */
export interface CorpusMedians {
  logship?: RunFigures;
  fluentBit?: RunFigures;
  rsyslog?: RunFigures;
}

export interface BenchResults {
  corpora: Map<CorpusName, CorpusMedians>;
  /** Why Fluent Bit has no figures at all, when it has none (not asked for, not built). */
  fluentBitMissing: string | null;
  /** Every run of every shipper received exactly the documents expected. */
  countsOk: boolean;
  latencyP99Ms?: number;
  backlogRssMiB?: number;
}

const RSS_LIMIT_MIB = 150;
const P99_LIMIT_MS = 1500;
const JSON_CORPORA: readonly CorpusName[] = ['django-json', 'docker', 'mixed'];

type Verdict = { target: string; outcome: 'met' | 'not met' | 'not measured'; figures: string };

function verdict(target: string, ok: boolean, figures: string): Verdict {
  return { target, outcome: ok ? 'met' : 'not met', figures };
}

function eventsRatio(results: BenchResults, corpus: CorpusName, factor: number): Verdict {
  const target = `${CORPUS_TITLES[corpus]}: events/s ≥ ${factor.toFixed(1)}× Fluent Bit's`;
  const c = results.corpora.get(corpus);
  if (!c?.logship || !c.fluentBit) return { target, outcome: 'not measured', figures: missing(results, c) };
  const ratio = c.logship.eps / c.fluentBit.eps;
  return verdict(target, ratio >= factor, `×${ratio.toFixed(2)} (${fmt(c.logship.eps, 0)} vs ${fmt(c.fluentBit.eps, 0)})`);
}

function cpu(results: BenchResults, corpus: CorpusName): Verdict {
  const target = `${CORPUS_TITLES[corpus]}: CPU s/GB ≤ Fluent Bit's`;
  const c = results.corpora.get(corpus);
  if (!c?.logship || !c.fluentBit) return { target, outcome: 'not measured', figures: missing(results, c) };
  return verdict(target, c.logship.cpuPerGb <= c.fluentBit.cpuPerGb, `${fmt(c.logship.cpuPerGb)} vs ${fmt(c.fluentBit.cpuPerGb)}`);
}

function rss(results: BenchResults, corpus: CorpusName): Verdict {
  const target = `${CORPUS_TITLES[corpus]}: peak RSS ≤ ${RSS_LIMIT_MIB} MiB`;
  const c = results.corpora.get(corpus);
  if (!c?.logship) return { target, outcome: 'not measured', figures: c ? 'its runs FAILED' : 'corpus not run' };
  return verdict(target, c.logship.rssMiB <= RSS_LIMIT_MIB, `${fmt(c.logship.rssMiB, 0)} MiB`);
}

function missing(results: BenchResults, c: CorpusMedians | undefined): string {
  if (!c) return 'corpus not run';
  if (!c.logship) return "logship's runs FAILED";
  return results.fluentBitMissing ?? "Fluent Bit's runs FAILED";
}

export function targetVerdicts(results: BenchResults): Verdict[] {
  return [
    ...JSON_CORPORA.map((c) => eventsRatio(results, c, 1.5)),
    ...JSON_CORPORA.map((c) => cpu(results, c)),
    ...[...JSON_CORPORA, 'django-text' as const].map((c) => rss(results, c)),
    results.backlogRssMiB === undefined
      ? { target: `backlog stall: peak RSS ≤ ${RSS_LIMIT_MIB} MiB`, outcome: 'not measured', figures: 'run with --mode backlog or all' }
      : verdict(`backlog stall: peak RSS ≤ ${RSS_LIMIT_MIB} MiB`, results.backlogRssMiB <= RSS_LIMIT_MIB, `${fmt(results.backlogRssMiB, 0)} MiB`),
    results.latencyP99Ms === undefined
      ? { target: 'p99 write-to-ack ≤ 1.5 s at 2,000 lines/s', outcome: 'not measured', figures: 'run with --mode latency or all' }
      : verdict('p99 write-to-ack ≤ 1.5 s at 2,000 lines/s', results.latencyP99Ms <= P99_LIMIT_MS, `${fmt(results.latencyP99Ms, 0)} ms`),
    eventsRatio(results, 'django-text', 1.0),
    verdict('every run: documents received = records written', results.countsOk, results.countsOk ? 'all counted' : 'some runs FAILED'),
  ];
}

export function printTargets(results: BenchResults): void {
  const verdicts = targetVerdicts(results);
  const width = Math.max(...verdicts.map((v) => v.target.length));
  console.log("\nIssue #15's targets (medians of this run)");
  for (const v of verdicts) console.log(`${v.target.padEnd(width)} | ${v.outcome.padEnd(12)} | ${v.figures}`);
}
