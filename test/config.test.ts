import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, parseDuration, type Config } from '../src/config/index.js';

let dir: string;
let count = 0;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'logship-config-'));
  chmodSync(dir, 0o755); // the privilege-dropping test below runs a child as nobody
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `yaml` to a fresh config file in its own directory and returns the file's path. */
function write(yaml: string): string {
  const sub = join(dir, `c${++count}`);
  mkdirSync(sub, { mode: 0o755 });
  const file = join(sub, 'logship.yml');
  writeFileSync(file, yaml);
  return file;
}

function load(yaml: string, env: Record<string, string> = {}): Config {
  return loadConfig(write(yaml), env);
}

/** Asserts that loading `yaml` fails with exactly `message`. */
function fails(yaml: string, message: string, env: Record<string, string> = {}): void {
  assert.throws(
    () => load(yaml, env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
      assert.equal(err.message, message);
      assert.equal(err.message, `${err.key}: ${err.problem}`);
      assert.ok(!err.message.includes('\n'), 'the message is one line');
      return true;
    },
  );
}

const INPUTS = 'inputs:\n  - type: django\n    paths: ["logs/*.log"]\n';
const MINIMAL = `${INPUTS}sink: { type: stdout }\n`;

describe('loadConfig: happy path', () => {
  test('a minimal config gets every default', () => {
    const file = write(MINIMAL);
    const config = loadConfig(file, {});
    const base = file.slice(0, -'/logship.yml'.length);
    assert.deepEqual(config, {
      configFile: file,
      dataDir: join(base, 'data'),
      hostName: hostname(),
      maxLineBytes: 1_048_576,
      maxOpenFiles: 1024,
      partialLineTimeoutMs: 5_000,
      multilineTimeoutMs: 2_000,
      scanIntervalMs: 1_000,
      closeInactiveMs: 300_000,
      rotateWaitMs: 5_000,
      usePolling: false,
      checkpointIntervalMs: 1_000,
      shutdownTimeoutMs: 30_000,
      inputs: [
        {
          type: 'django',
          paths: [join(base, 'logs/*.log')],
          exclude: [],
          timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
          startAt: 'beginning',
          includeOriginal: false,
          symlinkRoots: null,
          formatter: null,
        },
      ],
      sink: { type: 'stdout' },
      batch: { maxEvents: 1000, maxBytes: 5_242_880, flushIntervalMs: 1000 },
      delivery: { concurrency: 4, maxPendingBatches: 8, retry: { initialBackoffMs: 500, maxBackoffMs: 30_000, maxAttempts: 0 } },
      monitoring: { enabled: true, listen: { host: '127.0.0.1', port: 9600 }, unhealthyAfterMs: 30_000 },
      deadLetters: { maxBytes: 1_073_741_824, maxFiles: 8 },
    } satisfies Config);
  });

  test('env interpolation, defaults, $${, string numbers and booleans, relative paths', () => {
    const yaml = `
data_dir: \${DATA_DIR:-state}
host_name: \${HOST:-web-1}
start_at: end
close_inactive: "\${CLOSE:-90s}"
rotate_wait: 1.5s
shutdown_timeout: 250
inputs:
  - type: django
    paths: ["../shared/django.log*", /var/log/app/*.log]
    exclude: ["*.gz", "old/*.log", "**/tmp/*"]
    timezone: Europe/Paris
    include_original: "\${KEEP_ORIGINAL}"
  - type: docker
    paths: containers/*/*-json.log
    start_at: beginning
sink:
  type: elasticsearch
  node: \${ES_URL}
  index: logs-\${APP:-django}-default
  data_stream: "false"
  auth: { username: elastic, password: "\${ES_PASSWORD}" }
  tls: { ca: /dev/null, verify: "\${VERIFY:-true}" }
  compression: TRUE
  request_timeout: \${TIMEOUT:-45s}
batch: { max_events: "\${MAX_EVENTS}", flush_interval_ms: "250" }
delivery:
  concurrency: "4"
  retry: { initial_backoff: 1s, max_backoff: 1m, max_attempts: 5 }
`;
    const env = {
      ES_URL: 'https://es.internal:9200',
      ES_PASSWORD: 'p#ss: w${rd',
      KEEP_ORIGINAL: 'true',
      MAX_EVENTS: '500',
      TIMEOUT: '', // set but empty: the default applies, as in sh
    };
    const file = write(yaml);
    const base = file.slice(0, -'/logship.yml'.length);
    const config = loadConfig(file, env);
    assert.equal(config.dataDir, join(base, 'state'));
    assert.equal(config.hostName, 'web-1');
    assert.equal(config.closeInactiveMs, 90_000);
    assert.equal(config.rotateWaitMs, 1_500);
    assert.equal(config.shutdownTimeoutMs, 250);
    assert.deepEqual(config.inputs, [
      {
        type: 'django',
        paths: [join(base, '../shared/django.log*'), '/var/log/app/*.log'],
        exclude: ['*.gz', join(base, 'old/*.log'), '**/tmp/*'],
        timezone: 'Europe/Paris',
        startAt: 'end',
        includeOriginal: true,
        symlinkRoots: null,
        formatter: null,
      },
      {
        type: 'docker',
        paths: [join(base, 'containers/*/*-json.log')],
        exclude: [],
        timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
        startAt: 'beginning',
        includeOriginal: false,
        symlinkRoots: null,
        formatter: null,
      },
    ]);
    assert.deepEqual(config.sink, {
      type: 'elasticsearch',
      nodes: ['https://es.internal:9200'],
      index: 'logs-django-default',
      dataStream: false,
      auth: { username: 'elastic', password: 'p#ss: w${rd' }, // substituted text is not interpolated again
      tls: { ca: '/dev/null', verify: true },
      compression: true,
      requestTimeoutMs: 45_000,
    });
    assert.deepEqual(config.batch, { maxEvents: 500, maxBytes: 5_242_880, flushIntervalMs: 250 });
    assert.deepEqual(config.delivery, {
      concurrency: 4,
      maxPendingBatches: 8,
      retry: { initialBackoffMs: 1_000, maxBackoffMs: 60_000, maxAttempts: 5 },
    });
  });

  test('$${ writes a literal ${, a lone $ is kept', () => {
    const config = load(`${INPUTS}sink: { type: elasticsearch, nodes: ["http://a:9200", "http://b:9200"], index: "a$$\{X}b$c", auth: { api_key: "\${KEY}" } }\n`, { KEY: 'abc==' });
    assert.ok(config.sink.type === 'elasticsearch');
    assert.equal(config.sink.index, 'a${X}b$c');
    assert.deepEqual(config.sink.nodes, ['http://a:9200', 'http://b:9200']);
    assert.deepEqual(config.sink.auth, { apiKey: 'abc==' });
    assert.deepEqual(config.sink.tls, { verify: true });
  });

  test('file sink defaults; a path relative to the config file', () => {
    const file = write(`${INPUTS}sink: { type: file, path: out/x.ndjson }\n`);
    const config = loadConfig(file, {});
    assert.deepEqual(config.sink, { type: 'file', path: join(file, '../out/x.ndjson'), maxBytes: 104_857_600, maxFiles: 5, mode: 0o640 });
  });

  test('file sink mode: octal digits as a string or unquoted with a leading 0 (Beats style), or a YAML 0o number', () => {
    const modeOf = (value: string): number => {
      const sink = loadConfig(write(`${INPUTS}sink: { type: file, path: out/x.ndjson, mode: ${value} }\n`), {}).sink;
      assert.equal(sink.type, 'file');
      return sink.type === 'file' ? sink.mode : -1;
    };
    assert.equal(modeOf('"0600"'), 0o600);
    assert.equal(modeOf('"644"'), 0o644);
    assert.equal(modeOf('0640'), 0o640, 'unquoted 0640 is octal, not the decimal 640 YAML 1.2 would make of it');
    assert.equal(modeOf('0400'), 0o400);
    assert.equal(modeOf('0o600'), 0o600);
    assert.equal(modeOf('416'), 0o640);
    const problem = (value: string): string => {
      try {
        loadConfig(write(`${INPUTS}sink: { type: file, path: out/x.ndjson, mode: ${value} }\n`), {});
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    };
    const hint = 'sink.mode: expected a file mode as octal digits in quotes, e.g. "0640" (permission bits only), got';
    assert.equal(problem('640'), `${hint} 640`, 'a decimal 640 cannot be told from an octal meant: refused, not guessed');
    assert.equal(problem('"0648"'), `${hint} "0648"`);
    assert.equal(problem('"rw-r-----"'), `${hint} "rw-r-----"`);
    assert.equal(problem('"4755"'), `${hint} "4755"`);
    assert.equal(problem('-1'), `${hint} -1`);
  });

  test('dead_letters: defaults 1 GiB in 8 files; each key validated', () => {
    assert.deepEqual(load(MINIMAL).deadLetters, { maxBytes: 1_073_741_824, maxFiles: 8 });
    assert.deepEqual(load(`${MINIMAL}dead_letters: { max_bytes: "10485760", max_files: 2 }\n`).deadLetters, { maxBytes: 10_485_760, maxFiles: 2 });
    fails(`${MINIMAL}dead_letters: { max_bytes: 10 }\n`, 'dead_letters.max_bytes: expected an integer >= 1024, got 10');
    fails(`${MINIMAL}dead_letters: { max_files: 0 }\n`, 'dead_letters.max_files: expected an integer between 1 and 1000, got 0');
    fails(`${MINIMAL}dead_letters: { max_size: 1 }\n`, 'dead_letters.max_size: unknown key (valid keys for dead_letters: max_bytes, max_files)');
  });

  test('an empty value counts as not given', () => {
    const config = load(`${MINIMAL}batch:\ndelivery:\n  retry:\n`);
    assert.equal(config.batch.maxEvents, 1000);
    assert.equal(config.delivery.retry.initialBackoffMs, 500);
  });

  test('the embedded example config loads', () => {
    const file = fileURLToPath(new URL('../examples/logship.yml', import.meta.url));
    const config = loadConfig(file, {});
    assert.equal(config.sink.type, 'file');
    assert.deepEqual(
      config.inputs.map((i) => [i.type, i.paths.map((p) => p.slice(p.indexOf('/examples/') + 1))]),
      [
        ['django', ['examples/logs/backend/django.log', 'examples/logs/backend/django_errors.log']],
        ['docker', ['examples/logs/containers/*/*-json.log']],
      ],
    );
    assert.equal(config.inputs[0]?.timezone, 'UTC');
  });
});

describe('loadConfig: errors name the key', () => {
  test('unknown key at the top level, with a suggestion', () => {
    fails(`${INPUTS}sinc: { type: stdout }\n`, 'sinc: unknown key (did you mean "sink"?)');
    fails(`${MINIMAL}dataDir: x\n`, 'dataDir: unknown key (did you mean "data_dir"?)');
  });

  test('unknown key without a close match lists the valid keys', () => {
    fails(`${MINIMAL}batch: { size: 3 }\n`, 'batch.size: unknown key (valid keys for batch: max_events, max_bytes, flush_interval_ms)');
  });

  test('unknown nested keys', () => {
    fails(`inputs:\n  - type: django\n    pathz: [a.log]\nsink: { type: stdout }\n`, 'inputs[0].pathz: unknown key (did you mean "paths"?)');
    fails(
      `${INPUTS}sink: { type: file, path: x, node: "http://a:9200" }\n`,
      'sink.node: unknown key (did you mean "mode"?)',
    );
    fails(`${MINIMAL}delivery: { retry: { max_attempt: 3 } }\n`, 'delivery.retry.max_attempt: unknown key (did you mean "max_attempts"?)');
  });

  test('wrong types', () => {
    fails(`${INPUTS}sink: { type: elasticsearch, node: "http://a:9200", index: 42 }\n`, 'sink.index: expected a non-empty string, got 42');
    fails(`${MINIMAL}batch: { flush_interval_ms: fast }\n`, 'batch.flush_interval_ms: expected an integer >= 1, got "fast"');
    fails(`${MINIMAL}batch: { max_events: 1.5 }\n`, 'batch.max_events: expected an integer >= 1, got 1.5');
    fails(`${MINIMAL}max_line_bytes: 100\n`, 'max_line_bytes: expected an integer >= 1024, got 100');
    fails(`${MINIMAL}delivery: { concurrency: 65 }\n`, 'delivery.concurrency: expected an integer between 1 and 64, got 65');
    fails(`${MINIMAL}use_polling: yes\n`, 'use_polling: expected true or false, got "yes"');
    fails(`${MINIMAL}start_at: middle\n`, 'start_at: expected one of beginning, end, got "middle"');
    fails(`inputs:\n  - type: nginx\n    paths: [a]\nsink: { type: stdout }\n`, 'inputs[0].type: expected one of django, docker, cri, got "nginx"');
    fails(`inputs: {}\nsink: { type: stdout }\n`, 'inputs: expected a non-empty list of inputs, got an empty mapping');
    fails(`inputs: []\nsink: { type: stdout }\n`, 'inputs: expected a non-empty list of inputs, got an empty list');
    fails(`${INPUTS}sink: stdout\n`, 'sink: expected a mapping, got "stdout"');
    fails(`${INPUTS}sink: { type: elasticsearch, node: "localhost:9200" }\n`, 'sink.node: expected an http(s) URL, got "localhost:9200"');
    fails(`${INPUTS}sink: { type: elasticsearch, node: "ftp://u:secret@h/" }\n`, 'sink.node: expected an http(s) URL, got "ftp://u:***@h/"');
    fails(
      `${INPUTS}sink: { type: elasticsearch, node: "http://a:9200", auth: { username: u, password: 123456 } }\n`,
      'sink.auth.password: expected a string, got a number (quote it in YAML so that it is kept exactly)',
    );
  });

  test('missing required keys', () => {
    fails(`${INPUTS}sink: { type: file }\n`, 'sink.path: required');
    fails(`inputs:\n  - type: django\n    paths: [a]\n  - type: docker\nsink: { type: stdout }\n`, 'inputs[1].paths: required');
    fails(`sink: { type: stdout }\n`, 'inputs: required');
    fails(INPUTS, 'sink: required');
    fails(`${INPUTS}sink: { index: x }\n`, 'sink.type: required (one of: elasticsearch, cloudwatch, cloud_logging, file, stdout)');
    fails(`${INPUTS}sink: { type: elasticsearch }\n`, 'sink.node: required (or nodes: [url, ...])');
    fails(`${INPUTS}sink: { type: elasticsearch, node: "http://a:9200", auth: { username: u } }\n`, 'sink.auth.password: required (with username)');
  });

  test('unknown sink type lists the valid ones', () => {
    fails(`${INPUTS}sink: { type: kafka }\n`, 'sink.type: unknown sink type "kafka" (expected one of: elasticsearch, cloudwatch, cloud_logging, file, stdout)');
  });

  test('bad durations', () => {
    fails(`${MINIMAL}shutdown_timeout: 10 parsecs\n`, 'shutdown_timeout: "10 parsecs" is not a duration (use e.g. 500ms, 30s, 5m)');
    fails(`${MINIMAL}scan_interval: 0s\n`, 'scan_interval: expected a duration of at least 1ms, got 0ms');
    fails(`${MINIMAL}close_inactive: 1000h\n`, 'close_inactive: expected a duration of at most 576h, got 1000h');
    fails(`${MINIMAL}rotate_wait: true\n`, 'rotate_wait: expected a duration (use e.g. 500ms, 30s, 5m), got true');
    fails(
      `${MINIMAL}delivery: { retry: { initial_backoff: 10s, max_backoff: 1s } }\n`,
      'delivery.retry.max_backoff: must be at least initial_backoff (10s), got 1s',
    );
  });

  test('bad timezone', () => {
    fails(
      `inputs:\n  - type: django\n    paths: [a]\n    timezone: Mars/Olympus\nsink: { type: stdout }\n`,
      'inputs[0].timezone: "Mars/Olympus" is not a known IANA time zone (e.g. UTC, Europe/Paris, America/New_York)',
    );
  });

  test('a Formatter string is compiled at check: what cannot be read back is an error naming the key', () => {
    const input = (extra: string) => `inputs:\n  - type: django\n    paths: [a]\n${extra}sink: { type: stdout }\n`;
    fails(input(`    format: "%(asctime)s %(levelname)s 100%"\n`), 'inputs[0].format: "%(asctime)s %(levelname)s 100%" "%" at position 29 starts no field: write %(name)s, or %% for a percent sign');
    fails(input(`    format: "{levelname} {message"\n    style: "{"\n`), 'inputs[0].format: "{levelname} {message" single "{" at position 12: write {{ for a brace');
    fails(input(`    format: "{levelname} {message}"\n`), 'inputs[0].format: "{levelname} {message}" has no field for style "%" (e.g. %(message)s); is style right?');
    fails(input(`    format: "{0} {message}"\n    style: "{"\n`), 'inputs[0].format: "{0} {message}" {0} at position 0: positional fields are not LogRecord attributes');
    fails(input(`    format: "$levelname $ $message"\n    style: $\n`), 'inputs[0].format: "$levelname $ $message" bare "$" at position 11: write $name, ${name}, or $$ for a dollar sign');
    fails(input(`    format: "%(message)s"\n    style: "%%"\n`), 'inputs[0].style: expected one of %, {, $, got "%%"');
    fails(input(`    format: "%(asctime)s %(message)s"\n    datefmt: "%H:%M%n"\n`), 'inputs[0].datefmt: "%H:%M%n" %n puts a line break inside asctime: a record\'s first line could not be told');
    fails(input(`    datefmt: "%Y"\n`), 'inputs[0].datefmt: only with format (the Formatter string it belongs to)');
    fails(input(`    style: "{"\n`), 'inputs[0].style: only with format (the Formatter string it belongs to)');
    fails(
      `inputs:\n  - type: docker\n    paths: [a]\n    format: "%(message)s"\nsink: { type: stdout }\n`,
      'inputs[0].format: only for type django inputs',
    );
    const config = load(input(`    format: "{levelname} {asctime} {module} {message}"\n    style: "{"\n    datefmt: "%d/%b/%Y %H:%M:%S"\n`));
    assert.deepEqual(config.inputs[0]!.formatter, { format: '{levelname} {asctime} {module} {message}', style: '{', datefmt: '%d/%b/%Y %H:%M:%S' });
    assert.deepEqual(load(input(`    format: "%(message)s"\n`)).inputs[0]!.formatter, { format: '%(message)s', style: '%', datefmt: null });
    assert.equal(load(input('')).inputs[0]!.formatter, null);
  });

  test('invalid glob', () => {
    fails(
      `inputs:\n  - type: django\n    paths: [ok.log, "logs/{a,b/*.log"]\nsink: { type: stdout }\n`,
      'inputs[0].paths[1]: invalid glob "logs/{a,b/*.log": Missing closing: "}" - use "\\\\}" to match literal characters',
    );
    fails(
      `inputs:\n  - type: django\n    paths: [ok.log]\n    exclude: ["*.[gz"]\nsink: { type: stdout }\n`,
      'inputs[0].exclude[0]: invalid glob "*.[gz": Missing closing: "]" - use "\\\\]" to match literal characters',
    );
  });

  test('a base directory that does not exist yet is fine; one that is a file is not', () => {
    const file = write(MINIMAL); // logs/ does not exist
    assert.doesNotThrow(() => loadConfig(file, {}));
    const notDir = join(dir, 'plain-file');
    writeFileSync(notDir, '');
    fails(
      `inputs:\n  - type: django\n    paths: [ok.log, "${notDir}/*.log"]\nsink: { type: stdout }\n`,
      `inputs[0].paths[1]: ${notDir} is not a directory`,
    );
  });

  test('~ is not expanded', () => {
    fails(`${MINIMAL}data_dir: ~/logship\n`, 'data_dir: "~" is not expanded here: use an absolute path or ${HOME}/...');
  });

  test('unreadable directory', (t) => {
    const locked = join(dir, 'locked');
    mkdirSync(join(locked, 'logs'), { recursive: true });
    chmodSync(join(locked, 'logs'), 0o000);
    const file = write(`inputs:\n  - type: django\n    paths: [a.log, "${locked}/logs/*.log"]\nsink: { type: stdout }\n`);
    const expected = `inputs[0].paths[1]: cannot read directory ${locked}/logs: permission denied`;
    if (process.getuid?.() !== 0) {
      fails(`inputs:\n  - type: django\n    paths: [a.log, "${locked}/logs/*.log"]\nsink: { type: stdout }\n`, expected);
      return;
    }
    // root: access() ignores permission bits, so load the same file in a child running as nobody.
    const loader = new URL('../src/config/index.ts', import.meta.url).href;
    const script = `import { loadConfig } from ${JSON.stringify(loader)};
      try { loadConfig(${JSON.stringify(file)}, {}); console.log('loaded'); } catch (e) { console.log(e.message); }`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      uid: 65534,
      gid: 65534,
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { PATH: process.env.PATH ?? '', HOME: tmpdir() },
      encoding: 'utf8',
    });
    if (child.error || child.status !== 0) {
      t.skip(`running as root, where access() ignores permissions, and a child as nobody could not run: ${child.error?.message ?? child.stderr}`);
      return;
    }
    assert.equal(child.stdout.trim(), expected);
  });

  test('CA file must be readable', () => {
    fails(
      `${INPUTS}sink: { type: elasticsearch, node: "http://a:9200", tls: { ca: certs/none.pem } }\n`,
      `sink.tls.ca: cannot read file ${join(dir, `c${count + 1}`, 'certs/none.pem')}: no such file or directory`,
    );
    fails(`${INPUTS}sink: { type: elasticsearch, node: "http://a:9200", tls: { ca: /tmp } }\n`, 'sink.tls.ca: /tmp is a directory, expected a file');
  });

  test('unset environment variable', () => {
    fails(
      `${INPUTS}sink: { type: elasticsearch, node: "http://a:9200", auth: { username: elastic, password: "\${ES_PASSWORD}" } }\n`,
      'sink.auth.password: environment variable ES_PASSWORD is not set',
    );
    fails(`${MINIMAL}host_name: "\${HOST"\n`, 'host_name: unclosed variable reference: ${ without a closing } (use ${NAME} or ${NAME:-default}; write $${ for a literal ${)');
    fails(`${MINIMAL}host_name: "\${1X}"\n`, 'host_name: bad variable reference "${1X}" (use ${NAME} or ${NAME:-default}; write $${ for a literal ${)');
  });

  test('an empty environment variable is not a valid password', () => {
    fails(
      `${INPUTS}sink: { type: elasticsearch, node: "http://a:9200", auth: { username: elastic, password: "\${ES_PASSWORD}" } }\n`,
      'sink.auth.password: expected a non-empty string',
      { ES_PASSWORD: '' },
    );
  });

  test('YAML syntax error', () => {
    fails(`${INPUTS}sink: { type: stdout\nbatch: {}\n`, 'config: YAML syntax error at line 5: Flow map in block collection must be sufficiently indented and end with a }');
    fails(`${MINIMAL}---\nsink: { type: stdout }\n`, 'config: YAML syntax error at line 5: the file must hold a single YAML document');
  });

  test('duplicate key', () => {
    fails(`${MINIMAL}batch: { max_events: 1 }\nsink: { type: stdout }\n`, 'config: duplicate key "sink" at line 6');
    fails(`${MINIMAL}batch: { max_events: 1, "max_events": 2 }\n`, 'config: duplicate key "max_events" at line 5');
    fails(`${INPUTS}    paths: [b]\nsink: { type: stdout }\n`, 'config: duplicate key "paths" at line 4');
  });

  test('not a mapping, empty, unreadable', () => {
    fails('- a\n', 'config: expected a mapping of keys at the top level, got a list');
    const empty = write('# nothing\n');
    assert.throws(() => loadConfig(empty, {}), { message: `config: ${empty} is empty` });
    assert.throws(() => loadConfig('/x/y.yml', {}), { message: 'config: cannot read /x/y.yml: ENOENT' });
  });

  test('node and nodes both given', () => {
    fails(`${INPUTS}sink: { type: elasticsearch, node: "http://a:9200", nodes: ["http://b:9200"] }\n`, 'sink: give either node or nodes, not both');
  });

  test('username/password and api_key both given', () => {
    fails(
      `${INPUTS}sink: { type: elasticsearch, node: "http://a:9200", auth: { username: u, password: p, api_key: k } }\n`,
      'sink.auth: use either username and password, or api_key, not both',
    );
  });

  test('max_pending_batches below concurrency', () => {
    fails(`${MINIMAL}delivery: { concurrency: 4, max_pending_batches: 2 }\n`, 'delivery.max_pending_batches: must be at least concurrency (4), got 2');
  });
});

test('parseDuration', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration('250'), 250);
  assert.equal(parseDuration(42), 42);
  assert.equal(parseDuration('5 minutes'), undefined);
  assert.equal(parseDuration('-1s'), undefined);
});

describe('sink type cloud_logging', () => {
  const CL = (keys: string) => `${INPUTS}sink: { type: cloud_logging${keys ? `, ${keys}` : ''} }\n`;

  test('every key, with defaults, templates and a key file relative to the config file', () => {
    const file = write(
      CL('project_id: my-project, log_name: "{input}", resource: { type: generic_node, labels: { location: europe-west1, node_id: "{host}" } }, ' +
        'labels: { app: accreditrack, tier: 1 }, key_filename: sa.json, api_endpoint: "logging.googleapis.com:443"'),
    );
    const base = file.slice(0, -'/logship.yml'.length);
    writeFileSync(join(base, 'sa.json'), '{"type": "service_account"}');
    assert.deepEqual(loadConfig(file, {}).sink, {
      type: 'cloud_logging',
      projectId: 'my-project',
      logName: '{input}',
      resource: { type: 'generic_node', labels: { location: 'europe-west1', node_id: '{host}' } },
      labels: { app: 'accreditrack', tier: '1' },
      keyFilename: join(base, 'sa.json'),
      apiEndpoint: { host: 'logging.googleapis.com', port: 443 },
      insecure: false,
    });
    assert.deepEqual(load(CL('')).sink, { type: 'cloud_logging', logName: 'logship', labels: {}, insecure: false });
    assert.deepEqual(load(CL('project_id: my-project, api_endpoint: "127.0.0.1:8085", insecure: "${INSECURE}"'), { INSECURE: 'true' }).sink, {
      type: 'cloud_logging',
      projectId: 'my-project',
      logName: 'logship',
      labels: {},
      apiEndpoint: { host: '127.0.0.1', port: 8085 },
      insecure: true,
    });
    assert.equal(load(CL('project_id: my-project, api_endpoint: "[::1]:8085", insecure: true')).sink.type, 'cloud_logging');
  });

  test('one-line errors naming the key', () => {
    fails(CL('project_id: "My Project"'), 'sink.project_id: expected a Google Cloud project ID (6 to 30 lowercase letters, digits and hyphens, starting with a letter), got "My Project"');
    fails(CL('log_name: "my log"'), 'sink.log_name: may hold only letters, digits, "/", "_", "-", "." and template fields such as {input}, got "my log"');
    fails(CL('log_name: "{nope}"'), 'sink.log_name: unknown template field "{nope}" (known: {host}, {input}, {container}, {container_name}, {service})');
    fails(CL('log_name: "app-{input"'), 'sink.log_name: unclosed "{" in "app-{input" (template fields look like {host})');
    fails(CL('resource: { labels: {} }'), 'sink.resource.type: required');
    fails(CL('resource: { type: "Generic Node" }'), 'sink.resource.type: expected a monitored resource type such as global, generic_node or k8s_container, got "Generic Node"');
    fails(CL('resource: { type: generic_node, labels: { NodeId: x } }'), 'sink.resource.labels.NodeId: expected a resource label name such as node_id or location, got "NodeId"');
    fails(CL('resource: { type: generic_node, lables: {} }'), 'sink.resource.lables: unknown key (valid keys for sink.resource: type, labels)');
    fails(CL('labels: [a]'), 'sink.labels: expected a mapping of label names to values, got a list');
    fails(CL('labels: { a: { b: c } }'), 'sink.labels.a: expected a string, got a mapping');
    fails(CL('labels: { a: "{hots}" }'), 'sink.labels.a: unknown template field "{hots}" (known: {host}, {input}, {container}, {container_name}, {service})');
    const many = Array.from({ length: 65 }, (_, i) => `l${i}: v`).join(', ');
    fails(CL(`labels: { ${many} }`), 'sink.labels: at most 64 labels (the Cloud Logging limit per entry), got 65');
    fails(CL('api_endpoint: "https://logging.googleapis.com"'), 'sink.api_endpoint: expected host:port (e.g. 127.0.0.1:8085 or logging.googleapis.com:443), without a scheme, got "https://logging.googleapis.com"');
    fails(CL('projectid: x'), 'sink.projectid: unknown key (did you mean "project_id"?)');
    fails(CL('key_filename: missing.json').replace('missing.json', '/nonexistent/sa.json'), 'sink.key_filename: cannot read file /nonexistent/sa.json: no such file or directory');
    fails(CL('key_filename: "~/sa.json"'), 'sink.key_filename: "~" is not expanded here: use an absolute path or ${HOME}/...');
    fails(`${INPUTS}sink: { type: cloudlogging }\n`, 'sink.type: unknown sink type "cloudlogging" (expected one of: elasticsearch, cloudwatch, cloud_logging, file, stdout)');
  });

  test('insecure: only with a loopback api_endpoint, no key file, an explicit project', () => {
    fails(CL('insecure: true'), 'sink.insecure: plaintext without credentials is only for a loopback api_endpoint (127.0.0.1, ::1, localhost), got no api_endpoint');
    fails(
      CL('insecure: true, project_id: my-project, api_endpoint: "logging.example.com:8085"'),
      'sink.insecure: plaintext without credentials is only for a loopback api_endpoint (127.0.0.1, ::1, localhost), got "logging.example.com:8085"',
    );
    fails(CL('insecure: true, project_id: my-project, api_endpoint: "10.0.0.1:8085"'), 'sink.insecure: plaintext without credentials is only for a loopback api_endpoint (127.0.0.1, ::1, localhost), got "10.0.0.1:8085"');
    fails(CL('insecure: true, project_id: my-project, api_endpoint: "127.0.0.1:8085", key_filename: /x.json'), 'sink.key_filename: not used with insecure: true (no credentials are sent); remove one of them');
    fails(CL('insecure: true, api_endpoint: "localhost:8085"'), 'sink.project_id: required with insecure: true (there are no credentials to find it in)');
    fails(CL('insecure: yes'), 'sink.insecure: expected true or false, got "yes"');
  });
});

describe('cloudwatch sink', () => {
  const CW = (keys: string): string => `${INPUTS}sink: { type: cloudwatch, log_group: /accreditrack/django${keys ? `, ${keys}` : ''} }\n`;

  test('the keys of the issue, and defaults', () => {
    const config = load(
      `${INPUTS}sink:\n  type: cloudwatch\n  region: eu-west-1\n  log_group: /accreditrack/{input}\n  log_stream: "{host}/{file}"\n` +
        `  create_group: true\n  retention_days: 30\n  endpoint: http://127.0.0.1:4566\n`,
    );
    assert.deepEqual(config.sink, {
      type: 'cloudwatch',
      region: 'eu-west-1',
      logGroup: '/accreditrack/{input}',
      logStream: '{host}/{file}',
      createGroup: true,
      retentionDays: 30,
      endpoint: 'http://127.0.0.1:4566',
      streamConcurrency: 4,
      maxEventBytes: 1_048_576,
      requestTimeoutMs: 30_000,
    });
    assert.deepEqual(load(CW('')).sink, {
      type: 'cloudwatch', logGroup: '/accreditrack/django', logStream: '{host}/{file}', createGroup: true,
      streamConcurrency: 4, maxEventBytes: 1_048_576, requestTimeoutMs: 30_000,
    });
    const fromEnv = load(CW('retention_days: "${DAYS}", create_group: "${CREATE}", stream_concurrency: "8", max_event_bytes: 262144, request_timeout: 5s'), { DAYS: '7', CREATE: 'false' });
    assert.ok(fromEnv.sink.type === 'cloudwatch');
    assert.equal(fromEnv.sink.retentionDays, 7);
    assert.equal(fromEnv.sink.createGroup, false);
    assert.equal(fromEnv.sink.streamConcurrency, 8);
    assert.equal(fromEnv.sink.maxEventBytes, 262_144);
    assert.equal(fromEnv.sink.requestTimeoutMs, 5000);
  });

  test('one-line errors naming the key', () => {
    fails(`${INPUTS}sink: { type: cloudwatch }\n`, 'sink.log_group: required');
    fails(CW('region: EU'), 'sink.region: expected an AWS region name like eu-west-1, got "EU"');
    fails(
      CW('retention_days: 10'),
      'sink.retention_days: expected one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, got 10',
    );
    fails(`${INPUTS}sink: { type: cloudwatch, log_group: "/app/{hots}" }\n`, 'sink.log_group: unknown template field "{hots}" (known: {host}, {input}, {file}, {container}, {container_name}, {service}, {path})');
    fails(`${INPUTS}sink: { type: cloudwatch, log_group: "/my app" }\n`, 'sink.log_group: " " cannot be part of a log group name (letters, digits and . - _ / # only)');
    fails(`${INPUTS}sink: { type: cloudwatch, log_group: aws/lambda/x }\n`, 'sink.log_group: log group names starting with "aws/" are reserved for AWS services');
    fails(CW('log_stream: "{host}:{file}"'), 'sink.log_stream: ":" cannot be part of a log stream name');
    fails(CW('log_stream: "{host"'), 'sink.log_stream: unbalanced "{" or "}" in "{host"');
    fails(CW('endpoint: "localhost:4566"'), 'sink.endpoint: expected an http(s) URL, got "localhost:4566"');
    fails(CW('create_group: yes'), 'sink.create_group: expected true or false, got "yes"');
    fails(CW('stream_concurrency: 0'), 'sink.stream_concurrency: expected an integer between 1 and 64, got 0');
    fails(CW('max_event_bytes: 2000000'), 'sink.max_event_bytes: expected an integer between 1024 and 1048576, got 2000000');
    fails(CW('loggroup: x'), 'sink.loggroup: unknown key (did you mean "log_group"?)');
    fails(
      CW('aws_secret_access_key: x'),
      'sink.aws_secret_access_key: unknown key (valid keys for sink type cloudwatch: type, region, log_group, log_stream, create_group, retention_days, endpoint, stream_concurrency, max_event_bytes, request_timeout)',
    );
  });
});
