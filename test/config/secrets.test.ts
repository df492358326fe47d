/**
 * No config error ever prints a credential (issue #13, items 7 and 14): URL passwords however malformed the URL,
 * values under keys named like secrets, the text after "${" in an unclosed variable reference, key file contents.
 * A property test over config texts that hold a marker where a secret would be: the marker is never in the output.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { configProblemLine, maskCredentials } from '../../src/config/errors.js';
import { silentLogger } from '../../src/log.js';
import { preflight } from '../../src/preflight.js';
import { tempDir } from '../support/agent.js';

const MARK = 'S3cr3tMARK';
const dir = tempDir('logship-secrets-');
after(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;

/** What check and run print for a config text: the error line, or the warnings; the sink is closed again. */
async function outputOf(yaml: string, env: Record<string, string> = {}): Promise<string> {
  const sub = join(dir, `c${++count}`);
  mkdirSync(sub);
  const file = join(sub, 'logship.yml');
  writeFileSync(file, yaml);
  try {
    const { sink, warnings } = await preflight(file, 'check', silentLogger, env);
    await sink.close();
    return warnings.map((w) => `${w.key}: ${w.message}`).join('\n');
  } catch (err) {
    return configProblemLine(err);
  }
}

const INPUTS = 'inputs: [{type: django, paths: ["logs/*.log"]}]\n';

/** Characters a password may hold, the ones that break naive masking first. */
const secretPart = fc.string({ unit: fc.constantFrom('/', '@', '%', 'Z', ':', '#', '?', '$', '{', '}', '"', "'", '\\', ' ', 'a', '9', '.', '-', '[', ']'), maxLength: 6 });
/**
 * A secret: the marker between such characters. Never a `${NAME}` reference: a value holding one refers to a
 * variable, whose name is shown when it is unset (names are not secrets; a literal `${` is written `$${`).
 * Unclosed and malformed references are made below, on purpose.
 */
const secret = fc.tuple(secretPart, secretPart).map(([a, b]) => (a + MARK + b).replaceAll('${', '$_{'));

/** A YAML scalar for `text`: quoted (every character kept) or plain when YAML reads it back the same. */
const yamlString = (text: string): string => JSON.stringify(text);

const scheme = fc.constantFrom('https://', 'http://', '', 'ftp://', 'https:/', 'https:', '//', 'HTTP://');
/**
 * Hosts, well and badly formed. Never empty: in "u:p@ss@" + "" the password's own "@" is the last one, and nothing
 * tells its tail from a host (the no-host case is the URL below without any "@").
 */
const host = fc.constantFrom('es.example:9200', 'es.example', '10.0.0.7:9200/prefix', '[::1]:9200', 'es example', '127.0.0.1:92x0', 'es:9200#x');
const user = fc.constantFrom('elastic', 'u', '', 'a%ZZ', 'x@y');

/** A config holding the secret somewhere a credential could be, in a shape that may or may not be valid. */
const configs = fc.oneof(
  // A node URL with the secret as its password.
  fc.tuple(scheme, user, secret, host, fc.boolean()).map(
    ([s, u, p, h, list]) => `${INPUTS}sink: {type: elasticsearch, ${list ? 'nodes: [' : 'node: '}${yamlString(`${s}${u}:${p}@${h}`)}${list ? ']' : ''}}\n`,
  ),
  // No host at all: the password is taken for a port. (One that starts like a port and a path, "9/…", cannot be told
  // from host:9/path: such passwords start with a letter here.)
  fc.tuple(scheme, secret).map(([s, p]) => `${INPUTS}sink: {type: elasticsearch, node: ${yamlString(`${s}elastic:x${p.replaceAll('@', '')}`)}}\n`),
  // Under keys named like secrets, as a valid or invalid value.
  fc.tuple(
    fc.constantFrom('password', 'api_key'),
    secret,
    fc.constantFrom('string', 'list', 'mapping', 'unclosed', 'bad ref', 'number'),
  ).map(([key, p, shape]) => {
    const value =
      shape === 'string' ? yamlString(p)
      : shape === 'list' ? `[${yamlString(p)}]`
      : shape === 'mapping' ? `{x: ${yamlString(p)}}`
      : shape === 'unclosed' ? yamlString(`ab\${cd${p.replaceAll('}', '')}`)
      // Not a valid variable name (a valid one is a reference: its name is shown, it names no secret).
      : shape === 'bad ref' ? yamlString(`\${%${p.replaceAll('}', '')}}`)
      : `9${MARK.length}`; // a number: refused, never echoed
    const auth = key === 'password' ? `{username: elastic, password: ${value}}` : `{api_key: ${value}}`;
    return `${INPUTS}sink: {type: elasticsearch, node: "http://127.0.0.1:9200", auth: ${auth}}\n`;
  }),
  // auth given as a string, secret-named keys where none is known, a label named like a secret.
  fc.tuple(secret, fc.constantFrom('auth', 'token', 'secret', 'private_key', 'client_secret', 'passwd')).map(
    ([p, key]) => `${INPUTS}sink: {type: elasticsearch, node: "http://127.0.0.1:9200", ${key}: ${yamlString(p)}}\n`,
  ),
  fc.tuple(secret, fc.constantFrom('api_token', 'password'), fc.constantFrom(['', '{'], ['{', '}'], ['}', ''])).map(
    ([p, key, [before, after]]) =>
      `${INPUTS}sink: {type: cloud_logging, project_id: my-project, insecure: true, api_endpoint: "127.0.0.1:1", labels: {${key}: ${yamlString(before + p + after)}}}\n`,
  ),
  // An unclosed variable reference in any string.
  fc.tuple(secret, fc.constantFrom('host_name', 'data_dir', 'sink.index')).map(([p, key]) => {
    const value = yamlString(`x\${${p.replaceAll('}', '')}`);
    return key === 'sink.index'
      ? `${INPUTS}sink: {type: elasticsearch, node: "http://127.0.0.1:9200", index: ${value}}\n`
      : `${INPUTS}${key}: ${value}\nsink: {type: stdout}\n`;
  }),
  // YAML broken next to a secret.
  fc.tuple(secret, fc.constantFrom('"', '[', '{', "'", ': x', '\t- y')).map(
    ([p, breaker]) => `${INPUTS}sink: {type: elasticsearch, node: "http://127.0.0.1:9200", auth: {username: elastic, password: ${breaker}${p}}}\n`,
  ),
);

describe('config errors never print a secret', () => {
  it('for any config holding a secret where a credential could be, the marker is in no output (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(configs, async (yaml) => {
        const out = await outputOf(yaml, { ES_PASSWORD: MARK });
        assert.ok(!out.includes(MARK), `printed the secret:\n${yaml}\n→ ${out}`);
      }),
      { numRuns: 600 },
    );
  });

  it('the examples of the issue say what is wrong without the password', async () => {
    const es = (node: string) => `${INPUTS}sink: {type: elasticsearch, node: ${yamlString(node)}}\n`;
    assert.equal(await outputOf(es('elastic:S3cretPW@es.example:9200')), 'logship: sink.node: expected an http(s) URL, got "elastic:***@es.example:9200"\n');
    assert.equal(await outputOf(es('https://elastic:S3c/retPW@es.example:9200')), 'logship: sink.node: expected an http(s) URL, got "https://elastic:***@es.example:9200"\n');
    assert.equal(
      await outputOf(es('http://u:S3c%ZZret@es.example:9200')),
      'logship: sink.node: the password in the URL is not valid percent-encoding (write a literal % as %25; not shown)\n',
    );
    assert.equal(
      await outputOf(`${INPUTS}sink: {type: stdout}\nhost_name: 'ab\${cdS3cret'\n`),
      'logship: host_name: unclosed variable reference: ${ without a closing } (use ${NAME} or ${NAME:-default}; write $${ for a literal ${)\n',
    );
  });

  it('a service account key file that is not JSON is refused without a word of its contents', async () => {
    const key = join(dir, 'sa.json');
    writeFileSync(key, `{"type": "service_account", "private_key": "-----BEGIN ${MARK}`);
    const out = await outputOf(`${INPUTS}sink: {type: cloud_logging, project_id: my-project, key_filename: ${yamlString(key)}}\n`);
    assert.match(out, /^logship: sink\.key_filename: .* is not a JSON service account key/);
    assert.ok(!out.includes(MARK));
  });

  it('maskCredentials: user kept, password masked, ports and plain values left alone', () => {
    assert.equal(maskCredentials('https://elastic:pw@es:9200/x'), 'https://elastic:***@es:9200/x');
    assert.equal(maskCredentials('https://token@es'), 'https://***@es');
    assert.equal(maskCredentials('https://elastic:pw'), 'https://elastic:***');
    assert.equal(maskCredentials('https://es.example:9200/path'), 'https://es.example:9200/path');
    assert.equal(maskCredentials('http://[::1]:9200'), 'http://[::1]:9200');
    assert.equal(maskCredentials('Europe/Paris'), 'Europe/Paris');
  });
});

describe('keys that are never keys of this config (item 14)', () => {
  for (const [where, yaml] of [
    ['top level', `__proto__: {data_dir: /etc}\n${INPUTS}sink: {type: stdout}\n`],
    ['nested', `${INPUTS}sink: {type: stdout}\nmonitoring: {__proto__: {enabled: false}}\n`],
    ['in an input', `inputs: [{type: django, paths: ["logs/*.log"], __proto__: {start_at: end}}]\nsink: {type: stdout}\n`],
    ['constructor', `constructor: 1\n${INPUTS}sink: {type: stdout}\n`],
    ['a label', `${INPUTS}sink: {type: cloud_logging, project_id: my-project, insecure: true, api_endpoint: "127.0.0.1:1", labels: {constructor: x}}\n`],
  ] as const) {
    it(`__proto__ / constructor (${where}) is refused as unknown`, async () => {
      assert.match(await outputOf(yaml), /^logship: (\S+\.)?(__proto__|constructor): unknown key/);
    });
  }
});
