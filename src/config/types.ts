/**
 * The validated config, the only form of it the rest of the agent sees: camelCase, durations in milliseconds,
 * paths absolute, defaults filled. Made by loadConfig (load.ts) from the YAML described in schema.ts.
 */

import type { FormatterSpec } from '../parse/formatter/index.js';

export type StartAt = 'beginning' | 'end';
export type InputType = 'django' | 'docker' | 'cri';

/** inputs[].containers (docker and cri inputs): which containers to ship, which labels documents carry. */
export interface ContainersConfig {
  /** Entries (see src/containers/filter.ts); none = every container. */
  include: ContainerMatchConfig[];
  exclude: ContainerMatchConfig[];
  /** Globs of the label keys written to container.labels (docker). */
  labels: string[];
}

export interface InputConfig {
  type: InputType;
  /** Absolute paths or glob patterns. */
  paths: string[];
  /** Globs matched against the full path and the basename; those with a `/` are absolute. */
  exclude: string[];
  /** IANA zone of timestamps written without an offset. */
  timezone: string;
  startAt: StartAt;
  includeOriginal: boolean;
  /** Directories a symbolic link at a matched path may lead into; null: links are not followed. */
  symlinkRoots: string[] | null;
  /** Only when configured (docker and cri inputs); absent: every container, the default labels. */
  containers?: ContainersConfig;
  /** The Formatter string records are written with (`format`, `style`, `datefmt`); null: layouts are detected. */
  formatter: FormatterSpec | null;
}

import type { ContainerMatchConfig } from '../containers/filter.js';
import type { ElasticsearchSinkConfig } from '../../sinks/elasticsearch/config.js';
import type { FileSinkConfig } from '../../sinks/file/config.js';
import type { StdoutSinkConfig } from '../../sinks/stdout/sink.js';
import type { CloudWatchSinkConfig } from '../../sinks/cloudwatch/config.js';
import type { CloudLoggingSinkConfig } from '../../sinks/cloud-logging/config.js';

/** Each sink declares its validated config type beside its code; the union of them is what `sink:` becomes. */
export type { ElasticsearchSinkConfig, CloudWatchSinkConfig, CloudLoggingSinkConfig, FileSinkConfig, StdoutSinkConfig };
export type SinkConfig = ElasticsearchSinkConfig | CloudWatchSinkConfig | CloudLoggingSinkConfig | FileSinkConfig | StdoutSinkConfig;

export interface Config {
  /** Absolute path of the file this was loaded from. */
  configFile: string;
  dataDir: string;
  hostName: string;
  maxLineBytes: number;
  maxOpenFiles: number;
  partialLineTimeoutMs: number;
  multilineTimeoutMs: number;
  scanIntervalMs: number;
  closeInactiveMs: number;
  rotateWaitMs: number;
  usePolling: boolean;
  checkpointIntervalMs: number;
  shutdownTimeoutMs: number;
  inputs: InputConfig[];
  sink: SinkConfig;
  batch: { maxEvents: number; maxBytes: number; flushIntervalMs: number };
  delivery: {
    concurrency: number;
    maxPendingBatches: number;
    retry: { initialBackoffMs: number; maxBackoffMs: number; maxAttempts: number };
  };
  monitoring: MonitoringConfig;
  /** The bound on the dead letters: all their files together hold at most maxBytes, split into maxFiles. */
  deadLetters: { maxBytes: number; maxFiles: number };
}

/** The self-monitoring HTTP server (/health, /metrics). */
export interface MonitoringConfig {
  /** Serve while `run` follows files. @default true */
  enabled: boolean;
  /** Address to bind. @default { host: '127.0.0.1', port: 9600 } */
  listen: { host: string; port: number };
  /** Sink failing or reading stalled with data waiting this long → /health 503. @default 30000 */
  unhealthyAfterMs: number;
}
