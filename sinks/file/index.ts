export { createFileSink } from './sink.js';
export type { FileSinkConfig } from './config.js';
