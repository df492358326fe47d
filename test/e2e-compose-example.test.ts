/**
 * The compose example's own config (docker/logship.elasticsearch.yml, as docker-compose.yml mounts it) through the
 * built CLI, on a host laid out as Docker lays it out: the Django backend's files are shipped and its console output
 * is not (it repeats them), logship's own output and the stack's Elasticsearch/Kibana/Prometheus/Grafana are never
 * shipped, any other container is.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLI, tempDir } from './support/agent.js';
import { startEsServer, type EsServerHandle } from './support/es-server.js';
import { composeLabels, placeContainer } from './support/docker-containers.js';
import { INDEX } from './support/scenario.js';

const servers: EsServerHandle[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

const EXAMPLE = resolve(import.meta.dirname, '../docker/logship.elasticsearch.yml');

function lines(prefix: string, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += JSON.stringify({ log: `${prefix} ${i}\n`, stream: 'stdout', time: `2026-12-05T10:00:0${i}.000000001Z` }) + '\n';
  return out;
}

test('the compose example ships the backend\'s files, not its console, and never logship\'s or the stack\'s own output', async () => {
  const es = await startEsServer({ auth: { basic: { username: 'logship', password: 'pw' } } });
  servers.push(es);
  const dir = tempDir('logship-compose-example-');
  const containers = join(dir, 'containers');
  const django = join(dir, 'django');
  mkdirSync(containers);
  mkdirSync(django);
  writeFileSync(join(django, 'django.log'), JSON.stringify({ asctime: '2026-12-05 10:00:00,000', levelname: 'INFO', name: 'django.server', message: 'from the file' }) + '\n');
  const place = (id: string, name: string, image: string, project: string, service: string): string => {
    const c = placeContainer(containers, { id: id.repeat(32), name, image, labels: composeLabels(project, service) });
    writeFileSync(c.log, lines(`${service} console`, 3));
    return c.log;
  };
  place('b1', 'accreditrack-backend-1', 'accreditrack-backend', 'accreditrack', 'backend');
  place('c1', 'accreditrack-worker-1', 'accreditrack-backend', 'accreditrack', 'worker');
  place('d1', 'docker-logship-1', 'logship:local', 'docker', 'logship');
  place('e1', 'docker-elasticsearch-1', 'docker.elastic.co/elasticsearch/elasticsearch:8.19.0', 'docker', 'elasticsearch');
  place('f1', 'docker-kibana-1', 'docker.elastic.co/kibana/kibana:8.19.0', 'docker', 'kibana');
  place('a1', 'docker-prometheus-1', 'prom/prometheus:v3.5.0', 'docker', 'prometheus');
  place('a2', 'docker-grafana-1', 'grafana/grafana:11.6.0', 'docker', 'grafana');

  const child = spawn(process.execPath, [CLI, 'run', '--once', '--config', EXAMPLE], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env['PATH'] ?? '',
      ES_URL: es.url,
      ES_PASSWORD: 'pw',
      LOGSHIP_DATA_DIR: join(dir, 'data'),
      DJANGO_LOG_DIR: django,
      DOCKER_CONTAINERS_DIR: containers,
    },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((res) => child.on('exit', res));
  assert.equal(code, 0, stderr);

  const docs = [...(es.docs.get(INDEX)?.values() ?? [])] as Record<string, any>[];
  const messages = docs.map((d) => String(d['message'])).sort();
  assert.deepEqual(messages, ['from the file', 'worker console 0', 'worker console 1', 'worker console 2']);
  const worker = docs.find((d) => String(d['message']).startsWith('worker'))!;
  assert.deepEqual(worker['service'], { name: 'worker' });
  assert.equal(worker['container']['name'], 'accreditrack-worker-1');
  // The one line that ships logship's own log too is there to delete, with its comment.
  assert.match(readFileSync(EXAMPLE, 'utf8'), /- \{ label: "com\.docker\.compose\.service=logship" \} +# logship's own log: delete this line to ship it too/);
});
