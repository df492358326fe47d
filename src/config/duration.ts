/**
 * Durations in the config: a number of milliseconds (`500`, also `"500"` from `${VAR}`) or a string
 * `<number><unit>` with unit ms | s | m | h (`500ms`, `1.5s`, `5m`, `1h`). Results are whole milliseconds.
 */

export const DURATION_HINT = 'use e.g. 500ms, 30s, 5m';

/**
 * 576h (24 days): a round bound under Node's timer limit. Node turns a delay above 2^31-1 ms (about 24.8 days)
 * into 1 ms with only a warning (https://nodejs.org/api/timers.html#settimeoutcallback-delay-args).
 */
export const MAX_DURATION_MS = 576 * 3_600_000;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?$/;

/** Milliseconds for a duration value, or undefined if `value` is not one (negative numbers are returned as is). */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.round(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const m = DURATION.exec(value.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? 'ms') as keyof typeof UNIT_MS;
  return Math.round(Number(m[1]) * UNIT_MS[unit]);
}

/** A duration for messages: 1500 → "1.5s", 300000 → "5m". */
export function formatDuration(ms: number): string {
  for (const unit of ['h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit] && ms % (UNIT_MS[unit] / 10) === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
