/**
 * The validated config, the only form of it the rest of the agent sees: camelCase, durations in milliseconds,
 * paths absolute, defaults filled. Made by loadConfig (load.ts) from the YAML described in schema.ts.
 */

export type StartAt = 'beginning' | 'end';
export type InputType = 'django' | 'docker';

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
}

export interface ElasticsearchSinkConfig {
  type: 'elasticsearch';
  nodes: string[];
  index: string;
  dataStream: boolean;
  auth?: { username: string; password: string } | { apiKey: string };
  tls: { ca?: string; verify: boolean };
  compression: boolean;
  requestTimeoutMs: number;
}

export interface FileSinkConfig {
  type: 'file';
  path: string;
  maxBytes: number;
  maxFiles: number;
}

export interface StdoutSinkConfig {
  type: 'stdout';
}

export type SinkConfig = ElasticsearchSinkConfig | FileSinkConfig | StdoutSinkConfig;

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
}
