import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ContainerIdLinks, isKubeletArchive, parseKubernetesPath } from '../../src/containers/kubernetes-path.js';
import { tempDir } from '../support/agent.js';
import { placePodContainer } from '../support/kubelet.js';

const UID = '0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
const ID = 'c0ffee00'.repeat(8);

test('the /var/log/pods form: namespace, pod, uid, container, restart — and kubelet\'s rotated names', () => {
  const expected = { namespace: 'shop', podName: 'web-7d9f8c6b5-x2x9q', podUid: UID, containerName: 'django', restart: 0 };
  assert.deepEqual(parseKubernetesPath(`/var/log/pods/shop_web-7d9f8c6b5-x2x9q_${UID}/django/0.log`), expected);
  assert.deepEqual(parseKubernetesPath(`/var/log/pods/shop_web-7d9f8c6b5-x2x9q_${UID}/django/0.log.20261205-100000`), expected);
  assert.deepEqual(parseKubernetesPath(`/host/var/log/pods/shop_web-7d9f8c6b5-x2x9q_${UID}/django/3.log`), { ...expected, restart: 3 });
  // Static pods' uid is a hash; namespaces and pod names may hold dots and dashes.
  assert.deepEqual(parseKubernetesPath('/var/log/pods/kube-system_kube-apiserver-node-1.example_4b5f1c2d3e4f5a6b7c8d9e0f1a2b3c4d/kube-apiserver/1.log'), {
    namespace: 'kube-system',
    podName: 'kube-apiserver-node-1.example',
    podUid: '4b5f1c2d3e4f5a6b7c8d9e0f1a2b3c4d',
    containerName: 'kube-apiserver',
    restart: 1,
  });
});

test('the /var/log/containers form: pod, namespace, container and the container id', () => {
  assert.deepEqual(parseKubernetesPath(`/var/log/containers/web-7d9f8c6b5-x2x9q_shop_django-${ID}.log`), {
    podName: 'web-7d9f8c6b5-x2x9q',
    namespace: 'shop',
    containerName: 'django',
    containerId: ID,
  });
  // Container names with dashes: the id is the last 64 hex digits.
  assert.equal(parseKubernetesPath(`/var/log/containers/p_ns_istio-proxy-${ID}.log`)?.containerName, 'istio-proxy');
});

test('neither form: no Kubernetes facts; compressed generations are archives', () => {
  assert.equal(parseKubernetesPath('/var/log/app/django.log'), null);
  assert.equal(parseKubernetesPath(`/var/log/pods/shop_web_${UID}/django/0.log.gz`), null);
  assert.equal(parseKubernetesPath(`/var/log/pods/shop_web_${UID}/django/x.log`), null);
  assert.ok(isKubeletArchive(`/var/log/pods/shop_web_${UID}/django/0.log.20261205-100000.gz`));
  assert.ok(isKubeletArchive(`/var/log/pods/shop_web_${UID}/django/0.log.20261205-100000.tmp`), 'gzip being written');
  assert.ok(!isKubeletArchive(`/var/log/pods/shop_web_${UID}/django/0.log.20261205-100000`));
  assert.ok(!isKubeletArchive(`/var/log/pods/shop_web_${UID}/django/0.log`));
});

test('the container id of a /var/log/pods file, through kubelet\'s symlink in /var/log/containers', () => {
  const root = tempDir('logship-k8s-');
  try {
    const pod = { namespace: 'shop', pod: 'web-7d9f8c6b5-x2x9q', uid: UID, container: 'django', id: ID };
    const log = placePodContainer(root, pod);
    // Another restart of the same container, and another container of the pod: their links must not be taken.
    const other = 'deadbeef'.repeat(8);
    placePodContainer(root, { ...pod, id: other, restart: 1 });
    placePodContainer(root, { ...pod, container: 'nginx', id: 'abad1dea'.repeat(8) });
    const links = new ContainerIdLinks();
    const k = parseKubernetesPath(log)!;
    assert.equal(links.find(log, k), ID);
    assert.equal(links.find(`${log}.20261205-100000`, parseKubernetesPath(`${log}.20261205-100000`)!), ID, 'a rotated generation');
    const restarted = join(root, 'pods', `shop_web-7d9f8c6b5-x2x9q_${UID}`, 'django', '1.log');
    assert.equal(links.find(restarted, parseKubernetesPath(restarted)!), other);
    // Cached: the link removed later (container garbage-collected) does not matter for the same file.
    unlinkSync(join(root, 'containers', `web-7d9f8c6b5-x2x9q_shop_django-${ID}.log`));
    assert.equal(links.find(log, k), ID);
    // No link: no id (and a later link is found).
    const fresh = new ContainerIdLinks();
    assert.equal(fresh.find(log, k), undefined);
    symlinkSync(log, join(root, 'containers', `web-7d9f8c6b5-x2x9q_shop_django-${ID}.log`));
    assert.equal(fresh.find(log, k), ID);
    // The containers form names it itself; a pods directory elsewhere than `pods/` is not looked around.
    const c = `/var/log/containers/web_shop_django-${ID}.log`;
    assert.equal(links.find(c, parseKubernetesPath(c)!), ID);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
