import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContainerCatalog } from '../../src/containers/catalog.js';
import type { InputConfig } from '../../src/config/types.js';
import { silentLogger } from '../../src/log.js';
import { Discovery } from '../../src/tail/discovery.js';
import { tempDir } from '../support/agent.js';
import { COMPOSE_CONTAINER_ID, composeLabels, configFor, placeContainer } from '../support/docker-containers.js';
import { placePodContainer } from '../support/kubelet.js';

function input(type: InputConfig['type'], paths: string[], containers?: Partial<NonNullable<InputConfig['containers']>>): InputConfig {
  return {
    type,
    paths,
    exclude: [],
    timezone: 'UTC',
    startAt: 'beginning',
    includeOriginal: false,
    symlinkRoots: null,
    formatter: null,
    ...(containers && { containers: { include: [], exclude: [], labels: ['com.docker.compose.project', 'com.docker.compose.service'], ...containers } }),
  };
}

const LOGSHIP = { id: 'a1'.repeat(32), name: 'docker-logship-1', image: 'logship:local', labels: composeLabels('docker', 'logship') };
const ELASTIC = {
  id: 'e5'.repeat(32),
  name: 'docker-elasticsearch-1',
  image: 'docker.elastic.co/elasticsearch/elasticsearch:8.19.0',
  labels: { ...composeLabels('docker', 'elasticsearch'), 'org.label-schema.vendor': 'Elastic' },
};

test('docker: excluded containers\' files are never matched by the scan; the others are, with their metadata', async () => {
  const root = tempDir('logship-catalog-');
  try {
    const backend = placeContainer(root);
    const logship = placeContainer(root, LOGSHIP);
    const elastic = placeContainer(root, ELASTIC);
    const docker = input('docker', [join(root, '*', '*-json.log')], {
      exclude: [{ label: 'com.docker.compose.service=logship' }, { image: 'docker.elastic.co/*' }],
    });
    const catalog = new ContainerCatalog([docker], silentLogger);
    const asked: string[] = [];
    const discovery = new Discovery([docker], null, (i, path) => {
      asked.push(path);
      return catalog.selects(i, path);
    });
    const matched = (await discovery.scan()).files;
    assert.deepEqual([...matched.keys()], [backend.log]);
    assert.deepEqual(asked.sort(), [backend.log, logship.log, elastic.log].sort(), 'asked about every candidate');
    // A checkpoint of an excluded container belongs to no input any more: forgotten, not read on.
    assert.equal(discovery.inputOf(logship.log), undefined);
    assert.equal(discovery.inputOf(backend.log), docker);

    assert.deepEqual(catalog.infoFor(docker, backend.log), {
      id: COMPOSE_CONTAINER_ID,
      name: 'accreditrack-backend-1',
      image: { name: 'registry.example.com:5000/accreditrack/backend', tag: '1.4.2' },
      labels: { 'com.docker.compose.project': 'accreditrack', 'com.docker.compose.service': 'backend' },
      service: 'backend',
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('docker: metadata that appears later decides then; a shipped container stays shipped', () => {
  const root = tempDir('logship-catalog-');
  try {
    const { dir, log } = placeContainer(root, LOGSHIP);
    rmSync(join(dir, 'config.v2.json'));
    const include = input('docker', [join(root, '*', '*-json.log')], { include: [{ label: 'com.docker.compose.service=backend' }] });
    const exclude = input('docker', [join(root, '*', '*-json.log')], { exclude: [{ name: '*logship*' }] });
    const catalog = new ContainerCatalog([include, exclude], silentLogger);
    // Unknown: matches no entry. Not shipped where an include is needed, shipped where only excludes apply.
    assert.equal(catalog.selects(include, log), false);
    assert.equal(catalog.selects(exclude, log), true);
    assert.equal(catalog.infoFor(exclude, log), undefined, 'no metadata: the parser writes the id from the path');
    // config.v2.json appears (written atomically), saying it is logship: the exclude input had already shipped it.
    writeFileSync(join(dir, 'config.v2.json.tmp'), configFor(LOGSHIP));
    renameSync(join(dir, 'config.v2.json.tmp'), join(dir, 'config.v2.json'));
    assert.equal(catalog.selects(exclude, log), true, 'sticky: a shipped container is not dropped half-way');
    assert.equal(catalog.selects(include, log), false);
    // Relabelled to backend (a new config.v2.json): the include input, which never shipped it, takes it now.
    writeFileSync(join(dir, 'config.v2.json.tmp'), configFor({ ...LOGSHIP, labels: composeLabels('docker', 'backend') }));
    renameSync(join(dir, 'config.v2.json.tmp'), join(dir, 'config.v2.json'));
    assert.equal(catalog.selects(include, log), true);
    // Inputs without a filter ask nothing.
    const all = input('docker', [join(root, '*', '*-json.log')]);
    assert.equal(new ContainerCatalog([all], silentLogger).selects(all, join(root, 'nope', 'x-json.log')), true);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('docker: documents carry the labels the input chooses', () => {
  const root = tempDir('logship-catalog-');
  try {
    const { log } = placeContainer(root, ELASTIC);
    const all = input('docker', [join(root, '*', '*-json.log')], { labels: ['org.*', 'com.docker.compose.service'] });
    const none = input('docker', [join(root, '*', '*-json.log')], { labels: [] });
    const catalog = new ContainerCatalog([all, none], silentLogger);
    assert.deepEqual(catalog.infoFor(all, log)?.labels, { 'org.label-schema.vendor': 'Elastic', 'com.docker.compose.service': 'elasticsearch' });
    const bare = catalog.infoFor(none, log)!;
    assert.equal(bare.labels, undefined);
    assert.equal(bare.service, 'elasticsearch', 'service.name does not depend on the labels chosen');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('cri: archives are never read; include/exclude by namespace, pod and container; facts from the path', async () => {
  const root = tempDir('logship-catalog-');
  try {
    const uid = '0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
    const web = placePodContainer(root, { namespace: 'shop', pod: 'web-1', uid, container: 'django', id: 'c0'.repeat(32) });
    const proxy = placePodContainer(root, { namespace: 'shop', pod: 'web-1', uid, container: 'istio-proxy', id: 'c1'.repeat(32) });
    const dns = placePodContainer(root, { namespace: 'kube-system', pod: 'coredns-1', uid: 'aa-bb', container: 'coredns', id: 'c2'.repeat(32) });
    for (const f of [web, proxy, dns, `${web}.20261205-100000`, `${web}.20261205-090000.gz`, `${web}.20261205-090000.tmp`]) writeFileSync(f, '');
    const cri = input('cri', [join(root, 'pods', '*', '*', '*.log*')], { exclude: [{ namespace: 'kube-*' }, { container: 'istio-proxy' }] });
    const catalog = new ContainerCatalog([cri], silentLogger);
    const matched = (await new Discovery([cri], null, (i, p) => catalog.selects(i, p)).scan()).files;
    assert.deepEqual([...matched.keys()].sort(), [web, `${web}.20261205-100000`].sort());
    assert.deepEqual(catalog.infoFor(cri, web), {
      id: 'c0'.repeat(32),
      name: 'django',
      kubernetes: { namespace: 'shop', podName: 'web-1', podUid: uid, containerName: 'django' },
    });
    // Without a filter, archives are still left out.
    const plain = input('cri', [join(root, 'pods', '*', '*', '*.log*')]);
    const everything = (await new Discovery([plain], null, (i, p) => new ContainerCatalog([plain], silentLogger).selects(i, p)).scan()).files;
    assert.equal(everything.size, 4);
    assert.ok([...everything.keys()].every((p) => !p.endsWith('.gz') && !p.endsWith('.tmp')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a Docker node of Kubernetes: the cri input leaves /var/log/pods links to json-file logs to the docker input, which reads the pod from kubelet\'s labels', async () => {
  const root = tempDir('logship-catalog-');
  try {
    const uid = '0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
    const id = 'd0'.repeat(32);
    // cri-dockerd: the container as Docker sees it, with the labels kubelet asked for…
    const docker = placeContainer(join(root, 'docker', 'containers'), {
      id,
      name: `k8s_django_web-7d9f8c6b5-x2x9q_shop_${uid}_0`,
      image: 'registry.example.com/shop/web:2.1',
      labels: {
        'io.kubernetes.container.logpath': `/var/log/pods/shop_web-7d9f8c6b5-x2x9q_${uid}/django/0.log`,
        'io.kubernetes.container.name': 'django',
        'io.kubernetes.docker.type': 'container',
        'io.kubernetes.pod.name': 'web-7d9f8c6b5-x2x9q',
        'io.kubernetes.pod.namespace': 'shop',
        'io.kubernetes.pod.uid': uid,
        'io.kubernetes.sandbox.id': 'd1'.repeat(32),
      },
    });
    // …and kubelet's log path a symlink to its json-file log.
    const podLog = placePodContainer(join(root, 'log'), { namespace: 'shop', pod: 'web-7d9f8c6b5-x2x9q', uid, container: 'django', id }, false);
    symlinkSync(docker.log, podLog);
    // A containerd pod on the same glob: a regular file. And /var/log/containers links to CRI files are read.
    const crio = placePodContainer(join(root, 'log'), { namespace: 'shop', pod: 'api-1', uid: 'u-2', container: 'api', id: 'd2'.repeat(32) });
    writeFileSync(crio, '');
    const cri = input('cri', [join(root, 'log', 'pods', '*', '*', '*.log')]);
    // kubelet's /var/log/containers entries are links: followed (into the pods directory) only when the input says so.
    const links = { ...input('cri', [join(root, 'log', 'containers', '*.log')]), symlinkRoots: [join(root, 'log', 'pods')] };
    const dockerInput = input('docker', [join(root, 'docker', 'containers', '*', '*-json.log')]);
    const catalog = new ContainerCatalog([cri, links, dockerInput], silentLogger);
    assert.equal(catalog.selects(cri, podLog), false);
    assert.equal(catalog.selects(cri, crio), true);
    assert.deepEqual([...(await new Discovery([links], null, (i, p) => catalog.selects(i, p)).scan()).files.keys()], [join(root, 'log', 'containers', `api-1_shop_api-${'d2'.repeat(32)}.log`)]);
    assert.deepEqual(catalog.infoFor(dockerInput, docker.log), {
      id,
      name: 'django',
      image: { name: 'registry.example.com/shop/web', tag: '2.1' },
      kubernetes: { namespace: 'shop', podName: 'web-7d9f8c6b5-x2x9q', podUid: uid, containerName: 'django' },
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
