import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';

/**
 * A file is the same file only if device, inode AND a fingerprint of its first bytes agree. Device + inode alone
 * is fooled by a reused inode (delete, create: the kernel hands the number out again) and by copytruncate (same
 * inode, new content); the fingerprint alone by two files that start alike.
 *
 * The fingerprint covers the first line (up to FINGERPRINT_MAX_BYTES): a log's first line never changes once
 * written, so the fingerprint of a growing file is the same whenever it is taken, and a file is fingerprinted as
 * soon as it has one line, however short (there is no minimum file size: Python's RotatingFileHandler starts every
 * file empty, and its first lines must ship at once).
 */
export const FINGERPRINT_MAX_BYTES = 1024;

export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
  /** Hex SHA-256 (first 16 bytes) of bytes [0, fingerprintBytes). */
  readonly fingerprint: string;
  readonly fingerprintBytes: number;
}

/** How many leading bytes the fingerprint covers, given the first bytes of a file; null while the first line is unfinished. */
export function fingerprintLength(head: Buffer, complete: boolean): number | null {
  const nl = head.indexOf(0x0a);
  if (nl !== -1 && nl < FINGERPRINT_MAX_BYTES) return nl + 1;
  if (head.length >= FINGERPRINT_MAX_BYTES) return FINGERPRINT_MAX_BYTES;
  // Either the writer is mid-line (wait), or the caller decided the unfinished line is final.
  return complete && head.length > 0 ? head.length : null;
}

export function hashBytes(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 32);
}

export async function readHead(fh: FileHandle, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/**
 * Fingerprint an open file. With `unfinishedIsFinal`, a first line without newline is fingerprinted as it stands
 * (used when that partial line is about to be shipped). Null when there is nothing to fingerprint yet.
 */
export async function takeFingerprint(
  fh: FileHandle,
  dev: number,
  ino: number,
  unfinishedIsFinal: boolean,
): Promise<FileIdentity | null> {
  const head = await readHead(fh, FINGERPRINT_MAX_BYTES);
  const length = fingerprintLength(head, unfinishedIsFinal);
  if (length === null) return null;
  return { dev, ino, fingerprint: hashBytes(head.subarray(0, length)), fingerprintBytes: length };
}

/** Does the open file still start with the bytes the identity was taken from? */
export async function stillMatches(fh: FileHandle, identity: FileIdentity): Promise<boolean> {
  const head = await readHead(fh, identity.fingerprintBytes);
  return head.length === identity.fingerprintBytes && hashBytes(head) === identity.fingerprint;
}

/**
 * The prefix of every record id from this file: computed once per file, so the per-record id is a string
 * concatenation with the offset, not a hash per line. 16 base64url characters = 96 bits.
 */
export function idPrefixOf(identity: FileIdentity): string {
  return createHash('sha256')
    .update(`${identity.dev}:${identity.ino}:${identity.fingerprint}`)
    .digest('base64url')
    .slice(0, 16);
}

/**
 * Is `s` (what a stat says now) the file `f` was seen as? Same device and inode, and, where the file system keeps it,
 * the same birth time: file systems hand a freed inode to the next new file at once (tmpfs, ext4), and a file never
 * opened has no fingerprint to tell them apart. A birth time of 0 is unknown and decides nothing.
 */
export function sameFile(s: { dev: number; ino: number; birthtimeMs: number }, f: { dev: number; ino: number; birthtimeMs?: number }): boolean {
  if (!sameInode(s, f)) return false;
  const born = f.birthtimeMs ?? 0;
  return born === 0 || s.birthtimeMs === 0 || s.birthtimeMs === born;
}

/**
 * Do both sides know the file's birth time? Then sameFile() has compared it, and inode + birth time tell a file from
 * a later one on a reused inode by themselves, without a look at its first bytes.
 */
export function bornKnown(a: { birthtimeMs?: number }, b: { birthtimeMs?: number }): boolean {
  return (a.birthtimeMs ?? 0) !== 0 && (b.birthtimeMs ?? 0) !== 0;
}

export function sameInode(a: { dev: number; ino: number }, b: { dev: number; ino: number }): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** What a checkpoint or a tracked file knows of a file's identity, and where it was last seen. */
export interface KnownFile {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
  readonly fingerprint: string;
  readonly fingerprintBytes: number;
}

/** Does the file at `path` start with the bytes `known` was fingerprinted from? False when it cannot be read. */
export async function startsLike(path: string, known: KnownFile): Promise<boolean> {
  const fh = await open(path, 'r').catch(() => null);
  if (!fh) return false;
  try {
    return await stillMatches(fh, { ...known });
  } finally {
    await fh.close();
  }
}
