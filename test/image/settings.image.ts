/**
 * The image's own settings, read from the built image: the user it runs as, its stop signal, the HEALTHCHECK
 * (the same command compose's healthcheck runs), and that its baked-in config passes `logship check`. The runs
 * themselves are in compose.image.ts and daemonset.image.ts. Run by `npm run test:image`, not by `npm test`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { composeService } from './deploy.js';
import { IMAGE, inspect, podman } from './podman.js';

test('the image runs as node (uid 1000), stops on SIGTERM, has the HEALTHCHECK compose runs too', async () => {
  assert.equal(await inspect(IMAGE, '{{.Config.User}}', 'image'), 'node');
  assert.equal(await inspect(IMAGE, '{{.Config.StopSignal}}', 'image'), 'SIGTERM');
  const healthTest = JSON.parse(await inspect(IMAGE, '{{json .Config.Healthcheck.Test}}', 'image')) as string[];
  assert.deepEqual(healthTest, composeService().healthcheckTest, "compose's healthcheck runs the image's HEALTHCHECK command");
  const id = await podman(['run', '--rm', '--network', 'none', '--entrypoint', 'id', IMAGE]);
  assert.match(id.stdout, /^uid=1000\(node\) gid=1000\(node\)/);
});

test("the image's own config (/etc/logship/logship.yml) passes `logship check`", async () => {
  const check = await podman(['run', '--rm', '--network', 'none', '--env', 'ES_PASSWORD=x', IMAGE, 'check', '--config', '/etc/logship/logship.yml']);
  assert.equal(check.code, 0, check.stdout + check.stderr);
});
