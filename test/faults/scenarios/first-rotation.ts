/**
 * Issue 11 §3b: a file whose first generation rotates within about a second of its creation. The agent starts
 * first, on a path that does not exist yet; then RotatingFileHandler writes 1,000 records/s into 200 KB files, so
 * django.log is renamed to django.log.1 after ~609 records. That generation must be found beside the path and read.
 * Several runs, as the loss came in 4 of 6.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ledgerBytes, djangoInput, djangoWriter, drainAndStop, type FaultScenario } from '../scenario.js';
import { deadLettered, elasticsearch } from '../sinks.js';
import { sleep } from '../harness.js';
import { ranges } from '../verdict.js';

export const quickFirstRotation: FaultScenario = {
  name: 'quick first rotation (§3b)',
  timeout: { ci: 120, full: 300 },
  async run(run) {
    const sink = await elasticsearch(run);
    const runs = run.pick(3, 6);
    const count = 3000;
    const failures: string[] = [];
    const notes: string[] = [];
    for (let r = 0; r < runs; r++) {
      const dir = join(run.logs, `run${r}`);
      mkdirSync(dir);
      const file = join(dir, 'django.log');
      const config = run.config({ inputs: [djangoInput(file)], sink: sink.config, data_dir: join(run.data, `run${r}`) }, `logship-${r}.yml`);
      const agent = run.agent(config);
      await sleep(1500); // started and scanning, the path not there yet
      const before = sink.count();
      await djangoWriter(run, file, { count, start: r * count, rate: 1000, maxBytes: 200_000, backups: 30, pad: 100 }).done;
      failures.push(...(await drainAndStop(agent, { ...sink, count: () => sink.count() - before }, count, { quietMs: 6000 })));
      const stored = sink.observe().stored;
      const missing = Array.from({ length: count }, (_, i) => r * count + i).filter((s) => !stored.has(s));
      if (missing.length > 0) notes.push(`run ${r + 1}: ${ranges(missing)} missing`);
    }
    return {
      run,
      written: runs * count,
      bytesOf: ledgerBytes(run),
      observed: sink.observe(),
      deadLettered: deadLettered(run),
      repeats: { kind: 'clean' },
      failures,
      notes: [`${runs} runs`, ...notes],
    };
  },
};
