import type { FileHandle } from 'node:fs/promises';
import type { PipelineEvents } from '../events.js';
import type { InputConfig } from '../config/types.js';
import type { Line, ParsedRecord, ParserContext, RecordParser } from '../parse/types.js';
import type { SourceRef } from '../record.js';
import { REC_MULTILINE, REC_PARSE_ERROR } from '../parse/document.js';
import { AckTracker } from '../pipeline/acks.js';
import type { Checkpoint } from '../pipeline/registry.js';
import { createParser } from '../parse/index.js';
import { LineSplitter } from './lines.js';
import { idPrefixOf, stillMatches, takeFingerprint, type FileIdentity } from './identity.js';

/** Where a tracked file stands with respect to its path. */
export type FilePlacement =
  /** Still at a matched path: may grow for ever. */
  | 'active'
  /** Renamed away or deleted: read through the open descriptor to its end, then let go. */
  | 'moved';

/** Records handed on together while a chunk is parsed (see onLine). */
const RELEASE_EVERY = 16;

export interface TrackedFileDeps {
  readonly input: InputConfig;
  readonly parserContext: Omit<ParserContext, 'path'>;
  readonly maxLineBytes: number;
  readonly events: PipelineEvents;
  readonly emit: EmitLogRecord;
}

/**
 * Hands a finished record to delivery: its source, byte range, acknowledgement seq and document JSON text (of
 * `jsonBytes` UTF-8 bytes). Fields, not an object: see pipeline/batch.ts.
 */
export type EmitLogRecord = (source: SourceRef, start: number, end: number, seq: number, json: string, jsonBytes: number) => void;

/**
 * One file instance being followed: its descriptor, identity, read position, line splitter, parser and
 * acknowledgement tracker. It is a SourceRef: records point back to it, and acknowledging them moves its checkpoint.
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
  /** Last time any record of this file was acknowledged and moved the checkpoint. */
  ackedAt: string | null = null;
  private lastCheckpointed = -1;
  private fh: FileHandle | null = null;
  private readonly splitter: LineSplitter;
  private readonly parser: RecordParser;
  private readonly acks: AckTracker;
  /** Records the parser emitted during the current push/flush, awaiting registration. */
  private emitted: ParsedRecord[] = [];
  private linesInChunk = 0;
  /** The clock for the lines of the chunk being split: read once per chunk, not per line. */
  private chunkTime = 0;

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
    this.splitter = new LineSplitter(deps.maxLineBytes, (line) => this.onLine(line), startOffset);
    this.parser = createParser(deps.input.type, { ...deps.parserContext, path }, (r) => this.emitted.push(r));
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
    return this.splitter.position;
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
    return this.parser.heldFrom() === null && !this.splitter.hasPartial() && this.acks.outstanding === 0;
  }

  attach(fh: FileHandle): void {
    this.fh = fh;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    if (fh) await fh.close().catch(() => undefined);
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
      ackedAt: this.ackedAt ?? new Date().toISOString(),
    };
  }

  /** Does the open file still start with the bytes it was identified by? (false after a copytruncate + rewrite) */
  async identityHolds(): Promise<boolean> {
    if (this.fh === null || this.identity === null) return true;
    return stillMatches(this.fh, this.identity);
  }

  /**
   * Read what the file has beyond readOffset, up to `budget` bytes, through the shared buffer.
   * Returns the bytes read, or 'truncated' when the file is now shorter than what was already read.
   */
  async read(buffer: Buffer, budget: number, now: number): Promise<number | 'truncated'> {
    const fh = this.fh;
    if (fh === null) return 0;
    const { size, mtimeMs } = await fh.stat();
    if (size < this.splitter.position) return 'truncated';
    this.mtimeMs = mtimeMs;
    if (size > this.size) this.lastGrowthAt = now;
    this.size = size;
    let total = 0;
    while (total < budget && this.splitter.position < size) {
      const want = Math.min(buffer.length, size - this.splitter.position, budget - total);
      const { bytesRead } = await fh.read(buffer, 0, want, this.splitter.position);
      if (bytesRead === 0) break;
      if (this.identity === null) await this.identify(false);
      this.linesInChunk = 0;
      this.chunkTime = now;
      this.splitter.push(buffer, bytesRead);
      this.release();
      this.deps.events.bytesRead(this.deps.input.type, this.path, bytesRead, this.linesInChunk);
      total += bytesRead;
    }
    return total;
  }

  /**
   * Time-driven work: ship an unfinished last line the writer has abandoned, and records the parser held for
   * continuation lines that did not come.
   */
  async tick(now: number, partialLineTimeoutMs: number): Promise<void> {
    const partialDue = this.splitter.hasPartial() && now - this.lastGrowthAt >= partialLineTimeoutMs;
    if (!partialDue && this.parser.heldFrom() === null) return;
    // Timeouts are for a writer that stopped mid-record, not for a reader that fell behind (a slow sink holds
    // reading back): if the file has bytes not read yet, the rest of the line or record may be among them.
    if (!(await this.atEnd())) return;
    this.chunkTime = now;
    if (partialDue) {
      if (this.identity === null) await this.identify(true);
      this.splitter.flushPartial();
    }
    this.parser.flush(now, false);
    this.release();
  }

  /** Has every byte of the file been read? (A closed file counts as read: it is closed only when it was.) */
  private async atEnd(): Promise<boolean> {
    if (this.fh === null) return true;
    const { size } = await this.fh.stat();
    return size <= this.splitter.position;
  }

  /** Ship everything held: used when a moved file is let go and by `run --once` at the end of its input. */
  async finish(now: number, includePartialLine: boolean): Promise<void> {
    this.chunkTime = now;
    if (includePartialLine && this.splitter.hasPartial()) {
      if (this.identity === null) await this.identify(true);
      this.splitter.flushPartial();
    }
    this.parser.flush(now, true);
    this.release();
  }

  /** Fingerprint now, whatever the first line looks like (a file started at its end must be recognisable later). */
  async ensureIdentity(): Promise<void> {
    if (this.identity === null) await this.identify(true);
  }

  private async identify(unfinishedIsFinal: boolean): Promise<void> {
    if (this.fh === null) return;
    const identity = await takeFingerprint(this.fh, this.dev, this.ino, unfinishedIsFinal);
    if (identity) {
      this.identity = identity;
      this.idPrefix = idPrefixOf(identity);
    }
  }

  private onLine(line: Line): void {
    this.linesInChunk++;
    this.parser.push(line, this.chunkTime);
    // Records go on to delivery as they come, a few at a time, not once per chunk: kept until a 1 MiB chunk was
    // parsed, thousands of them (and their JSON text) lived long enough to be promoted to V8's old generation.
    // Everything up to this line's end has been seen by the parser.
    if (this.emitted.length >= RELEASE_EVERY) this.release(line.end);
  }

  /**
   * Register the records the parser just emitted, in emission order, each with the offset that is safe to resume
   * from once it and all before it are stored: the smallest start of anything still unshipped after it.
   */
  private release(consumed: number = this.splitter.consumed): void {
    const held = this.parser.heldFrom();
    let safe = held === null ? consumed : Math.min(held, consumed);
    const emitted = this.emitted;
    if (emitted.length === 0) {
      this.acks.advance(safe);
      return;
    }
    this.emitted = [];
    const safeOffsets = new Array<number>(emitted.length);
    for (let i = emitted.length - 1; i >= 0; i--) {
      safeOffsets[i] = safe;
      safe = Math.min(safe, emitted[i]!.start);
    }
    let parseErrors = 0;
    let multiline = 0;
    for (let i = 0; i < emitted.length; i++) {
      const r = emitted[i]!;
      if (r.flags & REC_PARSE_ERROR) parseErrors++;
      if (r.flags & REC_MULTILINE) multiline++;
      const seq = this.acks.register(safeOffsets[i]!);
      this.deps.emit(this, r.start, r.end, seq, r.json, r.bytes);
    }
    this.deps.events.recordsParsed(this.deps.input.type, emitted.length, parseErrors, multiline);
  }
}
