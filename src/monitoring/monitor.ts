/**
 * Self-monitoring, put together: the metrics (fed by PipelineEvents), a periodic look at the pipeline's state (files
 * and their sizes on disk, the delivery queue), the health verdict, and the HTTP server that shows them.
 *
 * The agent makes a Monitor before the pipeline (its `metrics` is one of the event targets), attaches the tailer
 * and delivery once they exist, starts it before the sink is prepared, and closes it last.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { FileState } from '../tail/tailer.js';
import { FILE_STATUSES } from '../tail/file-set.js';
import { checkpointAgeSeconds, evaluateHealth, httpStatusOf, ReadProgress, type FileSample, type HealthReport } from './health.js';
import { HEALTH_STATES, Metrics } from './metrics.js';
import { startMonitoringServer, type MonitoringServer } from './server.js';

/** What the monitor reads from the tailer (Tailer satisfies it). */
export interface TailerView {
  files(): FileState[];
  outstanding(): number;
  /** Patterns that matched no file at the last scan. */
  emptyPatterns(): readonly { readonly input: number; readonly pattern: string }[];
  /** When the last scan finished (0: none yet). */
  lastScanAt(): number;
  /** When the read under way began (0: none). */
  readingSince(): number;
}

/** What the monitor reads from delivery (Delivery satisfies it). */
export interface DeliveryView {
  readonly pendingBatches: number;
  readonly fatal: string | null;
}

/**
 * Who answers /health: `logship status` compares `config` with its own config file to tell this config's agent from
 * another one (or another program) on the same port. `instance` is new at every start.
 */
export interface AgentIdentity {
  readonly instance: string;
  readonly config: string;
  readonly pid: number;
  readonly version: string;
}

/** A look at the files costs one stat() each: requests arriving closer together than this share one. */
const SAMPLE_REUSE_MS = 250;
/** Stat files at most this often / at least this often in the background (stall detection needs a clock). */
const SAMPLE_MIN_MS = 100;
const SAMPLE_MAX_MS = 5_000;
/** /live turns 503 when the agent has not gone round for this long at least (or unhealthy_after_ms, or LIVE_SCANS scans). */
const LIVE_MIN_MS = 30_000;
const LIVE_SCANS = 10;

export class Monitor {
  readonly metrics: Metrics;
  private readonly progress = new ReadProgress();
  private readonly startedAt = Date.now();
  private tailer: TailerView | null = null;
  private delivery: DeliveryView | null = null;
  private ready = false;
  private server: MonitoringServer | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastSampleAt = 0;
  private sampling: Promise<HealthReport> | null = null;
  private report: HealthReport | null = null;
  private lastStatus: HealthReport['status'] = 'ok';
  readonly identity: AgentIdentity;

  constructor(
    private readonly config: Pick<Config, 'inputs' | 'monitoring' | 'delivery' | 'configFile' | 'scanIntervalMs'>,
    private readonly sinkName: string,
    private readonly logger: Logger,
    options: { version?: string; defaultMetrics?: boolean } = {},
  ) {
    const version = options.version ?? packageVersion();
    this.identity = { instance: randomUUID(), config: config.configFile, pid: process.pid, version };
    this.metrics = new Metrics({
      sinkName,
      inputTypes: [...new Set(config.inputs.map((i) => i.type))],
      version,
      defaultMetrics: options.defaultMetrics ?? true,
    });
  }

  attach(tailer: TailerView, delivery: DeliveryView): void {
    this.tailer = tailer;
    this.delivery = delivery;
  }

  /** The sink's start() succeeded: from now on its sends tell whether it is healthy. */
  sinkReady(): void {
    this.ready = true;
  }

  /** Listen (a failure is logged, not thrown) and start the background sampling. Returns the URL, or null. */
  async start(): Promise<string | null> {
    const every = Math.min(SAMPLE_MAX_MS, Math.max(SAMPLE_MIN_MS, Math.floor(this.config.monitoring.unhealthyAfterMs / 4)));
    this.timer = setInterval(() => void this.sample().catch((err: unknown) => this.logger.debug('monitoring sample failed', { error: err })), every);
    this.timer.unref();
    this.server = await startMonitoringServer(
      this.config.monitoring.listen,
      {
        health: async () => {
          const report = await this.current();
          return { status: httpStatusOf(report), body: { ...report, agent: this.identity } };
        },
        metrics: async () => {
          await this.current();
          return { contentType: this.metrics.contentType, text: await this.metrics.text() };
        },
        live: () => this.liveness(Date.now()),
      },
      this.logger,
    );
    return this.server?.url ?? null;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.server?.close();
    this.server = null;
  }

  /**
   * /live: 200 while the agent goes round — its scan finished recently, and no read has been under way for long — and
   * 503 when it is stuck (a scan or a read blocked in the kernel: a hung NFS mount, a FIFO before O_NONBLOCK). A sink
   * that is down is not a reason: restarting the agent would not fix it (that is /health's business).
   */
  liveness(now: number): { status: number; body: unknown } {
    const limit = Math.max(LIVE_MIN_MS, this.config.monitoring.unhealthyAfterMs, LIVE_SCANS * this.config.scanIntervalMs);
    const lastScan = this.tailer?.lastScanAt() ?? 0;
    const since = lastScan === 0 ? this.startedAt : lastScan;
    const reading = this.tailer?.readingSince() ?? 0;
    const reasons: string[] = [];
    if (now - since > limit) reasons.push(`no scan of the files has finished for ${Math.round((now - since) / 1000)}s`);
    if (reading !== 0 && now - reading > limit) reasons.push(`a read has been under way for ${Math.round((now - reading) / 1000)}s`);
    return { status: reasons.length === 0 ? 200 : 503, body: { status: reasons.length === 0 ? 'alive' : 'stuck', reasons, agent: this.identity } };
  }

  /** The latest report, sampling again if the last sample is older than SAMPLE_REUSE_MS. */
  current(): Promise<HealthReport> {
    if (this.report && Date.now() - this.lastSampleAt < SAMPLE_REUSE_MS) return Promise.resolve(this.report);
    return this.sample();
  }

  /** Look at the files and the queue, set the state gauges, and judge health. One at a time. */
  sample(): Promise<HealthReport> {
    this.sampling ??= this.sampleNow().finally(() => (this.sampling = null));
    return this.sampling;
  }

  private async sampleNow(): Promise<HealthReport> {
    const states = this.tailer?.files() ?? [];
    const files = sampleFiles(states, this.config.inputs);
    const now = Date.now();
    const progress = this.progress.observe(files, now);
    const m = this.metrics;
    const sinkState = m.sinks.get(this.sinkName)!;
    const pending = this.delivery?.pendingBatches ?? 0;
    const report = evaluateHealth({
      now,
      startedAt: this.startedAt,
      unhealthyAfterMs: this.config.monitoring.unhealthyAfterMs,
      sink: {
        ...sinkState,
        name: this.sinkName,
        ready: this.ready,
        fatal: this.delivery?.fatal ?? null,
        pendingBatches: pending,
        maxPendingBatches: this.config.delivery.maxPendingBatches,
        unacknowledged: this.tailer?.outstanding() ?? 0,
      },
      inputs: this.config.inputs,
      files,
      emptyPatterns: this.tailer?.emptyPatterns() ?? [],
      progress,
      checkpoint: m.checkpoint,
      deadLetters: m.deadLetters,
    });

    // A file rotated away and still draining may share its path with its successor: their bytes add up. Files with
    // nothing behind get no series: a host with thousands of idle files would otherwise have thousands of zeros.
    m.fileBytesBehind.reset();
    for (const f of files) {
      const behind = f.size - f.committed;
      if (behind > 0) m.fileBytesBehind.labels(f.path, this.config.inputs[f.input]?.type ?? 'unknown').inc(behind);
    }
    m.openFiles.set(files.filter((f) => f.open).length);
    m.filesOpen.reset();
    m.filesOpenBytes.reset();
    for (const status of FILE_STATUSES) {
      m.filesOpen.labels(status).set(0);
      m.filesOpenBytes.labels(status).set(0);
    }
    for (const f of files) {
      if (!f.open) continue;
      m.filesOpen.labels(f.status).inc();
      m.filesOpenBytes.labels(f.status).inc(f.size);
    }
    m.filesTracked.set(files.length);
    m.queueBatches.set(pending);
    m.queueCapacity.set(this.config.delivery.maxPendingBatches);
    m.unacknowledged.set(report.sinks[this.sinkName]?.unacknowledged_records ?? 0);
    m.sinkFailingSeconds.labels(this.sinkName).set(sinkState.failingSince === null ? 0 : (now - sinkState.failingSince) / 1000);
    m.checkpointAge.set(checkpointAgeSeconds(m.checkpoint, now));
    for (const s of HEALTH_STATES) m.health.labels(s).set(s === report.status ? 1 : 0);

    if (report.status !== this.lastStatus) {
      const fields = { from: this.lastStatus, to: report.status, reasons: report.reasons };
      if (report.status === 'ok') this.logger.info('health changed', fields);
      else this.logger.warn('health changed', fields);
      this.lastStatus = report.status;
    }
    this.report = report;
    this.lastSampleAt = now;
    return report;
  }
}

/**
 * The tailer's view of each file. Its sizes are fresh without a stat of ours: the tailer's scan looks at every
 * followed file (and fstat()s the rotated ones) every scan_interval, whatever the backpressure, so lag shows even when
 * reading has stopped — and a host with thousands of files is not stat()ed once more per look.
 */
export function sampleFiles(states: readonly FileState[], inputs: readonly unknown[]): FileSample[] {
  return states.map((f) => ({
    status: f.status,
    openError: f.openError,
    key: `${f.dev}:${f.ino}:${f.placement}`,
    path: f.path,
    input: inputs.indexOf(f.input),
    size: f.size,
    readOffset: f.readOffset,
    committed: f.committed,
    open: f.open,
  }));
}

/** logship's version, from the package.json above this module (dist/src/monitoring or src/monitoring). */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'logship' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      /* not here */
    }
    dir = dirname(dir);
  }
  return 'unknown';
}
