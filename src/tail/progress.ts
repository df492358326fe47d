/**
 * A followed file's progress as the registry keeps it: which of its records are acknowledged (the checkpoint is the
 * offset every record before which is stored), the ranges acknowledged beyond it (kept across a restart, so that a
 * clean stop re-sends nothing), and the checkpoint made of them.
 */
import { AckTracker } from '../pipeline/acks.js';
import { AckedRanges, MAX_ACKED_RANGES, mergeRanges, type ByteRange } from '../pipeline/ranges.js';
import type { Checkpoint } from '../pipeline/registry.js';
import type { FilePlacement } from './file-deps.js';
import type { FileIdentity } from './identity.js';

/** What a checkpoint says of the file itself. */
export interface CheckpointedFile {
  readonly originPath: string;
  readonly dev: number;
  readonly ino: number;
  readonly identity: FileIdentity | null;
  readonly size: number;
  readonly mtimeMs: number;
  readonly placement: FilePlacement;
  readonly everRead: boolean;
  readonly letGo: boolean;
  readonly birthtimeMs: number;
}

export class FileProgress {
  /** Records handed to delivery, by seq, and the offset safe to resume from once each is stored. */
  readonly acks: AckTracker;
  /** Records beyond the checkpoint that were acknowledged before a restart: not sent again (see pipeline/ranges.ts). */
  private skip: AckedRanges | null;
  /** The committed offset when a checkpoint was last made (-1: none yet). */
  private lastCheckpointed: number;
  /** Last time any record was acknowledged and moved the checkpoint. */
  ackedAt: string | null;

  constructor(startOffset: number, resumed: Checkpoint | null) {
    this.acks = new AckTracker(startOffset);
    // A resumed file keeps its last acknowledgement time until something new is acknowledged.
    this.ackedAt = resumed?.ackedAt ?? null;
    this.lastCheckpointed = resumed ? startOffset : -1;
    this.skip = resumed?.acked && resumed.acked.length > 0 ? new AckedRanges(resumed.acked) : null;
  }

  /** Was the record in bytes [start, end) stored before the restart (acknowledged beyond the checkpoint)? */
  storedBefore(start: number, end: number): boolean {
    return this.skip !== null && this.skip.covers(start, end);
  }

  /** The durable form of `f`'s progress, or null while there is nothing worth remembering. */
  checkpoint(f: CheckpointedFile): Checkpoint | null {
    if (f.identity === null) return this.unreadCheckpoint(f);
    const committed = this.acks.committed;
    // The time is taken here, once per checkpoint write, not per acknowledged record.
    if (committed !== this.lastCheckpointed) {
      this.lastCheckpointed = committed;
      this.ackedAt = new Date().toISOString();
    }
    const checkpoint: Checkpoint = {
      path: f.originPath,
      dev: f.dev,
      ino: f.ino,
      fingerprint: f.identity.fingerprint,
      fingerprintBytes: f.identity.fingerprintBytes,
      offset: committed,
      size: f.size,
      mtimeMs: f.mtimeMs,
      // Nothing acknowledged yet: the time of the first checkpoint, kept from then on.
      ackedAt: (this.ackedAt ??= new Date().toISOString()),
    };
    const acked = this.ackedAhead();
    return acked.length > 0 ? { ...checkpoint, acked } : checkpoint;
  }

  /**
   * A rotated file seen and not read yet (waiting for a descriptor while every one is held by files with bytes to
   * read): remembered by inode and birth time, at offset 0, so that a restart reads it rather than take it for history.
   * None for a file at its path (a restart finds it there) or one with nothing in it.
   */
  private unreadCheckpoint(f: CheckpointedFile): Checkpoint | null {
    if (f.placement !== 'moved' || f.everRead || f.letGo || f.size === 0 || this.acks.committed !== 0) return null;
    return {
      path: f.originPath,
      dev: f.dev,
      ino: f.ino,
      fingerprint: '',
      fingerprintBytes: 0,
      ...(f.birthtimeMs > 0 ? { birthtimeMs: f.birthtimeMs } : {}),
      offset: 0,
      size: f.size,
      mtimeMs: f.mtimeMs,
      ackedAt: (this.ackedAt ??= new Date().toISOString()),
    };
  }

  /** Ranges beyond the checkpoint already acknowledged: from before a restart, and since. */
  private ackedAhead(): ByteRange[] {
    const committed = this.acks.committed;
    const own = this.acks.ackedAhead(MAX_ACKED_RANGES);
    if (this.skip === null) return own;
    this.skip.dropBefore(committed);
    if (this.skip.empty) {
      this.skip = null;
      return own;
    }
    return mergeRanges(this.skip.remaining(committed), own, MAX_ACKED_RANGES);
  }
}
