import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FAST, tempDir, writeConfig } from './agent.js';
import { startEsServer, type EsServerHandle } from './es-server.js';

export const INDEX = 'logs-django-default';

/** A temp dir with a logs/ folder, a test Elasticsearch, and a config pointing the agent from one to the other. */
export interface Scenario {
  readonly dir: string;
  readonly logs: string;
  readonly es: EsServerHandle;
  readonly config: string;
  /** Messages of the stored documents. */
  stored(): string[];
  close(): Promise<void>;
}

export async function scenario(
  inputs: Record<string, unknown>[] | ((logs: string) => Record<string, unknown>[]),
  extra: Record<string, unknown> = {},
): Promise<Scenario> {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const es = await startEsServer();
  const config = writeConfig(dir, {
    data_dir: join(dir, 'data'),
    ...FAST,
    inputs: typeof inputs === 'function' ? inputs(logs) : inputs,
    sink: { type: 'elasticsearch', node: es.url, index: INDEX },
    ...extra,
  });
  return {
    dir,
    logs,
    es,
    config,
    stored: () => [...(es.docs.get(INDEX)?.values() ?? [])].map((d) => String(d['message'])),
    close: () => es.close(),
  };
}

/** Append lines "… seq=N" (text lines a django input ships as plain messages) to a file. */
export function appendSeqLines(path: string, from: number, to: number, pad = ''): void {
  let body = '';
  for (let i = from; i < to; i++) {
    body += JSON.stringify({ asctime: '2026-11-27 12:00:00,000', levelname: 'INFO', name: 'test', message: `line seq=${i} ${pad}` }) + '\n';
  }
  appendFileSync(path, body);
}

/** Docker json-file lines exactly as dockerd writes them. */
export function dockerLine(log: string, stream: 'stdout' | 'stderr', time = '2026-11-27T12:00:00.000000001Z'): string {
  return JSON.stringify({ log, stream, time }) + '\n';
}
