/**
 * Issue 11 §4: faults of the agent's own disk and process, not of the sink — data_dir on a full disk, `run --once`
 * against a sink that never answers, SIGHUP.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { sleep, until } from '../harness.js';
import { djangoFile, djangoInput, djangoWriter, drainAndStop, following, ledgerBytes, Skip, type FaultScenario } from '../scenario.js';
import { deadLettered, elasticsearch, readDeadLetters } from '../sinks.js';

/** Fills the file system holding `dir` until it is full; the filler's path. */
function fillDisk(dir: string): string {
  const filler = join(dir, 'filler');
  const fd = openSync(filler, 'w');
  const block = Buffer.alloc(16 * 1024, 0x78);
  try {
    for (;;) writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    // Fill the last partial block byte by byte's worth: smaller writes until even 1 byte does not fit.
    for (let size = 8192; size >= 1; size = Math.floor(size / 2)) {
      try {
        for (;;) writeSync(fd, block, 0, size);
      } catch {
        // next size
      }
    }
  } finally {
    closeSync(fd);
  }
  return filler;
}

function registryState(data: string): 'ok' | 'missing' | 'torn' {
  const path = join(data, 'registry.json');
  if (!existsSync(path)) return 'missing';
  try {
    JSON.parse(readFileSync(path, 'utf8'));
    return 'ok';
  } catch {
    return 'torn';
  }
}

export const diskFull: FaultScenario = {
  name: 'data_dir on a full disk (§4)',
  timeout: { ci: 120, full: 300 },
  async run(run) {
    if (process.getuid?.() !== 0) throw new Skip('needs root to mount a tmpfs');
    mkdirSync(run.data);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0755', 'tmpfs', run.data], { stdio: 'pipe' });
    } catch (err) {
      throw new Skip(`cannot mount a tmpfs: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`);
    }
    run.onClose(() => execFileSync('umount', ['-l', run.data], { stdio: 'pipe' }));
    const sink = await elasticsearch(run);
    // Every 50th record is refused for good (a mapping conflict): it goes to the dead letters in data_dir.
    sink.es.mappingErrorWhen((doc) => /seq=\d*(07|57) /.test(String(doc['message'])));
    const file = djangoFile(run);
    const agent = run.agent(run.config({ inputs: [djangoInput(file)], sink: sink.config }));
    await following(sink, file);
    const half = run.pick(1000, 5000);
    const done = (): number => sink.observe().stored.size + deadLettered(run).size;
    await djangoWriter(run, file, { count: half, rate: 1000 }).done;
    const failures: string[] = [];
    if (!(await until(() => done() >= half, 30_000))) failures.push(`before the disk filled: ${done()} of ${half} records done`);
    await sleep(1500); // a checkpoint written with all of them
    const filler = fillDisk(run.data);

    // The disk full: more records (some for the dead letters), while the registry is watched and /health asked.
    const writer = djangoWriter(run, file, { count: half, start: half, rate: 1000 });
    const states = new Map<string, number>();
    const health: string[] = [];
    const url = agent.monitoringUrl();
    const watchUntil = Date.now() + half + 4000; // the writer's time at 1000 records/s, and 4 s more
    let askedAt = 0;
    while (Date.now() < watchUntil) {
      const s = registryState(run.data);
      states.set(s, (states.get(s) ?? 0) + 1);
      if (url !== null && Date.now() - askedAt >= 1000) {
        askedAt = Date.now();
        try {
          const body = (await (await fetch(`${url}/health`)).json()) as { status: string; reasons?: string[] };
          health.push(`${body.status}: ${(body.reasons ?? []).join(' / ')}`);
        } catch (err) {
          health.push(`no answer: ${(err as Error).message}`);
        }
      }
      await sleep(100);
    }
    await writer.done;
    const bad = (states.get('missing') ?? 0) + (states.get('torn') ?? 0);
    if (bad > 0) failures.push(`registry.json missing or torn in ${bad} of ${[...states.values()].reduce((a, b) => a + b, 0)} looks while the disk was full`);
    if (!health.some((h) => /^failing: .*(ENOSPC|no space)/i.test(h))) failures.push(`/health never failing with the reason while the disk was full (saw ${JSON.stringify(health.at(-1) ?? 'nothing')})`);

    // Space comes back: the agent must recover by itself.
    rmSync(filler);
    if (!(await until(() => done() >= 2 * half, 30_000))) failures.push(`30 s after space came back: ${done()} of ${2 * half} records done`);
    if (agent.running) {
      const code = await agent.stop('SIGTERM');
      if (code !== 0) failures.push(`exit code ${code} after SIGTERM`);
    } else {
      failures.push(`the agent exited by itself (${await agent.exited}) while the disk was full`);
    }
    const again = await run.once(run.config({ inputs: [djangoInput(file)], sink: sink.config }, 'once.yml'), 60_000);
    if (again.code !== 0) failures.push(`run --once afterwards exited ${again.code}`);
    const { torn } = readDeadLetters(run);
    if (torn > 0) failures.push(`${torn} torn lines in dead_letters.ndjson (a write cut short by ENOSPC)`);
    const temps = readdirSync(run.data).filter((n) => n.includes('.tmp'));
    if (temps.length > 0) failures.push(`temp files left in data_dir: ${temps.join(', ')}`);
    return {
      run,
      written: 2 * half,
      bytesOf: ledgerBytes(run),
      observed: sink.observe(),
      deadLettered: deadLettered(run),
      repeats: { kind: 'clean' },
      failures,
      notes: [`tmpfs of 256 KiB filled for ${(half / 1000 + 4).toFixed(0)} s`],
    };
  },
};

export const onceUnreachable: FaultScenario = {
  name: 'run --once, sink unreachable, max_attempts 3 (§4)',
  timeout: { ci: 120, full: 120 },
  async run(run) {
    const sink = await elasticsearch(run);
    await sink.es.stop(); // the port is known and refuses connections
    const file = djangoFile(run);
    const count = 200;
    await djangoWriter(run, file, { count, rate: 0 }).done;
    const retry = { initial_backoff: '500ms', max_backoff: '2s', max_attempts: 3 };
    const config = run.config({ inputs: [djangoInput(file)], sink: sink.config, delivery: { retry } });
    const failures: string[] = [];
    const notes: string[] = [];
    const bound = 20; // 3 attempts at most 2 s apart, and the start: well under
    const first = await run.once(config, bound * 1000);
    if (first.code === null) failures.push(`run --once did not exit within ${bound} s`);
    else if (first.code !== 2) failures.push(`run --once exited ${first.code}, not 2`);
    notes.push(`given up after ${first.seconds.toFixed(1)} s, exit ${first.code ?? 'none'}`);

    // SIGTERM to a --once run still waiting for the sink: at once, exit 2 (records not delivered).
    const forever = run.config({ inputs: [djangoInput(file)], sink: sink.config, delivery: { retry: { ...retry, max_attempts: 0 } } }, 'forever.yml');
    const waiting = run.agent(forever, ['--once']);
    await sleep(2000);
    const t0 = Date.now();
    const code = await waiting.stop('SIGTERM', 8000);
    const took = (Date.now() - t0) / 1000;
    if (code !== 2 || took > 3) failures.push(`SIGTERM before the sink was ready: exit ${code ?? 'none'} after ${took.toFixed(1)} s (want 2, at once)`);

    await sink.es.start();
    const second = await run.once(config, 60_000);
    if (second.code !== 0) failures.push(`with the sink back, run --once exited ${second.code}`);
    return { run, written: count, bytesOf: ledgerBytes(run), observed: sink.observe(), deadLettered: deadLettered(run), repeats: { kind: 'clean' }, failures, notes };
  },
};

export const sighup: FaultScenario = {
  name: 'SIGHUP (§4)',
  timeout: { ci: 90, full: 120 },
  async run(run) {
    const sink = await elasticsearch(run);
    const file = djangoFile(run);
    const config = run.config({ inputs: [djangoInput(file)], sink: sink.config });
    const agent = run.agent(config);
    await following(sink, file);
    const count = 3000;
    const writer = djangoWriter(run, file, { count, rate: 1000, maxBytes: 100_000, backups: 20 });
    await sleep(1500);
    const failures: string[] = [];
    const code = await agent.stop('SIGHUP', 15_000);
    if (code !== 0) failures.push(`SIGHUP: exit ${code === -1 ? 'by the signal' : (code ?? 'none within 15 s')}, not 0`);
    if (agent.summary() === undefined) failures.push('no stop summary: it did not stop gracefully');
    await writer.done;
    const again = run.agent(config);
    failures.push(...(await drainAndStop(again, sink, count)));
    return { run, written: count, bytesOf: ledgerBytes(run), observed: sink.observe(), deadLettered: deadLettered(run), repeats: { kind: 'clean' }, failures };
  },
};
