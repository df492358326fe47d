/** Starts bench/receiver.ts in its own process and talks to its control endpoints. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface ReceiverStats {
  /** Documents received: action + source pairs, duplicates included. */
  docs: number;
  /** Unique ids among them (only shippers that send ids: logship). */
  unique: number;
  bulkRequests: number;
  /** The receiver's own CPU seconds, so it is visibly not the bottleneck. */
  cpuSeconds: number;
  /** Write-to-acknowledged latencies (ms) of documents carrying "wt=<epoch ms>". */
  latencies: number[];
}

export interface Receiver {
  readonly url: string;
  readonly port: number;
  stats(): Promise<ReceiverStats>;
  /** Answer nothing for `ms` milliseconds. */
  stall(ms: number): Promise<void>;
  close(): void;
}

export async function startReceiver(): Promise<Receiver> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'receiver.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((res) => {
    child.stdout!.on('data', (d: Buffer) => {
      const m = /listening (\d+)/.exec(d.toString());
      if (m) res(Number(m[1]));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    stats: async () => (await (await fetch(`${url}/_bench/stats`)).json()) as ReceiverStats,
    stall: async (ms) => void (await fetch(`${url}/_bench/stall?ms=${ms}`, { method: 'POST' })),
    close: () => child.kill(),
  };
}
