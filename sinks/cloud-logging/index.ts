export { createCloudLoggingSink } from './sink.js';
export type { CloudLoggingSinkConfig, CloudLoggingResource } from './config.js';
export { cloudLoggingSinkSchema, buildCloudLoggingConfig } from './config.js';
