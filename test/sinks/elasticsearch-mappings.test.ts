import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ECS_MAPPINGS } from '../../sinks/elasticsearch/template.js';
import { createCriParser } from '../../src/parse/cri.js';
import { createDockerParser } from '../../src/parse/docker.js';
import type { ContainerInfo } from '../../src/containers/metadata.js';
import { decoded, parserContext, type DecodedRecord } from '../support/parsing.js';

type Mapping = { type?: string; properties?: Record<string, Mapping> };

/** The mapping of a document path in ECS_MAPPINGS: a leaf's type, or 'flattened' for anything under such a field. */
function mappedType(path: string[]): string | undefined {
  let m: Mapping = ECS_MAPPINGS as unknown as Mapping;
  for (const key of path) {
    if (m.type === 'flattened') return 'flattened';
    const next = m.properties?.[key];
    if (next === undefined) return undefined;
    m = next;
  }
  return m.type;
}

function leaves(doc: unknown, prefix: string[] = []): string[][] {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return [prefix];
  return Object.entries(doc as Record<string, unknown>).flatMap(([k, v]) => leaves(v, [...prefix, k]));
}

test('the index template logship installs maps every container, service and kubernetes field the parsers write', () => {
  const id = 'ab'.repeat(32);
  const docker: ContainerInfo = {
    id,
    name: 'accreditrack-backend-1',
    image: { name: 'registry.example.com:5000/accreditrack/backend', tag: '1.4.2', digest: 'sha256:' + 'cd'.repeat(32) },
    labels: { 'com.docker.compose.project': 'accreditrack', 'com.docker.compose.service': 'backend' },
    service: 'backend',
    kubernetes: { namespace: 'shop', podName: 'web-1', podUid: 'u-1', containerName: 'django' },
  };
  const records: DecodedRecord[] = [];
  const dockerParser = createDockerParser(parserContext(`/c/${id}/${id}-json.log`, { container: docker }), id, (r) => records.push(decoded(r)));
  const entry = '{"log":"GET / 200\\n","stream":"stdout","attrs":{"tag":"web","com.example.team":"payments"},"time":"2026-12-05T10:00:00.1Z"}';
  dockerParser.push({ text: entry, start: 0, end: entry.length + 1, truncated: false, invalidUtf8: false, partial: false }, 0);
  const criParser = createCriParser(parserContext('/var/log/pods/shop_web-1_u-1/django/0.log', { container: { name: 'django', kubernetes: docker.kubernetes! } }), (r) => records.push(decoded(r)));
  const line = '2026-12-05T10:00:00.123456789Z stderr F boom';
  criParser.push({ text: line, start: 0, end: line.length + 1, truncated: false, invalidUtf8: false, partial: false }, 0);
  assert.equal(records.length, 2);
  const paths = records.flatMap((r) => leaves(r.doc)).filter((p) => ['container', 'service', 'kubernetes', 'stream'].includes(p[0]!));
  assert.ok(paths.some((p) => p.join('.') === 'container.labels.com_example_team'));
  for (const p of paths) {
    const type = mappedType(p);
    assert.ok(type === 'keyword' || type === 'flattened', `${p.join('.')} is mapped as ${type}`);
  }
});
