/**
 * The sink misbehaving while Django writes and rotates: connection refused, 429s (whole requests and single items),
 * 503s, a slow cluster. Each ends with a clean stop, so nothing may be sent twice.
 */
import type { FaultRun } from '../harness.js';
import { sleep } from '../harness.js';
import { djangoFile, djangoInput, djangoWriter, drainAndStop, following, ledgerBytes, type FaultScenario } from '../scenario.js';
import { deadLettered, elasticsearch, type EsSink } from '../sinks.js';

/**
 * Django at 1000 records/s into 200 KB files (30 kept) while `fault` runs against the server from 1 s in; the
 * outage is short enough for the generations to outlive it (the long outages are the next scenarios).
 */
function sinkFault(name: string, fault: (sink: EsSink, run: FaultRun) => Promise<string[]>): FaultScenario {
  return {
    name,
    timeout: { ci: 90, full: 300 },
    async run(run) {
      const sink = await elasticsearch(run);
      const file = djangoFile(run);
      const agent = run.agent(run.config({ inputs: [djangoInput(file)], sink: sink.config }));
      await following(sink, file);
      const count = run.pick(8000, 30_000);
      const writer = djangoWriter(run, file, { count, rate: 1000, maxBytes: 200_000, backups: 30 });
      await sleep(1000);
      const notes = await fault(sink, run);
      await writer.done;
      const failures = await drainAndStop(agent, sink, count);
      return { run, written: count, bytesOf: ledgerBytes(run), observed: sink.observe(), deadLettered: deadLettered(run), repeats: { kind: 'clean' }, failures, notes };
    },
  };
}

export const sinkDown = sinkFault('sink down (connection refused)', async (sink, run) => {
  const seconds = run.pick(5, 20);
  await sink.es.stop();
  await sleep(seconds * 1000);
  await sink.es.start();
  return [`refused connections for ${seconds} s`];
});

export const sink429 = sinkFault('sink 429 (requests and items)', async (sink, run) => {
  const seconds = run.pick(5, 20);
  sink.es.itemRejectRate = 0.1; // 10% of items es_rejected_execution_exception all along
  sink.es.rejectAllWith(429, { retryAfterSeconds: 1 });
  await sleep(seconds * 1000);
  sink.es.rejectAllWith(null);
  return [`429 for every request for ${seconds} s, 10% of items after`];
});

export const sink503 = sinkFault('sink 503', async (sink, run) => {
  const seconds = run.pick(5, 20);
  sink.es.rejectAllWith(503);
  await sleep(seconds * 1000);
  sink.es.rejectAllWith(null);
  return [`503 for ${seconds} s`];
});

export const sinkSlow = sinkFault('sink slow (300 ms a request)', async (sink) => {
  sink.es.delayMs = 300;
  return ['every request answered after 300 ms'];
});
