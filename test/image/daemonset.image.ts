/**
 * The image run as docker/k8s/daemonset.yml runs it (deploy.ts reads the manifest: the ConfigMap's config mounted
 * at /etc/logship, the container's args, env and securityContext, the node's hostPaths, no init process), against
 * the test Elasticsearch on the host's loopback. Run by `npm run test:image` (test/image/run.sh), not `npm test`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { tempDir } from '../support/agent.js';
import { startEsServer, type EsServerHandle } from '../support/es-server.js';
import { daemonSetDeployment, daemonSetManifest, type Deployment, type MountSource } from './deploy.js';
import { arrived, assertCheckpointed, describeStart, ES_PASSWORD, ES_USER, freePort, report, RUN, start, status, stop, stored } from './harness.js';
import { containerLog, podmanOk, removeAll } from './podman.js';
import { djangoLogs, dockerLogs, podLogs, type SampleFile } from './samples.js';

describe('the image, run as docker/k8s/daemonset.yml runs it', () => {
  const dir = tempDir('logship-image-k8s-');
  const name = `${RUN}-daemonset`;
  const manifest = daemonSetManifest();
  let es: EsServerHandle;
  let deployment: Deployment;
  let files: SampleFile[];
  let index = '';
  let base = '';

  before(async () => {
    es = await startEsServer({ auth: { basic: { username: ES_USER, password: ES_PASSWORD } } });
    // The ConfigMap's config, with a loopback monitoring address this test can use: the pod's 0.0.0.0:9600 would
    // be every interface of this (shared) host under host networking.
    const configDir = join(dir, 'config');
    mkdirSync(configDir);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    for (const [file, text] of Object.entries(manifest.configFiles)) {
      const config = parse(text) as Record<string, any>;
      if (config['monitoring']) config['monitoring']['listen'] = `127.0.0.1:${port}`;
      index = config['sink']?.['index'] ?? index;
      writeFileSync(join(configDir, file), stringify(config));
    }
    files = [
      ...(await djangoLogs(join(dir, 'django'), '/logs/django', 200, { private: true })),
      dockerLogs(join(dir, 'containers'), '/var/lib/docker/containers', 200),
      podLogs(join(dir, 'pods'), join(dir, 'container-links'), 200),
    ];
    // The node's hostPaths, by the path the manifest names; DirectoryOrCreate makes a missing one 0755 root.
    mkdirSync(join(dir, 'data'), { mode: 0o755 });
    const byNodePath: Record<string, string> = {
      '/var/log/django': join(dir, 'django'),
      '/var/lib/docker/containers': join(dir, 'containers'),
      '/var/log/pods': join(dir, 'pods'),
      '/var/log/containers': join(dir, 'container-links'),
      '/var/lib/logship': join(dir, 'data'),
    };
    const volumes = new Map<string, MountSource>();
    for (const vol of Object.keys(manifest.configMapVolumes)) volumes.set(vol, { path: configDir });
    for (const [vol, nodePath] of Object.entries(manifest.hostPaths)) {
      const host = byNodePath[nodePath];
      assert.ok(host, `the DaemonSet mounts the node's ${nodePath}: give the image test a directory for it`);
      volumes.set(vol, { path: host });
    }
    // NODE_NAME (fieldRef) and ES_PASSWORD (secretKeyRef) come from the API server in a cluster.
    deployment = daemonSetDeployment(manifest, volumes, { NODE_NAME: 'test-node', ES_URL: es.url, ES_PASSWORD });
    await removeAll([name]);
  });

  after(async () => {
    await removeAll([name]);
    await es?.close();
  });

  test('ships every record once, its probes answer 200, and SIGTERM to node as PID 1 exits 0 with checkpoints', async (t) => {
    const c = manifest.container;
    const readiness = `${base}${c.readinessProbe?.httpGet?.path}`;
    report(t, `start-up (DaemonSet, no init): ${describeStart(await start(name, deployment, readiness))}`);
    await arrived(es, index, files, name);
    assert.ok(stored(es, index).every((d) => d['host']['name'] === 'test-node'), 'host.name from NODE_NAME');
    assert.equal(await status(readiness), 200);
    assert.equal(await status(`${base}${c.livenessProbe?.httpGet?.path}`), 200);
    const pid1 = await podmanOk(['exec', name, 'cat', '/proc/1/cmdline']);
    assert.match(pid1, /^node\0/, 'the entrypoint execs node, which is PID 1');
    const { exitCode, ms } = await stop(name, deployment);
    assert.equal(exitCode, 0, await containerLog(name));
    assertCheckpointed(join(dir, 'data'), files);
    report(t, `stop (DaemonSet, node as PID 1): exit ${exitCode} after ${ms} ms`);
  });
});
