/**
 * `logship run` runs the agent on a thread of its own, and the main thread only supervises it: it passes on
 * signals and ends the process with the agent's exit code.
 *
 * Why: the only way Node gives to size a V8 heap from inside the program is a worker's `resourceLimits`, and the
 * agent's heap wants a smaller young generation than V8's default. On the main thread V8 grew it to 32 MiB in the
 * first half second of a catch-up (module loading, then the first burst of batches) and kept it for the whole run:
 * a third of the agent's heap pages. Capped at 6 MiB in a worker, it took 15–20 MiB off peak RSS for no measurable
 * throughput (`npm run bench`). The main thread itself loads nothing but the command line.
 */
import { createLogger, type LogLevel } from './log.js';
import { logProcessWarnings } from './process-warnings.js';
import { writeStderr } from './stderr.js';
import { startModuleWorker } from './threads.js';

export interface AgentThreadData {
  readonly configFile: string;
  readonly once: boolean;
  readonly logLevel: LogLevel;
}

export interface AgentThreadMessage {
  readonly signal: NodeJS.Signals;
}

/** What the agent's thread tells the main thread once its config is loaded. */
export interface SupervisorMessage {
  readonly shutdownTimeoutMs: number;
}

/**
 * After a stop signal, the agent has shutdown_timeout to flush, plus this for writing checkpoints and closing. Past
 * that the main thread ends the process itself: a stop must end even if the agent's thread is stuck (a read blocked in
 * the kernel on a hung file system, a sink's socket that never closes).
 */
export const SHUTDOWN_GRACE_MS = 5_000;
/** The exit code of a stop that had to be forced: what was read may not be checkpointed (it is read again). */
export const EXIT_STOP_FORCED = 2;

/**
 * The agent's heap: a young generation capped at 6 MiB (see above), and an old generation capped at 1 GiB. Not for
 * the cap itself (the agent's live heap is tens of MiB, ~3 KiB per followed file), but because V8 sizes its growth
 * steps from it: uncapped (a quarter of the machine's memory), the heap of an agent following 20,000 files grew by
 * the garbage of its scans to 485–545 MiB of RSS before a full collection; capped at 1 GiB it stayed under 300 MiB
 * (`npm run bench:files`), with the same CPU.
 */
const AGENT_LIMITS = { maxYoungGenerationSizeMb: 6, maxOldGenerationSizeMb: 1024 };

/**
 * Files logship creates are not world-readable (registry, dead letters, file-sink output, data_dir): the owner
 * writes, its group reads, others nothing — as Beats do. Set before the agent's thread starts: a worker may not.
 */
export const AGENT_UMASK = 0o027;

/**
 * Signals that stop the agent gracefully: stop reading, flush, wait for in-flight sends, write checkpoints, exit 0.
 * SIGHUP too (its default would kill the agent with nothing flushed or checkpointed): a closed terminal or a
 * supervisor's reload is a stop, as in Filebeat.
 */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/** Runs the agent thread to its end; resolves to the exit code. */
export function superviseAgent(data: AgentThreadData): Promise<number> {
  process.umask(AGENT_UMASK);
  const agent = startModuleWorker(import.meta.url, 'agent-thread', { workerData: data, resourceLimits: AGENT_LIMITS, stdin: false });
  // What the main thread itself has to say, in the agent's log format (Node's own warnings included).
  const logger = createLogger(data.logLevel, writeStderr);
  logProcessWarnings(logger);
  let signals = 0;
  // Until the agent says otherwise (its config is not loaded yet), the default shutdown_timeout.
  let shutdownTimeoutMs = 30_000;
  agent.on('message', (m: SupervisorMessage) => {
    if (typeof m?.shutdownTimeoutMs === 'number') shutdownTimeoutMs = m.shutdownTimeoutMs;
  });
  let deadline: NodeJS.Timeout | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      logger.warn('second signal: exiting without waiting for delivery', { signal });
      process.exit(1);
    }
    agent.postMessage({ signal } satisfies AgentThreadMessage);
    deadline = setTimeout(() => {
      logger.error('the stop did not finish within shutdown_timeout: exiting without waiting further', {
        shutdown_timeout_ms: shutdownTimeoutMs,
        grace_ms: SHUTDOWN_GRACE_MS,
      });
      process.exit(EXIT_STOP_FORCED);
    }, shutdownTimeoutMs + SHUTDOWN_GRACE_MS);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  return new Promise((resolve) => {
    let failed = false;
    agent.on('error', (err) => {
      // An error the agent thread did not catch (a bug): said on one line, exit 1.
      failed = true;
      logger.error('logship failed', { error: err });
    });
    agent.on('exit', (code) => {
      if (deadline !== null) clearTimeout(deadline);
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
      resolve(failed ? 1 : code);
    });
  });
}
