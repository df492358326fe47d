/**
 * patternsMatchingNothing (issue #13, item 15): the input patterns that match no regular file now, with discovery's
 * rules (globs, `**`, dot files, excludes by path or basename). `logship check` prints one warning per pattern.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InputConfig } from '../../src/config/types.js';
import { patternsMatchingNothing } from '../../src/tail/unmatched.js';
import { tempDir } from '../support/agent.js';

const input = (paths: string[], exclude: string[] = []): InputConfig => ({
  type: 'django',
  paths,
  exclude,
  timezone: 'UTC',
  startAt: 'beginning',
  includeOriginal: false,
  symlinkRoots: null,
  formatter: null,
});

test('patterns that match no file now, and only those', async () => {
  const dir = tempDir('logship-unmatched-');
  mkdirSync(join(dir, 'logs', 'deep', 'er'), { recursive: true });
  mkdirSync(join(dir, 'empty'));
  writeFileSync(join(dir, 'logs', 'app.log'), 'x\n');
  writeFileSync(join(dir, 'logs', '.hidden.log'), 'x\n');
  writeFileSync(join(dir, 'logs', 'deep', 'er', 'nested.log'), 'x\n');
  writeFileSync(join(dir, 'logs', 'old.log.gz'), 'x');
  const inputs = [
    input([join(dir, 'logs', '*.log'), join(dir, 'empty', '*.log'), join(dir, 'missing', '*.log'), join(dir, 'logs', '**', 'nested.log')]),
    input([join(dir, 'logs', 'app.log'), join(dir, 'logs', 'nope.log'), join(dir, 'logs'), join(dir, 'logs', '.h*.log')]),
    input([join(dir, 'logs', '*.gz'), join(dir, 'logs', 'app.log')], ['*.gz', join(dir, 'logs', 'app.log')]),
  ];
  assert.deepEqual(await patternsMatchingNothing(inputs), [
    { input: 0, index: 1, pattern: join(dir, 'empty', '*.log') },
    { input: 0, index: 2, pattern: join(dir, 'missing', '*.log') },
    { input: 1, index: 1, pattern: join(dir, 'logs', 'nope.log') },
    { input: 1, index: 2, pattern: join(dir, 'logs') }, // a directory is not a file
    { input: 2, index: 0, pattern: join(dir, 'logs', '*.gz') }, // excluded by basename
    { input: 2, index: 1, pattern: join(dir, 'logs', 'app.log') }, // excluded by path
  ]);
});
