/**
 * The everyday rotations: RotatingFileHandler renaming its file many times, logrotate's copytruncate, and a file
 * deleted while the agent is mid-way through it.
 */
import { unlinkSync } from 'node:fs';
import { sleep, until } from '../harness.js';
import { djangoFile, djangoInput, djangoWriter, drainAndStop, following, ledgerBytes, type FaultScenario } from '../scenario.js';
import { deadLettered, elasticsearch } from '../sinks.js';

export const rotationByRename: FaultScenario = {
  name: 'rotation by rename (RotatingFileHandler)',
  timeout: { ci: 90, full: 300 },
  async run(run) {
    const sink = await elasticsearch(run);
    const file = djangoFile(run);
    const agent = run.agent(run.config({ inputs: [djangoInput(file)], sink: sink.config }));
    await following(sink, file);
    // ~320-byte lines into 40 KB files: a rotation about every 120 records, several a second. 200 backups keep a file
    // ~16 s after its rotation (at CI scale none is deleted): nothing may be lost, counted or not. Three full-scale
    // runs at once on 2 cores lost up to 8 files while the agent chased renamed generations from scan to scan (keeper.ts,
    // openFollowing).
    const count = run.pick(6000, 30_000);
    await djangoWriter(run, file, { count, rate: 1500, maxBytes: 40_000, backups: 200, pad: 100 }).done;
    const failures = await drainAndStop(agent, sink, count);
    return {
      run,
      written: count,
      bytesOf: ledgerBytes(run),
      observed: sink.observe(),
      deadLettered: deadLettered(run),
      repeats: { kind: 'clean' },
      noLoss: true,
      failures,
    };
  },
};

export const copytruncate: FaultScenario = {
  name: 'rotation by copytruncate',
  timeout: { ci: 90, full: 300 },
  async run(run) {
    const sink = await elasticsearch(run);
    const file = djangoFile(run);
    const agent = run.agent(run.config({ inputs: [djangoInput(file)], sink: sink.config }));
    await following(sink, file);
    // Every 1000 records the file is copied to django.log.1 (not an input path) and truncated in place, after a
    // quiet second. What the application writes between the agent's last read and a truncation is in neither place
    // the agent reads: that race is copytruncate's own (logrotate's documentation warns of it), not this test's.
    const count = run.pick(5000, 20_000);
    await djangoWriter(run, file, { count, rate: 1000, copytruncateEvery: 1000, copytruncatePause: 1, pad: 100 }).done;
    const failures = await drainAndStop(agent, sink, count);
    return { run, written: count, bytesOf: ledgerBytes(run), observed: sink.observe(), deadLettered: deadLettered(run), repeats: { kind: 'clean' }, failures };
  },
};

export const deletionWhileReading: FaultScenario = {
  name: 'deletion while reading',
  timeout: { ci: 90, full: 300 },
  async run(run) {
    const sink = await elasticsearch(run);
    const file = djangoFile(run);
    const count = run.pick(20_000, 50_000);
    await djangoWriter(run, file, { count, rate: 0 }).done;
    sink.es.delayMs = 200; // a slow cluster holds the agent back, so the file is deleted with most of it unread
    const agent = run.agent(run.config({ inputs: [djangoInput(file)], sink: sink.config }));
    const failures: string[] = [];
    if (!(await until(() => sink.count() >= 1000, 30_000))) failures.push('the first 1000 records were not stored within 30 s');
    unlinkSync(file);
    const atUnlink = sink.count();
    await sleep(3000); // several scans see it gone while reading is held back
    sink.es.delayMs = 0;
    failures.push(...(await drainAndStop(agent, sink, count)));
    const notes = [`deleted with ${atUnlink.toLocaleString('en-US')} of ${count.toLocaleString('en-US')} stored`];
    return { run, written: count, bytesOf: ledgerBytes(run), observed: sink.observe(), deadLettered: deadLettered(run), repeats: { kind: 'clean' }, failures, notes };
  },
};
