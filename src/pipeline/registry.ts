import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { checkCheckpoint, type Checkpoint } from './checkpoint-entry.js';
import { LOSS_REASONS, type LossReason } from '../events.js';

export type { Checkpoint } from './checkpoint-entry.js';

/**
 * The registry: one durable checkpoint per file, saying how far its records are stored. It is written whole,
 * atomically (temp file, fsync, rename, fsync of the directory), so a SIGKILL or power loss at any moment leaves
 * either the old or the new registry, never a torn one; a write that fails (ENOSPC) leaves the old one in place and
 * removes its temp file. A registry that cannot be read is set aside and reported; the agent then starts over, and
 * deterministic record ids keep Elasticsearch free of the duplicates. An entry with an impossible value is set aside
 * on its own (checkpoint-entry.ts): the other files keep their checkpoints.
 */
export const REGISTRY_VERSION = 1;
export const REGISTRY_FILE = 'registry.json';
/** Only the agent's user reads its checkpoints: they name every file it follows. */
export const REGISTRY_MODE = 0o600;
/** data_dir when the agent creates it: the agent's user writes, its group may read (`logship status`). */
export const DATA_DIR_MODE = 0o750;

interface RegistryFile {
  version: number;
  checkpoints: readonly Checkpoint[];
  /** The latest losses the agent counted (at most LOSSES_KEPT), oldest first; kept across restarts for `status`. */
  losses?: readonly Loss[];
}

/** Bytes the agent knows it could not read, as the registry keeps them for `logship status`. */
export interface Loss {
  readonly path: string;
  readonly bytes: number;
  readonly reason: LossReason;
  /** ISO time it was counted. */
  readonly at: string;
}

/** Losses the registry keeps, newest last. */
export const LOSSES_KEPT = 100;

/** What the registry holds, written whole. */
export interface RegistrySnapshot {
  readonly checkpoints: readonly Checkpoint[];
  readonly losses: readonly Loss[];
}

export interface LoadedRegistry {
  readonly checkpoints: Checkpoint[];
  readonly losses: Loss[];
  /** True when a registry existed (the agent ran before with this data_dir). */
  readonly existed: boolean;
}

/** A registry's entries: those the agent can use, and those it cannot, with why. */
export interface ParsedRegistry {
  readonly checkpoints: Checkpoint[];
  readonly losses: Loss[];
  readonly invalid: { readonly entry: unknown; readonly reason: string }[];
}

export function registryPath(dataDir: string): string {
  return join(dataDir, REGISTRY_FILE);
}

/** Creates data_dir (0750) if needed; never throws for anything in the registry itself. */
export function loadRegistry(dataDir: string, logger: Logger): LoadedRegistry {
  mkdirSync(dataDir, { recursive: true, mode: DATA_DIR_MODE });
  const path = registryPath(dataDir);
  // A temp file is left only by a write that was killed (or failed and could not clean up): it is never the registry.
  try {
    rmSync(`${path}.tmp`, { force: true });
  } catch (err) {
    // Not a file (a directory in its way): every write will fail and say so; the start need not.
    logger.warn('cannot remove a stale registry temp file', { path: `${path}.tmp`, error: err });
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { checkpoints: [], losses: [], existed: false };
    throw new Error(`cannot read the registry ${path}: ${(err as Error).message}`);
  }
  let parsed: ParsedRegistry;
  try {
    parsed = parseRegistry(text);
  } catch (err) {
    const aside = `${path}.corrupt-${Date.now()}`;
    renameSync(path, aside);
    logger.error('registry unreadable: set aside, starting without checkpoints', {
      path,
      moved_to: aside,
      reason: (err as Error).message,
    });
    return { checkpoints: [], losses: [], existed: true };
  }
  if (parsed.invalid.length > 0) setAsideInvalid(path, parsed, logger);
  return { checkpoints: parsed.checkpoints, losses: parsed.losses, existed: true };
}

/**
 * The entries that cannot be used go to `registry.json.invalid-<time>` (for an operator to look at; the next
 * registry write leaves them out), each is logged, and their files are read as new ones.
 */
function setAsideInvalid(path: string, parsed: ParsedRegistry, logger: Logger): void {
  const aside = `${path}.invalid-${Date.now()}`;
  try {
    writeFileSync(aside, JSON.stringify({ version: REGISTRY_VERSION, invalid: parsed.invalid }, null, 1) + '\n', { mode: REGISTRY_MODE });
  } catch (err) {
    logger.warn('cannot keep the invalid registry entries aside', { path: aside, error: err });
  }
  for (const { entry, reason } of parsed.invalid) {
    logger.error('registry entry invalid: set aside, its file is read as a new one', {
      reason,
      entry: JSON.stringify(entry)?.slice(0, 500) ?? String(entry),
      moved_to: aside,
    });
  }
  logger.warn('registry entries set aside', { invalid: parsed.invalid.length, kept: parsed.checkpoints.length, moved_to: aside });
}

/**
 * The entries of a registry file's text, valid and invalid. Throws with the reason when the file as a whole is not a
 * registry ("not JSON (…)", "not a version 1 registry").
 */
export function parseRegistry(text: string): ParsedRegistry {
  let data: Partial<RegistryFile>;
  try {
    data = JSON.parse(text) as Partial<RegistryFile>;
  } catch (err) {
    throw new Error(`not JSON (${(err as Error).message})`);
  }
  if (data === null || typeof data !== 'object' || data.version !== REGISTRY_VERSION || !Array.isArray(data.checkpoints)) {
    throw new Error(`not a version ${REGISTRY_VERSION} registry`);
  }
  const checkpoints: Checkpoint[] = [];
  const invalid: { entry: unknown; reason: string }[] = [];
  for (const entry of data.checkpoints as unknown[]) {
    const checked = checkCheckpoint(entry);
    if (typeof checked === 'string') invalid.push({ entry, reason: checked });
    else checkpoints.push(checked);
  }
  // Losses are a record for people: entries that do not read as one are left out, not a reason to set anything aside.
  const losses = Array.isArray(data.losses) ? (data.losses as unknown[]).filter(isLoss).slice(-LOSSES_KEPT) : [];
  return { checkpoints, losses, invalid };
}

function isLoss(v: unknown): v is Loss {
  const l = v as Partial<Loss> | null;
  return (
    l !== null &&
    typeof l === 'object' &&
    typeof l.path === 'string' &&
    Number.isSafeInteger(l.bytes) &&
    (LOSS_REASONS as readonly unknown[]).includes(l.reason) &&
    typeof l.at === 'string'
  );
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
  write(checkpoints: readonly Checkpoint[], losses: readonly Loss[] = []): Promise<boolean> {
    const file: RegistryFile = losses.length === 0 ? { version: REGISTRY_VERSION, checkpoints } : { version: REGISTRY_VERSION, checkpoints, losses };
    const body = JSON.stringify(file, null, 1) + '\n';
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
    try {
      const fh = await open(tmp, 'w', REGISTRY_MODE);
      try {
        await fh.writeFile(body);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
    } catch (err) {
      // ENOSPC, EIO…: registry.json is untouched; a half-written temp file must not stay behind (nor fill the disk).
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    // The rename is durable only once the directory entry is.
    const dir = await open(this.dataDir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
