import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerMetadata, dockerLogContainerId, parseDockerConfig } from '../../src/containers/docker-metadata.js';
import { dockerInfo } from '../../src/containers/catalog.js';
import { containerMembers, DEFAULT_DOCUMENT_LABELS } from '../../src/containers/metadata.js';
import { globTest } from '../../src/containers/filter.js';
import { tempDir } from '../support/agent.js';
import { COMPOSE_CONTAINER_ID, composeConfig, placeContainer } from '../support/docker-containers.js';

function recordingLogger(): { logger: import('../../src/log.js').Logger; debug: Record<string, unknown>[] } {
  const debug: Record<string, unknown>[] = [];
  const none = (): void => undefined;
  return { logger: { debug: (msg, f) => debug.push({ msg, ...f }), info: none, warn: none, error: none }, debug };
}

test('the compose container fixture: what dockerd 28.5.2 writes, byte for byte, is read into name, image and labels', () => {
  const text = readFileSync(composeConfig, 'utf8');
  // Go's encoder: one line, a final newline, HTML characters escaped.
  assert.ok(text.endsWith('}\n') && !text.slice(0, -1).includes('\n'));
  assert.ok(text.includes('"maintainer":"Accreditrack \\u003cdev@accreditrack.example\\u003e"'));
  const c = parseDockerConfig(text, COMPOSE_CONTAINER_ID);
  assert.ok(typeof c !== 'string', String(c));
  assert.equal(c.id, COMPOSE_CONTAINER_ID);
  assert.equal(c.name, 'accreditrack-backend-1');
  assert.equal(c.image, 'registry.example.com:5000/accreditrack/backend:1.4.2');
  assert.equal(c.labels['com.docker.compose.service'], 'backend');
  assert.equal(c.labels['com.docker.compose.project'], 'accreditrack');
  assert.equal(c.labels['maintainer'], 'Accreditrack <dev@accreditrack.example>');
  assert.equal(Object.keys(c.labels).length, 12);

  // In documents: the compose labels only (by default), dedotted; service.name; the image split.
  const info = dockerInfo(c, (key) => DEFAULT_DOCUMENT_LABELS.some((g) => globTest(g)(key)));
  assert.deepEqual(JSON.parse(`{${containerMembers(info).slice(1)}}`), {
    container: {
      id: COMPOSE_CONTAINER_ID,
      name: 'accreditrack-backend-1',
      image: { name: 'registry.example.com:5000/accreditrack/backend', tag: '1.4.2' },
      labels: { com_docker_compose_project: 'accreditrack', com_docker_compose_service: 'backend' },
    },
    service: { name: 'backend' },
  });
});

test('config.v2.json problems: none is an error, each is a reason', () => {
  assert.match(String(parseDockerConfig('{"ID":', COMPOSE_CONTAINER_ID)), /^not JSON/);
  assert.equal(parseDockerConfig('[]', COMPOSE_CONTAINER_ID), 'not a JSON object');
  assert.match(String(parseDockerConfig('{"ID":"abc"}', COMPOSE_CONTAINER_ID)), /its ID is "abc", not the directory's/);
  // Only what is there: a container without Config, name or labels.
  assert.deepEqual(parseDockerConfig(`{"ID":"${COMPOSE_CONTAINER_ID}","Name":"/"}`, COMPOSE_CONTAINER_ID), { id: COMPOSE_CONTAINER_ID, labels: {} });
  const odd = parseDockerConfig(`{"ID":"${COMPOSE_CONTAINER_ID}","Config":{"Image":"","Labels":{"a":"b","n":1}}}`, COMPOSE_CONTAINER_ID);
  assert.deepEqual(odd, { id: COMPOSE_CONTAINER_ID, labels: { a: 'b' } });
});

test('json-file log paths and their rotations name the container', () => {
  const id = COMPOSE_CONTAINER_ID;
  assert.equal(dockerLogContainerId(`/var/lib/docker/containers/${id}/${id}-json.log`), id);
  assert.equal(dockerLogContainerId(`/var/lib/docker/containers/${id}/${id}-json.log.3`), id);
  assert.equal(dockerLogContainerId(`/var/lib/docker/containers/${id}/config.v2.json`), null);
  assert.equal(dockerLogContainerId('/var/log/app/django.log'), null);
});

test('read once per change, re-read when config.v2.json is replaced; missing or malformed: no metadata, logged once', () => {
  const root = tempDir('logship-meta-');
  try {
    const { log, dir } = placeContainer(root);
    const { logger, debug } = recordingLogger();
    const meta = new DockerMetadata(logger);
    const first = meta.forLog(log);
    assert.equal(first?.name, 'accreditrack-backend-1');
    assert.equal(meta.forLog(log), first, 'cached: the same object while the file is unchanged');
    assert.equal(meta.forLog(`${log}.1`), first, 'a rotated generation is the same container');

    // dockerd rewrites it (temp + rename) on a rename of the container.
    const renamed = readFileSync(join(dir, 'config.v2.json'), 'utf8').replace('"Name":"/accreditrack-backend-1"', '"Name":"/backend-blue"');
    writeFileSync(join(dir, 'config.v2.json.tmp'), renamed);
    renameSync(join(dir, 'config.v2.json.tmp'), join(dir, 'config.v2.json'));
    assert.equal(meta.forLog(log)?.name, 'backend-blue');

    // Malformed (same size and mtime would not be re-read: change both), then missing: null, each logged once.
    writeFileSync(join(dir, 'config.v2.json'), '{"ID": truncated');
    utimesSync(join(dir, 'config.v2.json'), new Date(), new Date(Date.now() + 5000));
    assert.equal(meta.forLog(log), null);
    assert.equal(meta.forLog(log), null);
    rmSync(join(dir, 'config.v2.json'));
    assert.equal(meta.forLog(log), null);
    assert.equal(meta.forLog(log), null);
    assert.equal(debug.length, 2, JSON.stringify(debug));
    assert.match(String(debug[0]!['reason']), /^not JSON/);
    assert.match(String(debug[1]!['reason']), /ENOENT/);
    assert.equal(debug[1]!['path'], join(dir, 'config.v2.json'));

    // It comes back: read again.
    placeContainer(root);
    assert.equal(meta.forLog(log)?.name, 'accreditrack-backend-1');
    assert.equal(meta.forLog('/var/log/app/django.log'), null, 'not a json-file path: nothing to look for');
    assert.equal(debug.length, 2);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('containers not asked about for ten minutes are forgotten (a removed container leaves nothing behind)', () => {
  const root = tempDir('logship-meta-');
  try {
    const { log, dir } = placeContainer(root);
    let now = 1_000_000;
    const meta = new DockerMetadata(recordingLogger().logger, () => now);
    const first = meta.forLog(log);
    now += 11 * 60_000;
    mkdirSync(join(root, 'other'));
    meta.forLog(join(root, 'other', `${'0'.repeat(64)}-json.log`)); // any call sweeps
    const again = meta.forLog(log);
    assert.notEqual(again, first, 'read again: the old entry was dropped');
    assert.deepEqual(again, first);
    void dir;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
