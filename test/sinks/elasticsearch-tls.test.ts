/**
 * TLS verification is on by default: a cluster whose certificate the agent cannot verify stops the sink with a
 * reason, until its CA is configured (tls.ca) or verification is turned off explicitly.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createElasticsearchSink } from '../../sinks/elasticsearch/index.js';
import { silentLogger } from '../../src/log.js';
import { sampleRecord } from '../support/records.js';
import { batchOf } from '../../src/pipeline/batch.js';
import { startEsServer, type EsServerHandle } from '../support/es-server.js';
import { tempDir } from '../support/agent.js';

let es: EsServerHandle;
let caFile: string;

before(async () => {
  // A self-signed certificate for 127.0.0.1, made with Debian's openssl, as a cluster's own CA would issue one.
  const dir = tempDir('logship-tls-');
  caFile = join(dir, 'ca.crt');
  const keyFile = join(dir, 'node.key');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', caFile,
  ], { stdio: 'ignore' });
  es = await startEsServer({ tls: { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(caFile, 'utf8') } });
});
after(() => es.close());

const sinkWith = (tls: { ca?: string; verify: boolean }) =>
  createElasticsearchSink(
    { type: 'elasticsearch', nodes: [es.url], index: 'logs-django-default', dataStream: true, tls, compression: false, requestTimeoutMs: 5000 },
    { logger: silentLogger, hostName: 'test' },
  );

const record = sampleRecord(0, { path: '/l/django.log', idPrefix: 'tls', message: 'over TLS' });

test('an unverifiable certificate stops the sink with a reason that says what to set', async () => {
  assert.match(es.url, /^https:/);
  const sink = sinkWith({ verify: true });
  try {
    const result = await sink.start();
    assert.equal(result.kind, 'fatal');
    assert.match(result.kind === 'fatal' ? result.reason : '', /certificate/i);
    assert.match(result.kind === 'fatal' ? result.reason : '', /tls\.ca/);
    assert.equal(es.count('logs-django-default'), 0);
  } finally {
    await sink.close();
  }
});

test('with the cluster CA in tls.ca the certificate verifies and records are stored', async () => {
  const sink = sinkWith({ ca: caFile, verify: true });
  try {
    assert.deepEqual(await sink.start(), { kind: 'delivered' });
    assert.deepEqual(await sink.send(batchOf([record])), { kind: 'delivered' });
    assert.equal(es.docs.get('logs-django-default')?.get('tls-0')?.['message'], 'over TLS');
  } finally {
    await sink.close();
  }
});

test('verify: false is an explicit opt-out that works without the CA', async () => {
  const sink = sinkWith({ verify: false });
  try {
    assert.deepEqual(await sink.start(), { kind: 'delivered' });
  } finally {
    await sink.close();
  }
});

test('verify: false with tls.ca: the certificate must still be signed by that CA, only its host name is not checked', async () => {
  // A cluster whose certificate names another host (issued for its DNS name, reached by address).
  const dir = tempDir('logship-tls-');
  const otherCa = join(dir, 'other.crt');
  const otherKey = join(dir, 'other.key');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=es.example',
    '-addext', 'subjectAltName=DNS:es.example', '-keyout', otherKey, '-out', otherCa,
  ], { stdio: 'ignore' });
  const named = await startEsServer({ tls: { key: readFileSync(otherKey, 'utf8'), cert: readFileSync(otherCa, 'utf8') } });
  const sinkFor = (tls: { ca?: string; verify: boolean }) =>
    createElasticsearchSink(
      { type: 'elasticsearch', nodes: [named.url], index: 'logs-django-default', dataStream: true, tls, compression: false, requestTimeoutMs: 5000 },
      { logger: silentLogger, hostName: 'test' },
    );
  try {
    const results: Record<string, string> = {};
    for (const [name, tls] of [
      ['right CA, verify', { ca: otherCa, verify: true }],
      ['right CA, no verify', { ca: otherCa, verify: false }],
      ['wrong CA, no verify', { ca: caFile, verify: false }],
    ] as const) {
      const sink = sinkFor(tls);
      try {
        results[name] = (await sink.start()).kind;
      } finally {
        await sink.close();
      }
    }
    assert.deepEqual(results, { 'right CA, verify': 'fatal', 'right CA, no verify': 'delivered', 'wrong CA, no verify': 'fatal' });
  } finally {
    await named.close();
  }
});
