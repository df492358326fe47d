/**
 * One registry entry, checked field by field before the agent trusts it. The registry is the agent's own file, but
 * it can be edited by hand, restored from an old backup, or damaged on disk, and every value in it reaches a system
 * call (`fingerprintBytes` sizes a buffer, `offset` positions reads): an impossible value there made every start fail
 * (`fingerprintBytes: 1e12` → ERR_OUT_OF_RANGE). So each entry is checked on its own; a bad one is set aside and its
 * file read as if new, and the others keep their checkpoints.
 */
import { isAbsolute } from 'node:path';
import { FINGERPRINT_MAX_BYTES } from '../tail/identity.js';
import { MAX_ACKED_RANGES, type ByteRange } from './ranges.js';

export interface Checkpoint {
  /** The matched path the file was found at (it may since have been renamed beside it, e.g. to `.1`). */
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
  /** Hex SHA-256 (first 16 bytes) of its first line; '' (with fingerprintBytes 0, offset 0) for a file not read yet. */
  readonly fingerprint: string;
  readonly fingerprintBytes: number;
  /** Its birth time when a stat saw it (absent or 0: unknown): with the inode, it finds a file not read yet again. */
  readonly birthtimeMs?: number;
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

/** Hex of the first 16 bytes of a SHA-256 (tail/identity.ts hashBytes). */
const FINGERPRINT = /^[0-9a-f]{32}$/;

/**
 * The entry as a Checkpoint, or the reason it is not one. Fields older registries may lack (`size`, `mtimeMs`,
 * `ackedAt`) default to "unknown" (0, 0, ""); a field that is present must be right.
 */
export function checkCheckpoint(value: unknown): Checkpoint | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not an object';
  const c = value as Record<string, unknown>;
  const path = c['path'];
  if (typeof path !== 'string' || path === '' || path.includes('\0')) return 'path: not a non-empty string';
  if (!isAbsolute(path)) return `path: not absolute (${JSON.stringify(path.slice(0, 200))})`;
  for (const key of ['dev', 'ino', 'offset'] as const) {
    if (!isCount(c[key])) return `${key}: not an integer from 0 to 2^53`;
  }
  const fingerprint = c['fingerprint'];
  const fingerprintBytes = c['fingerprintBytes'];
  // A file seen and not read yet (waiting for a descriptor) is remembered by inode and birth time only, at offset 0.
  const unread = fingerprint === '' && fingerprintBytes === 0;
  if (unread && c['offset'] !== 0) return 'offset: a file without a fingerprint has not been read: 0 expected';
  if (!unread && (typeof fingerprint !== 'string' || !FINGERPRINT.test(fingerprint))) return 'fingerprint: not 32 hex digits';
  if (!unread && (!Number.isInteger(fingerprintBytes) || (fingerprintBytes as number) < 1 || (fingerprintBytes as number) > FINGERPRINT_MAX_BYTES)) {
    return `fingerprintBytes: not an integer from 1 to ${FINGERPRINT_MAX_BYTES}`;
  }
  const birthtimeMs = c['birthtimeMs'];
  if (birthtimeMs !== undefined && (typeof birthtimeMs !== 'number' || !Number.isFinite(birthtimeMs) || birthtimeMs < 0)) return 'birthtimeMs: not a finite number >= 0';
  const size = c['size'] === undefined ? 0 : c['size'];
  if (!isCount(size)) return 'size: not an integer from 0 to 2^53';
  const mtimeMs = c['mtimeMs'] === undefined ? 0 : c['mtimeMs'];
  if (typeof mtimeMs !== 'number' || !Number.isFinite(mtimeMs) || mtimeMs < 0) return 'mtimeMs: not a finite number >= 0';
  const ackedAt = c['ackedAt'] === undefined ? '' : c['ackedAt'];
  if (typeof ackedAt !== 'string' || ackedAt.length > 64) return 'ackedAt: not a time';
  const acked = c['acked'] === undefined ? undefined : ackedRanges(c['acked'], c['offset'] as number);
  if (acked === null) return `acked: not a list of at most ${MAX_ACKED_RANGES} [start, end) ranges beyond offset`;
  const checkpoint: Checkpoint = {
    path,
    dev: c['dev'] as number,
    ino: c['ino'] as number,
    fingerprint: fingerprint as string,
    fingerprintBytes: fingerprintBytes as number,
    ...(birthtimeMs === undefined ? {} : { birthtimeMs: birthtimeMs as number }),
    offset: c['offset'] as number,
    size,
    mtimeMs,
    ackedAt,
  };
  return acked === undefined || acked.length === 0 ? checkpoint : { ...checkpoint, acked };
}

/** Sorted, disjoint ranges, each [start, end) with offset <= start < end; null when the value is not that. */
function ackedRanges(value: unknown, offset: number): ByteRange[] | null {
  if (!Array.isArray(value) || value.length > MAX_ACKED_RANGES) return null;
  const out: ByteRange[] = [];
  let floor = offset;
  for (const r of value) {
    if (!Array.isArray(r) || r.length !== 2 || !isCount(r[0]) || !isCount(r[1]) || r[0] < floor || r[1] <= r[0]) return null;
    out.push([r[0], r[1]]);
    floor = r[1];
  }
  return out;
}

/** An integer a file offset, size, device or inode number can be (JSON numbers past 2^53 are not exact). */
function isCount(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}
