/**
 * Issue 11 §1: Elasticsearch refusing connections while Django keeps writing and RotatingFileHandler keeps rotating,
 * so that generations are renamed, shifted and deleted during the outage. Reading pauses (the queue is full); seeing
 * and holding files must not. Zero lost — or, with max_open_files too small to hold them all, exactly the loss the
 * agent reports.
 *
 * Full scale is the figures: 500 records/s, maxBytes 384 KiB, backupCount 5, the default batch and queue,
 * a 60 s outage (45,000+ records) and a 10-minute one. CI scale keeps the shape in 15 s: 96 KiB files (a rotation
 * about every second) and 200-record batches, so the queue is full after ~3 s and generations written after that
 * are deleted ~5 s later, well inside the outage.
 */
import type { FaultRun } from '../harness.js';
import { sleep } from '../harness.js';
import { djangoFile, djangoInput, djangoWriter, drainAndStop, following, ledgerBytes, type FaultScenario } from '../scenario.js';
import { deadLettered, elasticsearch } from '../sinks.js';

const RATE = 500;
const BACKUPS = 5;

interface OutageShape {
  readonly outageSeconds: number;
  readonly maxOpenFiles?: number;
}

async function outage(run: FaultRun, shape: OutageShape) {
  const sink = await elasticsearch(run);
  const file = djangoFile(run);
  const full = run.scale === 'full';
  const config = run.config({
    inputs: [djangoInput(file)],
    sink: sink.config,
    ...(full ? {} : { batch: { max_events: 200 } }),
    ...(shape.maxOpenFiles === undefined ? {} : { max_open_files: shape.maxOpenFiles }),
  });
  const agent = run.agent(config);
  await following(sink, file);
  const before = full ? 5 : 3;
  const after = full ? 26 : 5;
  const count = RATE * (before + shape.outageSeconds + after);
  const writer = djangoWriter(run, file, { count, rate: RATE, maxBytes: full ? 384 * 1024 : 96 * 1024, backups: BACKUPS });
  await sleep(before * 1000);
  await sink.es.stop();
  await sleep(shape.outageSeconds * 1000);
  await sink.es.start();
  await writer.done;
  const failures = await drainAndStop(agent, sink, count, { timeoutMs: full ? 600_000 : 60_000 });
  const notes = [`connection refused for ${shape.outageSeconds} s at ${RATE} records/s`];
  return { run, written: count, bytesOf: ledgerBytes(run), observed: sink.observe(), deadLettered: deadLettered(run), failures, notes };
}

export const outageWhileRotating: FaultScenario = {
  name: 'sink down while Django rotates (§1)',
  timeout: { ci: 120, full: 600 },
  async run(run) {
    return { ...(await outage(run, { outageSeconds: run.pick(15, 60) })), repeats: { kind: 'clean' } };
  },
};

export const tenMinuteOutage: FaultScenario = {
  name: 'sink down 10 minutes while Django rotates (§1)',
  fullOnly: true,
  timeout: { ci: 0, full: 1800 },
  async run(run) {
    return { ...(await outage(run, { outageSeconds: 600 })), repeats: { kind: 'clean' } };
  },
};

export const maxOpenFilesTooSmall: FaultScenario = {
  name: 'max_open_files too small during an outage',
  timeout: { ci: 120, full: 600 },
  async run(run) {
    const o = await outage(run, { outageSeconds: run.pick(15, 60), maxOpenFiles: 3 });
    return { ...o, repeats: { kind: 'clean' }, lossMustEqualCount: true, notes: [...o.notes, 'max_open_files: 3'] };
  },
};
