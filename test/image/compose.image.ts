/**
 * The image run as docker/docker-compose.yml's logship service runs it (deploy.ts reads the service: uid 0 with
 * every capability dropped but DAC_READ_SEARCH, no-new-privileges, read-only root, init, the read-only log
 * mounts, the data volume, the password from a secrets file), against the test Elasticsearch on the host's
 * loopback. Then as the README's variant without the docker input: the service without its user and capability
 * lines, as the image's own user. Run by `npm run test:image` (test/image/run.sh), not by `npm test`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { tempDir, waitFor } from '../support/agent.js';
import { startEsServer, type EsServerHandle } from '../support/es-server.js';
import { composeDeployment, composeService, type ComposeService, type Deployment, type MountSource } from './deploy.js';
import { arrived, assertCheckpointed, describeStart, ES_PASSWORD, ES_USER, freePort, report, RUN, start, stop, stored, UNHEALTHY_AFTER_MS } from './harness.js';
import { containerLog, healthcheck, inspect, podman, removeAll, volumePath } from './podman.js';
import { appendDjango, appendDocker, CONTAINER_ID, counts, djangoLogs, dockerLogs, sends, type SampleFile } from './samples.js';

interface Setup {
  readonly es: EsServerHandle;
  readonly index: string;
  readonly healthUrl: string;
  readonly deployment: Deployment;
}

/**
 * A test Elasticsearch (with the logship user's password), the config compose mounts with a monitoring address
 * this test can use and a low unhealthy threshold (`edit` changes it further), and the service's run options
 * with the given host side of each mount.
 */
async function setUp(
  dir: string,
  service: ComposeService,
  mounts: Map<string, MountSource>,
  edit: (c: Record<string, any>) => void = () => {},
  env: Record<string, string> = {},
): Promise<Setup> {
  const es = await startEsServer({ auth: { basic: { username: ES_USER, password: ES_PASSWORD } } });
  const shipped = service.hostFileFor('/etc/logship/logship.yml');
  assert.ok(shipped, 'compose mounts a config file at /etc/logship/logship.yml');
  const config = parse(readFileSync(shipped, 'utf8')) as Record<string, any>;
  const port = await freePort();
  config['monitoring'] = { ...config['monitoring'], listen: `127.0.0.1:${port}`, unhealthy_after_ms: UNHEALTHY_AFTER_MS };
  config['delivery']['retry']['max_backoff'] = '1s'; // back to work within a second once the sink returns
  edit(config);
  writeFileSync(join(dir, 'logship.yml'), stringify(config));
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'secrets', 'logship'), `${ES_PASSWORD}\n`); // as the compose `secrets` service writes it
  mounts.set('/etc/logship/logship.yml', { path: join(dir, 'logship.yml') });
  mounts.set('/secrets', { path: join(dir, 'secrets') });
  const healthUrl = `http://127.0.0.1:${port}/health`;
  // LOGSHIP_HEALTH_URL: the README's rule, change it with monitoring.listen.
  const deployment = composeDeployment(service, mounts, { ES_URL: es.url, LOGSHIP_HEALTH_URL: healthUrl, ...env });
  return { es, index: config['sink']['index'], healthUrl, deployment };
}

describe('the image, run as docker-compose.yml runs the logship service', () => {
  const dir = tempDir('logship-image-');
  const volume = `${RUN}-data`;
  const names = [`${RUN}-compose-1`, `${RUN}-compose-2`];
  let s: Setup;
  let files: SampleFile[];

  before(async () => {
    // The app's logs belong to its own user, unreadable to others: read through CAP_DAC_READ_SEARCH.
    files = [
      ...(await djangoLogs(join(dir, 'django'), '/logs/django', 300, { private: true })),
      dockerLogs(join(dir, 'containers'), '/var/lib/docker/containers', 300),
    ];
    const mounts = new Map<string, MountSource>([
      ['/logs/django', { path: join(dir, 'django') }],
      ['/var/lib/docker/containers', { path: join(dir, 'containers') }],
      ['/var/lib/logship', { volume }],
    ]);
    await removeAll(names, [volume]);
    s = await setUp(dir, composeService(), mounts);
  });

  after(async () => {
    await removeAll(names, [volume]);
    await s?.es.close();
  });

  test('starts, and every record of the Django and Docker logs arrives once', async (t) => {
    report(t, `start-up (compose): ${describeStart(await start(names[0]!, s.deployment, s.healthUrl))}`);
    await arrived(s.es, s.index, files, names[0]!);
    const docs = stored(s.es, s.index);
    const docker = docs.filter((d) => d['container'] !== undefined);
    assert.equal(docker.length, files[2]!.records);
    assert.ok(docker.every((d) => d['container']['id'] === CONTAINER_ID));
    assert.ok(docs.every((d) => d['host']['name'] === 'docker-host'), 'host.name from LOGSHIP_HOST_NAME');
    report(t, `records (compose): ${JSON.stringify(counts(s.es, s.index, files))}, creates sent ${sends(s.es)}`);
  });

  test("the image's HEALTHCHECK reports healthy, unhealthy while the sink is down, healthy again", async (t) => {
    const healthy = await healthcheck(names[0]!);
    assert.deepEqual(healthy, { healthy: true, output: '200 ok' });
    assert.equal(await inspect(names[0]!, '{{.State.Health.Status}}'), 'healthy');
    // The compose file's own healthcheck command, run in the container.
    const exec = await podman(['exec', names[0]!, ...composeService().healthcheckTest!.slice(1)]);
    assert.equal(exec.code, 0, exec.stdout);

    await s.es.stop();
    const stoppedAt = performance.now();
    await appendDjango(files.slice(0, 2), 50);
    appendDocker(files[2]!, 50);
    let last = healthy;
    await waitFor(async () => !(last = await healthcheck(names[0]!)).healthy, 30_000, 'the healthcheck to fail');
    const after = Math.round(performance.now() - stoppedAt);
    assert.ok(after >= UNHEALTHY_AFTER_MS, `unhealthy ${after} ms after the sink stopped, before unhealthy_after_ms`);
    assert.match(last.output, /^503 failing; sink elasticsearch/);
    report(t, `healthcheck: "${last.output}" ${after} ms after the sink went down (unhealthy_after_ms ${UNHEALTHY_AFTER_MS})`);

    await s.es.start();
    await arrived(s.es, s.index, files, names[0]!);
    await waitFor(async () => (await healthcheck(names[0]!)).healthy, 30_000, 'the healthcheck to pass again');
  });

  test('podman stop (SIGTERM) exits 0 with every file checkpointed at its end', async (t) => {
    const { exitCode, ms } = await stop(names[0]!, s.deployment);
    assert.equal(exitCode, 0, await containerLog(names[0]!));
    assertCheckpointed(await volumePath(volume), files);
    assert.match(await containerLog(names[0]!, 5), /"msg":"logship stopped"/);
    report(t, `stop (compose, init): exit ${exitCode} after ${ms} ms`);
  });

  test('a new container on the same volume re-sends nothing, and ships what was written since', async (t) => {
    const before = sends(s.es);
    report(t, `start-up (compose, second start): ${describeStart(await start(names[1]!, s.deployment, s.healthUrl))}`);
    await appendDjango(files.slice(0, 2), 20);
    appendDocker(files[2]!, 20);
    await arrived(s.es, s.index, files, names[1]!);
    assert.equal(sends(s.es) - before, 60, 'creates sent after the second start: the 60 new records only');
    const { exitCode } = await stop(names[1]!, s.deployment);
    assert.equal(exitCode, 0, await containerLog(names[1]!));
    assertCheckpointed(await volumePath(volume), files);
  });
});

describe("the image as its own user: compose's logship service without user and capabilities, no docker input", () => {
  const dir = tempDir('logship-image-node-');
  const volume = `${RUN}-node-data`;
  const name = `${RUN}-node`;
  let s: Setup;
  let files: SampleFile[];

  before(async () => {
    files = await djangoLogs(join(dir, 'django'), '/logs/django', 200);
    dockerLogs(join(dir, 'containers'), '/var/lib/docker/containers', 10); // still mounted, not read
    const service = composeService();
    const raw = { ...service.raw };
    for (const key of ['user', 'cap_drop', 'cap_add']) delete raw[key]; // the README's "delete these lines"
    const mounts = new Map<string, MountSource>([
      ['/logs/django', { path: join(dir, 'django') }],
      ['/var/lib/docker/containers', { path: join(dir, 'containers') }],
      ['/var/lib/logship', { volume }],
    ]);
    await removeAll([name], [volume]);
    const noDocker = (c: Record<string, any>): void => {
      c['inputs'] = (c['inputs'] as { type: string }[]).filter((i) => i.type !== 'docker');
    };
    // A Django TIME_ZONE other than UTC: the zone comes from the Node binary's own ICU data, not the base image.
    s = await setUp(dir, { ...service, raw }, mounts, noDocker, { DJANGO_TIME_ZONE: 'Europe/Berlin' });
  });

  after(async () => {
    await removeAll([name], [volume]);
    await s?.es.close();
  });

  test('runs as node (uid 1000), ships the Django logs, and writes its checkpoints to the volume', async (t) => {
    report(t, `start-up (compose, as node): ${describeStart(await start(name, s.deployment, s.healthUrl))}`);
    const id = await podman(['exec', name, 'id', '-u']);
    assert.equal(id.stdout.trim(), '1000');
    await arrived(s.es, s.index, files, name);
    // django_writer.py's asctime is this host's local time (UTC here); read as Berlin time it carries Berlin's offset.
    const times = stored(s.es, s.index).map((d) => String(d['@timestamp']));
    assert.ok(times.every((ts) => /\+0[12]:00$/.test(ts)), `@timestamp in Europe/Berlin: ${times[0]}`);
    const { exitCode } = await stop(name, s.deployment);
    assert.equal(exitCode, 0, await containerLog(name));
    const data = await volumePath(volume);
    assertCheckpointed(data, files);
    assert.equal(statSync(join(data, 'registry.json')).uid, 1000, 'registry.json written by node');
  });
});
