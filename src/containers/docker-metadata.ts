/**
 * Docker's own record of a container, read from the `config.v2.json` dockerd keeps beside the container's json-file
 * log (/var/lib/docker/containers/<id>/): its name, the image reference it was created from, and its labels (the
 * compose project and service among them). No Docker socket: the files are all logship needs, and it already reads
 * that directory.
 *
 * dockerd writes config.v2.json when the container is created — before the log file exists — and writes it again,
 * atomically (temp file + rename), on every state change (start, stop, health check results). So it is read again
 * only when its mtime or size changed, and never seen half-written. hostconfig.json (next to it) holds how the
 * container runs (mounts, ports, restart policy, log options), nothing a document needs: it is not read.
 *
 * A missing, unreadable or malformed file is not an error: the container has no metadata, and that is logged once
 * (at debug) until it changes. The reads are synchronous: a few KiB, once per change, on the agent thread, where
 * files are opened and the scan already stats every log.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../log.js';

export const CONFIG_FILE = 'config.v2.json';
/** Far above any real config.v2.json (a few KiB; tens with many mounts and variables): a bound, not a limit. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** Containers not asked about for this long are forgotten (removed containers), checked at most once a minute. */
const FORGET_AFTER_MS = 10 * 60_000;
const SWEEP_EVERY_MS = 60_000;

/** `<id>-json.log`, and its rotations `<id>-json.log.1`, `.2`, … (the id is 64 lowercase hex digits). */
const JSON_LOG = /^([0-9a-f]{64})-json\.log(?:\.\d+)?$/;

/** What config.v2.json says of a container. */
export interface DockerContainer {
  readonly id: string;
  /** Name without the leading "/" (`accreditrack-backend-1`). */
  readonly name?: string;
  /** Config.Image: the reference as the operator wrote it (`registry.example.com:5000/team/app:1.4.2`). */
  readonly image?: string;
  /** Config.Labels (the image's labels merged in by dockerd), string values only. */
  readonly labels: Readonly<Record<string, string>>;
}

/** The container id of a json-file log path (`…/<id>/<id>-json.log[.N]`), or null when the path is not one. */
export function dockerLogContainerId(path: string): string | null {
  const m = JSON_LOG.exec(basename(path));
  return m === null ? null : m[1]!;
}

/** Reads a config.v2.json's text into what documents and filters need; a one-line problem when it cannot. */
export function parseDockerConfig(text: string, expectedId: string): DockerContainer | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  if (!isObject(v)) return 'not a JSON object';
  if (v['ID'] !== expectedId) return `its ID is ${JSON.stringify(v['ID'])}, not the directory's ${expectedId}`;
  const config = isObject(v['Config']) ? v['Config'] : {};
  const labels: Record<string, string> = {};
  if (isObject(config['Labels'])) {
    for (const [k, value] of Object.entries(config['Labels'])) if (typeof value === 'string') labels[k] = value;
  }
  const rawName = v['Name'];
  const name = typeof rawName === 'string' && rawName !== '' ? rawName.replace(/^\//, '') : undefined;
  const image = typeof config['Image'] === 'string' && config['Image'] !== '' ? config['Image'] : undefined;
  return { id: expectedId, ...(name !== undefined && name !== '' && { name }), ...(image !== undefined && { image }), labels };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

interface Entry {
  mtimeMs: number;
  size: number;
  ino: number;
  container: DockerContainer | null;
  /** Why there is no metadata (what was logged), or null. */
  problem: string | null;
  usedAt: number;
}

/** config.v2.json per container directory, cached; see the header. */
export class DockerMetadata {
  private readonly entries = new Map<string, Entry>();
  private sweptAt = 0;

  constructor(
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The container whose json-file log is `logPath`, or null (not a json-file path, or no readable metadata). */
  forLog(logPath: string): DockerContainer | null {
    const id = dockerLogContainerId(logPath);
    if (id === null) return null;
    const dir = dirname(logPath);
    const now = this.clock();
    this.sweep(now);
    const file = join(dir, CONFIG_FILE);
    let entry = this.entries.get(dir);
    let s;
    try {
      s = statSync(file);
    } catch (err) {
      return this.without(dir, entry, now, `cannot stat ${CONFIG_FILE}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    if (entry !== undefined && entry.mtimeMs === s.mtimeMs && entry.size === s.size && entry.ino === s.ino) {
      entry.usedAt = now;
      return entry.container;
    }
    let parsed: DockerContainer | string;
    if (!s.isFile() || s.size > MAX_CONFIG_BYTES) {
      parsed = `not a regular file of at most ${MAX_CONFIG_BYTES} bytes`;
    } else {
      try {
        parsed = parseDockerConfig(readFileSync(file, 'utf8'), id);
      } catch (err) {
        parsed = `cannot read it: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
      }
    }
    const container = typeof parsed === 'string' ? null : parsed;
    const problem = typeof parsed === 'string' ? parsed : null;
    if (problem !== null && problem !== entry?.problem) this.report(file, problem);
    entry = { mtimeMs: s.mtimeMs, size: s.size, ino: s.ino, container, problem, usedAt: now };
    this.entries.set(dir, entry);
    return container;
  }

  /** No metadata for `dir` now (its file cannot be found): remembered, so that the problem is logged once. */
  private without(dir: string, entry: Entry | undefined, now: number, problem: string): null {
    if (entry?.problem !== problem) this.report(join(dir, CONFIG_FILE), problem);
    this.entries.set(dir, { mtimeMs: -1, size: -1, ino: -1, container: null, problem, usedAt: now });
    return null;
  }

  private report(file: string, problem: string): void {
    this.logger.debug('no container metadata: documents of this container carry its id only', { path: file, reason: problem });
  }

  private sweep(now: number): void {
    if (now - this.sweptAt < SWEEP_EVERY_MS) return;
    this.sweptAt = now;
    for (const [dir, e] of this.entries) if (now - e.usedAt > FORGET_AFTER_MS) this.entries.delete(dir);
  }
}
