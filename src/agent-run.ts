/**
 * The agent's thread, once agent-thread.ts started the parse worker: loads the config, runs the agent, and ends with
 * the agent's exit code. Signals arrive as messages from the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runAgent } from './agent.js';
import { configProblemLine } from './config/errors.js';
import { createLogger } from './log.js';
import { preflight, type Preflight } from './preflight.js';
import { logProcessWarnings } from './process-warnings.js';
import { writeStderr } from './stderr.js';
import type { AgentThreadData, AgentThreadMessage, SupervisorMessage } from './supervise.js';

const port = parentPort;
if (port === null) throw new Error('agent-thread.js runs as a worker thread');
const { configFile, once, logLevel } = workerData as AgentThreadData;

const logger = createLogger(logLevel, writeStderr);
logProcessWarnings(logger);
// What `logship check` checks, exactly: a config it accepts is one `run` accepts, and the other way round.
let prepared: Preflight;
try {
  prepared = await preflight(configFile, 'run', logger);
} catch (err) {
  writeStderr(configProblemLine(err));
  process.exit(1);
}
const { config, sink } = prepared;
port.postMessage({ shutdownTimeoutMs: config.shutdownTimeoutMs } satisfies SupervisorMessage);
for (const w of prepared.warnings) logger.warn(`${w.key}: ${w.message}`, { key: w.key });

const controller = new AbortController();
port.on('message', (m: AgentThreadMessage) => {
  logger.info('signal received', { signal: m.signal });
  controller.abort();
});

let code: number;
try {
  code = await runAgent(config, logger, { once, signal: controller.signal, sink });
} catch (err) {
  logger.error('logship failed', { error: err });
  code = 1;
}
// Anything still scheduled (a socket's keep-alive, a watcher) must not hold the thread after the sequence ended.
process.exit(code);
