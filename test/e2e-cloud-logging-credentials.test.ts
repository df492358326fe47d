/**
 * The Cloud Logging sink with no credentials to be found (issue #13, item 19): exit 2 with the reason, as documented
 * (it was 1: the generated client's re-thrown rejection ended the agent's thread), and every line on stderr is the
 * agent's JSON, Node's own warnings included (the Google client's `(node:…) MetadataLookupWarning` lines were not).
 *
 * Loopback only: the agent runs with an empty environment but for GCE_METADATA_HOST, which points the Google
 * libraries at a metadata server of ours on 127.0.0.1 that answers 500 to everything (gcp-metadata then looks at no
 * other host), a HOME and CLOUDSDK_CONFIG with no gcloud credentials, and no GOOGLE_APPLICATION_CREDENTIALS.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { CLI, FAST, parseAgentLog, tempDir, writeConfig } from './support/agent.js';

let metadata: Server;
let metadataPort = 0;
const metadataRequests: string[] = [];
before(async () => {
  metadata = createServer((req, res) => {
    metadataRequests.push(`${req.method} ${req.url}`);
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('not a metadata server');
  });
  await new Promise<void>((r) => metadata.listen(0, '127.0.0.1', r));
  metadataPort = (metadata.address() as { port: number }).port;
});
after(() => new Promise((r) => metadata.close(r)));

function run(config: string, home: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'run', '--once', '--config', config], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, CLOUDSDK_CONFIG: join(home, 'gcloud'), GCE_METADATA_HOST: `127.0.0.1:${metadataPort}` },
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

for (const [name, sink, reason] of [
  ['with project_id', { project_id: 'my-project' }, /Could not load the default credentials/],
  ['without project_id', {}, /Unable to detect a Project Id.*set sink\.project_id/],
] as const) {
  test(`Cloud Logging without credentials (${name}): exit 2 with the reason, and nothing but JSON on stderr`, async () => {
    const dir = tempDir('logship-gcp-');
    const home = join(dir, 'home');
    mkdirSync(join(home, 'gcloud'), { recursive: true });
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs', 'app.log'), '{"message": "hello"}\n');
    const config = writeConfig(dir, {
      ...FAST,
      data_dir: join(dir, 'data'),
      inputs: [{ type: 'django', paths: [join(dir, 'logs', '*.log')] }],
      sink: { type: 'cloud_logging', ...sink },
    });
    const before = metadataRequests.length;
    const { code, stderr } = await run(config, home);
    const lines = parseAgentLog(stderr);
    assert.deepEqual(lines.filter((l) => l['unparsed'] === true), [], 'every stderr line is JSON');
    assert.equal(code, 2, stderr);
    const fatal = lines.find((l) => l['msg'] === 'sink failed and cannot recover without an operator');
    assert.match(String(fatal?.['reason']), reason);
    assert.ok(metadataRequests.length > before, 'the metadata lookups went to the local server');
    if (name === 'with project_id') {
      // gcp-metadata warns about the 500s: as a JSON log line now.
      assert.ok(lines.some((l) => l['msg'] === 'process warning' && l['name'] === 'MetadataLookupWarning'), stderr);
    }
  });
}
