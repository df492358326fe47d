/**
 * What the image tests share: starting a container of the image and timing it to /health 200, stopping it with
 * SIGTERM, waiting for every record to arrive exactly once, reading checkpoints, and reporting figures.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { waitFor } from '../support/agent.js';
import type { EsServerHandle } from '../support/es-server.js';
import type { Deployment } from './deploy.js';
import { containerLog, IMAGE, inspect, podmanOk } from './podman.js';
import { counts, exactlyOnce, sizeOf, type SampleFile } from './samples.js';

export const ES_USER = 'logship';
export const ES_PASSWORD = `pw-${process.pid}-${Date.now()}`;
/** Low, so that a failing sink turns /health 503 within seconds (the shipped configs say 30000). */
export const UNHEALTHY_AFTER_MS = 2000;
/** A prefix for the containers and volumes of this run, so that a leftover is recognisable and never shared. */
export const RUN = `logship-image-test-${process.pid}`;

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** GET a monitoring endpoint: its status, or 0 when nothing answers. */
export async function status(url: string): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

export interface Started {
  /** `podman run --detach` returned: the container's process is running. */
  readonly runMs: number;
  /** From calling `podman run` to the first 200 from `healthUrl`. */
  readonly healthyMs: number;
}

/** Start a container of the image on the host's network; resolves when `healthUrl` answers 200. */
export async function start(name: string, d: Deployment, healthUrl: string): Promise<Started> {
  const began = performance.now();
  // podman's healthcheck timer needs systemd, absent here: it says so on stderr and the container runs anyway.
  await podmanOk(['run', '--detach', '--name', name, '--network', 'host', ...d.options, IMAGE, ...d.args]);
  const runMs = Math.round(performance.now() - began);
  let lookedAt = performance.now();
  let exited = false;
  const up = async (): Promise<boolean> => {
    if ((await status(healthUrl)) === 200) return true;
    // A container that stopped (a config or permission error: exit 1 with one line) will never answer.
    if (performance.now() - lookedAt > 1000) {
      lookedAt = performance.now();
      exited = (await inspect(name, '{{.State.Running}}')) !== 'true';
    }
    return exited;
  };
  try {
    await waitFor(up, 30_000, `${healthUrl} to answer 200`);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await containerLog(name)}`);
  }
  if (exited) throw new Error(`the container exited (${await inspect(name, '{{.State.ExitCode}}')}) before /health answered:\n${await containerLog(name)}`);
  return { runMs, healthyMs: Math.round(performance.now() - began) };
}

export function describeStart(s: Started): string {
  return `podman run → /health 200 in ${s.healthyMs} ms (podman run returned after ${s.runMs} ms)`;
}

/** `podman stop` (SIGTERM, then SIGKILL after the deployment's grace): the container's exit code and the time. */
export async function stop(name: string, d: Deployment): Promise<{ exitCode: number; ms: number }> {
  const began = performance.now();
  await podmanOk(['stop', '--time', String(d.stopTimeoutS), name], (d.stopTimeoutS + 30) * 1000);
  const ms = Math.round(performance.now() - began);
  return { exitCode: Number(await inspect(name, '{{.State.ExitCode}}')), ms };
}

/** Wait until Elasticsearch holds as many records as the files, then check each file's arrived exactly once. */
export async function arrived(es: EsServerHandle, index: string, files: readonly SampleFile[], container: string): Promise<void> {
  try {
    await waitFor(() => counts(es, index, files).stored >= counts(es, index, files).written, 60_000, 'every record in Elasticsearch');
  } catch (err) {
    throw new Error(`${(err as Error).message}: ${JSON.stringify(counts(es, index, files))}\n${await containerLog(container)}`);
  }
  // A moment for a duplicate or a stray record to show up before judging.
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(exactlyOnce(es, index, files), null);
}

/** The checkpoints in a data directory must reach each file's end. */
export function assertCheckpointed(dataDir: string, files: readonly SampleFile[]): void {
  const registry = JSON.parse(readFileSync(join(dataDir, 'registry.json'), 'utf8')) as { checkpoints: { path: string; offset: number }[] };
  for (const f of files) {
    const cp = registry.checkpoints.find((c) => c.path === f.containerPath);
    assert.ok(cp, `no checkpoint for ${f.containerPath} in ${JSON.stringify(registry)}`);
    assert.equal(cp.offset, sizeOf(f), `checkpoint of ${f.containerPath}`);
  }
}

/** The stored documents of an index. */
export function stored(es: EsServerHandle, index: string): Record<string, any>[] {
  return [...(es.docs.get(index)?.values() ?? [])];
}

/** A figure for the report: a test diagnostic (the spec reporter prints it under the test, marked ℹ). */
export function report(t: TestContext, line: string): void {
  t.diagnostic(line);
}
