import type { Config } from './config/types.js';
import { Counters } from './events.js';
import type { Logger } from './log.js';
import { Batcher } from './pipeline/batcher.js';
import { DeadLetters } from './pipeline/dead-letters.js';
import { Delivery } from './pipeline/delivery.js';
import { Checkpointer } from './pipeline/checkpointer.js';
import { loadRegistry, RegistryWriter } from './pipeline/registry.js';
import type { Sink } from './sink.js';
import { Tailer } from './tail/tailer.js';
import { FanOut } from './monitoring/fan-out.js';
import { createSink } from '../sinks/index.js';

export interface RunOptions {
  /** Ship what the files hold now, then exit (`run --once`). */
  readonly once: boolean;
  /** Aborted on SIGTERM/SIGINT/SIGHUP: stop reading, flush, checkpoint, exit. */
  readonly signal: AbortSignal;
  /** The sink, made (not started) by preflight; made here when absent. */
  readonly sink?: Sink;
}

/**
 * Exit codes: 0 done; 2 the sink failed for good, its preparation ran out of retry.max_attempts, the final
 * checkpoints could not be written, or --once did not ship everything (stopped early, records unacknowledged or
 * given up after retries); 1 anything unexpected.
 */
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
  // Self-monitoring (/health, /metrics) while following files; a --once run is a batch job and serves none, and does
  // not load it (prom-client and the HTTP server: 30 ms of every short run's start).
  const monitor = config.monitoring.enabled && !options.once ? new (await import('./monitoring/monitor.js')).Monitor(config, sink.name, logger) : null;
  const pipelineEvents = monitor ? new FanOut(events, monitor.metrics) : events;
  const deadLetters = new DeadLetters(config.dataDir, config.deadLetters, {
    dropped: (path, records, bytes) => {
      pipelineEvents.deadLettersDropped(records, bytes);
      logger.warn('dead letters dropped: the oldest file was removed to stay within dead_letters.max_bytes', {
        path,
        records,
        bytes,
        max_bytes: config.deadLetters.maxBytes,
      });
    },
  });
  let fatal: string | null = null;
  // Resolves when reading must stop (a signal, or the sink failed for good): the reader stops waiting for room.
  let stopReading!: () => void;
  const readingStopped = new Promise<void>((resolve) => (stopReading = resolve));
  // The registry is written from the tailer's checkpoints: on the timer, and after each acknowledgement for a sink
  // that cannot deduplicate (delivery asks, through `checkpointer.persist()`).
  const checkpointer = new Checkpointer(
    new RegistryWriter(config.dataDir),
    { version: () => tailer.version(), snapshot: () => ({ checkpoints: tailer.checkpoints(), losses: tailer.losses() }) },
    config.dataDir,
    pipelineEvents,
    logger,
  );
  const delivery = new Delivery(
    sink,
    config.delivery,
    deadLetters,
    pipelineEvents,
    logger,
    (reason) => {
      fatal = reason;
      tailer.stop();
      stopReading();
    },
    checkpointer,
  );
  const batcher = new Batcher(config.batch, (batch) => delivery.submit(batch));
  const tailer = new Tailer(
    config,
    registry.checkpoints,
    registry.losses,
    (source, start, end, seq, chunk, at, length, frame) => batcher.add(source, start, end, seq, chunk, at, length, frame),
    pipelineEvents,
    logger,
    sink.itemFraming?.bind(sink),
  );
  monitor?.attach(tailer, delivery);

  let sinkReady = false;
  const onSignal = (): void => {
    logger.info('stopping: no more reading, flushing what is in flight');
    tailer.stop();
    stopReading();
    // Before the sink is ready nothing is in flight: stop at once rather than wait out its retries.
    if (sinkReady) delivery.abortRetriesAfter(config.shutdownTimeoutMs);
    else delivery.abortNow();
  };
  options.signal.addEventListener('abort', onSignal, { once: true });

  logger.info('logship starting', {
    mode: options.once ? 'once' : 'follow',
    sink: sink.name,
    inputs: config.inputs.map((i) => ({ type: i.type, paths: i.paths })),
    checkpoints: registry.checkpoints.length,
    acknowledgements: sink.deduplicates ? `checkpointed every ${config.checkpointIntervalMs} ms (the sink deduplicates)` : 'checkpointed before the next batch of the same log (the sink cannot deduplicate)',
  });
  const checkpointTimer = setInterval(() => void checkpointer.persist(), config.checkpointIntervalMs);
  await monitor?.start();
  let readToEnd = false;
  let checkpointFailure: string | null = null;
  // Files are seen and held from the start, whether or not the sink is ready: a sink down at start must not let the
  // generations rotated meanwhile go unseen. Reading waits for the sink (and then for room in delivery).
  let markSinkReady!: () => void;
  const sinkStarted = new Promise<void>((resolve) => (markSinkReady = resolve));
  const pacing = {
    // Room in delivery, and acknowledgements that can be made durable (see Delivery.waitForCapacity); a stop ends the wait.
    ready: (): Promise<void> => Promise.race([sinkStarted.then(() => delivery.waitForCapacity()), readingStopped]),
    hasCapacity: (): boolean => sinkReady && delivery.hasCapacity(),
  };
  // A failure of the tailer (the parse thread died) is kept and thrown once the sequence below reaches it.
  const following: Promise<unknown> = (options.once ? tailer.runOnce(pacing) : options.signal.aborted ? Promise.resolve() : tailer.run(pacing)).then(
    () => null,
    (err: unknown) => err ?? new Error('the tailer failed'),
  );
  try {
    if (!(await delivery.start())) {
      tailer.stop();
      stopReading();
      await following;
      if (fatal !== null) logger.error('delivery failed', { reason: fatal });
      else if (options.once) logger.error('delivery incomplete: stopped before the sink was ready, nothing was shipped');
      return fatal === null && !options.once ? EXIT_OK : EXIT_DELIVERY_FAILED;
    }
    sinkReady = true;
    markSinkReady();
    monitor?.sinkReady();
    const failure = await following;
    if (failure !== null) throw failure;
    if (options.once) readToEnd = !options.signal.aborted && fatal === null;

    batcher.flush();
    if (options.once && !options.signal.aborted && fatal === null) {
      await delivery.drain(); // --once waits for delivery however long retries take (bounded by retry.max_attempts)
    } else {
      delivery.abortRetriesAfter(config.shutdownTimeoutMs);
      await delivery.drain();
    }
  } finally {
    tailer.stop(); // an unexpected error above: reading must end before the files are closed
    await following;
    clearInterval(checkpointTimer);
    options.signal.removeEventListener('abort', onSignal);
    checkpointer.stop();
    checkpointFailure = await checkpointer.flush();
    if (checkpointFailure !== null) logger.error('cannot write the final checkpoints', { data_dir: config.dataDir, reason: checkpointFailure });
    await tailer.close();
    // The end of the sequence, whatever happened: a sink that cannot even close must not turn exit 2 into exit 1.
    await closeWithin(sink, SINK_CLOSE_MS, logger);
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
    dead_letters_dropped: events.deadLettersDroppedRecords,
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
  if (checkpointFailure !== null) return EXIT_DELIVERY_FAILED; // what was shipped would be shipped again
  if (!options.once) return EXIT_OK;
  // --once is a batch job: anything short of "everything shipped" must not read as success to cron.
  if (!readToEnd) {
    logger.error('delivery incomplete: stopped by a signal before every file was shipped', { unacknowledged: unacked });
    return EXIT_DELIVERY_FAILED;
  }
  if (unacked > 0) {
    logger.error('delivery incomplete: records not acknowledged', { unacknowledged: unacked });
    return EXIT_DELIVERY_FAILED;
  }
  if (delivery.givenUp > 0) {
    logger.error('delivery incomplete: records dead-lettered after delivery.retry.max_attempts', { records: delivery.givenUp });
    return EXIT_DELIVERY_FAILED;
  }
  return EXIT_OK;
}

/**
 * How long closing the sink may take: a client closes gracefully, waiting for requests in flight, and a request to a
 * sink that hangs would hold the stop past shutdown_timeout (whose retries were already given up).
 */
const SINK_CLOSE_MS = 2_000;

async function closeWithin(sink: Sink, ms: number, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  try {
    const closed = await Promise.race([sink.close().then(() => 'closed' as const), late]);
    if (closed === 'late') logger.warn('the sink did not close in time (a request still in flight): not waiting for it', { ms });
  } catch (err) {
    logger.warn('closing the sink failed', { error: err });
  } finally {
    clearTimeout(timer);
  }
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
