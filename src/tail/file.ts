import type { FileHandle } from 'node:fs/promises';
import type { InputConfig } from '../config/types.js';
import type { ParserContext } from '../parse/types.js';
import type { SourceRef } from '../record.js';
import type { Checkpoint } from '../pipeline/registry.js';
import { idPrefixOf, stillMatches, takeFingerprint, type FileIdentity } from './identity.js';
import type { StreamState } from '../parse-thread/protocol.js';
import type { ParsedChunk } from '../parse-thread/thread.js';
import { READ_CHUNK_BYTES, TrackingFailed, type FilePlacement, type ReadOutcome, type TrackedFileDeps } from './file-deps.js';
import { FileProgress } from './progress.js';
import { handOnRows } from './rows.js';
import type { ItemFraming } from '../sink.js';

/** Read requests kept in flight: one parsed by the worker while this thread handles the records of the other. */
const READS_IN_FLIGHT = 2;
const GO_ON = (): boolean => true;

/**
 * One file instance being followed: its descriptor, identity, read position, acknowledgement tracker, and its stream
 * in the parse worker (line splitter and parser). It is a SourceRef: records point back to it, and acknowledging
 * them moves its checkpoint.
 *
 * Everything that uses the descriptor or the worker stream (reads, timeouts, flushes, identity checks, closing) runs
 * in the file's own lane, one at a time: the discovery loop and the reading loop both act on files, and a close
 * must never run under a read, nor a flush between two reads of one request.
 */
export class TrackedFile implements SourceRef {
  /** Where the file is now (a rotated file is followed to its new name when one is known). */
  path: string;
  /** The matched path it was found at: its rotated generations are named after it. */
  originPath: string;
  /** The file's mtime at the last read or look. */
  mtimeMs = 0;
  placement: FilePlacement = 'active';
  /** The last fstat found no name left for it (deleted while open): its bytes are only reachable through us. */
  deleted = false;
  identity: FileIdentity | null;
  idPrefix = '';
  /** Size at the last read or stat. */
  size = 0;
  /** When the file last grew (or was opened), ms since epoch. */
  lastGrowthAt: number;
  /** Reads since its descriptor was last opened: with more files than descriptors, the most served give way first. */
  readTurns = 0;
  /** A Docker/CRI generation whose held pieces went to its successor (see carried.ts). */
  handedOver = false;
  /** Started at its end (start_at: end): fingerprinted as soon as it is opened, so its checkpoint is recognised. */
  startAtEnd = false;
  /** Why the last attempt to open it failed (for /health and the log), or null. */
  openError: string | null = null;
  /** When a failure to open it was last logged (one warning, then a reminder at a slow pace). */
  openWarnedAt = 0;
  /** A moved file whose held records were shipped (finish) and that is let go once they are acknowledged. */
  letGo = false;
  /** The watcher saw it change since it was last read: read it even if the last look saw nothing new. */
  poked = false;
  /** An open of it is under way (the scan and the reader both admit files): not opened twice. */
  opening = false;
  /** Its birth time as a stat saw it (0: unknown): with the inode, it tells a file never opened from a reused inode. */
  birthtimeMs = 0;
  /** Since when a closed file that left its path cannot be found beside it (0: it can). */
  missingSince = 0;
  /** When its first bytes were last compared with its fingerprint (a rewrite in place is looked for when it changed). */
  lastIdentityCheckAt = 0;
  /** Any byte read by this instance (a resumed file that was not is still only its checkpoint). */
  everRead = false;
  /** The size its checkpoint recorded, when it was resumed from one (else 0). */
  readonly resumedSize: number;
  private fh: FileHandle | null = null;
  /** It had a descriptor once (a moved file that had one is never opened again by name). */
  everOpened = false;
  /** Its acknowledgements and the checkpoint made of them. */
  private readonly progress: FileProgress;
  /**
   * The file's stream in the parse worker, opened at the first request (a file never read holds nothing there), and
   * its state as of the last reply (requests run one at a time).
   */
  private stream = 0;
  /** The id prefix the stream was told to frame records with (see ItemFraming), or null. */
  private framedPrefix: string | null = null;
  private state: StreamState;
  /** For the stream: log.file.path is the path the file was found at. */
  private readonly parserContext: ParserContext;
  /** The tail of the file's lane: the last operation queued. */
  private lane: Promise<unknown> = Promise.resolve();
  /** Not a log (the worker found binary content at its start): never read, counts as read to its end. */
  private skipped = false;

  constructor(
    path: string,
    readonly dev: number,
    readonly ino: number,
    identity: FileIdentity | null,
    startOffset: number,
    private readonly deps: TrackedFileDeps,
    now: number,
    originPath: string = path,
    resumed: Checkpoint | null = null,
  ) {
    this.path = path;
    this.originPath = originPath;
    this.identity = identity;
    if (identity) this.idPrefix = idPrefixOf(identity);
    this.lastGrowthAt = now;
    this.progress = new FileProgress(startOffset, resumed);
    this.resumedSize = resumed?.size ?? 0;
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

  /** Offset of the next byte to read (a skipped file's size: nothing is waiting to be read there). */
  get readOffset(): number {
    return this.skipped ? Math.max(this.size, this.state.position) : this.state.position;
  }

  get committed(): number {
    return this.progress.acks.committed;
  }

  /** Last time any record of this file was acknowledged and moved the checkpoint. */
  get ackedAt(): string | null {
    return this.progress.ackedAt;
  }

  /** Records handed to delivery and not yet acknowledged. */
  get outstanding(): number {
    return this.progress.acks.outstanding;
  }

  /** Nothing read and unshipped: no held record, no unfinished line, no unacknowledged record. */
  get settled(): boolean {
    return this.parseIdle && this.progress.acks.outstanding === 0;
  }

  /** The parser holds nothing of this file: no held record, no unfinished line. */
  get parseIdle(): boolean {
    return this.state.heldFrom === -1 && !this.state.partialLine;
  }

  /** Has every byte seen (at the last fstat or stat) been read? */
  get readToEnd(): boolean {
    return this.readOffset >= this.size;
  }

  /**
   * Does it need a descriptor: never opened yet, or seen by a stat to hold bytes not read? A moved file is opened again
   * only if it has a fingerprint to be recognised by: whatever is at its last name may be another file on a reused inode.
   */
  get wantsDescriptor(): boolean {
    if (this.isOpen || this.opening || this.letGo) return false;
    if (!this.everOpened) return true;
    if (this.placement === 'moved' && this.identity === null) return false;
    return this.size !== this.readOffset || this.mtimeMs > this.lastGrowthAt;
  }

  attach(fh: FileHandle): void {
    this.fh = fh;
    this.everOpened = true;
    this.readTurns = 0;
  }

  /** Close the descriptor, after whatever runs in the lane; true if it was open. */
  close(): Promise<boolean> {
    return this.inLane(async () => {
      const fh = this.fh;
      this.fh = null;
      if (fh) await fh.close().catch(() => undefined);
      return fh !== null;
    });
  }

  /**
   * Let go of the stream in the parse worker (what it holds is dropped: finish() first to ship it). Also used for a
   * closed file whose parser holds nothing, so that idle files cost the worker nothing; a later read opens the
   * stream again where the file stands.
   */
  dispose(): void {
    if (this.stream !== 0) this.deps.parse.close(this.stream);
    this.stream = 0;
  }

  ack(seq: number): void {
    this.progress.acks.ack(seq);
    this.deps.changes.n++;
  }

  /** Sets what a stat() of the file (or its descriptor) found. */
  observe(size: number, mtimeMs: number, now: number): void {
    if (size === this.size && mtimeMs === this.mtimeMs) return;
    if (size > this.size) this.lastGrowthAt = now;
    this.size = size;
    this.mtimeMs = mtimeMs;
    this.deps.changes.n++;
  }

  /** The durable form of this file's progress, or null while there is nothing worth remembering. */
  checkpoint(): Checkpoint | null {
    return this.progress.checkpoint(this);
  }

  /**
   * Is every byte of the file read, as its descriptor says now? (`readToEnd` is as of the last look, which may be
   * older than the last write: a file is let go or handed over only on this answer.)
   */
  readToEndNow(now: number): Promise<boolean> {
    return this.inLane(async () => {
      if (this.fh !== null) {
        const { size, mtimeMs, nlink } = await this.fh.stat();
        this.observe(size, mtimeMs, now);
        this.deleted = nlink === 0;
      }
      return this.readToEnd;
    });
  }

  /** Does the open file still start with the bytes it was identified by? (false after a copytruncate + rewrite) */
  identityHolds(): Promise<boolean> {
    return this.inLane(async () => {
      if (this.fh === null || this.identity === null) return true;
      return stillMatches(this.fh, this.identity);
    });
  }

  /**
   * Read and parse what the file has beyond readOffset, up to `budget` bytes, asking `proceed` before each chunk
   * (delivery's capacity; false: stop here, the reading loop waits for capacity outside the lane). Returns the bytes
   * read, or 'truncated' when the file is now shorter than what was already read.
   */
  read(budget: number, now: number, proceed: () => boolean = GO_ON): Promise<ReadOutcome> {
    return this.inLane(() => this.readChunks(budget, now, proceed));
  }

  private async readChunks(budget: number, now: number, proceed: () => boolean): Promise<ReadOutcome> {
    const fh = this.fh;
    if (fh === null || this.skipped) return 0;
    this.poked = false;
    const { size, mtimeMs, nlink } = await fh.stat();
    if (size < this.state.position) return 'truncated';
    this.observe(size, mtimeMs, now);
    this.deleted = nlink === 0;
    this.readTurns++;
    const limit = Math.min(size, this.state.position + budget);
    let requested = this.state.position;
    let total = 0;
    let more = true;
    let failure: unknown = null;
    // The next chunk is asked for before the last one's records are handled, so the worker never waits for this
    // thread. The worker reads each from where the previous one ended, whatever their sizes turn out to be.
    const queue: Promise<ParsedChunk>[] = [];
    for (;;) {
      while (more && queue.length < READS_IN_FLIGHT && requested < limit && proceed()) {
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
      else this.everRead = true;
      if (parsed.bytesRead > 0 && this.identity === null) {
        try {
          await this.identifyParsed(fh);
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
  tick(now: number, partialLineTimeoutMs: number): Promise<void> {
    const partialDue = this.state.partialLine && now - this.lastGrowthAt >= partialLineTimeoutMs;
    if (!partialDue && this.state.heldFrom === -1) return Promise.resolve();
    return this.inLane(async () => {
      // Timeouts are for a writer that stopped mid-record, not for a reader that fell behind (a slow sink holds
      // reading back): if the file has bytes not read yet, the rest of the line or record may be among them.
      if (!(await this.atEnd())) return;
      if (partialDue && this.identity === null) await this.identify(true);
      this.accept(await this.deps.parse.flush(this.streamId(), partialDue, false, now));
    });
  }

  /** Has every byte of the file been read? (A closed file counts as read: it is closed only when it was.) */
  private async atEnd(): Promise<boolean> {
    if (this.fh === null) return true;
    const { size } = await this.fh.stat();
    return size <= this.state.position;
  }

  /** Ship everything held: used when a moved file is let go and by `run --once` at the end of its input. */
  finish(now: number, includePartialLine: boolean): Promise<void> {
    return this.inLane(async () => {
      if (this.stream === 0) return; // never read: nothing held
      const partialLine = includePartialLine && this.state.partialLine;
      if (partialLine && this.identity === null) await this.identify(true);
      this.accept(await this.deps.parse.flush(this.streamId(), partialLine, true, now));
    });
  }

  /**
   * A rotated Docker/CRI generation read to its end hands what its parser holds (a line's first pieces) to its
   * successor, which goes on joining them; the record keeps this file's id and holds this file's checkpoint (see
   * carried.ts). Runs in both files' lanes.
   */
  handOver(successor: TrackedFile, token: number): Promise<void> {
    return this.inLane(() =>
      successor.inLane(async () => {
        if (this.deps.carried === undefined || this.stream === 0) {
          this.handedOver = true; // never read, or nothing that can be carried: nothing to hand over
          return;
        }
        const reply = await this.deps.parse.handover(this.stream, successor.streamId(), token);
        this.accept(reply);
        this.handedOver = true;
      }),
    );
  }

  /** Fingerprint now, whatever the first line looks like (a file started at its end must be recognisable later). */
  ensureIdentity(): Promise<void> {
    return this.inLane(async () => {
      if (this.identity === null) await this.identify(true);
    });
  }

  /**
   * Fingerprint a file whose first bytes the worker has parsed: its records' ids need the identity before they are
   * handed on. It cannot be retried later like a failed read (the worker has moved past those bytes), and handing
   * the records on without it would give them ids that change: a failure here stops the agent, which resumes from
   * its checkpoints.
   */
  private async identifyParsed(fh: FileHandle): Promise<void> {
    try {
      await this.identifyWith(fh, false);
    } catch (err) {
      throw new TrackingFailed(`cannot fingerprint ${this.path} after reading it: ${(err as Error).message}`);
    }
  }

  private async identify(unfinishedIsFinal: boolean): Promise<void> {
    if (this.fh !== null) await this.identifyWith(this.fh, unfinishedIsFinal);
  }

  private async identifyWith(fh: FileHandle, unfinishedIsFinal: boolean): Promise<void> {
    const identity = await takeFingerprint(fh, this.dev, this.ino, unfinishedIsFinal);
    if (identity) {
      this.identity = identity;
      this.idPrefix = idPrefixOf(identity);
      this.deps.changes.n++;
      // The stream's records from its next request on are framed with this id (the ones before were not).
      const framing = this.stream !== 0 ? this.framing() : null;
      if (framing !== null) this.deps.parse.frame(this.stream, framing);
    }
  }

  /** The sink's item framing for this file's id (see ItemFraming), remembered as what the stream frames with. */
  private framing(): ItemFraming | null {
    const framingFor = this.deps.itemFraming;
    if (framingFor === undefined || this.idPrefix === '') return null;
    this.framedPrefix = this.idPrefix;
    return framingFor(this.idPrefix);
  }

  private streamId(): number {
    if (this.stream === 0) {
      const { input, maxLineBytes } = this.deps;
      this.stream = this.deps.parse.open(input.type, this.parserContext, maxLineBytes, this.state.position, this.framing());
    }
    return this.stream;
  }

  /** Runs `work` after everything queued in this file's lane; a failure does not block the lane. */
  private inLane<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lane.then(work, work);
    this.lane = run.catch(() => undefined);
    return run;
  }

  /** Take the worker's answer: the stream's state, and the records it finished (see rows.ts). */
  private accept(parsed: ParsedChunk): void {
    this.state = parsed.state;
    if (parsed.state.binary === true && !this.skipped) {
      this.skipped = true;
      this.deps.events.fileSkipped(this.path, 'binary');
      this.deps.logger.warn('skipping a file that is not text (a NUL byte in its first block)', { path: this.path, input: this.deps.input.type });
    }
    // Items framed with an id this file no longer has (not expected: an identity is taken once) go as documents alone.
    handOnRows(parsed, this, this.progress, this.deps, this.framedPrefix === this.idPrefix);
    parsed.done();
    if (parsed.records > 0) {
      this.deps.events.recordsParsed(this.deps.input.type, parsed.records, parsed.parseErrors, parsed.multiline);
    }
  }
}
