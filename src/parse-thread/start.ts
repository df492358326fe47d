/**
 * Starting the parse worker, possibly ahead of time. `logship run` starts it first thing in the agent's thread
 * (agent-thread.ts), so that it boots while that thread loads the agent's modules, the config and the sink's client
 * (about 0.3 s): the first read no longer waits for a worker to boot after all that. Whoever needs a worker takes the
 * one started early, or starts one.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../threads.js';

/**
 * The worker's young generation, capped: it allocates a line's text, its fields and its document for every line, all
 * short-lived, and V8's default lets that space grow to 32 MiB on top of the agent thread's own. Measured on the
 * benchmark: 12 MiB saves ~25 MiB of peak RSS for no throughput; 6 MiB ~5 more, for ~3% on Django JSON lines.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 6 };

let early: Worker | null = null;

function startWorker(): Worker {
  const worker = startModuleWorker(import.meta.url, 'worker', { resourceLimits: WORKER_LIMITS });
  // Idle, the worker must not keep the process alive (a run that fails before taking it exits).
  worker.unref();
  return worker;
}

/** Starts a worker for the next takeParseWorker(), unless one is waiting already. */
export function startParseWorkerEarly(): void {
  early ??= startWorker();
}

/** The worker started early, or a new one. */
export function takeParseWorker(): Worker {
  const worker = early ?? startWorker();
  early = null;
  return worker;
}
