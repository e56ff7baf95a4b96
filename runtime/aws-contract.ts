/**
 * The names that the runtime and the CDK stacks must agree on: tables, keys, metric names.
 * Both sides import this module (it holds constants only), so a rename cannot drift.
 */

/** DynamoDB tables, each named `${LIVE_ORIGIN_TABLE_PREFIX}${suffix}`. */
export const TABLE_SUFFIXES = {
  /** One item per candidate: pk `${event}#${path}`, sk the pipeline id (plus the `#pin` item). */
  candidates: 'candidates',
  /** Event-level items: pk the event id, sk `config`, `notify`, `mask#...`, `pipeline#...`, `rendition#...`. */
  events: 'events',
} as const;

/** Every table has this string partition key and string sort key. */
export const TABLE_PARTITION_KEY = 'pk';
export const TABLE_SORT_KEY = 'sk';
/** Epoch seconds after which DynamoDB may delete the item (table TTL attribute). */
export const TABLE_TTL_ATTRIBUTE = 'expiresAt';

/** CloudWatch namespace of the runtime's own signals (the alarms read these). */
export const METRIC_NAMESPACE = 'LiveOrigin';
/** Every published datum carries this dimension, valued with the instance's AWS region. */
export const METRIC_REGION_DIMENSION = 'Region';

/** Metric names the runtime publishes each minute (Sum unless noted). */
export const METRIC_NAMES = {
  requests: 'Requests',
  serverErrors: 'ServerErrors',
  ingests: 'Ingests',
  defects: 'Defects',
  holdTimeouts: 'HoldTimeouts',
  storeFaults: 'StoreFaults',
  /** Maximum over the period of the number of configured-or-seen pipelines judged unhealthy. */
  unhealthyPipelines: 'UnhealthyPipelines',
  /** Milliseconds from ingest ack to the copy landing in a peer region's bucket (Maximum). */
  peerCopyLagMs: 'PeerCopyLagMs',
  /**
   * The share of requests the origin could not serve, in percent: one sample per request, 100
   * for a 5xx it did not mean (a store failure, an internal error), 0 for every other answer,
   * deliberate 503s included (shedding, draining, a blocking reload that timed out). Average is
   * the region's error ratio weighted by requests; SampleCount the requests. The one signal of
   * "this region cannot serve" that a single-metric alarm, and so Route 53, can follow.
   */
  unservedPercent: 'UnservedPercent',
  /** Peer copies given up after their retries or dropped from a full queue (Sum). */
  peerCopyFailures: 'PeerCopyFailures',
  /** Copies waiting for a peer region, the most at any moment of the period (Maximum). */
  peerCopyBacklog: 'PeerCopyBacklog',
} as const;
