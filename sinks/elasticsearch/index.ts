// First: the client must find apache-arrow deferred when it loads (see lazy-arrow.ts).
import './lazy-arrow.js';
export { createElasticsearchSink } from './sink.js';
export type { ElasticsearchSinkConfig } from './config.js';
