export { createCloudWatchSink } from './sink.js';
export type { CloudWatchSinkConfig } from './config.js';
