/**
 * Self-monitoring without the agent: the listen address and the config block, the health verdict for every
 * transition, the metrics' names and values for known events, and the HTTP server's routes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, configFromText } from '../src/config/index.js';
import { Counters } from '../src/events.js';
import type { Logger } from '../src/log.js';
import { FanOut } from '../src/monitoring/fan-out.js';
import { evaluateHealth, httpStatusOf, ReadProgress, type FileSample, type HealthInput } from '../src/monitoring/health.js';
import { formatListen, parseListen } from '../src/monitoring/listen.js';
import { Metrics } from '../src/monitoring/metrics.js';
import { startMonitoringServer } from '../src/monitoring/server.js';

describe('monitoring.listen', () => {
  test('host:port, IPv6 in brackets, port 0', () => {
    assert.deepEqual(parseListen('127.0.0.1:9600'), { host: '127.0.0.1', port: 9600 });
    assert.deepEqual(parseListen('0.0.0.0:9600'), { host: '0.0.0.0', port: 9600 });
    assert.deepEqual(parseListen('[::1]:9600'), { host: '::1', port: 9600 });
    assert.deepEqual(parseListen('localhost:0'), { host: 'localhost', port: 0 });
    assert.equal(formatListen({ host: '::1', port: 9600 }), '[::1]:9600');
  });

  test('anything else is one line saying what is expected', () => {
    assert.match(String(parseListen('9600')), /^expected host:port/);
    assert.match(String(parseListen('::1:9600')), /^expected host:port/);
    assert.match(String(parseListen('http://127.0.0.1:9600')), /^expected host:port/);
    assert.equal(parseListen('127.0.0.1:70000'), 'port must be between 0 and 65535, got 70000');
  });
});

describe('monitoring config block', () => {
  const dir = mkdtempSync(join(tmpdir(), 'logship-monitoring-config-'));
  const base = 'inputs: [{ type: django, paths: [logs/django.log] }]\nsink: { type: stdout }\n';
  const load = (yaml: string) => configFromText(base + yaml, join(dir, 'logship.yml'), {});
  const fails = (yaml: string, message: string) =>
    assert.throws(() => load(yaml), (err: unknown) => err instanceof ConfigError && err.message === message);

  test('defaults: enabled, loopback 9600, 30 s', () => {
    assert.deepEqual(load('').monitoring, { enabled: true, listen: { host: '127.0.0.1', port: 9600 }, unhealthyAfterMs: 30_000 });
  });

  test('exactly the keys of the issue', () => {
    const m = load('monitoring:\n  enabled: false\n  listen: 0.0.0.0:9700\n  unhealthy_after_ms: 5000\n').monitoring;
    assert.deepEqual(m, { enabled: false, listen: { host: '0.0.0.0', port: 9700 }, unhealthyAfterMs: 5000 });
    assert.equal(load('monitoring: { enabled: "${ON}", unhealthy_after_ms: "1000" }\n'.replace('${ON}', 'true')).monitoring.unhealthyAfterMs, 1000);
  });

  test('errors name the key', () => {
    fails('monitoring: { listen: "9600" }\n', 'monitoring.listen: expected host:port (e.g. 127.0.0.1:9600, 0.0.0.0:9600 or [::1]:9600), got "9600"');
    fails('monitoring: { unhealthy_after_ms: 0 }\n', 'monitoring.unhealthy_after_ms: expected an integer >= 1, got 0');
    fails('monitoring: { enabled: yes please }\n', 'monitoring.enabled: expected true or false, got "yes please"');
    fails('monitoring: { listen_on: "127.0.0.1:1" }\n', 'monitoring.listen_on: unknown key (did you mean "listen"?)');
  });
});

describe('health', () => {
  const T = 10_000;
  const NOW = 1_800_000_000_000;
  const file = (over: Partial<FileSample> = {}): FileSample => ({
    status: 'active',
    openError: null,
    key: '1:2:active',
    path: '/logs/django.log',
    input: 0,
    size: 1000,
    readOffset: 1000,
    committed: 1000,
    open: true,
    ...over,
  });
  const input = (over: Partial<HealthInput> = {}): HealthInput => ({
    now: NOW,
    startedAt: NOW - 60_000,
    unhealthyAfterMs: T,
    sink: {
      name: 'elasticsearch',
      ready: true,
      fatal: null,
      failingSince: null,
      lastError: null,
      lastErrorAt: null,
      lastSuccessAt: NOW - 1000,
      pendingBatches: 0,
      maxPendingBatches: 8,
      unacknowledged: 0,
    },
    inputs: [{ type: 'django', paths: ['/logs/django.log'] }],
    files: [file()],
    emptyPatterns: [],
    progress: new Map([['1:2:active', NOW - 60_000]]),
    checkpoint: { lastWriteAt: NOW - 500, failingSince: null, lastError: null, unwrittenSince: null },
    deadLetters: { failingSince: null, lastError: null },
    ...over,
  });
  const sink = (over: Partial<HealthInput['sink']>): HealthInput['sink'] => ({ ...input().sink, ...over });

  test('degraded: an input that matches no file once the start is past, and a file that cannot be opened, with its path', () => {
    const nothing = evaluateHealth(input({ files: [], emptyPatterns: [{ input: 0, pattern: '/logs/django.log' }] }));
    assert.equal(nothing.status, 'degraded');
    assert.deepEqual(nothing.reasons, ['inputs[0] (django): no file matches /logs/django.log']);
    assert.deepEqual(nothing.inputs[0]!.unmatched, ['/logs/django.log']);
    // Within the start's grace period: not yet.
    assert.equal(evaluateHealth(input({ files: [], startedAt: NOW - T / 2 })).status, 'ok');
    const denied = evaluateHealth(input({ files: [file({ open: false, openError: 'EACCES: permission denied, open' })] }));
    assert.equal(denied.status, 'degraded');
    assert.deepEqual(denied.reasons, ['inputs[0] (django): cannot open /logs/django.log: EACCES: permission denied, open']);
    assert.deepEqual(denied.inputs[0]!.cannot_open, [{ path: '/logs/django.log', error: 'EACCES: permission denied, open' }]);
  });

  test('ok: 200, no reasons, per-sink and per-input detail', () => {
    const r = evaluateHealth(input({ files: [file({ size: 1500, readOffset: 1500 })] }));
    assert.equal(r.status, 'ok');
    assert.equal(httpStatusOf(r), 200);
    assert.deepEqual(r.reasons, []);
    assert.equal(r.sinks['elasticsearch']?.status, 'ok');
    assert.deepEqual(r.inputs[0], {
      type: 'django',
      paths: ['/logs/django.log'],
      files: 1,
      open_files: 1,
      bytes_behind: 500,
      unread_bytes: 0,
      stalled: [],
      unmatched: [],
      cannot_open: [],
    });
  });

  test('sink failing for less than the threshold: still ok, the sink says retrying', () => {
    const r = evaluateHealth(input({ sink: sink({ failingSince: NOW - T + 1, lastError: 'connect ECONNREFUSED' }) }));
    assert.equal(r.status, 'ok');
    assert.equal(r.sinks['elasticsearch']?.status, 'retrying');
    assert.equal(r.sinks['elasticsearch']?.last_error, 'connect ECONNREFUSED');
  });

  test('sink failing past the threshold: failing, 503, the reason names the sink and the error', () => {
    const r = evaluateHealth(input({ sink: sink({ failingSince: NOW - T, lastError: 'connect ECONNREFUSED' }) }));
    assert.equal(r.status, 'failing');
    assert.equal(httpStatusOf(r), 503);
    assert.deepEqual(r.reasons, ['sink elasticsearch has failed continuously for 10s: connect ECONNREFUSED']);
  });

  test('a fatal sink is failing at once', () => {
    const r = evaluateHealth(input({ sink: sink({ fatal: '401 security_exception' }) }));
    assert.equal(r.status, 'failing');
    assert.match(r.reasons[0]!, /cannot recover without an operator: 401 security_exception/);
  });

  test('a sink not ready after the threshold is failing; before it, starting', () => {
    assert.equal(evaluateHealth(input({ startedAt: NOW - 1000, sink: sink({ ready: false }) })).sinks['elasticsearch']?.status, 'starting');
    assert.equal(evaluateHealth(input({ startedAt: NOW - 1000, sink: sink({ ready: false }) })).status, 'ok');
    const r = evaluateHealth(input({ startedAt: NOW - T, sink: sink({ ready: false }) }));
    assert.equal(r.status, 'failing');
    assert.match(r.reasons[0]!, /has not become ready in 10s/);
  });

  test('reading stalled with data waiting: degraded, with the file and why', () => {
    const stalled = file({ size: 5000, readOffset: 1000, committed: 1000 });
    const r = evaluateHealth(input({ files: [stalled], progress: new Map([['1:2:active', NOW - T]]) }));
    assert.equal(r.status, 'degraded');
    assert.equal(httpStatusOf(r), 503);
    assert.equal(r.inputs[0]?.stalled.length, 1);
    assert.equal(r.inputs[0]?.unread_bytes, 4000);
    assert.deepEqual(r.reasons, ['inputs[0] (django): reading stalled for 10s with 4000 bytes waiting in /logs/django.log (no read progress)']);
    const paused = evaluateHealth(input({ files: [stalled], progress: new Map([['1:2:active', NOW - T]]), sink: sink({ pendingBatches: 8 }) }));
    assert.match(paused.reasons[0]!, /reading paused: the sink has 8 batches pending/);
    // Recent progress, or nothing unread: not stalled.
    assert.equal(evaluateHealth(input({ files: [stalled], progress: new Map([['1:2:active', NOW - T + 1]]) })).status, 'ok');
    assert.equal(evaluateHealth(input({ files: [file()], progress: new Map([['1:2:active', NOW - 10 * T]]) })).status, 'ok');
  });

  test('the sink failing and reading stalled: failing, both reasons', () => {
    const r = evaluateHealth(
      input({
        files: [file({ size: 5000 })],
        progress: new Map([['1:2:active', NOW - T]]),
        sink: sink({ failingSince: NOW - T, lastError: 'timeout', pendingBatches: 8 }),
      }),
    );
    assert.equal(r.status, 'failing');
    assert.equal(r.reasons.length, 2);
  });

  test('checkpoints that cannot be written: failing at once, with the error (reading is paused)', () => {
    const r = evaluateHealth(input({ checkpoint: { lastWriteAt: NOW - 5000, failingSince: NOW - 1000, lastError: 'EISDIR: illegal operation on a directory', unwrittenSince: NOW - 4000 } }));
    assert.equal(r.status, 'failing');
    assert.match(r.reasons[0]!, /^checkpoints cannot be written .*reading is paused: EISDIR/);
    assert.equal(r.checkpoints.status, 'failing');
    assert.equal(r.checkpoints.age_seconds, 4);
  });

  test('dead letters that cannot be written: failing at once, with the error', () => {
    const r = evaluateHealth(input({ deadLetters: { failingSince: NOW - 1000, lastError: 'cannot write dead letters to /d/dead_letters.ndjson: ENOSPC: no space left on device' } }));
    assert.equal(r.status, 'failing');
    assert.deepEqual(r.reasons, [`dead letters cannot be written (since ${new Date(NOW - 1000).toISOString()}), reading is paused: cannot write dead letters to /d/dead_letters.ndjson: ENOSPC: no space left on device`]);
    assert.equal(r.dead_letters.status, 'failing');
  });

  test('ReadProgress: the clock restarts when the offset moves or nothing is unread', () => {
    const p = new ReadProgress();
    const f = file({ size: 5000, readOffset: 1000 });
    assert.equal(p.observe([f], 100).get(f.key), 100);
    assert.equal(p.observe([f], 200).get(f.key), 100);
    assert.equal(p.observe([{ ...f, readOffset: 2000 }], 300).get(f.key), 300);
    assert.equal(p.observe([{ ...f, readOffset: 2000 }], 400).get(f.key), 300);
    assert.equal(p.observe([{ ...f, readOffset: 5000 }], 500).get(f.key), 500);
    assert.equal(p.observe([], 600).size, 0);
    assert.equal(p.observe([{ ...f, readOffset: 5000, size: 6000 }], 700).get(f.key), 700, 'forgotten, then seen anew');
  });
});

describe('metrics', () => {
  test('known events give exactly these values, with Prometheus names', async () => {
    const m = new Metrics({ sinkName: 'elasticsearch', inputTypes: ['django', 'docker'], version: '9.9.9', defaultMetrics: false });
    const counters = new Counters();
    const events = new FanOut(counters, m);
    events.bytesRead('django', '/l/a.log', 4096, 40);
    events.bytesRead('django', '/l/a.log', 1024, 10);
    events.recordsParsed('django', 45, 2, 3);
    events.rotationSeen('/l/a.log');
    events.truncationSeen('/l/a.log');
    events.bytesLost('/l/a.log.1', 300, 'deleted_before_open');
    events.bytesLost('/l/b.log', 20, 'truncated');
    events.bytesLost('/l/b.log', 5, 'truncated');
    events.fileSkipped('/l/core.log', 'binary');
    events.batchSent('elasticsearch', 40, 120);
    events.sendFailed('elasticsearch', 'connect ECONNREFUSED');
    events.recordsRetried('elasticsearch', 5);
    events.batchSent('elasticsearch', 5, 2500);
    events.recordsDeadLettered('elasticsearch', 2);
    events.recordsAcked('elasticsearch', 47);
    events.checkpointWritten(true);
    events.checkpointWritten(false, 'ENOSPC');
    events.deadLettersWritten(false, 'ENOSPC');
    events.deadLettersDropped(120, 98_304);
    events.deadLettersDropped(3, 1_000);
    const text = await m.text();
    const value = (series: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      assert.ok(line, `no series ${series} in\n${text}`);
      return Number(line.slice(series.length + 1));
    };
    assert.equal(value('logship_input_lines_total{input="django"}'), 50);
    assert.equal(value('logship_input_bytes_total{input="django"}'), 5120);
    assert.equal(value('logship_input_lines_total{input="docker"}'), 0, 'series exist before the first line');
    assert.equal(value('logship_records_parsed_total{input="django"}'), 45);
    assert.equal(value('logship_parse_errors_total{input="django"}'), 2);
    assert.equal(value('logship_multiline_records_total{input="django"}'), 3);
    assert.equal(value('logship_rotations_total'), 1);
    assert.equal(value('logship_truncations_total'), 1);
    assert.equal(value('logship_rotation_lost_bytes_total{reason="deleted_before_open"}'), 300);
    assert.equal(value('logship_rotation_lost_bytes_total{reason="truncated"}'), 25);
    assert.equal(value('logship_rotation_lost_bytes_total{reason="deleted_while_closed"}'), 0, 'every reason has a series from the start');
    assert.equal(value('logship_rotation_lost_bytes_total{reason="gone_at_restart"}'), 0);
    assert.equal(value('logship_files_skipped_total{reason="binary"}'), 1);
    assert.equal(value('logship_sink_records_sent_total{sink="elasticsearch"}'), 45);
    assert.equal(value('logship_sink_batches_sent_total{sink="elasticsearch"}'), 2);
    assert.equal(value('logship_sink_batches_failed_total{sink="elasticsearch"}'), 1);
    assert.equal(value('logship_sink_records_retried_total{sink="elasticsearch"}'), 5);
    assert.equal(value('logship_sink_records_dead_lettered_total{sink="elasticsearch"}'), 2);
    assert.equal(value('logship_sink_records_acknowledged_total{sink="elasticsearch"}'), 47);
    assert.equal(value('logship_sink_send_duration_seconds_count{sink="elasticsearch"}'), 2);
    assert.equal(value('logship_sink_send_duration_seconds_bucket{le="0.25",sink="elasticsearch"}'), 1);
    assert.equal(value('logship_sink_send_duration_seconds_sum{sink="elasticsearch"}'), 2.62);
    assert.equal(value('logship_checkpoint_writes_total'), 1);
    assert.equal(value('logship_checkpoint_write_failures_total'), 1);
    assert.equal(value('logship_dead_letter_write_failures_total'), 1);
    assert.equal(value('logship_dead_letters_dropped_records_total'), 123);
    assert.equal(value('logship_dead_letters_dropped_bytes_total'), 99_304);
    assert.equal(value('logship_build_info{version="9.9.9",nodejs="' + process.versions.node + '"}'), 1);
    // The Counters got the same events.
    assert.equal(counters.lines, 50);
    assert.equal(counters.acked, 47);
    assert.equal(counters.filesSkipped, 1);
    // Conventions: every metric is logship_*, counters end in _total, no unit other than base units.
    for (const line of text.split('\n')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (!type) continue;
      assert.match(type[1]!, /^logship_/);
      if (type[2] === 'counter') assert.match(type[1]!, /_total$/);
      assert.doesNotMatch(type[1]!, /_(ms|milliseconds|kb|mb|kib|mib)(_|$)/);
    }
    // What /health needs from the events.
    assert.equal(m.sinks.get('elasticsearch')?.failingSince, null, 'a stored record ends the failing run');
    assert.equal(m.sinks.get('elasticsearch')?.lastError, 'connect ECONNREFUSED');
    assert.equal(m.checkpoint.lastError, 'ENOSPC');
    assert.notEqual(m.checkpoint.failingSince, null);
    assert.equal(m.deadLetters.lastError, 'ENOSPC');
    assert.equal(counters.deadLettersDroppedRecords, 123);
    events.deadLettersWritten(true);
    assert.equal(m.deadLetters.failingSince, null, 'a successful write ends the failing run');
  });

  test('default process metrics keep their standard names', async () => {
    const m = new Metrics({ sinkName: 'file', inputTypes: ['django'], version: '0' });
    const text = await m.text();
    assert.match(text, /^process_cpu_seconds_total /m);
    assert.match(text, /^process_resident_memory_bytes /m);
    assert.match(text, /^nodejs_eventloop_lag_seconds /m);
  });
});

describe('monitoring server', () => {
  const logged: { level: string; msg: string }[] = [];
  const logger: Logger = {
    debug: (msg) => logged.push({ level: 'debug', msg }),
    info: (msg) => logged.push({ level: 'info', msg }),
    warn: (msg) => logged.push({ level: 'warn', msg }),
    error: (msg) => logged.push({ level: 'error', msg }),
  };
  const handlers = {
    health: async () => ({ status: 503, body: { status: 'failing', reasons: ['x'] } }),
    metrics: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', text: 'logship_up 1\n' }),
    live: () => ({ status: 200, body: { status: 'alive', reasons: [] } }),
  };

  test('routes: /health, /health/, /metrics, HEAD, 404, 405; a taken port is logged, not thrown', async () => {
    const server = await startMonitoringServer({ host: '127.0.0.1', port: 0 }, handlers, logger);
    assert.ok(server);
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      for (const path of ['/health', '/health/']) {
        const res = await fetch(server.url + path);
        assert.equal(res.status, 503);
        assert.equal(res.headers.get('content-type'), 'application/json');
        assert.deepEqual(await res.json(), { status: 'failing', reasons: ['x'] });
      }
      const live = await fetch(server.url + '/live');
      assert.equal(live.status, 200);
      assert.deepEqual(await live.json(), { status: 'alive', reasons: [] });
      const metrics = await fetch(server.url + '/metrics');
      assert.equal(metrics.status, 200);
      assert.equal(await metrics.text(), 'logship_up 1\n');
      const head = await fetch(server.url + '/health', { method: 'HEAD' });
      assert.equal(head.status, 503);
      assert.equal(await head.text(), '');
      assert.equal((await fetch(server.url + '/nope')).status, 404);
      const post = await fetch(server.url + '/health', { method: 'POST' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.get('allow'), 'GET, HEAD');

      const port = Number(new URL(server.url).port);
      const second = await startMonitoringServer({ host: '127.0.0.1', port }, handlers, logger);
      assert.equal(second, null);
      assert.ok(logged.some((l) => l.level === 'error' && l.msg.startsWith('monitoring server cannot listen')));
    } finally {
      await server.close();
    }
  });
});
