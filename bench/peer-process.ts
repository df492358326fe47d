/**
 * A peer shipper (rsyslog, Fluent Bit) run from cold, in the foreground, against the bench receiver. Peers follow
 * files and never exit on their own: a run ends when the receiver holds the documents expected (the wall time is
 * taken then), or when nothing new has arrived for STALL_MS. CPU seconds (utime + stime, all threads) and peak RSS
 * (VmHWM) come from the peer's own /proc/<pid> entry, read every POLL_MS and once more when the last document is
 * in: VmHWM is a high-water mark, so polling cannot miss the peak.
 * After the timing the peer is stopped (SIGTERM: its own graceful shutdown) and the receiver read again, so a
 * document sent twice late (a retried chunk) still fails the run.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Receiver } from './receiver-client.js';

const POLL_MS = 50;
/** Longer than any pause a healthy peer makes (Fluent Bit's multiline flush is 4 s, its retries a few s). */
const STALL_MS = 30_000;
const KILL_AFTER_MS = 15_000;
/** The last bytes of a peer's stderr, kept to say why a run failed. */
const STDERR_TAIL = 4000;

export interface PeerRun {
  wallSeconds: number;
  cpuSeconds: number;
  rssMiB: number;
  /** Documents the receiver got from this run, counted after the peer stopped. */
  received: number;
  /** The receiver's CPU seconds over the run, to show it was not the limit. */
  receiverCpuSeconds: number;
  /** Why a run that fell short ended, and the end of the peer's stderr. */
  failure: string | null;
}

/** CPU seconds (utime + stime, all threads) and peak RSS (VmHWM) of a running process, or null once it is gone. */
function procUsage(pid: number): { cpuSeconds: number; rssMiB: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of proc(5)); USER_HZ 100
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuSeconds: ticks / 100, rssMiB: Number(hwm?.[1] ?? NaN) / 1024 };
  } catch {
    return null;
  }
}

export async function runPeerProcess(command: string, argv: string[], receiver: Receiver, expected: number): Promise<PeerRun> {
  const before = await receiver.stats();
  const started = process.hrtime.bigint();
  const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-STDERR_TAIL)));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  let usage = { cpuSeconds: NaN, rssMiB: NaN };
  let received = 0;
  let progressAt = Date.now();
  let failure: string | null = null;
  for (;;) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    const now = (await receiver.stats()).docs - before.docs;
    if (now !== received) progressAt = Date.now();
    received = now;
    if (child.pid !== undefined) usage = procUsage(child.pid) ?? usage;
    if (received >= expected) break;
    if (child.exitCode !== null || child.signalCode !== null) {
      failure = `exited early (${child.exitCode ?? child.signalCode})`;
      break;
    }
    if (Date.now() - progressAt > STALL_MS) {
      failure = `nothing arrived for ${STALL_MS / 1000} s`;
      break;
    }
  }
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
  await exited;
  clearTimeout(killer);
  const after = await receiver.stats();
  received = after.docs - before.docs;
  if (failure === null && received !== expected) failure = `${received - expected} documents more than expected`;
  return {
    wallSeconds,
    ...usage,
    received,
    receiverCpuSeconds: after.cpuSeconds - before.cpuSeconds,
    failure: failure === null ? null : `${failure}\n${stderr.trim()}`,
  };
}
