/**
 * Looking at rotated generations while the writer keeps shifting them (RotatingFileHandler renames `.k` to `.k+1`
 * from the highest down, then the live file to `.1`, and deletes what passes backupCount). Found in the fault suite
 * (rotation by rename, 40 KB files, a rotation every 80 ms, on a loaded machine): a generation that was never seen at
 * its path and was renamed during the look, from a name not yet looked at to one already looked at, was never read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { inShiftOrder } from '../../src/tail/generations.js';

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
