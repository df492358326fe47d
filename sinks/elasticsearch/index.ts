export { createElasticsearchSink } from './sink.js';
export type { ElasticsearchSinkConfig } from './config.js';
