import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseImageReference } from '../../src/containers/image-ref.js';

const DIGEST = 'sha256:' + '3b5e8c1d'.repeat(8);

test('image references: name and tag, with registries, ports and digests', () => {
  assert.deepEqual(parseImageReference('nginx'), { name: 'nginx' });
  assert.deepEqual(parseImageReference('nginx:1.27'), { name: 'nginx', tag: '1.27' });
  assert.deepEqual(parseImageReference('library/nginx:1.27-alpine'), { name: 'library/nginx', tag: '1.27-alpine' });
  assert.deepEqual(parseImageReference('docker.elastic.co/elasticsearch/elasticsearch:8.19.0'), {
    name: 'docker.elastic.co/elasticsearch/elasticsearch',
    tag: '8.19.0',
  });
  // A registry port is not a tag: only a ":" after the last "/" is.
  assert.deepEqual(parseImageReference('registry.example.com:5000/accreditrack/backend:1.4.2'), {
    name: 'registry.example.com:5000/accreditrack/backend',
    tag: '1.4.2',
  });
  assert.deepEqual(parseImageReference('registry.example.com:5000/accreditrack/backend'), { name: 'registry.example.com:5000/accreditrack/backend' });
  assert.deepEqual(parseImageReference('localhost:5000/app'), { name: 'localhost:5000/app' });
  // Digests: pinned without a tag, or with one.
  assert.deepEqual(parseImageReference(`nginx@${DIGEST}`), { name: 'nginx', digest: DIGEST });
  assert.deepEqual(parseImageReference(`host:5000/team/app:2.0@${DIGEST}`), { name: 'host:5000/team/app', tag: '2.0', digest: DIGEST });
  // Created from an image id: nothing to split.
  assert.deepEqual(parseImageReference(DIGEST), { name: DIGEST });
  assert.deepEqual(parseImageReference('3b5e8c1d'.repeat(8)), { name: '3b5e8c1d'.repeat(8) });
  assert.equal(parseImageReference(''), null);
  assert.equal(parseImageReference(':tag'), null);
});
