/**
 * /health: from what the pipeline looks like now to `ok`, `degraded` or `failing`, with the reasons and per-sink,
 * per-input detail. A pure function of its input (plus ReadProgress, the one piece of memory it needs), so every
 * transition is tested without a clock or a server.
 *
 *   failing   the sink failed continuously (nothing stored) for unhealthy_after_ms, failed for good (fatal),
 *             or has not become ready for unhealthy_after_ms after the start;
 *             or data_dir does not take writes (the last registry or dead-letter write failed):
 *             nothing more is acknowledged and reading is paused until it does        → 503
 *   degraded  reading stalled with data waiting for unhealthy_after_ms while the sink is fine → 503
 *   ok        everything else: the pipeline moves (a sink failing for less than the threshold is
 *             reported as `retrying` in its detail, without turning the status)       → 200
 */
import type { HealthState, SinkEventState, CheckpointEventState, DeadLetterEventState } from './metrics.js';

/** One followed file, with its size as stat() sees it now. */
export interface FileSample {
  /** At its path, renamed away, or deleted while open. */
  readonly status: 'active' | 'rotated' | 'deleted';
  /** Why it cannot be opened, or null. */
  readonly openError: string | null;
  /** Stable while the same file instance is followed (device, inode, and the path it was found at). */
  readonly key: string;
  readonly path: string;
  /** Index of the input (config.inputs) that matched the file. */
  readonly input: number;
  readonly size: number;
  readonly readOffset: number;
  readonly committed: number;
  readonly open: boolean;
}

export interface SinkView extends SinkEventState {
  readonly name: string;
  /** The sink's start() succeeded. */
  readonly ready: boolean;
  /** Why the sink stopped for good, or null. */
  readonly fatal: string | null;
  readonly pendingBatches: number;
  readonly maxPendingBatches: number;
  readonly unacknowledged: number;
}

export interface HealthInput {
  readonly now: number;
  readonly startedAt: number;
  readonly unhealthyAfterMs: number;
  readonly sink: SinkView;
  readonly inputs: readonly { readonly type: string; readonly paths: readonly string[] }[];
  readonly files: readonly FileSample[];
  /** Patterns that matched no file at the last scan (input: its index in `inputs`). */
  readonly emptyPatterns: readonly { readonly input: number; readonly pattern: string }[];
  /** When each file last made reading progress (from ReadProgress). */
  readonly progress: ReadonlyMap<string, number>;
  readonly checkpoint: CheckpointEventState;
  readonly deadLetters: DeadLetterEventState;
}

export interface StalledFile {
  path: string;
  unread_bytes: number;
  since: string;
  open: boolean;
}

export interface InputHealth {
  type: string;
  paths: readonly string[];
  files: number;
  open_files: number;
  bytes_behind: number;
  unread_bytes: number;
  stalled: StalledFile[];
  /** Its patterns that match no file now. */
  unmatched: string[];
  /** Files it matches that cannot be opened, with why. */
  cannot_open: { path: string; error: string }[];
}

export interface SinkHealth {
  status: 'ok' | 'starting' | 'retrying' | 'failing';
  failing_since: string | null;
  last_error: string | null;
  last_success: string | null;
  pending_batches: number;
  max_pending_batches: number;
  unacknowledged_records: number;
}

export interface HealthReport {
  status: HealthState;
  reasons: string[];
  sinks: Record<string, SinkHealth>;
  inputs: InputHealth[];
  checkpoints: { status: 'ok' | 'failing'; last_written: string | null; failing_since: string | null; last_error: string | null; age_seconds: number };
  dead_letters: { status: 'ok' | 'failing'; failing_since: string | null; last_error: string | null };
}

/** HTTP status for a report: 200 only for ok. */
export function httpStatusOf(report: HealthReport): number {
  return report.status === 'ok' ? 200 : 503;
}

export function evaluateHealth(h: HealthInput): HealthReport {
  const reasons: string[] = [];
  let failing = false;
  let degraded = false;
  const threshold = h.unhealthyAfterMs;

  // The sink.
  const s = h.sink;
  let sinkStatus: SinkHealth['status'] = 'ok';
  if (s.fatal !== null) {
    sinkStatus = 'failing';
    failing = true;
    reasons.push(`sink ${s.name} failed and cannot recover without an operator: ${s.fatal}`);
  } else if (!s.ready) {
    sinkStatus = 'starting';
    if (h.now - h.startedAt >= threshold) {
      sinkStatus = 'failing';
      failing = true;
      reasons.push(`sink ${s.name} has not become ready in ${seconds(h.now - h.startedAt)}${s.lastError ? `: ${s.lastError}` : ' (see the agent log)'}`);
    }
  } else if (s.failingSince !== null) {
    sinkStatus = 'retrying';
    if (h.now - s.failingSince >= threshold) {
      sinkStatus = 'failing';
      failing = true;
      reasons.push(`sink ${s.name} has failed continuously for ${seconds(h.now - s.failingSince)}${s.lastError ? `: ${s.lastError}` : ''}`);
    }
  }
  const backpressure = s.pendingBatches >= s.maxPendingBatches;

  // The inputs: bytes behind, and files whose reading stalled with data waiting.
  const inputs: InputHealth[] = h.inputs.map((i) => ({
    type: i.type,
    paths: i.paths,
    files: 0,
    open_files: 0,
    bytes_behind: 0,
    unread_bytes: 0,
    stalled: [],
    unmatched: [],
    cannot_open: [],
  }));
  for (const e of h.emptyPatterns) inputs[e.input]?.unmatched.push(e.pattern);
  for (const f of h.files) {
    const input = inputs[f.input];
    if (!input) continue;
    input.files++;
    if (f.open) input.open_files++;
    if (f.openError !== null) input.cannot_open.push({ path: f.path, error: f.openError });
    input.bytes_behind += Math.max(0, f.size - f.committed);
    const unread = Math.max(0, f.size - f.readOffset);
    input.unread_bytes += unread;
    const since = h.progress.get(f.key) ?? h.now;
    if (unread > 0 && h.now - since >= threshold) {
      input.stalled.push({ path: f.path, unread_bytes: unread, since: iso(since), open: f.open });
    }
  }
  // Inputs that match no file (a wrong or missing log directory), once the start is past, and files that cannot be
  // opened (permissions): nothing of them ships, which must not pass for a quiet application.
  inputs.forEach((input, i) => {
    if (input.files === 0 && h.now - h.startedAt >= threshold) {
      reasons.push(`inputs[${i}] (${input.type}): no file matches ${input.paths.join(', ')}`);
      if (!failing) degraded = true;
    }
    if (input.cannot_open.length > 0) {
      const first = input.cannot_open[0]!;
      const more = input.cannot_open.length > 1 ? ` and ${input.cannot_open.length - 1} more file(s)` : '';
      reasons.push(`inputs[${i}] (${input.type}): cannot open ${first.path}${more}: ${first.error}`);
      if (!failing) degraded = true;
    }
  });
  inputs.forEach((input, i) => {
    if (input.stalled.length === 0) return;
    const first = input.stalled[0]!;
    const why = backpressure
      ? `reading paused: the sink has ${s.pendingBatches} batches pending`
      : first.open
        ? 'no read progress'
        : 'the file is not open (max_open_files reached, or it cannot be opened: see the agent log)';
    const more = input.stalled.length > 1 ? ` and ${input.stalled.length - 1} more file(s)` : '';
    reasons.push(
      `inputs[${i}] (${input.type}): reading stalled for ${seconds(h.now - Date.parse(first.since))} with ${first.unread_bytes} bytes waiting in ${first.path}${more} (${why})`,
    );
    if (!failing) degraded = true;
  });

  // The agent's own disk: while acknowledgements cannot be made durable, reading is paused (no threshold: nothing moves).
  const cp = h.checkpoint;
  if (cp.failingSince !== null) {
    failing = true;
    reasons.push(`checkpoints cannot be written (since ${iso(cp.failingSince)}), reading is paused: ${cp.lastError ?? 'see the agent log'}`);
  }
  const dl = h.deadLetters;
  if (dl.failingSince !== null) {
    failing = true;
    reasons.push(`dead letters cannot be written (since ${iso(dl.failingSince)}), reading is paused: ${dl.lastError ?? 'see the agent log'}`);
  }

  const status: HealthState = failing ? 'failing' : degraded ? 'degraded' : 'ok';
  return {
    status,
    reasons,
    sinks: {
      [s.name]: {
        status: sinkStatus,
        failing_since: s.failingSince === null ? null : iso(s.failingSince),
        last_error: s.lastError,
        last_success: s.lastSuccessAt === null ? null : iso(s.lastSuccessAt),
        pending_batches: s.pendingBatches,
        max_pending_batches: s.maxPendingBatches,
        unacknowledged_records: s.unacknowledged,
      },
    },
    inputs,
    checkpoints: {
      status: cp.failingSince === null ? 'ok' : 'failing',
      last_written: cp.lastWriteAt === null ? null : iso(cp.lastWriteAt),
      failing_since: cp.failingSince === null ? null : iso(cp.failingSince),
      last_error: cp.lastError,
      age_seconds: checkpointAgeSeconds(cp, h.now),
    },
    dead_letters: {
      status: dl.failingSince === null ? 'ok' : 'failing',
      failing_since: dl.failingSince === null ? null : iso(dl.failingSince),
      last_error: dl.lastError,
    },
  };
}

/** Seconds the oldest acknowledgement has waited to reach the registry on disk; 0 when none waits. */
export function checkpointAgeSeconds(cp: CheckpointEventState, now: number): number {
  return cp.unwrittenSince === null ? 0 : Math.max(0, (now - cp.unwrittenSince) / 1000);
}

/**
 * When each file last made reading progress. A file is new progress the first time it is seen; its read offset
 * moving (either way: a truncated file starts again at 0) is progress; a file with nothing unread is never
 * stalled, so its clock restarts too. Files no longer followed are forgotten.
 */
export class ReadProgress {
  private readonly last = new Map<string, { offset: number; at: number }>();

  observe(files: readonly FileSample[], now: number): ReadonlyMap<string, number> {
    const seen = new Set<string>();
    const out = new Map<string, number>();
    for (const f of files) {
      seen.add(f.key);
      const prev = this.last.get(f.key);
      const moved = !prev || prev.offset !== f.readOffset || f.size <= f.readOffset;
      const at = moved ? now : prev.at;
      this.last.set(f.key, { offset: f.readOffset, at });
      out.set(f.key, at);
    }
    for (const key of this.last.keys()) if (!seen.has(key)) this.last.delete(key);
    return out;
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}
