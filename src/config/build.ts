/**
 * From the validated file content (schema.ts) to the `Config` the agent uses: camelCase names, relative paths
 * resolved against the config file's directory, input start_at inherited from the top level. Then the file
 * system checks of paths.ts, keyed by the names used in the file.
 */
import { dirname } from 'node:path';
import type { ConfigFile } from './schema.js';
import type { Config, InputConfig, SinkConfig } from './types.js';
import {
  checkGlob,
  checkInputPath,
  checkNoTilde,
  checkReadableFile,
  checkWritableDirectory,
  resolveExclude,
  resolvePattern,
} from './paths.js';
import { parseListen, type ListenAddress } from '../monitoring/listen.js';
import { patternBase } from '../tail/patterns.js';
import { DEFAULT_DOCUMENT_LABELS } from '../containers/metadata.js';
import { buildCloudWatchConfig } from '../../sinks/cloudwatch/config.js';
import { buildCloudLoggingConfig, checkKeyFile } from '../../sinks/cloud-logging/config.js';

/** `configFile` must be absolute. */
export function buildConfig(file: ConfigFile, configFile: string): Config {
  const dir = dirname(configFile);
  const patternBases = file.inputs.flatMap((input) => input.paths.map((p) => patternBase(resolvePattern(p, dir))));
  const inputs: InputConfig[] = file.inputs.map((input) => ({
    type: input.type,
    paths: input.paths.map((p) => resolvePattern(p, dir)),
    exclude: input.exclude.map((p) => resolveExclude(p, dir)),
    timezone: input.timezone,
    startAt: input.start_at ?? file.start_at,
    includeOriginal: input.include_original,
    symlinkRoots: input.follow_symlinks ? (input.symlink_roots?.map((p) => resolvePattern(p, dir)) ?? [...new Set(patternBases)]) : null,
    ...(input.containers !== undefined && {
      containers: {
        include: input.containers.include,
        exclude: input.containers.exclude,
        labels: input.containers.labels ?? [...DEFAULT_DOCUMENT_LABELS],
      },
    }),
    formatter: input.format === undefined ? null : { format: input.format, style: input.style ?? '%', datefmt: input.datefmt ?? null },
  }));
  return {
    configFile,
    dataDir: resolvePattern(file.data_dir, dir),
    hostName: file.host_name,
    maxLineBytes: file.max_line_bytes,
    maxOpenFiles: file.max_open_files,
    partialLineTimeoutMs: file.partial_line_timeout,
    multilineTimeoutMs: file.multiline_timeout,
    scanIntervalMs: file.scan_interval,
    closeInactiveMs: file.close_inactive,
    rotateWaitMs: file.rotate_wait,
    usePolling: file.use_polling,
    checkpointIntervalMs: file.checkpoint_interval,
    shutdownTimeoutMs: file.shutdown_timeout,
    inputs,
    sink: buildSink(file.sink, dir),
    batch: {
      maxEvents: file.batch.max_events,
      maxBytes: file.batch.max_bytes,
      flushIntervalMs: file.batch.flush_interval_ms,
    },
    delivery: {
      concurrency: file.delivery.concurrency,
      maxPendingBatches: file.delivery.max_pending_batches,
      retry: {
        initialBackoffMs: file.delivery.retry.initial_backoff,
        maxBackoffMs: file.delivery.retry.max_backoff,
        maxAttempts: file.delivery.retry.max_attempts,
      },
    },
    monitoring: {
      enabled: file.monitoring.enabled,
      listen: parseListen(file.monitoring.listen) as ListenAddress, // validated by the schema
      unhealthyAfterMs: file.monitoring.unhealthy_after_ms,
    },
    deadLetters: { maxBytes: file.dead_letters.max_bytes, maxFiles: file.dead_letters.max_files },
  };
}

function buildSink(sink: ConfigFile['sink'], dir: string): SinkConfig {
  switch (sink.type) {
    case 'elasticsearch': {
      const { auth } = sink;
      return {
        type: 'elasticsearch',
        nodes: sink.nodes ?? (sink.node !== undefined ? [sink.node] : []),
        index: sink.index,
        dataStream: sink.data_stream,
        ...(auth && {
          auth:
            auth.api_key !== undefined
              ? { apiKey: auth.api_key }
              : { username: auth.username ?? '', password: auth.password ?? '' },
        }),
        tls: {
          ...(sink.tls.ca !== undefined && { ca: resolvePattern(sink.tls.ca, dir) }),
          verify: sink.tls.verify,
        },
        compression: sink.compression,
        requestTimeoutMs: sink.request_timeout,
      };
    }
    case 'cloudwatch':
      return buildCloudWatchConfig(sink);
    case 'cloud_logging':
      return buildCloudLoggingConfig(sink, dir);
    case 'file':
      return { type: 'file', path: resolvePattern(sink.path, dir), maxBytes: sink.max_bytes, maxFiles: sink.max_files, mode: sink.mode };
    case 'stdout':
      return { type: 'stdout' };
  }
}

/** What can be known about the file system before running; throws the first ConfigError. */
export function checkFileSystem(file: ConfigFile, config: Config): void {
  checkNoTilde(file.data_dir, 'data_dir');
  checkWritableDirectory(config.dataDir, 'data_dir');
  config.inputs.forEach((input, i) => {
    input.paths.forEach((pattern, j) => {
      const key = `inputs[${i}].paths[${j}]`;
      checkNoTilde(file.inputs[i]?.paths[j], key);
      checkGlob(pattern, key, file.inputs[i]?.paths[j]);
      checkInputPath(pattern, key);
    });
    input.exclude.forEach((pattern, j) => checkGlob(pattern, `inputs[${i}].exclude[${j}]`, file.inputs[i]?.exclude[j]));
  });
  if (file.sink.type === 'file') checkNoTilde(file.sink.path, 'sink.path');
  if (config.sink.type === 'elasticsearch' && config.sink.tls.ca !== undefined) {
    if (file.sink.type === 'elasticsearch') checkNoTilde(file.sink.tls.ca, 'sink.tls.ca');
    checkReadableFile(config.sink.tls.ca, 'sink.tls.ca');
  }
  if (config.sink.type === 'cloud_logging' && config.sink.keyFilename !== undefined) {
    if (file.sink.type === 'cloud_logging') checkNoTilde(file.sink.key_filename, 'sink.key_filename');
    checkReadableFile(config.sink.keyFilename, 'sink.key_filename');
    checkKeyFile(config.sink.keyFilename);
  }
}
