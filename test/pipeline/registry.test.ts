import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
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
  assert.deepEqual(loadRegistry(dir, createLogger('error')), { checkpoints: [], losses: [], existed: false });
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
  assert.deepEqual(loaded, { checkpoints: [], losses: [], existed: true });
  assert.match(logged[0] ?? '', /registry unreadable/);
  const aside = readdirSync(dir).filter((n) => n.startsWith('registry.json.corrupt-'));
  assert.equal(aside.length, 1);
  assert.match(readFileSync(join(dir, aside[0]!), 'utf8'), /"path":"\/x"/);
});

test('a registry of another version is refused the same way', () => {
  const dir = tempDir();
  writeFileSync(registryPath(dir), '{"version":99,"checkpoints":[]}');
  assert.deepEqual(loadRegistry(dir, createLogger('error', () => undefined)).checkpoints, []);
  assert.equal(readdirSync(dir).filter((n) => n.startsWith('registry.json.corrupt-')).length, 1);
});

test('an entry with an impossible value is set aside on its own: logged, kept in a file, the others kept', () => {
  const dir = tempDir();
  const good = { ...cp(10), ino: 1 };
  const bad = [
    { ...cp(10), fingerprintBytes: 1e12 }, // what made every start fail with ERR_OUT_OF_RANGE
    { ...cp(10), offset: -1 },
    { ...cp(10), offset: 1e300 },
    { ...cp(10), dev: 'x' },
    { ...cp(10), path: 'relative/django.log' },
    { ...cp(10), fingerprint: 'not hex' },
    { ...cp(10), size: null },
    42,
  ];
  writeFileSync(registryPath(dir), JSON.stringify({ version: 1, checkpoints: [bad[0], good, ...bad.slice(1)] }));
  const logged: Record<string, unknown>[] = [];
  const loaded = loadRegistry(dir, createLogger('info', (l) => logged.push(JSON.parse(l))));
  assert.deepEqual(loaded, { checkpoints: [good], losses: [], existed: true });
  const invalidLogs = logged.filter((l) => l['msg'] === 'registry entry invalid: set aside, its file is read as a new one');
  assert.equal(invalidLogs.length, bad.length);
  assert.match(String(invalidLogs[0]!['reason']), /^fingerprintBytes: not an integer from 1 to 1024$/);
  const aside = readdirSync(dir).filter((n) => n.startsWith('registry.json.invalid-'));
  assert.equal(aside.length, 1);
  const kept = JSON.parse(readFileSync(join(dir, aside[0]!), 'utf8')) as { invalid: { entry: unknown }[] };
  assert.deepEqual(kept.invalid.map((i) => i.entry), bad.map((b) => JSON.parse(JSON.stringify(b))));
  assert.equal(statSync(join(dir, aside[0]!)).mode & 0o777, 0o600);
});

test('entries of older registries without size, mtimeMs or ackedAt are kept, with those unknown', () => {
  const dir = tempDir();
  const { size: _s, mtimeMs: _m, ackedAt: _a, ...old } = cp(10);
  writeFileSync(registryPath(dir), JSON.stringify({ version: 1, checkpoints: [old] }));
  assert.deepEqual(loadRegistry(dir, createLogger('error')).checkpoints, [{ ...old, size: 0, mtimeMs: 0, ackedAt: '' }]);
});

/** A valid entry, or one made invalid by a single bad field, tagged with which it is. */
const validEntry = fc.record({
  path: fc.stringMatching(/^\/[a-z0-9._/-]{0,40}$/),
  dev: fc.nat(),
  ino: fc.maxSafeNat(),
  fingerprint: fc.stringMatching(/^[0-9a-f]{32}$/),
  fingerprintBytes: fc.integer({ min: 1, max: 1024 }),
  offset: fc.maxSafeNat(),
  size: fc.maxSafeNat(),
  mtimeMs: fc.double({ min: 0, max: 4e12, noNaN: true }),
  ackedAt: fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(8.64e15) }).map((d) => d.toISOString()),
});
const badValue = fc.oneof(
  fc.constantFrom(-1, 1e12, 2 ** 53, 1e300, -0.5, 1.5, Number.MAX_VALUE, '', '12', null, true, [], {}, 'NaN'),
  fc.string(),
);
const badField = fc.constantFrom('path', 'dev', 'ino', 'fingerprint', 'fingerprintBytes', 'offset', 'size', 'mtimeMs', 'ackedAt');
/** Values that are wrong for the field whatever they are (e.g. a string is a wrong `path` only when it is not absolute). */
function isBadFor(field: string, v: unknown): boolean {
  switch (field) {
    case 'path':
      return typeof v !== 'string' || !v.startsWith('/') || v.includes('\0');
    case 'fingerprint':
      return typeof v !== 'string' || !/^[0-9a-f]{32}$/.test(v);
    case 'fingerprintBytes':
      return !Number.isInteger(v) || (v as number) < 1 || (v as number) > 1024;
    case 'mtimeMs':
      return typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v);
    case 'ackedAt':
      return typeof v !== 'string' || v.length > 64;
    default:
      return !(Number.isSafeInteger(v) && (v as number) >= 0);
  }
}
const taggedEntry = fc.oneof(
  validEntry.map((entry) => ({ valid: true, entry: entry as unknown })),
  fc.tuple(validEntry, badField, badValue)
    .filter(([, field, value]) => isBadFor(field, value))
    .map(([entry, field, value]) => ({ valid: false, entry: { ...entry, [field]: value } as unknown })),
  fc.oneof(fc.anything(), fc.constant(null), fc.string()).filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)).map((entry) => ({ valid: false, entry })),
);

test('property: the loader never throws on any entries, and keeps exactly the valid ones, in order', () => {
  const dir = tempDir();
  fc.assert(
    fc.property(fc.array(taggedEntry, { maxLength: 12 }), (tagged) => {
      rmSync(dir, { recursive: true, force: true });
      writeFileSync(registryPath(mkdirp(dir)), JSON.stringify({ version: 1, checkpoints: tagged.map((t) => t.entry) }));
      const loaded = loadRegistry(dir, createLogger('error', () => undefined));
      const expected = tagged.filter((t) => t.valid).map((t) => t.entry);
      assert.deepEqual(loaded.checkpoints, JSON.parse(JSON.stringify(expected)));
    }),
    { numRuns: 400 },
  );
});

function mkdirp(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}

test('a stale temp file (a write killed midway) is removed at start; the registry is not touched', async () => {
  const dir = tempDir();
  await new RegistryWriter(dir).write([cp(10)]);
  writeFileSync(registryPath(dir) + '.tmp', '');
  assert.deepEqual(loadRegistry(dir, createLogger('error')).checkpoints, [cp(10)]);
  assert.ok(!existsSync(registryPath(dir) + '.tmp'));
});

test('data_dir is created 0750 and the registry written 0600', async () => {
  const dir = join(tempDir(), 'data');
  loadRegistry(dir, createLogger('error'));
  assert.equal(statSync(dir).mode & 0o777, 0o750 & ~process.umask());
  await new RegistryWriter(dir).write([cp(10)]);
  assert.equal(statSync(registryPath(dir)).mode & 0o777, 0o600);
});
