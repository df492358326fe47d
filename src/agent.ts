import type { Config } from './config/types.js';
import { Counters } from './events.js';
import type { Logger } from './log.js';
import { Batcher } from './pipeline/batcher.js';
import { DeadLetters } from './pipeline/dead-letters.js';
import { Delivery } from './pipeline/delivery.js';
import { loadRegistry, RegistryWriter } from './pipeline/registry.js';
import type { Sink } from './sink.js';
import { Tailer } from './tail/tailer.js';
import { FanOut } from './monitoring/fan-out.js';
import { Monitor } from './monitoring/monitor.js';
import { createSink } from '../sinks/index.js';

export interface RunOptions {
  /** Ship what the files hold now, then exit (`run --once`). */
  readonly once: boolean;
  /** Aborted on SIGTERM/SIGINT: stop reading, flush, checkpoint, exit. */
  readonly signal: AbortSignal;
  /** The sink, made (not started) by preflight; made here when absent. */
  readonly sink?: Sink;
}

/** Exit codes: 0 done, 2 the sink failed for good (or --once could not deliver), 1 anything unexpected. */
export const EXIT_OK = 0;
export const EXIT_DELIVERY_FAILED = 2;

/**
 * The agent's life, as one visible sequence: load checkpoints → prepare the sink → follow files, batching records
 * and delivering them → on a signal (or at the end of --once): stop reading → flush batches → await in-flight
 * sends (bounded by shutdown_timeout) → write checkpoints → close.
 */
export async function runAgent(config: Config, logger: Logger, options: RunOptions): Promise<number> {
  const events = new Counters();
  const registry = loadRegistry(config.dataDir, logger);
  const sink: Sink = options.sink ?? (await createSink(config.sink, { logger, hostName: config.hostName }));
  // Self-monitoring (/health, /metrics) while following files; a --once run is a batch job and serves none.
  const monitor = config.monitoring.enabled && !options.once ? new Monitor(config, sink.name, logger) : null;
  const pipelineEvents = monitor ? new FanOut(events, monitor.metrics) : events;
  const deadLetters = new DeadLetters(config.dataDir);
  let fatal: string | null = null;
  const delivery = new Delivery(sink, config.delivery, deadLetters, pipelineEvents, logger, (reason) => {
    fatal = reason;
    tailer.stop();
  });
  const batcher = new Batcher(config.batch, (batch) => delivery.submit(batch));
  const tailer = new Tailer(
    config,
    registry.checkpoints,
    (source, start, end, seq, chunk, at, length) => batcher.add(source, start, end, seq, chunk, at, length),
    pipelineEvents,
    logger,
  );
  monitor?.attach(tailer, delivery);
  const writer = new RegistryWriter(config.dataDir);
  const writeCheckpoints = async (): Promise<void> => {
    try {
      if (await writer.write(tailer.checkpoints())) pipelineEvents.checkpointWritten(true);
    } catch (err) {
      pipelineEvents.checkpointWritten(false, (err as Error).message);
      logger.error('cannot write checkpoints', { data_dir: config.dataDir, error: err });
    }
  };

  const onSignal = (): void => {
    logger.info('stopping: no more reading, flushing what is in flight');
    tailer.stop();
    delivery.abortRetriesAfter(config.shutdownTimeoutMs);
  };
  options.signal.addEventListener('abort', onSignal, { once: true });

  logger.info('logship starting', {
    mode: options.once ? 'once' : 'follow',
    sink: sink.name,
    inputs: config.inputs.map((i) => ({ type: i.type, paths: i.paths })),
    checkpoints: registry.checkpoints.length,
  });
  const checkpointTimer = setInterval(() => void writeCheckpoints(), config.checkpointIntervalMs);
  await monitor?.start();
  try {
    if (!(await delivery.start())) {
      return fatal === null ? EXIT_OK : EXIT_DELIVERY_FAILED;
    }
    monitor?.sinkReady();
    const pacing = { ready: () => delivery.waitForCapacity(), hasCapacity: () => delivery.hasCapacity() };
    if (options.once) await tailer.runOnce(pacing);
    else if (!options.signal.aborted) await tailer.run(pacing);

    batcher.flush();
    if (options.once && !options.signal.aborted && fatal === null) {
      await delivery.drain(); // --once waits for delivery however long retries take (bounded by retry.max_attempts)
    } else {
      delivery.abortRetriesAfter(config.shutdownTimeoutMs);
      await delivery.drain();
    }
  } finally {
    clearInterval(checkpointTimer);
    options.signal.removeEventListener('abort', onSignal);
    await writeCheckpoints();
    await tailer.close();
    // The end of the sequence, whatever happened: a sink that cannot even close must not turn exit 2 into exit 1.
    await sink.close().catch((err: unknown) => logger.warn('closing the sink failed', { error: err }));
    await monitor?.close();
  }

  const unacked = tailer.outstanding();
  logger.info('logship stopped', {
    lines: events.lines,
    bytes: events.bytes,
    records: events.records,
    parse_errors: events.parseErrors,
    acked: events.acked,
    dead_lettered: events.deadLettered,
    retried: events.retried,
    rotations: events.rotations,
    truncations: events.truncations,
    lost_bytes: events.lostBytes,
    files_skipped: events.filesSkipped,
    unacknowledged: unacked,
    ...resourceSummary(),
  });
  if (fatal !== null) {
    logger.error('delivery failed', { reason: fatal });
    return EXIT_DELIVERY_FAILED;
  }
  if (options.once && unacked > 0) {
    logger.error('delivery incomplete: records not acknowledged', { unacknowledged: unacked });
    return EXIT_DELIVERY_FAILED;
  }
  return EXIT_OK;
}

/** CPU seconds (all threads) and peak RSS of this process, for the stop summary (and the benchmark). */
function resourceSummary(): Record<string, number> {
  const usage = process.resourceUsage();
  return {
    cpu_user_s: usage.userCPUTime / 1e6,
    cpu_system_s: usage.systemCPUTime / 1e6,
    max_rss_mib: Math.round(usage.maxRSS / 1024),
  };
}
