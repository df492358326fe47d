export { loadConfig, configFromText } from './load.js';
export { ConfigError } from './errors.js';
export { parseDuration, formatDuration } from './duration.js';
export { interpolateString, type Env } from './interpolate.js';
export { START_AT, INPUT_TYPES, SINK_TYPES } from './schema.js';
export type {
  Config,
  InputConfig,
  InputType,
  StartAt,
  SinkConfig,
  ElasticsearchSinkConfig,
  FileSinkConfig,
  StdoutSinkConfig,
} from './types.js';
