import type { SinkConfig } from '../src/config/types.js';
import type { Sink, SinkDeps } from '../src/sink.js';
import { createElasticsearchSink } from './elasticsearch/index.js';
import { createFileSink } from './file/sink.js';
import { createStdoutSink } from './stdout/sink.js';

/** The one place that maps `sink.type` to a sink. */
export function createSink(config: SinkConfig, deps: SinkDeps): Sink {
  switch (config.type) {
    case 'elasticsearch':
      return createElasticsearchSink(config, deps);
    case 'file':
      return createFileSink(config, deps);
    case 'stdout':
      return createStdoutSink(config, deps);
  }
}
