import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { TABLE_PARTITION_KEY, TABLE_SORT_KEY, TABLE_SUFFIXES } from '../aws-contract.js';
import type { Candidate } from '../domain/model.js';
import type { Clock } from '../ports/clock.js';
import type { StoreObserver } from '../ports/store-observer.js';
import type { Stores } from '../ports/stores.js';
import { DYNAMODB_HTTP, errorName, MAX_ATTEMPTS, S3_HTTP } from './aws-retry.js';
import { sleep } from './clock-waits.js';
import type { FeedChannel } from './cluster-feed.js';
import { baselineSource, ClusterFeedHub, ClusterPublishFeed } from './cluster-feed.js';
import { DynamoDbMetadataStore } from './dynamodb-metadata-store.js';
import { DynamoDbPublishFeed } from './dynamodb-publish-feed.js';
import { HotCache } from './hot-cache.js';
import { PeerReplicator } from './peer-replicator.js';
import type { BucketLocation } from './s3-segment-store.js';
import { S3SegmentStore } from './s3-segment-store.js';
import { systemClock } from './system-clock.js';

export interface AwsStoresConfig {
  /** LIVE_ORIGIN_BUCKET: this region's segment bucket. */
  readonly bucket: string;
  /** LIVE_ORIGIN_TABLE_PREFIX. */
  readonly tablePrefix: string;
  /** AWS_REGION of this instance. */
  readonly region: string;
  /** LIVE_ORIGIN_PEER_BUCKETS: region -> bucket of the other regions (this region's entry is ignored). */
  readonly peerBuckets: Readonly<Record<string, string>>;
  /** Peer regions whose bucket is on its own S3 endpoint (local twins of regions); others use the SDK's. */
  readonly peerEndpoints?: Readonly<Record<string, string>>;
  /**
   * Address buckets by path on the SDK's S3 endpoint: it is a custom one (AWS_ENDPOINT_URL_S3, a
   * local or S3-compatible server without per-bucket host names). Peers on their own endpoint
   * always are. @default false
   */
  readonly s3PathStyle?: boolean;
  /** LIVE_ORIGIN_MEMORY_BYTES: the hot cache's bound. */
  readonly memoryBytes: number;
  /** Writes slower than this are reported as faults. @default 500 */
  readonly writeFaultMs?: number;
  /** Polling period of the publish feed. @default 50 */
  readonly feedPollMs?: number;
  /** Longest a metadata read is served from cache. @default 500 */
  readonly metadataCacheMs?: number;
  /**
   * A cluster worker's channel to its primary, which polls for the whole host
   * (createHostFeedHub): the worker's feed then polls nothing itself.
   */
  readonly feedChannel?: FeedChannel;
  /** Times the stores' calls, caches and peer copies. @default systemClock */
  readonly clock?: Clock;
}

/**
 * Clients for one region. Endpoints and credentials come from the SDK's own configuration
 * (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_DYNAMODB, the credential chain).
 */
function s3Client(region: string, endpoint: string | undefined, pathStyle: boolean): S3Client {
  return new S3Client({
    region,
    ...(endpoint === undefined ? {} : { endpoint }),
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: S3_HTTP,
    // Without this the SDK streams bodies with trailing checksums (aws-chunked), which
    // S3-compatible test servers store verbatim; Content-MD5 still protects the bytes.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // A custom S3 endpoint (a local server) has no per-bucket host names.
    forcePathStyle: endpoint !== undefined || pathStyle,
  });
}

function dynamoDbClient(region: string): DynamoDBClient {
  return new DynamoDBClient({ region, maxAttempts: MAX_ATTEMPTS, requestHandler: DYNAMODB_HTTP });
}

function peerLocations(config: Pick<AwsStoresConfig, 'region' | 'peerBuckets' | 'peerEndpoints' | 's3PathStyle'>): BucketLocation[] {
  return Object.entries(config.peerBuckets)
    .filter(([region]) => region !== config.region)
    .map(([region, bucket]) => ({ region, bucket, client: s3Client(region, config.peerEndpoints?.[region], config.s3PathStyle ?? false) }));
}

/**
 * The stores of `LIVE_ORIGIN_STORE=aws`: a hot cache over S3 (with peer copies and peer
 * fallback reads), DynamoDB metadata, and a publish feed that polls DynamoDB for watched objects.
 */
export function createAwsStores(config: AwsStoresConfig, observer: StoreObserver): Stores {
  const local: BucketLocation = { region: config.region, bucket: config.bucket, client: s3Client(config.region, undefined, config.s3PathStyle ?? false) };
  const peers = peerLocations(config);
  const { clock } = config;
  const replicator = peers.length > 0 ? new PeerReplicator({ peers, observer, clock }) : undefined;
  const s3 = new S3SegmentStore({ local, peers, afterPut: replicator, observer, writeFaultMs: config.writeFaultMs, clock });
  const segments = new HotCache(s3, { maxBytes: config.memoryBytes, observer });
  const dynamoDb = dynamoDbClient(config.region);
  const metadata = new DynamoDbMetadataStore({
    client: dynamoDb,
    tablePrefix: config.tablePrefix,
    observer,
    writeFaultMs: config.writeFaultMs,
    cacheMs: config.metadataCacheMs,
    clock,
  });
  const feed = config.feedChannel
    ? new ClusterPublishFeed(config.feedChannel, metadata.feedSource, clock ?? systemClock)
    : new DynamoDbPublishFeed({ source: metadata.feedSource, observer, pollMs: config.feedPollMs });
  return {
    segments,
    metadata,
    feed,
    async close() {
      await feed.close();
      await replicator?.close();
      await segments.close();
      await metadata.close();
      for (const client of [local.client, ...peers.map((peer) => peer.client), dynamoDb]) client.destroy();
    },
  };
}

/**
 * The primary process's one publish-feed poller for all the workers of its host: a metadata
 * store used only for its polls, and the hub that serves the workers' watches.
 */
export function createHostFeedHub(config: Pick<AwsStoresConfig, 'region' | 'tablePrefix' | 'feedPollMs'>, observer: StoreObserver): ClusterFeedHub {
  const dynamoDb = dynamoDbClient(config.region);
  const metadata = new DynamoDbMetadataStore({ client: dynamoDb, tablePrefix: config.tablePrefix, observer });
  const baselines = new Map<string, readonly Candidate[]>();
  const feed = new DynamoDbPublishFeed({ source: baselineSource(metadata.feedSource, baselines), observer, pollMs: config.feedPollMs });
  return new ClusterFeedHub(feed, baselines, async () => {
    await metadata.close();
    dynamoDb.destroy();
  });
}

export interface AwsResources {
  readonly bucket: string;
  readonly tablePrefix: string;
  readonly region: string;
  readonly peerBuckets?: Readonly<Record<string, string>>;
  /** Times the wait for a new table to become active. @default systemClock */
  readonly clock?: Clock;
}

/**
 * Creates the bucket(s) and both tables if they are missing (idempotent). For local servers
 * and tests: on AWS the CDK stacks own these resources, with TTL and global-table replicas.
 */
export async function ensureAwsResources(resources: AwsResources): Promise<void> {
  const buckets: [string, string][] = [[resources.region, resources.bucket], ...Object.entries(resources.peerBuckets ?? {})];
  await Promise.all(buckets.map(([region, bucket]) => ensureBucket(region, bucket)));
  const dynamoDb = dynamoDbClient(resources.region);
  try {
    const clock = resources.clock ?? systemClock;
    await Promise.all(Object.values(TABLE_SUFFIXES).map((suffix) => ensureTable(dynamoDb, `${resources.tablePrefix}${suffix}`, clock)));
  } finally {
    dynamoDb.destroy();
  }
}

async function ensureBucket(region: string, bucket: string): Promise<void> {
  // Only local and S3-compatible servers get their buckets from here (see above): path-style.
  const client = s3Client(region, undefined, true);
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if (errorName(error) !== 'NotFound' && errorName(error) !== 'NoSuchBucket') throw error;
    try {
      await client.send(
        new CreateBucketCommand({
          Bucket: bucket,
          ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
        }),
      );
    } catch (createError) {
      if (errorName(createError) !== 'BucketAlreadyOwnedByYou') throw createError;
    }
  } finally {
    client.destroy();
  }
}

const TABLE_ACTIVE_TIMEOUT_MS = 30_000;
/** How often a table being created is asked whether it is active. */
const TABLE_ACTIVE_POLL_MS = 100;

async function ensureTable(client: DynamoDBClient, table: string, clock: Clock): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: TABLE_PARTITION_KEY, KeyType: 'HASH' },
          { AttributeName: TABLE_SORT_KEY, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: TABLE_PARTITION_KEY, AttributeType: 'S' },
          { AttributeName: TABLE_SORT_KEY, AttributeType: 'S' },
        ],
      }),
    );
  } catch (error) {
    if (errorName(error) !== 'ResourceInUseException') throw error;
  }
  const deadline = clock.now() + TABLE_ACTIVE_TIMEOUT_MS;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (clock.now() > deadline) throw new Error(`table ${table} is not ACTIVE after ${TABLE_ACTIVE_TIMEOUT_MS} ms`);
    await sleep(clock, TABLE_ACTIVE_POLL_MS);
  }
}
