/**
 * Container logs laid out as kubelet and containerd write them (see src/containers/kubernetes-path.ts and
 * src/parse/cri-line.ts for the sources):
 *   <root>/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log        containerd's CRI log file
 *   <root>/containers/<pod>_<namespace>_<container>-<id>.log             kubelet's symlink to it (absolute target)
 * and lines as containerd's redirectLogs (internal/cri/io/logger.go) writes them: `<time> <stream> <tag> <content>\n`,
 * time = Go's RFC3339Nano of the node's clock (trailing zeros of the fraction dropped), "\r\n" taken off, a line
 * longer than max_container_log_line_size (16 KiB) cut into P pieces of exactly that many bytes — in the middle of a
 * UTF-8 character if it falls there — and an F piece with the rest, a last P for output that ends without a newline.
 */
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/** containerd's default max_container_log_line_size. */
export const CONTAINERD_MAX_LINE = 16 * 1024;

export interface PodContainer {
  readonly namespace: string;
  readonly pod: string;
  readonly uid: string;
  readonly container: string;
  readonly id: string;
  readonly restart?: number;
}

/** Makes the pod's container directory and kubelet's symlink; returns the log file's path (not created). */
export function placePodContainer(root: string, c: PodContainer, link = true): string {
  const dir = join(root, 'pods', `${c.namespace}_${c.pod}_${c.uid}`, c.container);
  mkdirSync(dir, { recursive: true });
  const log = join(dir, `${c.restart ?? 0}.log`);
  if (link) {
    mkdirSync(join(root, 'containers'), { recursive: true });
    symlinkSync(log, join(root, 'containers', `${c.pod}_${c.namespace}_${c.container}-${c.id}.log`));
  }
  return log;
}

/** Go's time.RFC3339Nano of an instant given in nanoseconds, in a zone `offsetMinutes` east of UTC. */
export function rfc3339Nano(epochNs: bigint, offsetMinutes = 0): string {
  const local = epochNs + BigInt(offsetMinutes) * 60_000_000_000n;
  const ms = Number(local / 1_000_000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  const nanos = (local % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  const zone =
    offsetMinutes === 0
      ? 'Z'
      : `${offsetMinutes > 0 ? '+' : '-'}${String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(2, '0')}:${String(Math.abs(offsetMinutes) % 60).padStart(2, '0')}`;
  return `${base}${nanos === '' ? '' : '.' + nanos}${zone}`;
}

/**
 * The CRI lines containerd writes for one line of output (its bytes without the newline), at `time`: P pieces of
 * `maxLen` bytes and an F piece, or only P pieces when the output stopped without a newline (`ended: false`).
 */
export function criLines(stream: 'stdout' | 'stderr', content: Buffer | string, time: string, opts: { maxLen?: number; ended?: boolean } = {}): Buffer {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  const maxLen = opts.maxLen ?? CONTAINERD_MAX_LINE;
  const out: Buffer[] = [];
  let at = 0;
  while (bytes.length - at > maxLen) {
    out.push(Buffer.from(`${time} ${stream} P `), bytes.subarray(at, at + maxLen), Buffer.from('\n'));
    at += maxLen;
  }
  out.push(Buffer.from(`${time} ${stream} ${opts.ended === false ? 'P' : 'F'} `), bytes.subarray(at), Buffer.from('\n'));
  return Buffer.concat(out);
}
