/**
 * What a tracked file (file.ts) is given — where its lines are parsed, where its records go, what it counts — and the
 * small types it answers with.
 */
import type { PipelineEvents } from '../events.js';
import type { InputConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { ParserContext } from '../parse/types.js';
import type { SourceRef } from '../record.js';
import type { ItemFraming } from '../sink.js';
import type { ArenaChunk } from '../pipeline/arena.js';
import type { ParseThread } from '../parse-thread/thread.js';
import type { CarriedRecords } from './carried.js';

/** Where a tracked file stands with respect to its path. */
export type FilePlacement =
  /** Still at a matched path: may grow for ever. */
  | 'active'
  /** Renamed away or deleted: read through the open descriptor to its end, then let go. */
  | 'moved';

/** A file's records could not be handed on after the worker parsed them: the agent cannot go on without losing them. */
export class TrackingFailed extends Error {}

/** Bytes read and parsed per request to the parse worker: large reads, few messages. */
export const READ_CHUNK_BYTES = 1 << 20;
export interface TrackedFileDeps {
  readonly input: InputConfig;
  readonly parserContext: Omit<ParserContext, 'path'>;
  readonly maxLineBytes: number;
  readonly events: PipelineEvents;
  readonly logger: Logger;
  readonly emit: EmitLogRecord;
  /** Where the file's lines are split and parsed. */
  readonly parse: ParseThread;
  /** Records that began in a rotated generation and end in its successor (Docker pieces split by a rotation). */
  readonly carried?: CarriedRecords;
  /** The sink's framing of a file's items, for a sink that reads records framed (see ItemFraming). */
  readonly itemFraming?: (idPrefix: string) => ItemFraming;
  /** Counts changes to anything a checkpoint holds (acknowledgements, sizes, identities): an unchanged registry is not rebuilt. */
  readonly changes: ChangeCount;
}

/** A counter every tracked file (and the set of them) moves when something a checkpoint holds changes. */
export interface ChangeCount {
  n: number;
}

/**
 * Hands a finished record to delivery: its source, byte range, acknowledgement seq, and where its document's JSON is
 * (`length` bytes at `at` in `chunk`, which counts the record as live), and the bytes of the sink's item head just
 * before it (`frame`, 0 when it was not framed: see ItemFraming). Fields, not an object: see pipeline/batch.ts.
 */
export type EmitLogRecord = (
  source: SourceRef,
  start: number,
  end: number,
  seq: number,
  chunk: ArenaChunk,
  at: number,
  length: number,
  frame: number,
) => void;

/** What a read found: bytes read, or that the file is now shorter than what was already read. */
export type ReadOutcome = number | 'truncated';
