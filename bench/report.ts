/** The figures of a shipper's runs on one corpus, their medians and how they are printed. */

/** One timed run. events/s counts the corpus's records (not the documents a shipper makes of them). */
export interface RunFigures {
  eps: number;
  mbps: number;
  cpuPerGb: number;
  rssMiB: number;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
export const fmt = (x: number, digits = 1): string =>
  x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const range = (xs: readonly number[], digits = 1): string => `${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)}`;

export function figures(records: number, bytes: number, wallSeconds: number, cpuSeconds: number, rssMiB: number): RunFigures {
  return { eps: records / wallSeconds, mbps: bytes / 1e6 / wallSeconds, cpuPerGb: cpuSeconds / (bytes / 1e9), rssMiB };
}

/** Medians of each figure over the runs that passed. */
export function medians(runs: readonly RunFigures[]): RunFigures {
  return {
    eps: median(runs.map((r) => r.eps)),
    mbps: median(runs.map((r) => r.mbps)),
    cpuPerGb: median(runs.map((r) => r.cpuPerGb)),
    rssMiB: median(runs.map((r) => r.rssMiB)),
  };
}

export const HEADER =
  'corpus / shipper        | events/s (median, min–max)  | MB/s               | CPU s/GB           | peak RSS MiB | notes';

/** One table row: median (min–max) of each figure, then free text. */
export function row(label: string, runs: readonly RunFigures[], notes: string): string {
  const col = (f: (r: RunFigures) => number, d = 1): string => `${fmt(median(runs.map(f)), d)} (${range(runs.map(f), d)})`;
  return [
    label.padEnd(23),
    col((r) => r.eps, 0).padEnd(27),
    col((r) => r.mbps).padEnd(18),
    col((r) => r.cpuPerGb).padEnd(18),
    col((r) => r.rssMiB, 0).padEnd(12),
    notes,
  ].join(' | ');
}

/** logship's medians over a peer's: "×2.10" (higher events/s is better; lower CPU and RSS are). */
export function ratios(logship: RunFigures, peer: RunFigures): string {
  const x = (a: number, b: number): string => `×${(a / b).toFixed(2)}`;
  return `events/s ${x(logship.eps, peer.eps)}, CPU/GB ${x(logship.cpuPerGb, peer.cpuPerGb)}, RSS ${x(logship.rssMiB, peer.rssMiB)}`;
}
