export { createStdoutSink, type StdoutSinkConfig } from './sink.js';
