import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileContainerFilter, containerSelected, globTest, type ContainerFacts, type ContainerFilterConfig } from '../../src/containers/filter.js';

const backend: ContainerFacts = {
  name: 'accreditrack-backend-1',
  image: 'registry.example.com:5000/accreditrack/backend:1.4.2',
  imageName: 'registry.example.com:5000/accreditrack/backend',
  labels: { 'com.docker.compose.project': 'accreditrack', 'com.docker.compose.service': 'backend' },
};
const logship: ContainerFacts = {
  name: 'docker-logship-1',
  image: 'logship:local',
  imageName: 'logship',
  labels: { 'com.docker.compose.project': 'docker', 'com.docker.compose.service': 'logship' },
};
const elastic: ContainerFacts = {
  name: 'docker-elasticsearch-1',
  image: 'docker.elastic.co/elasticsearch/elasticsearch:8.19.0',
  imageName: 'docker.elastic.co/elasticsearch/elasticsearch',
  labels: { 'com.docker.compose.service': 'elasticsearch', 'org.opencontainers.image.vendor': 'Elastic' },
};

const selected = (config: Partial<ContainerFilterConfig>, facts: ContainerFacts | null): boolean =>
  containerSelected(facts, compileContainerFilter({ include: [], exclude: [], ...config }));

test('globs: * crosses "/" and ":", ? is one character, the rest is literal', () => {
  assert.ok(globTest('docker.elastic.co/*')('docker.elastic.co/elasticsearch/elasticsearch:8.19.0'));
  assert.ok(globTest('logship*')('logship'));
  assert.ok(!globTest('logship*')('my-logship'));
  assert.ok(globTest('web-?')('web-1'));
  assert.ok(!globTest('web-?')('web-12'));
  // Regex characters stand for themselves.
  assert.ok(globTest('a.b(c)+[d]')('a.b(c)+[d]'));
  assert.ok(!globTest('a.b')('axb'));
  assert.ok(!globTest('Backend')('backend'), 'case-sensitive');
});

test('no include: everything but the excluded; include: only what matches one entry, minus the excluded', () => {
  const exclude = [{ name: '*logship*' }, { image: 'docker.elastic.co/*' }];
  assert.ok(selected({ exclude }, backend));
  assert.ok(!selected({ exclude }, logship), 'by name');
  assert.ok(!selected({ exclude }, elastic), 'by image, across the registry\'s "/"');
  assert.ok(selected({}, logship), 'no filter: everything');

  const include = [{ label: 'com.docker.compose.service=backend' }];
  assert.ok(selected({ include }, backend));
  assert.ok(!selected({ include }, logship));
  assert.ok(!selected({ include, exclude: [{ name: 'accreditrack-*' }] }, backend), 'an exclude wins over an include');
  assert.ok(selected({ include: [{ label: 'com.docker.compose.service=web' }, { image: 'logship' }] }, logship), 'any include entry');
});

test('one entry: all its keys must match', () => {
  const both = [{ name: 'accreditrack-*', label: 'com.docker.compose.service=backend' }];
  assert.ok(selected({ include: both }, backend));
  assert.ok(!selected({ include: [{ name: 'accreditrack-*', label: 'com.docker.compose.service=worker' }] }, backend));
  assert.ok(selected({ exclude: [{ name: 'docker-*', image: 'logship*' }] }, elastic), 'the name matches, the image not: kept');
  assert.ok(!selected({ exclude: [{ name: 'docker-*', image: 'logship*' }] }, logship), 'both match');
});

test('labels: key=value glob, or a key alone; images by reference or by name', () => {
  assert.ok(selected({ include: [{ label: 'org.opencontainers.image.vendor' }] }, elastic));
  assert.ok(!selected({ include: [{ label: 'org.opencontainers.image.vendor' }] }, backend));
  assert.ok(selected({ include: [{ label: 'com.docker.compose.service=back*' }] }, backend));
  assert.ok(selected({ include: [{ label: 'com.docker.compose.project=accreditrack' }] }, backend));
  assert.ok(!selected({ include: [{ label: 'com.docker.compose.project=accreditrack' }] }, logship));
  // A value holding "=" is compared whole after the first "=".
  assert.ok(selected({ include: [{ label: 'expr=a=b' }] }, { labels: { expr: 'a=b' } }));
  // `nginx` names the image whatever its tag; the full reference can be matched too.
  assert.ok(selected({ include: [{ image: 'registry.example.com:5000/accreditrack/backend' }] }, backend));
  assert.ok(selected({ include: [{ image: '*:1.4.2' }] }, backend));
  assert.ok(!selected({ include: [{ image: '*:1.4.3' }] }, backend));
});

test('Kubernetes keys: namespace, pod, container', () => {
  const web: ContainerFacts = { namespace: 'shop', pod: 'web-7d9f8c6b5-x2x9q', container: 'django' };
  assert.ok(selected({ include: [{ namespace: 'shop' }] }, web));
  assert.ok(!selected({ exclude: [{ namespace: 'kube-*' }, { container: 'istio-proxy' }] }, { ...web, namespace: 'kube-system' }));
  assert.ok(!selected({ exclude: [{ container: 'istio-proxy' }] }, { ...web, container: 'istio-proxy' }));
  assert.ok(selected({ include: [{ namespace: 'shop', pod: 'web-*', container: 'django' }] }, web));
  assert.ok(!selected({ include: [{ namespace: 'shop', pod: 'worker-*' }] }, web));
});

test('unknown facts match no entry: shipped without include, not shipped with one', () => {
  assert.ok(selected({ exclude: [{ name: '*' }] }, null));
  assert.ok(selected({ exclude: [{ label: 'a' }, { image: '*' }, { namespace: '*' }] }, {}));
  assert.ok(!selected({ include: [{ name: '*' }] }, null));
});

test('property: the selection is (no include or one matches) and no exclude matches, whatever the entries', () => {
  const value = fc.constantFrom('a', 'b', 'ab', 'web-1', 'x/y:z');
  const glob = fc.constantFrom('*', 'a', 'b*', '*b', 'web-?', 'x/*', '?');
  const facts = fc.record({ name: value, image: value, imageName: value, labels: fc.dictionary(fc.constantFrom('k', 'l'), value) }, { requiredKeys: [] });
  const entry = fc.record({ name: glob, image: glob, label: fc.constantFrom('k', 'l', 'k=a', 'k=*', 'l=web-?') }, { requiredKeys: [] }).filter((e) => Object.keys(e).length > 0);
  fc.assert(
    fc.property(facts, fc.array(entry, { maxLength: 3 }), fc.array(entry, { maxLength: 3 }), (f, include, exclude) => {
      const matches = (e: (typeof include)[number]): boolean =>
        (e.name === undefined || (f.name !== undefined && globTest(e.name)(f.name))) &&
        (e.image === undefined || (f.image !== undefined && globTest(e.image)(f.image)) || (f.imageName !== undefined && globTest(e.image)(f.imageName))) &&
        (e.label === undefined ||
          (() => {
            const [k, ...v] = e.label.split('=');
            const labels = f.labels ?? {};
            return Object.hasOwn(labels, k!) && (v.length === 0 || globTest(v.join('='))(labels[k!]!));
          })());
      const expected = (include.length === 0 || include.some(matches)) && !exclude.some(matches);
      assert.equal(selected({ include, exclude }, f), expected);
    }),
  );
});
