/**
 * End to end, the built CLI with a file sink (issue #13, item 1): a container line and a Django JSON line nested
 * 20,000 deep once overflowed the parse worker's stack and ended the agent on every start. Now both ship as their
 * text, tagged, the lines around them ship as usual, and the agent exits 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAST, readNdjson, runOnce, tempDir, writeConfig } from './support/agent.js';
import { dockerLine } from './support/scenario.js';

const CID = 'deeb'.padEnd(64, '0');
const DEPTH = 20_000;

test('a 20,000-level nested JSON line in a container log and in a Django log: shipped tagged, exit 0', async () => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(join(logs, CID), { recursive: true });
  const deep = `{"a":${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}}`;
  // Docker cuts the 40 KB line into 16 KiB pieces, the last one ending in "\n".
  const whole = deep + '\n';
  let docker = dockerLine('before\n', 'stdout');
  for (let i = 0; i < whole.length; i += 16 * 1024) docker += dockerLine(whole.slice(i, i + 16 * 1024), 'stdout');
  docker += dockerLine('after\n', 'stdout');
  writeFileSync(join(logs, CID, `${CID}-json.log`), docker);
  const djangoDeep = `{"asctime": "2026-11-27 12:00:00,000", "levelname": "ERROR", "message": "deep", "a": ${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}}`;
  const line = (m: string) => JSON.stringify({ asctime: '2026-11-27 12:00:00,000', levelname: 'INFO', message: m });
  writeFileSync(join(logs, 'django.log'), [line('before'), djangoDeep, line('after'), ''].join('\n'));

  const out = join(dir, 'out', 'logship.ndjson');
  const config = writeConfig(dir, {
    ...FAST,
    data_dir: join(dir, 'data'),
    inputs: [
      { type: 'docker', paths: [join(logs, '*', '*-json.log')] },
      { type: 'django', paths: [join(logs, 'django.log')], timezone: 'UTC' },
    ],
    sink: { type: 'file', path: out },
  });
  const { code, logs: agentLog } = await runOnce(config);
  assert.equal(code, 0, JSON.stringify(agentLog.filter((l) => l['level'] === 'error')));
  const docs = readNdjson(out);
  const byMessage = new Map(docs.map((d) => [`${d['log']['file']['path'].endsWith('django.log') ? 'django' : 'docker'}:${d['message']}`, d]));
  assert.equal(docs.length, 6);
  for (const m of ['docker:before', 'docker:after', 'django:before', 'django:after']) assert.ok(byMessage.has(m), m);
  const dockerDeep = byMessage.get(`docker:${deep}`)!;
  assert.deepEqual(dockerDeep['tags'], ['_logship_parse_error', '_logship_too_deep']);
  assert.equal(dockerDeep['container']['id'], CID);
  const django = byMessage.get(`django:${djangoDeep}`)!;
  assert.deepEqual(django['tags'], ['_logship_parse_error', '_logship_too_deep', '_logship_timestamp_missing']);
  const stopped = agentLog.find((l) => l['msg'] === 'logship stopped')!;
  assert.equal(stopped['parse_errors'], 2);
  assert.equal(stopped['records'], 6);
});
