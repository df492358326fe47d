/**
 * End to end with container logs laid out as their writers lay them out, through the built CLI:
 * - Kubernetes (containerd): /var/log/pods/<ns>_<pod>_<uid>/<container>/0.log with kubelet's /var/log/containers links,
 *   rotated by kubelet (rename to 0.log.<time>, the runtime writing on into the renamed file until it reopens, a new
 *   0.log, then gzip of the rotated file into .tmp → .gz and the uncompressed one removed), pods left out by
 *   namespace and container name;
 * - Docker with compose: config.v2.json beside each json-file log, containers left out by label and image, and a
 *   CloudWatch stream per compose service.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { checkExactlyOnce, FAST, readNdjson, runOnce, seqsOf, StartedAgents, tempDir, waitFor, writeConfig } from './support/agent.js';
import { startCloudWatchServer, TEST_AWS_ENV, TEST_REGION, type CloudWatchServerHandle } from './support/cloudwatch-server.js';
import { COMPOSE_CONTAINER_ID, composeLabels, placeContainer } from './support/docker-containers.js';
import { criLines, placePodContainer, rfc3339Nano } from './support/kubelet.js';
import { INDEX, scenario, type Scenario } from './support/scenario.js';

Object.assign(process.env, TEST_AWS_ENV);

const scenarios: Scenario[] = [];
const servers: CloudWatchServerHandle[] = [];
const agents = new StartedAgents();
after(async () => {
  agents.killRunning();
  await Promise.all([...scenarios.map((s) => s.close()), ...servers.map((s) => s.close())]);
});

const UID = '0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
const WEB_ID = 'c0ffee00'.repeat(8);
const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

/** CRI lines "<prefix> seq=N" for seqs [from, to), stdout and stderr alternating, as containerd writes them. */
function criSeqLines(prefix: string, from: number, to: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = from; i < to; i++) parts.push(criLines(i % 2 === 0 ? 'stdout' : 'stderr', `${prefix} seq=${i}`, rfc3339Nano(nowNs())));
  return Buffer.concat(parts);
}

for (const [glob, why] of [
  ['*.log', 'the DaemonSet\'s glob: the renamed file is followed through its descriptor'],
  ['*.log*', 'a broad glob: the renamed file is the same file at another matched path, and the archives must be left alone'],
] as const) {
  test(`Kubernetes: pods' logs with their metadata, through kubelet's rotation and compression, excluded pods never read (${why})`, async () => {
    const s = await scenario([]);
    scenarios.push(s);
    const root = join(s.dir, 'var', 'log');
    const web = placePodContainer(root, { namespace: 'shop', pod: 'web-7d9f8c6b5-x2x9q', uid: UID, container: 'django', id: WEB_ID });
    const proxy = placePodContainer(root, { namespace: 'shop', pod: 'web-7d9f8c6b5-x2x9q', uid: UID, container: 'istio-proxy', id: 'c1'.repeat(32) });
    const dns = placePodContainer(root, { namespace: 'kube-system', pod: 'coredns-5d78c9869d-abcde', uid: 'aa11bb22-cc33-dd44-ee55-ff6677889900', container: 'coredns', id: 'c2'.repeat(32) });
    // An older generation kubelet already compressed: gzip bytes, never read as text.
    writeFileSync(`${web}.20261205-090000.gz`, gzipSync(criSeqLines('compressed', 0, 50)));
    writeFileSync(proxy, criSeqLines('proxy', 0, 100));
    writeFileSync(dns, criSeqLines('dns', 0, 100));
    // The app: seq lines, a 40 KiB line containerd cut into P pieces (stderr lines between them), a Django record.
    const long = `long seq=100 ${'é'.repeat(20_000)}`;
    // (latin1: the pieces' bytes as they are, characters cut between pieces included)
    const pieces = criLines('stdout', long, rfc3339Nano(nowNs())).toString('latin1').split('\n').filter((l) => l !== '');
    writeFileSync(web, criSeqLines('app', 0, 100));
    appendFileSync(web, Buffer.from(pieces[0]! + '\n', 'latin1'));
    appendFileSync(web, criLines('stderr', 'app seq=101', rfc3339Nano(nowNs())));
    appendFileSync(web, Buffer.from(pieces.slice(1).join('\n') + '\n', 'latin1'));
    const django = JSON.stringify({ asctime: '2026-12-05 10:00:00,000', levelname: 'ERROR', name: 'django.request', message: 'app seq=102', status_code: 500 });
    appendFileSync(web, criLines('stderr', django, rfc3339Nano(nowNs())));

    const config = writeConfig(s.dir, {
      data_dir: join(s.dir, 'data'),
      host_name: 'node-1',
      ...FAST,
      inputs: [
        {
          type: 'cri',
          paths: [join(root, 'pods', '*', '*', glob)],
          containers: { exclude: [{ namespace: 'kube-*' }, { container: 'istio-proxy' }] },
        },
      ],
      sink: { type: 'elasticsearch', node: s.es.url, index: INDEX },
    });
    const agent = agents.start(config);
    await waitFor(() => s.stored().length >= 103, 20_000, 'the first 103 records');

    // kubelet rotates: rename, the runtime writes on into the renamed file until ReopenContainerLog, then a new 0.log.
    const rotated = `${web}.20261205-100000`;
    renameSync(web, rotated);
    appendFileSync(rotated, criSeqLines('app', 103, 150));
    writeFileSync(web, criSeqLines('app', 150, 250));
    await waitFor(() => s.stored().length >= 250, 20_000, '250 records');
    // The next rotation compresses the rotated file: gzip into .tmp, rename to .gz, remove the original.
    writeFileSync(`${rotated}.tmp`, gzipSync(readFileSync(rotated)));
    renameSync(`${rotated}.tmp`, `${rotated}.gz`);
    unlinkSync(rotated);
    appendFileSync(web, criSeqLines('app', 250, 300));
    await waitFor(() => s.stored().length >= 300, 20_000, '300 records');
    await new Promise((r) => setTimeout(r, 1500)); // anything extra (an archive read, a duplicate) would show by now
    agent.signal('SIGTERM');
    assert.equal(await agent.exited(), 0);

    const docs = [...(s.es.docs.get(INDEX)?.values() ?? [])] as Record<string, any>[];
    const messages = docs.map((d) => String(d['message']));
    assert.equal(checkExactlyOnce(seqsOf(messages), 300), null);
    assert.ok(messages.every((m) => m.startsWith('app seq=') || m.startsWith('long seq=') || m === 'app seq=102'), 'nothing from proxy, dns or the archives');
    const longDoc = docs.find((d) => String(d['message']).startsWith('long'))!;
    assert.equal(longDoc['message'], long, 'the pieces joined, the characters cut between them whole');
    assert.equal(longDoc['tags'], undefined);
    for (const d of docs) {
      assert.deepEqual(d['kubernetes'], { namespace: 'shop', pod: { name: 'web-7d9f8c6b5-x2x9q', uid: UID }, container: { name: 'django' } });
      assert.deepEqual(d['container'], { id: WEB_ID, name: 'django' }, 'the id from kubelet\'s /var/log/containers link');
    }
    const error = docs.find((d) => d['message'] === 'app seq=102')!;
    assert.deepEqual([error['log']['level'], error['log']['logger'], error['django']['status_code'], error['stream']], ['ERROR', 'django.request', 500, 'stderr']);
  });
}

/** Docker json-file lines "<prefix> seq=N" written now, as dockerd writes them. */
function dockerSeqLines(prefix: string, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) {
    const time = new Date().toISOString().slice(0, 23) + '456789Z';
    out += JSON.stringify({ log: `${prefix} seq=${i}\n`, stream: i % 3 === 0 ? 'stderr' : 'stdout', time }) + '\n';
  }
  return out;
}

const LOGSHIP = { id: 'a1'.repeat(32), name: 'docker-logship-1', image: 'logship:local', labels: composeLabels('docker', 'logship') };
const ELASTIC = {
  id: 'e5'.repeat(32),
  name: 'docker-elasticsearch-1',
  image: 'docker.elastic.co/elasticsearch/elasticsearch:8.19.0',
  labels: composeLabels('docker', 'elasticsearch'),
};
const WORKER = { id: 'b0'.repeat(32), name: 'accreditrack-worker-1', image: 'registry.example.com:5000/accreditrack/backend:1.4.2', labels: composeLabels('accreditrack', 'worker') };

test('Docker compose: excluded containers are not opened, the others carry name, image, labels and service — a CloudWatch stream per service', async () => {
  const dir = tempDir('logship-compose-');
  const containers = join(dir, 'containers');
  mkdirSync(containers);
  const backend = placeContainer(containers);
  const worker = placeContainer(containers, WORKER);
  const logship = placeContainer(containers, LOGSHIP);
  const elastic = placeContainer(containers, ELASTIC);
  writeFileSync(backend.log, dockerSeqLines('backend', 0, 60));
  writeFileSync(worker.log, dockerSeqLines('worker', 60, 100));
  writeFileSync(logship.log, dockerSeqLines('logship', 0, 50));
  writeFileSync(elastic.log, dockerSeqLines('elastic', 0, 50));
  const cw = await startCloudWatchServer();
  servers.push(cw);
  const group = '/accreditrack/containers';
  const config = writeConfig(dir, {
    data_dir: join(dir, 'data'),
    host_name: 'docker-host',
    ...FAST,
    inputs: [
      {
        type: 'docker',
        paths: [join(containers, '*', '*-json.log')],
        containers: { exclude: [{ label: 'com.docker.compose.service=logship' }, { image: 'docker.elastic.co/*' }] },
      },
    ],
    sink: { type: 'cloudwatch', region: TEST_REGION, endpoint: cw.url, log_group: group, log_stream: '{host}/{service}' },
  });
  const { code } = await runOnce(config);
  assert.equal(code, 0);

  assert.deepEqual([...cw.groups.get(group)!.streams.keys()].sort(), ['docker-host/backend', 'docker-host/worker']);
  const backendDocs = cw.events(group, 'docker-host/backend').map((e) => JSON.parse(e.message) as Record<string, any>);
  const workerDocs = cw.events(group, 'docker-host/worker').map((e) => JSON.parse(e.message) as Record<string, any>);
  assert.equal(checkExactlyOnce(seqsOf([...backendDocs, ...workerDocs].map((d) => d['message'])), 100), null);
  assert.ok(backendDocs.every((d) => String(d['message']).startsWith('backend')));
  assert.deepEqual(backendDocs[0]!['container'], {
    id: COMPOSE_CONTAINER_ID,
    name: 'accreditrack-backend-1',
    image: { name: 'registry.example.com:5000/accreditrack/backend', tag: '1.4.2' },
    labels: { com_docker_compose_project: 'accreditrack', com_docker_compose_service: 'backend' },
  });
  assert.deepEqual(backendDocs[0]!['service'], { name: 'backend' });
  assert.equal(workerDocs[0]!['container']['name'], 'accreditrack-worker-1');

  // The excluded containers' files were never opened: no checkpoint names them.
  const registry = readFileSync(join(dir, 'data', 'registry.json'), 'utf8');
  assert.ok(registry.includes(backend.log) && registry.includes(worker.log));
  assert.ok(!registry.includes(logship.id) && !registry.includes(elastic.id), registry);
  assert.ok(!existsSync(join(dir, 'data', 'dead_letters.ndjson')) || readNdjson(join(dir, 'data', 'dead_letters.ndjson')).length === 0);
});
