import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../src/config/index.js';
import { CLI } from './support/agent.js';

let dir: string;
let count = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'logship-config-containers-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function write(yaml: string): string {
  const sub = join(dir, `c${++count}`);
  mkdirSync(sub);
  const file = join(sub, 'logship.yml');
  writeFileSync(file, yaml);
  return file;
}

function fails(yaml: string, message: string): void {
  assert.throws(
    () => loadConfig(write(yaml), {}),
    (err: unknown) => err instanceof ConfigError && err.message === message,
    message,
  );
}

const input = (type: string, containers: string): string =>
  `inputs:\n  - type: ${type}\n    paths: ["/var/log/x/*.log"]\n    containers: ${containers}\nsink: { type: stdout }\n`;

test('containers: include, exclude and labels are read; defaults filled; absent means every container', () => {
  const config = loadConfig(
    write(
      input('docker', '{ include: [{ label: "com.docker.compose.service=backend" }], exclude: [{ name: "*logship*" }, { image: "docker.elastic.co/*" }] }') +
        '',
    ),
    {},
  );
  assert.deepEqual(config.inputs[0]!.containers, {
    include: [{ label: 'com.docker.compose.service=backend' }],
    exclude: [{ name: '*logship*' }, { image: 'docker.elastic.co/*' }],
    labels: ['com.docker.compose.project', 'com.docker.compose.service'],
  });
  const cri = loadConfig(write(input('cri', '{ exclude: [{ namespace: "kube-*" }, { pod: "debug-*", container: sidecar }] }')), {});
  assert.deepEqual(cri.inputs[0]!.containers?.exclude, [{ namespace: 'kube-*' }, { pod: 'debug-*', container: 'sidecar' }]);
  const labels = loadConfig(write(input('docker', '{ labels: "com.docker.compose.*" }')), {});
  assert.deepEqual(labels.inputs[0]!.containers, { include: [], exclude: [], labels: ['com.docker.compose.*'] });
  const none = loadConfig(write(`inputs:\n  - type: cri\n    paths: ["/var/log/pods/*/*/*.log"]\nsink: { type: stdout }\n`), {});
  assert.equal(none.inputs[0]!.containers, undefined);
});

test('containers: one-line errors naming the key', () => {
  fails(input('django', '{ exclude: [{ name: x }] }'), 'inputs[0].containers: only docker and cri inputs have containers');
  fails(input('docker', '{ exclude: [{ namespace: kube-system }] }'), 'inputs[0].containers.exclude[0].namespace: not a key of docker containers (use name, image, label)');
  fails(input('cri', '{ include: [{ namespace: shop, image: "nginx*" }] }'), 'inputs[0].containers.include[0].image: not a key of cri containers (use namespace, pod, container)');
  fails(input('docker', '{ include: [{}] }'), 'inputs[0].containers.include[0]: give at least one of name, image, label');
  fails(input('docker', '{ include: [{ nam: web }] }'), 'inputs[0].containers.include[0].nam: unknown key (did you mean "name"?)');
  fails(
    input('docker', '{ include: [{ ip: 10.0.0.1 }] }'),
    'inputs[0].containers.include[0].ip: unknown key (valid keys for a containers entry: name, image, label, namespace, pod, container)',
  );
  fails(input('docker', '{ exclude: [{ label: "=backend" }] }'), 'inputs[0].containers.exclude[0].label: expected "key=value" or "key", got "=backend"');
  fails(input('docker', '{ exclude: { name: web } }'), 'inputs[0].containers.exclude: expected a non-empty list of containers entries, got a mapping');
  fails(input('docker', '{ exclude: [{ name: "" }] }'), 'inputs[0].containers.exclude[0].name: expected a non-empty string, got ""');
  fails(input('cri', '{ labels: [app] }'), 'inputs[0].containers.labels: only docker containers have labels');
  fails(input('docker', '{ includes: [] }'), 'inputs[0].containers.includes: unknown key (did you mean "include"?)');
});

test('logship check prints the one line and exits 1', () => {
  const file = write(input('docker', '{ exclude: [{ pod: web }] }'));
  const r = spawnSync(process.execPath, [CLI, 'check', '--config', file], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'logship: inputs[0].containers.exclude[0].pod: not a key of docker containers (use name, image, label)\n');
});
