import type { SinkConfig } from '../src/config/types.js';
import type { Sink, SinkDeps } from '../src/sink.js';

/**
 * The one place that maps `sink.type` to a sink. Each sink's module is imported only when chosen: the cloud SDKs
 * (google-gax with its protobufs, the AWS SDK) cost a second of start-up and tens of MiB that an Elasticsearch or
 * file deployment should not pay.
 */
export async function createSink(config: SinkConfig, deps: SinkDeps): Promise<Sink> {
  switch (config.type) {
    case 'elasticsearch':
      return (await import('./elasticsearch/index.js')).createElasticsearchSink(config, deps);
    case 'cloudwatch':
      return (await import('./cloudwatch/index.js')).createCloudWatchSink(config, deps);
    case 'cloud_logging':
      return (await import('./cloud-logging/index.js')).createCloudLoggingSink(config, deps);
    case 'file':
      return (await import('./file/sink.js')).createFileSink(config, deps);
    case 'stdout':
      return (await import('./stdout/sink.js')).createStdoutSink(config, deps);
  }
}
