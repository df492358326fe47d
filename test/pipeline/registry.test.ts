import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRegistry, RegistryWriter, registryPath, type Checkpoint } from '../../src/pipeline/registry.js';
import { createLogger } from '../../src/log.js';
import { tempDir } from '../support/agent.js';

const cp = (offset: number): Checkpoint => ({
  path: '/logs/django.log',
  dev: 2049,
  ino: 1234,
  fingerprint: 'ab'.repeat(16),
  fingerprintBytes: 80,
  offset,
  size: offset + 10,
  mtimeMs: 1_700_000_000_000,
  ackedAt: new Date(0).toISOString(),
});

test('a written registry loads back; a missing one is empty', async () => {
  const dir = tempDir();
  assert.deepEqual(loadRegistry(dir, createLogger('error')), { checkpoints: [], existed: false });
  const w = new RegistryWriter(dir);
  await Promise.all([w.write([cp(10)]), w.write([cp(20)])]); // overlapping writes serialise, last one wins
  assert.deepEqual(loadRegistry(dir, createLogger('error')).checkpoints, [cp(20)]);
  assert.ok(!existsSync(registryPath(dir) + '.tmp'));
});

test('a corrupt registry is set aside and reported, not a crash', () => {
  const dir = tempDir();
  writeFileSync(registryPath(dir), '{"version":1,"checkpoints":[{"path":"/x"'); // torn
  const logged: string[] = [];
  const loaded = loadRegistry(dir, createLogger('error', (l) => logged.push(l)));
  assert.deepEqual(loaded, { checkpoints: [], existed: true });
  assert.match(logged[0] ?? '', /registry unreadable/);
  const aside = readdirSync(dir).filter((n) => n.startsWith('registry.json.corrupt-'));
  assert.equal(aside.length, 1);
  assert.match(readFileSync(join(dir, aside[0]!), 'utf8'), /"path":"\/x"/);
});

test('a registry of another version or with a malformed entry is refused the same way', () => {
  for (const body of ['{"version":99,"checkpoints":[]}', '{"version":1,"checkpoints":[{"path":"/x","offset":-1}]}']) {
    const dir = tempDir();
    writeFileSync(registryPath(dir), body);
    assert.deepEqual(loadRegistry(dir, createLogger('error', () => undefined)).checkpoints, []);
  }
});
