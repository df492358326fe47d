/**
 * Starting the agent's worker threads (the agent itself, see supervise.ts; the parser, see parse-thread/thread.ts) from
 * a module next to the caller: its compiled JavaScript, or its TypeScript when running from source (tests, under tsx).
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** `name` without extension, resolved against `callerUrl` (the caller's import.meta.url). */
export function startModuleWorker(callerUrl: string, name: string, options: WorkerOptions): Worker {
  if (callerUrl.endsWith('.js')) return new Worker(new URL(`./${name}.js`, callerUrl), options);
  const source = new URL(`./${name}.ts`, callerUrl).href;
  // A worker does not inherit tsx's module hooks (Node 20): register them in it before loading the source.
  const load = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(load, { ...options, eval: true });
}
