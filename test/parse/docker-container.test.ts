import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ContainerCatalog } from '../../src/containers/catalog.js';
import type { InputConfig } from '../../src/config/types.js';
import { silentLogger } from '../../src/log.js';
import { createDockerParser } from '../../src/parse/docker.js';
import type { Line } from '../../src/parse/types.js';
import { tempDir } from '../support/agent.js';
import { COMPOSE_CONTAINER_ID, placeContainer } from '../support/docker-containers.js';
import { parseFile } from '../support/parse-file.js';
import { decoded, parserContext, type DecodedRecord } from '../support/parsing.js';

const ID = COMPOSE_CONTAINER_ID;
const PATH = `/var/lib/docker/containers/${ID}/${ID}-json.log`;
const CONTAINER = {
  id: ID,
  name: 'accreditrack-backend-1',
  image: { name: 'registry.example.com:5000/accreditrack/backend', tag: '1.4.2' },
  labels: { com_docker_compose_project: 'accreditrack', com_docker_compose_service: 'backend' },
};

/** The container facts the agent puts in the ParserContext for the compose fixture, made by the real catalog. */
function composeInfo(): NonNullable<ReturnType<ContainerCatalog['infoFor']>> {
  const root = tempDir('logship-docker-');
  try {
    const { log } = placeContainer(root);
    const input: InputConfig = { type: 'docker', paths: [join(root, '*', '*-json.log')], exclude: [], timezone: 'UTC', startAt: 'beginning', includeOriginal: false, symlinkRoots: null, formatter: null };
    return new ContainerCatalog([input], silentLogger).infoFor(input, log)!;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** A json-file entry as dockerd writes it (jsonlog.JSONLogs.MarshalJSONBuf: log, stream, attrs, time). */
function entry(log: string, stream: 'stdout' | 'stderr', n: number, attrs?: Record<string, string>): string {
  const time = `2026-12-05T10:00:0${n}.123456789Z`;
  return `{"log":${JSON.stringify(log)},"stream":"${stream}"${attrs ? `,"attrs":${JSON.stringify(attrs)}` : ''},"time":"${time}"}\n`;
}

test('every document of a compose container carries its name, image, compose labels and service, whatever way it was made', () => {
  const ctx = parserContext(PATH, { container: composeInfo(), timezone: 'UTC' });
  const file = Buffer.from(
    [
      entry('172.18.0.1 - - "GET /health HTTP/1.1" 200\n', 'stdout', 0), // plain ASCII: written from its bytes
      entry('café au lait\n', 'stdout', 1), // not ASCII: decoded
      entry(JSON.stringify({ levelname: 'INFO', name: 'django', message: 'ready' }) + '\n', 'stderr', 2), // Django JSON
      'not a docker entry\n', // broken
    ].join(''),
  );
  const { rows } = parseFile('docker', ctx, file);
  assert.deepEqual(rows.map((r) => r.doc.message), ['172.18.0.1 - - "GET /health HTTP/1.1" 200', 'café au lait', 'ready', 'not a docker entry']);
  for (const r of rows) {
    assert.deepEqual(r.doc.container, CONTAINER, r.doc.message);
    assert.deepEqual(r.doc.service, { name: 'backend' }, r.doc.message);
  }
  assert.deepEqual(rows[3]!.doc.tags, ['_logship_parse_error', '_logship_timestamp_missing']);
});

test('the byte path and the string path write the same document for a compose container', () => {
  const ctx = parserContext(PATH, { container: composeInfo(), timezone: 'UTC' });
  const line = entry('GET /api/items 200 12ms\n', 'stdout', 3);
  const viaBytes = parseFile('docker', ctx, Buffer.from(line)).rows;
  const records: DecodedRecord[] = [];
  const parser = createDockerParser(ctx, ID, (r) => records.push(decoded(r)));
  parser.push({ text: line.slice(0, -1), start: 0, end: line.length, truncated: false, invalidUtf8: false, partial: false }, 0);
  assert.equal(viaBytes.length, 1);
  assert.deepEqual(viaBytes[0]!.doc, records[0]!.doc);
  assert.deepEqual(Object.keys(records[0]!.doc), ['@timestamp', 'message', 'log', 'host', 'stream', 'container', 'service']);
});

test('attrs from --log-opt labels=…/env=…/tag=… go to container.labels, with the container\'s own', () => {
  const ctx = parserContext(PATH, { container: composeInfo(), timezone: 'UTC' });
  // dockerd: json.Marshal of the attrs map (sorted keys), the same on every entry of the container's logger.
  const attrs = { 'com.example.team': 'payments', DJANGO_ENV: 'staging', tag: 'backend/web' };
  const l: Line[] = [];
  let offset = 0;
  for (const [i, text] of ['first\n', 'second\n'].entries()) {
    const e = entry(text, i === 0 ? 'stdout' : 'stderr', i, attrs);
    l.push({ text: e.slice(0, -1), start: offset, end: offset + Buffer.byteLength(e), truncated: false, invalidUtf8: false, partial: false });
    offset += Buffer.byteLength(e);
  }
  const records: DecodedRecord[] = [];
  const parser = createDockerParser(ctx, ID, (r) => records.push(decoded(r)));
  for (const line of l) parser.push(line, 0);
  parser.flush(0, true);
  assert.equal(records.length, 2);
  for (const r of records) {
    assert.deepEqual(r.doc.container?.labels, {
      com_docker_compose_project: 'accreditrack',
      com_docker_compose_service: 'backend',
      com_example_team: 'payments',
      DJANGO_ENV: 'staging',
      tag: 'backend/web',
    });
    assert.equal(r.doc.container?.name, 'accreditrack-backend-1');
  }
  // Without metadata (no config.v2.json), attrs alone: the id from the path, and the labels.
  const bare: DecodedRecord[] = [];
  const noMeta = createDockerParser(parserContext(PATH), ID, (r) => bare.push(decoded(r)));
  noMeta.push(l[0]!, 0);
  assert.deepEqual(bare[0]!.doc.container, { id: ID, labels: { com_example_team: 'payments', DJANGO_ENV: 'staging', tag: 'backend/web' } });
  assert.equal(bare[0]!.doc.service, undefined);
});
