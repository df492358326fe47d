/** What the parts of the tailer (keeper, reader, upkeep) share: options, reporting, the files, making new ones. */
import type { InputConfig } from '../config/types.js';
import type { PipelineEvents } from '../events.js';
import type { Logger } from '../log.js';
import type { Checkpoint } from '../pipeline/registry.js';
import type { CarriedRecords } from './carried.js';
import type { FileSet } from './file-set.js';
import type { TrackedFile } from './file.js';
import type { FileIdentity } from './identity.js';

export interface TailerOptions {
  readonly inputs: readonly InputConfig[];
  readonly hostName: string;
  readonly maxLineBytes: number;
  readonly maxOpenFiles: number;
  readonly partialLineTimeoutMs: number;
  readonly multilineTimeoutMs: number;
  readonly scanIntervalMs: number;
  readonly closeInactiveMs: number;
  readonly rotateWaitMs: number;
  readonly usePolling: boolean;
}

export type { LossReason } from '../events.js';
import type { LossReason } from '../events.js';

export type { Loss } from '../pipeline/registry.js';

/** How a new TrackedFile starts: from a checkpoint (resumed), or fresh at an offset. */
export interface FileStart {
  readonly identity: FileIdentity | null;
  readonly offset: number;
  /** The checkpoint it resumes from (its acknowledgement time and the ranges acknowledged beyond it). */
  readonly resumed: Checkpoint | null;
}

export interface TailContext {
  readonly options: TailerOptions;
  readonly events: PipelineEvents;
  readonly logger: Logger;
  readonly files: FileSet;
  readonly carried: CarriedRecords;
  newFile(path: string, input: InputConfig, dev: number, ino: number, start: FileStart, now: number, originPath?: string): TrackedFile;
  /** Count and log bytes that cannot be read any more. */
  lost(path: string, bytes: number, reason: LossReason, fields?: Record<string, unknown>): void;
}
