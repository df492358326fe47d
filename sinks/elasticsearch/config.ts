/**
 * The Elasticsearch sink's validated config. The config loader parses, defaults and validates the user's YAML into
 * this shape; the sink takes nothing else.
 */
export interface ElasticsearchSinkConfig {
  type: 'elasticsearch';
  /** One or more node URLs. Sends go to one node; a node that fails is weighted down and the next send uses another. */
  nodes: string[];
  /** Index or data stream written to. @default 'logs-django-default' */
  index: string;
  /** Write `create` actions into a data stream (the index then needs @timestamp). @default true */
  dataStream: boolean;
  /** Basic auth, or an API key (the base64 "id:key" string Kibana shows as "encoded"). */
  auth?: { username: string; password: string } | { apiKey: string };
  tls: {
    /** Absolute path of a PEM CA bundle that signed the cluster's certificate. */
    ca?: string;
    /** Verify the server certificate. @default true */
    verify: boolean;
  };
  /** Gzip request bodies. @default false */
  compression: boolean;
  /** Per-request timeout. @default 30000 */
  requestTimeoutMs: number;
}
