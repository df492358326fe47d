/**
 * Looking at rotated generations while the writer keeps shifting them (RotatingFileHandler renames `.k` to `.k+1`
 * from the highest down, then the live file to `.1`, and deletes what passes backupCount). Found in the fault suite
 * (rotation by rename, 40 KB files, a rotation every 80 ms, on a loaded machine): a generation that was never seen at
 * its path and was renamed during the look, from a name not yet looked at to one already looked at, was never read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { spawn } from 'node:child_process';
import { lstat, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generationsOf, inShiftOrder, namesWhileShifting } from '../../src/tail/generations.js';
import { locateBeside, nextNames } from '../../src/tail/resume.js';
import { PYTHON } from '../support/agent.js';

test('names in shift order: lowest rotation number first, dated and unnumbered names before', () => {
  assert.deepEqual(inShiftOrder(['django.log.10', 'django.log.2', 'other.txt', 'django.log.1', 'django.log-20261127', 'django.log.11']), [
    'other.txt',
    'django.log-20261127',
    'django.log.1',
    'django.log.2',
    'django.log.10',
    'django.log.11',
  ]);
});

/**
 * A directory of `backups` numbered generations, looked at one name at a time in `order`, with `shifts[i]` rotations
 * happening before the i-th look. Returns the files present from the start to the end of the look that were not met.
 */
function missedDuringLook(backups: number, order: (names: string[]) => string[], shifts: readonly number[]): number[] {
  const gens: (number | null)[] = [null]; // gens[k]: the file at `.k` (index 0 unused)
  for (let k = 1; k <= backups; k++) gens.push(1000 - k); // files are numbers; a higher one is newer
  let next = 1000;
  const shift = (): void => {
    for (let k = backups; k >= 2; k--) gens[k] = gens[k - 1]!; // `.backups` falls off; `.k-1` → `.k`
    gens[1] = next++; // the live file → `.1`
  };
  const atStart = new Set(gens.filter((g): g is number => g !== null));
  const names = order(Array.from({ length: backups }, (_, i) => `django.log.${i + 1}`));
  const met = new Set<number>();
  names.forEach((name, i) => {
    for (let s = 0; s < (shifts[i] ?? 0); s++) shift();
    const g = gens[Number(name.slice('django.log.'.length))];
    if (g !== null && g !== undefined) met.add(g);
  });
  const atEnd = new Set(gens.filter((g): g is number => g !== null));
  return [...atStart].filter((g) => atEnd.has(g) && !met.has(g));
}

test('property: looked at in shift order, no generation present throughout the look is missed, however the shifts fall', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 60 }), fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 60 }), (backups, shifts) => {
      assert.deepEqual(missedDuringLook(backups, inShiftOrder, shifts), []);
    }),
    { numRuns: 500 },
  );
});

test('in directory (hash) order the same shifts do miss generations: the property above is not vacuous', () => {
  // Highest number first stands in for a hash order that happens to list `.10` before `.9`.
  const descending = (names: string[]): string[] => inShiftOrder(names).reverse();
  // .10, .9, .8 looked at; then a shift moves the file at .7 (993) to .8, already looked at.
  assert.deepEqual(missedDuringLook(10, descending, [0, 0, 0, 1]), [993]);
});

/**
 * A directory holding `present` of `backups` numbered generations, looked at by `look`, with `shifts[i]` rotations
 * happening before the i-th step (a listing or a look at one name). Returns the files present from the start to the
 * end of the look that were not met. Unlike missedDuringLook, the directory is not full: a shift gives the oldest
 * file a name no listing had yet.
 */
async function missedWhileGrowing(
  backups: number,
  present: number,
  shifts: readonly number[],
  look: (list: () => Promise<readonly string[]>) => AsyncIterable<string>,
): Promise<number[]> {
  const gens: (number | null)[] = Array.from({ length: backups + 1 }, (_, k) => (k >= 1 && k <= present ? 1000 - k : null));
  let next = 1000;
  let step = 0;
  const shiftNow = (): void => {
    for (let s = 0; s < (shifts[step] ?? 0); s++) {
      for (let k = backups; k >= 2; k--) gens[k] = gens[k - 1]!;
      gens[1] = next++;
    }
    step++;
  };
  const atStart = new Set(gens.filter((g): g is number => g !== null));
  const list = async (): Promise<string[]> => {
    shiftNow();
    return gens.flatMap((g, k) => (g === null ? [] : [`django.log.${k}`]));
  };
  const met = new Set<number>();
  for await (const name of look(list)) {
    shiftNow();
    const g = gens[Number(name.slice('django.log.'.length))];
    if (g !== null && g !== undefined) met.add(g);
  }
  const atEnd = new Set(gens.filter((g): g is number => g !== null));
  return [...atStart].filter((g) => atEnd.has(g) && !met.has(g));
}

test('property: a directory not yet full, looked at while shifting, misses no generation present throughout', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 2, max: 60 }).chain((backups) => fc.tuple(fc.constant(backups), fc.integer({ min: 1, max: backups }))),
      // Rotations at up to 16 of the look's steps (a writer rotates a finite number of times while it is looked at).
      fc.array(fc.tuple(fc.nat({ max: 300 }), fc.integer({ min: 1, max: 3 })), { maxLength: 16 }),
      async ([backups, present], rotations) => {
        const shifts: number[] = [];
        for (const [at, n] of rotations) shifts[at] = (shifts[at] ?? 0) + n;
        assert.deepEqual(await missedWhileGrowing(backups, present, shifts, namesWhileShifting), []);
      },
    ),
    { numRuns: 500 },
  );
});

test('one listing in shift order misses the oldest file when a shift renames it to a name it did not list', async () => {
  async function* oneListing(list: () => Promise<readonly string[]>): AsyncIterable<string> {
    yield* inShiftOrder(await list());
  }
  // 3 of 50 backups: .1 and .2 looked at, then a shift moves the file at .3 (997) to .4, which was not listed.
  assert.deepEqual(await missedWhileGrowing(50, 3, [0, 0, 0, 1], oneListing), [997]);
  assert.deepEqual(await missedWhileGrowing(50, 3, [0, 0, 0, 1], namesWhileShifting), []);
});

/**
 * Python's own RotatingFileHandler shifting generations as fast as it can, and the oldest one looked for beside the
 * path again and again (as a restart looks for every checkpointed file rotated while it was stopped). It is never
 * deleted (backupCount is far above what the run makes), so every look must find it.
 */
test('the oldest generation is found beside its path however fast Python rotates', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'logship-shift-'));
  const file = join(dir, 'django.log');
  const script = [
    'import logging, logging.handlers, sys, time',
    `h = logging.handlers.RotatingFileHandler(${JSON.stringify(file)}, maxBytes=2000, backupCount=3000)`,
    'log = logging.getLogger("shift"); log.addHandler(h); log.setLevel(logging.INFO)',
    'for i in range(40): log.info("line %d %s", i, "x" * 80)', // a few generations before the looks start
    'sys.stdout.write("ready\\n"); sys.stdout.flush()',
    'end = time.time() + 4',
    'i = 0',
    'while time.time() < end:',
    '    log.info("line %d %s", i, "x" * 80); i += 1',
    '    if i % 20 == 0: time.sleep(0.001)',
  ].join('\n');
  const writer = spawn(PYTHON, ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => writer.on('exit', resolve));
  try {
    await new Promise<void>((resolve) => writer.stdout.once('data', () => resolve()));
    const oldest = await stat(`${file}.1`).then(async () => {
      // The highest number present is the oldest generation.
      let k = 1;
      while (await stat(`${file}.${k + 1}`).then(() => true, () => false)) k++;
      return stat(`${file}.${k}`);
    });
    const known = { path: file, dev: oldest.dev, ino: oldest.ino, birthtimeMs: oldest.birthtimeMs };
    let looks = 0;
    let missed = 0;
    let running = true;
    void exited.then(() => (running = false));
    while (running) {
      const found = await locateBeside(known);
      looks++;
      if (found === null) missed++;
    }
    const renames = Number(/\.(\d+)$/.exec((await locateBeside(known))?.path ?? '')?.[1] ?? 0);
    assert.ok(renames > 100, `the writer shifted the oldest file ${renames} times: too few to test anything`);
    assert.equal(missed, 0, `the oldest generation was not found in ${missed} of ${looks} looks`);
  } finally {
    writer.kill();
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
});

/** RotatingFileHandler's shift, as it does it: `.k` → `.k+1` from the highest down, then the live file → `.1`. */
async function shiftGenerations(file: string, backups: number): Promise<void> {
  for (let k = backups - 1; k >= 1; k--) await rename(`${file}.${k}`, `${file}.${k + 1}`).catch(() => undefined);
  await rename(file, `${file}.1`);
  await writeFile(file, `live ${Date.now()}\n`);
}

test('the names a shift gives a file next', () => {
  assert.deepEqual(nextNames('/l/django.log', 3), ['/l/django.log.1', '/l/django.log.2', '/l/django.log.3']);
  assert.deepEqual(nextNames('/l/django.log.9', 2), ['/l/django.log.10', '/l/django.log.11']);
  assert.deepEqual(nextNames('/l/django.log-20261127', 1), ['/l/django.log-20261127.1']);
});

test('a generation followed from name to name is found where each shift put it, and a reused name is not taken for it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'logship-next-'));
  const file = join(dir, 'django.log');
  try {
    const backups = 40;
    await writeFile(file, 'first\n');
    const s = await lstat(file);
    let known = { path: file, dev: s.dev, ino: s.ino, birthtimeMs: s.birthtimeMs };
    for (let round = 1; round <= 10; round++) {
      // 1 to 3 shifts between two looks; every name the file left holds another file then.
      for (let n = 0; n < 1 + (round % 3); n++) await shiftGenerations(file, backups);
      const found = await locateBeside(known);
      assert.ok(found !== null, `round ${round}: not found after ${known.path}`);
      const there = await lstat(found.path);
      assert.equal(there.ino, s.ino, `round ${round}: ${found.path} holds another file`);
      known = { ...known, path: found.path };
    }
    assert.equal(known.path, `${file}.20`); // 2+3+1+2+3+1+2+3+1+2 shifts
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/**
 * A look at the generations while the writer keeps shifting them: each generation is handed over while its name still
 * holds it, so that the caller opens it there. Here the caller shifts after every one it is handed (the worst a
 * writer rotating faster than the agent opens can do); collected first and handed over after the look, every
 * generation but the first was under another name by then.
 */
test('generations are handed over as they are looked at, under the name that holds them then', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'logship-gens-'));
  const file = join(dir, 'django.log');
  try {
    const backups = 40;
    for (let k = 0; k < 8; k++) {
      await writeFile(file, `generation ${k}\n`);
      await shiftGenerations(file, backups);
    }
    let handed = 0;
    for await (const g of generationsOf(file, 0)) {
      const now = await lstat(g.path);
      assert.equal(now.ino, g.stat.ino, `${g.path} holds another file when it is handed over`);
      handed++;
      await shiftGenerations(file, backups);
    }
    assert.ok(handed >= 8, `only ${handed} generations handed over`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
