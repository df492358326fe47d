import type { FileHandle } from 'node:fs/promises';
import type { PipelineEvents } from '../events.js';
import type { InputConfig } from '../config/types.js';
import type { ParserContext } from '../parse/types.js';
import type { SourceRef } from '../record.js';
import { AckTracker } from '../pipeline/acks.js';
import type { ArenaChunk } from '../pipeline/arena.js';
import type { Checkpoint } from '../pipeline/registry.js';
import { idPrefixOf, stillMatches, takeFingerprint, type FileIdentity } from './identity.js';
import {
  ADVANCE_ROW,
  ROW_AT,
  ROW_CHUNK,
  ROW_END,
  ROW_FIELDS,
  ROW_LENGTH,
  ROW_SAFE,
  ROW_START,
  type StreamState,
} from '../parse-thread/protocol.js';
import type { ParsedChunk, ParseThread } from '../parse-thread/thread.js';

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
/** Read requests kept in flight: one parsed by the worker while this thread handles the records of the other. */
const READS_IN_FLIGHT = 2;
const GO_ON = (): Promise<boolean> => Promise.resolve(true);

export interface TrackedFileDeps {
  readonly input: InputConfig;
  readonly parserContext: Omit<ParserContext, 'path'>;
  readonly maxLineBytes: number;
  readonly events: PipelineEvents;
  readonly emit: EmitLogRecord;
  /** Where the file's lines are split and parsed. */
  readonly parse: ParseThread;
}

/**
 * Hands a finished record to delivery: its source, byte range, acknowledgement seq, and where its document's JSON is
 * (`length` bytes at `at` in `chunk`, which counts the record as live). Fields, not an object: see pipeline/batch.ts.
 */
export type EmitLogRecord = (
  source: SourceRef,
  start: number,
  end: number,
  seq: number,
  chunk: ArenaChunk,
  at: number,
  length: number,
) => void;

/**
 * One file instance being followed: its descriptor, identity, read position, acknowledgement tracker, and its stream
 * in the parse worker (line splitter and parser). It is a SourceRef: records point back to it, and acknowledging
 * them moves its checkpoint.
 */
export class TrackedFile implements SourceRef {
  /** Where the file is now (a rotated file is followed to its new name when one is known). */
  path: string;
  /** The matched path it was found at: its rotated generations are named after it. */
  originPath: string;
  /** The file's mtime at the last read. */
  mtimeMs = 0;
  placement: FilePlacement = 'active';
  identity: FileIdentity | null;
  idPrefix = '';
  /** Size at the last read or stat. */
  size = 0;
  /** When the file last grew (or was opened), ms since epoch. */
  lastGrowthAt: number;
  /**
   * Last time any record of this file was acknowledged and moved the checkpoint. A file resumed from the registry
   * starts with the registry's (the tailer sets it), so a restart with nothing acknowledged does not move it.
   */
  ackedAt: string | null = null;
  /** The committed offset at the last checkpoint; at first, where reading started (no move yet). */
  private lastCheckpointed: number;
  private fh: FileHandle | null = null;
  private readonly acks: AckTracker;
  /**
   * The file's stream in the parse worker, opened at the first request (a file never read holds nothing there), and
   * its state as of the last reply (requests run one at a time).
   */
  private stream = 0;
  private state: StreamState;
  /** For the stream: log.file.path is the path the file was found at. */
  private readonly parserContext: ParserContext;
  /** The request in flight, if any: the descriptor is not closed under it. */
  private inFlight: Promise<unknown> | null = null;

  constructor(
    path: string,
    readonly dev: number,
    readonly ino: number,
    identity: FileIdentity | null,
    startOffset: number,
    private readonly deps: TrackedFileDeps,
    now: number,
    originPath: string = path,
  ) {
    this.path = path;
    this.originPath = originPath;
    this.identity = identity;
    if (identity) this.idPrefix = idPrefixOf(identity);
    this.lastGrowthAt = now;
    this.acks = new AckTracker(startOffset);
    this.lastCheckpointed = startOffset;
    this.parserContext = { ...deps.parserContext, path };
    this.state = { position: startOffset, partialLine: false, heldFrom: -1 };
  }

  /** device:inode, for remembering files that were let go. */
  get key(): string {
    return `${this.dev}:${this.ino}`;
  }

  get input(): InputConfig {
    return this.deps.input;
  }

  get isOpen(): boolean {
    return this.fh !== null;
  }

  /** Offset of the next byte to read. */
  get readOffset(): number {
    return this.state.position;
  }

  get committed(): number {
    return this.acks.committed;
  }

  /** Records handed to delivery and not yet acknowledged. */
  get outstanding(): number {
    return this.acks.outstanding;
  }

  /** Nothing read and unshipped: no held record, no unfinished line, no unacknowledged record. */
  get settled(): boolean {
    return this.state.heldFrom === -1 && !this.state.partialLine && this.acks.outstanding === 0;
  }

  attach(fh: FileHandle): void {
    this.fh = fh;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    // The worker reads through the descriptor's number: closed under a read, the number could name another file.
    await this.inFlight?.catch(() => undefined);
    if (fh) await fh.close().catch(() => undefined);
  }

  /** Let go of the stream in the parse worker (what it holds is dropped: finish() first to ship it). */
  dispose(): void {
    if (this.stream !== 0) this.deps.parse.close(this.stream);
    this.stream = 0;
  }

  ack(seq: number): void {
    this.acks.ack(seq);
  }

  /** The durable form of this file's progress, or null while there is nothing worth remembering. */
  checkpoint(): Checkpoint | null {
    if (this.identity === null) return null;
    // The time is taken here, once per checkpoint write, not per acknowledged record.
    if (this.acks.committed !== this.lastCheckpointed) {
      this.lastCheckpointed = this.acks.committed;
      this.ackedAt = new Date().toISOString();
    }
    return {
      path: this.originPath,
      dev: this.dev,
      ino: this.ino,
      fingerprint: this.identity.fingerprint,
      fingerprintBytes: this.identity.fingerprintBytes,
      offset: this.acks.committed,
      size: this.size,
      mtimeMs: this.mtimeMs,
      // Nothing acknowledged yet: the time of the first checkpoint, kept from then on.
      ackedAt: (this.ackedAt ??= new Date().toISOString()),
    };
  }

  /** Does the open file still start with the bytes it was identified by? (false after a copytruncate + rewrite) */
  async identityHolds(): Promise<boolean> {
    if (this.fh === null || this.identity === null) return true;
    return stillMatches(this.fh, this.identity);
  }

  /**
   * Read and parse what the file has beyond readOffset, up to `budget` bytes, asking `proceed` before each chunk
   * (delivery's backpressure; false: stop). Returns the bytes read, or 'truncated' when the file is now shorter than
   * what was already read.
   */
  read(budget: number, now: number, proceed: () => Promise<boolean> = GO_ON): Promise<number | 'truncated'> {
    return this.inTurn(this.readChunks(budget, now, proceed));
  }

  private async readChunks(budget: number, now: number, proceed: () => Promise<boolean>): Promise<number | 'truncated'> {
    const fh = this.fh;
    if (fh === null) return 0;
    const { size, mtimeMs } = await fh.stat();
    if (size < this.state.position) return 'truncated';
    this.mtimeMs = mtimeMs;
    if (size > this.size) this.lastGrowthAt = now;
    this.size = size;
    const limit = Math.min(size, this.state.position + budget);
    let requested = this.state.position;
    let total = 0;
    let more = true;
    let failure: unknown = null;
    // The next chunk is asked for before the last one's records are handled, so the worker never waits for this
    // thread. The worker reads each from where the previous one ended, whatever their sizes turn out to be.
    const queue: Promise<ParsedChunk>[] = [];
    for (;;) {
      while (more && queue.length < READS_IN_FLIGHT && requested < limit && this.fh === fh && (await proceed())) {
        const want = Math.min(READ_CHUNK_BYTES, limit - requested);
        queue.push(this.deps.parse.read(this.streamId(), fh.fd, want, now));
        requested += want;
      }
      const next = queue.shift();
      if (next === undefined) break;
      let parsed: ParsedChunk;
      try {
        parsed = await next;
      } catch (err) {
        // The worker answers every request in turn: the ones behind a failed read still come, and theirs must be taken.
        failure ??= err;
        more = false;
        continue;
      }
      if (parsed.bytesRead === 0) more = false;
      if (parsed.bytesRead > 0 && this.identity === null) {
        try {
          await this.identifyParsed();
        } catch (err) {
          for (const left of queue) left.catch(() => undefined); // the agent stops: nobody waits for these
          throw err;
        }
      }
      this.accept(parsed);
      if (parsed.bytesRead > 0) this.deps.events.bytesRead(this.deps.input.type, this.path, parsed.bytesRead, parsed.lines);
      total += parsed.bytesRead;
    }
    if (failure !== null) throw failure;
    return total;
  }

  /**
   * Time-driven work: ship an unfinished last line the writer has abandoned, and records the parser held for
   * continuation lines that did not come.
   */
  async tick(now: number, partialLineTimeoutMs: number): Promise<void> {
    const partialDue = this.state.partialLine && now - this.lastGrowthAt >= partialLineTimeoutMs;
    if (!partialDue && this.state.heldFrom === -1) return;
    // Timeouts are for a writer that stopped mid-record, not for a reader that fell behind (a slow sink holds
    // reading back): if the file has bytes not read yet, the rest of the line or record may be among them.
    if (!(await this.atEnd())) return;
    if (partialDue && this.identity === null) await this.identify(true);
    this.accept(await this.inTurn(this.deps.parse.flush(this.streamId(), partialDue, false, now)));
  }

  /** Has every byte of the file been read? (A closed file counts as read: it is closed only when it was.) */
  private async atEnd(): Promise<boolean> {
    if (this.fh === null) return true;
    const { size } = await this.fh.stat();
    return size <= this.state.position;
  }

  /** Ship everything held: used when a moved file is let go and by `run --once` at the end of its input. */
  async finish(now: number, includePartialLine: boolean): Promise<void> {
    if (this.stream === 0) return; // never read: nothing held
    const partialLine = includePartialLine && this.state.partialLine;
    if (partialLine && this.identity === null) await this.identify(true);
    this.accept(await this.inTurn(this.deps.parse.flush(this.streamId(), partialLine, true, now)));
  }

  /** Fingerprint now, whatever the first line looks like (a file started at its end must be recognisable later). */
  async ensureIdentity(): Promise<void> {
    if (this.identity === null) await this.identify(true);
  }

  /**
   * Fingerprint a file whose first bytes the worker has parsed: its records' ids need the identity before they are
   * handed on. It cannot be retried later like a failed read (the worker has moved past those bytes), and handing
   * the records on without it would give them ids that change: a failure here stops the agent, which resumes from
   * its checkpoints.
   */
  private async identifyParsed(): Promise<void> {
    try {
      await this.identify(false);
    } catch (err) {
      throw new TrackingFailed(`cannot fingerprint ${this.path} after reading it: ${(err as Error).message}`);
    }
  }

  private async identify(unfinishedIsFinal: boolean): Promise<void> {
    if (this.fh === null) return;
    const identity = await takeFingerprint(this.fh, this.dev, this.ino, unfinishedIsFinal);
    if (identity) {
      this.identity = identity;
      this.idPrefix = idPrefixOf(identity);
    }
  }

  private streamId(): number {
    if (this.stream === 0) {
      const { input, maxLineBytes } = this.deps;
      this.stream = this.deps.parse.open(input.type, this.parserContext, maxLineBytes, this.state.position);
    }
    return this.stream;
  }

  /** Remembers work that uses the descriptor as in flight until it settles (close() waits for it). */
  private inTurn<T>(work: Promise<T>): Promise<T> {
    this.inFlight = work;
    const clear = (): void => {
      if (this.inFlight === work) this.inFlight = null;
    };
    work.then(clear, clear);
    return work;
  }

  /**
   * Register the records the worker finished, in emission order, each with the offset that is safe to resume from
   * once it and all before it are stored (worked out by the worker: see ParseStream), and hand them on.
   */
  private accept(parsed: ParsedChunk): void {
    this.state = parsed.state;
    const rows = parsed.rows;
    for (let o = 0; o < parsed.rowCount * ROW_FIELDS; o += ROW_FIELDS) {
      const chunkId = rows[o + ROW_CHUNK]!;
      if (chunkId === ADVANCE_ROW) {
        this.acks.advance(rows[o + ROW_SAFE]!);
        continue;
      }
      const seq = this.acks.register(rows[o + ROW_SAFE]!);
      this.deps.emit(this, rows[o + ROW_START]!, rows[o + ROW_END]!, seq, parsed.chunk(chunkId), rows[o + ROW_AT]!, rows[o + ROW_LENGTH]!);
    }
    parsed.done();
    if (parsed.records > 0) {
      this.deps.events.recordsParsed(this.deps.input.type, parsed.records, parsed.parseErrors, parsed.multiline);
    }
  }
}
