/**
 * The Prometheus metrics of the agent: an implementation of PipelineEvents over prom-client, with its own Registry
 * (nothing global, so tests and a future second agent in one process do not collide).
 *
 * Names follow the Prometheus conventions: `logship_` prefix, counters end in `_total`, base units (bytes,
 * seconds). Default process metrics (`process_*`, `nodejs_*`) keep their standard names so that the usual
 * dashboards and alerts work on them unchanged.
 *
 * Counters move with events; gauges that describe the pipeline's state (bytes behind per file, open files, queue
 * depth, checkpoint age, health) are set by the monitor (monitor.ts) just before each scrape.
 *
 * Besides the metrics, it remembers the few facts /health needs that only events carry: when the sink started
 * failing and why, when a record was last stored, whether the last checkpoint write failed.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LOSS_REASONS, type LossReason, type PipelineEvents } from '../events.js';

/** Send latency buckets, in seconds: a local cluster answers in milliseconds, a cloud API under load in seconds. */
const SEND_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const HEALTH_STATES = ['ok', 'degraded', 'failing'] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

/** What the events say about one sink, for /health. Times are ms since epoch. */
export interface SinkEventState {
  /** First failed send (or retried item) since the last record stored; null while records get stored. */
  failingSince: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  /** Last time a send stored at least one record. */
  lastSuccessAt: number | null;
}

/** What the events say about checkpoint writes, for /health and the age gauge. */
export interface CheckpointEventState {
  lastWriteAt: number | null;
  /** First failure of the current run of failed writes; null after a successful write. */
  failingSince: number | null;
  lastError: string | null;
  /** Oldest acknowledgement not yet in a successfully written registry; null when none is waiting. */
  unwrittenSince: number | null;
}

/** What the events say about dead-letter writes, for /health. */
export interface DeadLetterEventState {
  /** First failure of the current run of failed writes; null after a successful write. */
  failingSince: number | null;
  lastError: string | null;
}

export interface MetricsOptions {
  readonly sinkName: string;
  /** Input types, so their series exist (at 0) before the first line is read. */
  readonly inputTypes: readonly string[];
  readonly version: string;
  /** Default true: process_* and nodejs_* metrics. */
  readonly defaultMetrics?: boolean;
}

export class Metrics implements PipelineEvents {
  readonly registry = new Registry();
  readonly sinks = new Map<string, SinkEventState>();
  readonly checkpoint: CheckpointEventState = { lastWriteAt: null, failingSince: null, lastError: null, unwrittenSince: null };
  /** Dead-letter writes: failing since when, and why (null while they work). */
  readonly deadLetters: DeadLetterEventState = { failingSince: null, lastError: null };

  private readonly linesRead = this.counter('logship_input_lines_total', 'Lines read from files, per input type.', ['input']);
  private readonly bytesReadTotal = this.counter('logship_input_bytes_total', 'Bytes read from files, per input type.', ['input']);
  private readonly recordsParsedTotal = this.counter('logship_records_parsed_total', 'Records made from the lines read, per input type.', ['input']);
  private readonly parseErrors = this.counter(
    'logship_parse_errors_total',
    'Records that could not be parsed and were shipped as plain messages tagged _logship_parse_error, per input type.',
    ['input'],
  );
  private readonly multiline = this.counter(
    'logship_multiline_records_total',
    'Records holding more than one line of text (continuation lines joined to their message, or a Python traceback), per input type.',
    ['input'],
  );
  private readonly rotations = this.counter('logship_rotations_total', 'Rotations seen (a followed path now holds another file).');
  private readonly truncations = this.counter('logship_truncations_total', 'Truncations seen (copytruncate, or a file rewritten from its start).');
  private readonly lostBytes = this.counter(
    'logship_rotation_lost_bytes_total',
    'Bytes that were in a file but could not be read before they were gone (reason: deleted_before_open, deleted_while_closed, truncated, gone_at_restart). Normally 0.',
    ['reason'],
  );
  private readonly filesSkipped = this.counter(
    'logship_files_skipped_total',
    'Matched files not read at all, by reason: binary (a NUL byte in the first block, so not a log; the agent log names each).',
    ['reason'],
  );
  private readonly recordsSent = this.counter('logship_sink_records_sent_total', 'Records the sink stored.', ['sink']);
  private readonly batchesSent = this.counter('logship_sink_batches_sent_total', 'Send requests that stored at least part of a batch.', ['sink']);
  private readonly batchesFailed = this.counter(
    'logship_sink_batches_failed_total',
    'Send requests that failed as a whole (connection refused, timeout, 5xx, 429, fatal answers).',
    ['sink'],
  );
  private readonly recordsRetriedTotal = this.counter('logship_sink_records_retried_total', 'Records scheduled to be sent again.', ['sink']);
  private readonly batchesRetried = this.counter('logship_sink_batches_retried_total', 'Batches (or parts of batches) scheduled to be sent again.', ['sink']);
  private readonly recordsDead = this.counter(
    'logship_sink_records_dead_lettered_total',
    'Records the sink refused for good, written to data_dir/dead_letters.ndjson.',
    ['sink'],
  );
  private readonly batchesDead = this.counter('logship_sink_batches_dead_lettered_total', 'Batches that sent records to the dead letters.', ['sink']);
  private readonly recordsAckedTotal = this.counter(
    'logship_sink_records_acknowledged_total',
    'Records done with (stored or dead-lettered): their checkpoints may move.',
    ['sink'],
  );
  private readonly sendDuration = new Histogram({
    name: 'logship_sink_send_duration_seconds',
    help: 'Duration of successful send requests.',
    labelNames: ['sink'],
    buckets: SEND_BUCKETS_S,
    registers: [this.registry],
  });
  private readonly checkpointWrites = this.counter('logship_checkpoint_writes_total', 'Registry writes that succeeded.');
  private readonly checkpointFailures = this.counter('logship_checkpoint_write_failures_total', 'Registry writes that failed.');
  private readonly deadLetterFailures = this.counter(
    'logship_dead_letter_write_failures_total',
    'Dead-letter writes that failed (retried; their records are not acknowledged meanwhile).',
  );
  private readonly deadLettersDroppedRecords = this.counter(
    'logship_dead_letters_dropped_records_total',
    'Dead letters removed with the oldest dead-letter file to stay within dead_letters.max_bytes.',
  );
  private readonly deadLettersDroppedBytes = this.counter(
    'logship_dead_letters_dropped_bytes_total',
    'Bytes of dead letters removed with the oldest dead-letter file to stay within dead_letters.max_bytes.',
  );

  // Gauges set by the monitor before each scrape.
  readonly fileBytesBehind = this.gauge(
    'logship_file_bytes_behind',
    'File size minus committed offset (bytes not yet acknowledged by the sink), per followed file.',
    ['path', 'input'],
  );
  readonly openFiles = this.gauge('logship_open_files', 'File descriptors held open on log files.');
  readonly filesTracked = this.gauge('logship_files_tracked', 'Files followed, including rotated ones still being read.');
  readonly filesOpen = this.gauge(
    'logship_files_open',
    'Descriptors held open on log files, by state: active (at its path), rotated (renamed away), deleted (no name left: its disk space is kept until it is read and acknowledged).',
    ['state'],
  );
  readonly filesOpenBytes = this.gauge(
    'logship_files_open_bytes',
    'Size of the files held open, by state (for deleted files: disk space kept alive until they are read and acknowledged).',
    ['state'],
  );
  readonly queueBatches = this.gauge('logship_queue_batches', 'Batches queued or in flight to the sink.');
  readonly queueCapacity = this.gauge('logship_queue_capacity_batches', 'Batches queued or in flight at which reading pauses (delivery.max_pending_batches).');
  readonly unacknowledged = this.gauge('logship_records_unacknowledged', 'Records read and handed to delivery, not yet acknowledged.');
  readonly sinkFailingSeconds = this.gauge(
    'logship_sink_failing_seconds',
    'Seconds since the sink last stored a record while its sends keep failing; 0 while it works.',
    ['sink'],
  );
  readonly checkpointAge = this.gauge(
    'logship_checkpoint_age_seconds',
    'Age of the oldest acknowledgement not yet in the registry on disk; 0 when the registry is current.',
  );
  readonly checkpointLastWrite = this.gauge('logship_checkpoint_last_write_timestamp_seconds', 'Unix time of the last successful registry write.');
  readonly health = this.gauge('logship_health_status', 'The /health status: 1 for the current one.', ['status']);

  private readonly inputChildren = new Map<string, InputChildren>();
  private readonly sinkChildren = new Map<string, SinkChildren>();

  constructor(options: MetricsOptions) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const info = this.gauge('logship_build_info', 'Always 1; the labels say which logship and Node.js run.', ['version', 'nodejs']);
    info.labels(options.version, process.versions.node).set(1);
    for (const type of options.inputTypes) this.input(type);
    this.sink(options.sinkName);
    this.checkpointAge.set(0);
    for (const reason of LOSS_REASONS) this.lostBytes.labels(reason).inc(0);
    this.filesSkipped.labels('binary').inc(0);
    for (const s of HEALTH_STATES) this.health.labels(s).set(s === 'ok' ? 1 : 0);
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  bytesRead(input: string, _path: string, bytes: number, lines: number): void {
    const c = this.input(input);
    c.bytes.inc(bytes);
    c.lines.inc(lines);
  }

  recordsParsed(input: string, records: number, parseErrors: number, multiline = 0): void {
    const c = this.input(input);
    c.records.inc(records);
    if (parseErrors > 0) c.parseErrors.inc(parseErrors);
    if (multiline > 0) c.multiline.inc(multiline);
  }

  fileOpened(): void {}
  fileClosed(): void {}

  rotationSeen(): void {
    this.rotations.inc();
  }

  truncationSeen(): void {
    this.truncations.inc();
  }

  bytesLost(_path: string, bytes: number, reason: LossReason): void {
    this.lostBytes.labels(reason).inc(bytes);
  }

  fileSkipped(_path: string, reason: 'binary'): void {
    this.filesSkipped.labels(reason).inc();
  }

  batchSent(sink: string, records: number, latencyMs: number): void {
    const c = this.sink(sink);
    c.sendDuration.observe(latencyMs / 1000);
    if (records === 0) return; // a partial answer that stored nothing: not progress
    c.batchesSent.inc();
    c.recordsSent.inc(records);
    const state = c.state;
    state.failingSince = null;
    state.lastSuccessAt = Date.now();
  }

  sendFailed(sink: string, reason: string): void {
    const c = this.sink(sink);
    c.batchesFailed.inc();
    this.failing(c.state, reason);
  }

  recordsRetried(sink: string, records: number): void {
    const c = this.sink(sink);
    c.recordsRetried.inc(records);
    c.batchesRetried.inc();
    this.failing(c.state, null);
  }

  recordsAcked(sink: string, records: number): void {
    if (records === 0) return;
    this.sink(sink).recordsAcked.inc(records);
    this.checkpoint.unwrittenSince ??= Date.now();
  }

  recordsDeadLettered(sink: string, records: number): void {
    const c = this.sink(sink);
    c.recordsDead.inc(records);
    c.batchesDead.inc();
  }

  checkpointWritten(ok: boolean, error?: string): void {
    const now = Date.now();
    const cp = this.checkpoint;
    if (ok) {
      this.checkpointWrites.inc();
      this.checkpointLastWrite.set(now / 1000);
      cp.lastWriteAt = now;
      cp.failingSince = null;
      cp.lastError = null;
      cp.unwrittenSince = null;
    } else {
      this.checkpointFailures.inc();
      cp.failingSince ??= now;
      cp.lastError = error ?? 'unknown error (see the agent log)';
    }
  }

  deadLettersWritten(ok: boolean, error?: string): void {
    const state = this.deadLetters;
    if (ok) {
      state.failingSince = null;
      state.lastError = null;
    } else {
      this.deadLetterFailures.inc();
      state.failingSince ??= Date.now();
      state.lastError = error ?? 'unknown error (see the agent log)';
    }
  }

  deadLettersDropped(records: number, bytes: number): void {
    this.deadLettersDroppedRecords.inc(records);
    this.deadLettersDroppedBytes.inc(bytes);
  }

  private failing(state: SinkEventState, reason: string | null): void {
    const now = Date.now();
    state.failingSince ??= now;
    if (reason !== null) {
      state.lastError = reason;
      state.lastErrorAt = now;
    }
  }

  private input(type: string): InputChildren {
    let c = this.inputChildren.get(type);
    if (!c) {
      c = {
        lines: this.linesRead.labels(type),
        bytes: this.bytesReadTotal.labels(type),
        records: this.recordsParsedTotal.labels(type),
        parseErrors: this.parseErrors.labels(type),
        multiline: this.multiline.labels(type),
      };
      for (const child of Object.values(c)) child.inc(0);
      this.inputChildren.set(type, c);
    }
    return c;
  }

  private sink(name: string): SinkChildren {
    let c = this.sinkChildren.get(name);
    if (!c) {
      const state: SinkEventState = { failingSince: null, lastError: null, lastErrorAt: null, lastSuccessAt: null };
      this.sinks.set(name, state);
      c = {
        state,
        recordsSent: this.recordsSent.labels(name),
        batchesSent: this.batchesSent.labels(name),
        batchesFailed: this.batchesFailed.labels(name),
        recordsRetried: this.recordsRetriedTotal.labels(name),
        batchesRetried: this.batchesRetried.labels(name),
        recordsDead: this.recordsDead.labels(name),
        batchesDead: this.batchesDead.labels(name),
        recordsAcked: this.recordsAckedTotal.labels(name),
        sendDuration: this.sendDuration.labels(name),
      };
      for (const child of [c.recordsSent, c.batchesSent, c.batchesFailed, c.recordsRetried, c.batchesRetried, c.recordsDead, c.batchesDead, c.recordsAcked]) {
        child.inc(0);
      }
      this.sinkFailingSeconds.labels(name).set(0);
      this.sinkChildren.set(name, c);
    }
    return c;
  }

  private counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    const counter = new Counter<L>({ name, help, labelNames, registers: [this.registry] });
    if (labelNames.length === 0) counter.inc(0);
    return counter;
  }

  private gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return new Gauge<L>({ name, help, labelNames, registers: [this.registry] });
  }
}

type CounterChild = ReturnType<Counter<string>['labels']>;

interface InputChildren {
  lines: CounterChild;
  bytes: CounterChild;
  records: CounterChild;
  parseErrors: CounterChild;
  multiline: CounterChild;
}

interface SinkChildren {
  state: SinkEventState;
  recordsSent: CounterChild;
  batchesSent: CounterChild;
  batchesFailed: CounterChild;
  recordsRetried: CounterChild;
  batchesRetried: CounterChild;
  recordsDead: CounterChild;
  batchesDead: CounterChild;
  recordsAcked: CounterChild;
  sendDuration: ReturnType<Histogram<string>['labels']>;
}
