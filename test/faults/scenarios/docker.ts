/**
 * Docker's json-file logs, written byte for byte as dockerd writes them (test/support/docker-json-file.ts):
 * - issue 11 §2: lines over 16 KiB cut into partial entries whose pieces straddle a max-size rotation; every record
 *   must come out whole, none split;
 * - issue 11 §3b: a clean stop while a stderr traceback is held must not make the next run send the stdout lines
 *   after it again (counted on the file sink, which keeps every copy).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { containerOnDisk, type DockerContainer, type DockerStream } from '../../support/docker-json-file.js';
import { type FaultRun, sleep, until } from '../harness.js';
import { drainAndStop, type FaultScenario } from '../scenario.js';
import { deadLettered, elasticsearch, fileSink, PROBE } from '../sinks.js';

function containerId(n: number): string {
  return `${n}`.padStart(4, '0').padEnd(64, 'c0ffee0123456789abcdef').slice(0, 64);
}

function dockerInput(run: FaultRun): Record<string, unknown> {
  return { type: 'docker', paths: [join(run.logs, 'containers', '*', '*-json.log')] };
}

function container(run: FaultRun, n: number, opts: { maxSize?: number; maxFile?: number } = {}): DockerContainer {
  const id = containerId(n);
  const dir = join(run.logs, 'containers', id);
  mkdirSync(dir, { recursive: true });
  return containerOnDisk(dir, id, opts);
}

/** A line of about `bytes` bytes starting with its seq, every part distinct, with some two- and three-byte characters. */
function bigLine(seq: number, bytes: number): string {
  const parts = [`big seq=${seq} `];
  let size = parts[0]!.length;
  for (let k = 0; size < bytes; k++) {
    const part = k % 17 === 0 ? `|é${seq}.${k}€` : `|${seq}.${k}`;
    parts.push(part);
    size += Buffer.byteLength(part);
  }
  return parts.join('');
}

export const dockerPartialsAcrossRotation: FaultScenario = {
  name: 'Docker partials across json-file rotation (§2)',
  timeout: { ci: 120, full: 600 },
  async run(run) {
    const sink = await elasticsearch(run);
    const agent = run.agent(run.config({ inputs: [dockerInput(run)], sink: sink.config }));
    const containers = [0, 1].map((n) => container(run, n, { maxSize: 80_000, maxFile: 5 }));
    // A probe line in each first: once both are stored the agent follows both files, and what follows tests partials
    // across rotations, not a first generation rotated before the agent saw the container (quick first rotation).
    for (const c of containers) c.write('stdout', `${PROBE}\n`);
    if (!(await until(() => sink.count() >= 2, 30_000))) throw new Error('the agent did not ship the probe lines of both containers within 30 s');
    const perContainer = run.pick(1500, 10_000);
    // 100 lines/s per container, one in 40 between 17 and 50 KiB (2 to 4 pieces): about 80 KB/s each, so a generation
    // of 80 KB lives ~5 s before max-file deletes it, and a long line's pieces often straddle a rotation.
    const expected = new Map<number, { stream: DockerStream; text: string; bytes: number }>();
    let seq = 0;
    for (let i = 0; i < perContainer; i += 5) {
      for (const c of containers) {
        for (let k = 0; k < 5 && i + k < perContainer; k++) {
          const s = seq++;
          const stream: DockerStream = s % 7 === 3 ? 'stderr' : 'stdout';
          const line = (i + k) % 40 === 17 ? bigLine(s, 17_000 + ((s * 7919) % 34_000)) : `request seq=${s} ${stream} GET /api/items/${s} 200`;
          c.write(stream, line + '\n');
          const w = c.lines.at(-1)!;
          expected.set(s, { stream, text: w.text, bytes: w.bytes });
        }
      }
      await sleep(50);
    }
    for (const c of containers) c.close();
    const failures = await drainAndStop(agent, sink, seq, { quietMs: 10_000 });
    const observed = sink.observe();
    let cut = 0;
    let wrong = 0;
    let example = '';
    for (const [s, message] of observed.messages) {
      const want = expected.get(s)?.text;
      if (want === undefined || message === want) continue;
      if (want.startsWith(message)) cut++;
      else wrong++;
      if (example === '') example = `seq=${s}: ${Buffer.byteLength(message)} of ${Buffer.byteLength(want)} bytes`;
    }
    if (cut + wrong > 0) failures.push(`${cut + wrong} records not whole (${cut} cut short, ${wrong} otherwise different; ${example})`);
    const rotations = containers.reduce((n, c) => n + c.log.rotations, 0);
    const pieces = [...expected.values()].filter((e) => Buffer.byteLength(e.text) > 16 * 1024).length;
    return {
      run,
      written: seq,
      bytesOf: (s) => expected.get(s)?.bytes ?? 0,
      observed,
      deadLettered: deadLettered(run),
      repeats: { kind: 'clean' },
      failures,
      notes: [`2 containers, max-size 80000, max-file 5: ${rotations} rotations, ${pieces} lines over 16 KiB`],
    };
  },
};

export const cleanStopWithHeldTraceback: FaultScenario = {
  name: 'clean stop with a Docker stderr traceback held (§3b)',
  timeout: { ci: 60, full: 60 },
  async run(run) {
    const sink = fileSink(run);
    const c = container(run, 7);
    c.write('stderr', 'Traceback (most recent call last):\n');
    c.write('stderr', '  File "/app/manage.py", line 22, in <module>\n');
    c.write('stderr', 'ValueError: bad value seq=0\n');
    for (let s = 1; s <= 5; s++) c.write('stdout', `request seq=${s} GET /api/items/${s} 200\n`);
    c.close();
    // The traceback is held while more traceback lines may come (multiline_timeout), the stdout lines go on: once
    // they are stored, SIGTERM. A long timeout makes sure the traceback is still held then.
    const config = run.config({ inputs: [dockerInput(run)], sink: sink.config, multiline_timeout: '10s' });
    const agent = run.agent(config);
    const failures: string[] = [];
    if (!(await until(() => sink.count() >= 5, 20_000))) failures.push('the 5 stdout lines were not stored within 20 s');
    const stopped = await agent.stop('SIGTERM');
    if (stopped !== 0) failures.push(`exit code ${stopped} after SIGTERM`);
    const again = await run.once(config, 30_000);
    if (again.code !== 0) failures.push(`run --once after the stop exited ${again.code ?? 'never (killed after 30 s)'}`);
    // c.lines: the 3 traceback lines (seq 0), then seq 1…5.
    return {
      run,
      written: 6,
      bytesOf: (s) => (s === 0 ? c.lines.slice(0, 3).reduce((n, l) => n + l.bytes, 0) : (c.lines[s + 2]?.bytes ?? 0)),
      observed: sink.observe(),
      deadLettered: deadLettered(run),
      repeats: { kind: 'clean' },
      failures,
      notes: ['8 lines: a 3-line stderr traceback (one record) and 5 stdout lines; SIGTERM once the stdout lines were stored'],
    };
  },
};
