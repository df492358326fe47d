import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import type { ByteRange } from './ranges.js';

/**
 * The registry: one durable checkpoint per file, saying how far its records are stored. It is written whole,
 * atomically (temp file, fsync, rename, fsync of the directory), so a SIGKILL or power loss at any moment leaves
 * either the old or the new registry, never a torn one. A registry that cannot be read is set aside and reported;
 * the agent then starts over, and deterministic record ids keep Elasticsearch free of the duplicates.
 */
export const REGISTRY_VERSION = 1;
export const REGISTRY_FILE = 'registry.json';

export interface Checkpoint {
  /** The matched path the file was found at (it may since have been renamed beside it, e.g. to `.1`). */
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
  readonly fingerprint: string;
  readonly fingerprintBytes: number;
  /** Every record before this byte offset is acknowledged by the sink. */
  readonly offset: number;
  /** File size when last read, for `bytes behind`. */
  readonly size: number;
  /** The file's mtime when last read: rotated generations newer than this were written after it. */
  readonly mtimeMs: number;
  /** ISO time of the last acknowledgement that moved the offset. */
  readonly ackedAt: string;
  /**
   * Byte ranges beyond `offset` whose records are acknowledged too (a record held back keeps the offset before it
   * while later ones are stored): a restart does not send them again. Absent when there are none.
   */
  readonly acked?: readonly ByteRange[];
}

interface RegistryFile {
  version: number;
  checkpoints: readonly Checkpoint[];
}

export interface LoadedRegistry {
  readonly checkpoints: Checkpoint[];
  /** True when a registry existed (the agent ran before with this data_dir). */
  readonly existed: boolean;
}

export function registryPath(dataDir: string): string {
  return join(dataDir, REGISTRY_FILE);
}

export function loadRegistry(dataDir: string, logger: Logger): LoadedRegistry {
  mkdirSync(dataDir, { recursive: true });
  const path = registryPath(dataDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { checkpoints: [], existed: false };
    throw new Error(`cannot read the registry ${path}: ${(err as Error).message}`);
  }
  try {
    return { checkpoints: parseRegistry(text), existed: true };
  } catch (err) {
    const aside = `${path}.corrupt-${Date.now()}`;
    renameSync(path, aside);
    logger.error('registry unreadable: set aside, starting without checkpoints', {
      path,
      moved_to: aside,
      reason: (err as Error).message,
    });
    return { checkpoints: [], existed: true };
  }
}

/** The checkpoints of a registry file's text; throws with the reason ("not JSON (…)", "not a version 1 registry", …). */
export function parseRegistry(text: string): Checkpoint[] {
  let data: Partial<RegistryFile>;
  try {
    data = JSON.parse(text) as Partial<RegistryFile>;
  } catch (err) {
    throw new Error(`not JSON (${(err as Error).message})`);
  }
  if (data === null || typeof data !== 'object' || data.version !== REGISTRY_VERSION || !Array.isArray(data.checkpoints)) {
    throw new Error(`not a version ${REGISTRY_VERSION} registry`);
  }
  for (const c of data.checkpoints) {
    const ok =
      typeof c?.path === 'string' &&
      Number.isSafeInteger(c.dev) &&
      Number.isSafeInteger(c.ino) &&
      typeof c.fingerprint === 'string' &&
      Number.isSafeInteger(c.fingerprintBytes) &&
      Number.isSafeInteger(c.offset) &&
      c.offset >= 0;
    if (!ok) throw new Error(`malformed checkpoint ${JSON.stringify(c)}`);
  }
  return [...data.checkpoints];
}

/** Writes the registry atomically. Calls never overlap: a write asked for during a write waits for it. */
export class RegistryWriter {
  private writing: Promise<void> = Promise.resolve();
  /** What is on disk now (after a successful write): an unchanged registry is not written again. */
  private lastBody = '';
  private readonly path: string;

  constructor(private readonly dataDir: string) {
    this.path = registryPath(dataDir);
  }

  /** Write the registry unless it would be the same as the last one written; resolves to whether it wrote. */
  write(checkpoints: readonly Checkpoint[]): Promise<boolean> {
    const body = JSON.stringify({ version: REGISTRY_VERSION, checkpoints } satisfies RegistryFile, null, 1) + '\n';
    if (body === this.lastBody) return Promise.resolve(false);
    const next = this.writing.then(async () => {
      await this.writeAtomically(body);
      this.lastBody = body;
      return true;
    });
    this.writing = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private async writeAtomically(body: string): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const fh = await open(tmp, 'w', 0o640);
    try {
      await fh.writeFile(body);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
    // The rename is durable only once the directory entry is.
    const dir = await open(this.dataDir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
