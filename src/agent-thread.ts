/**
 * The agent's own thread (started by supervise.ts for `logship run`). It starts the parse worker first and only then
 * loads the agent (agent-run.ts): the worker boots while this thread loads the agent's modules, the config and the
 * sink's client, about 0.3 s of a short run, instead of after them.
 */
import { startParseWorkerEarly } from './parse-thread/start.js';

startParseWorkerEarly();
await import('./agent-run.js');
