/**
 * FileSet's index by inode under inode reuse: a writer that rotates several times a second deletes its oldest
 * generation and the file system gives that inode to the next file it creates (ext4 does, at once). Found in the
 * fault suite (max_open_files too small during an outage): a deleted generation still being looked for took its inode's
 * entry back from the newer file, which was then adopted a second time — read twice, and counted lost once more.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counters } from '../../src/events.js';
import { FileSet } from '../../src/tail/file-set.js';
import type { TrackedFile } from '../../src/tail/file.js';

/** The part of a TrackedFile the set looks at: where it is, and its inode. */
function file(path: string, ino: number, birthtimeMs: number): TrackedFile {
  return { path, dev: 1, ino, birthtimeMs, key: `1:${ino}`, placement: 'active' } as unknown as TrackedFile;
}

test('a deleted file looked for again does not take its inode back from the newer file that was given it', () => {
  const set = new FileSet(8, new Counters(), { n: 0 });
  const old = file('/logs/django.log', 42, 1000);
  set.setActive(old.path, old);
  set.addMoved(old); // rotated away, waiting for a descriptor
  const newer = file('/logs/django.log', 42, 2000); // the old one was deleted; its inode went to the new django.log
  set.setActive(newer.path, newer);
  assert.equal(set.inode(1, 42), newer);

  set.addMoved(old); // looked for again beside its path (moveAway at every admission)
  assert.equal(set.inode(1, 42), newer, 'the entry stays with the file that holds the inode now');
  set.addMoved(newer); // the newer one is rotated in its turn: still found by its inode, so it is not adopted twice
  assert.equal(set.inode(1, 42), newer);
  set.remove(old); // counted lost
  assert.equal(set.inode(1, 42), newer);
  assert.deepEqual([...set.moved], [newer]);
});

test('a file new to the set takes the entry of an older file with the same inode', () => {
  const set = new FileSet(8, new Counters(), { n: 0 });
  const old = file('/logs/django.log.5', 42, 1000);
  set.addMoved(old);
  const adopted = file('/logs/django.log.1', 42, 2000); // a generation never seen at its path, on the reused inode
  set.addMoved(adopted);
  assert.equal(set.inode(1, 42), adopted);
  set.remove(old);
  assert.equal(set.inode(1, 42), adopted);
  assert.equal(set.size, 1);
});
