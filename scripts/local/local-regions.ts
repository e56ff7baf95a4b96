import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureAwsResources } from '../../runtime/adapters/aws-stores.js';
import type { LocalDynamoDb, LocalS3 } from './local-aws.js';
import { LOCAL_CREDENTIALS, startLocalAws, startLocalS3 } from './local-aws.js';
import type { StoreServerProcess } from './store-processes.js';
import { spawnReporting, spawnStoreServer } from './store-processes.js';

/**
 * The local twin of two AWS regions: each region has its own S3 server (s3rver) and bucket,
 * and each region's origin copies acknowledged segments to the other's bucket on the other's
 * server (LIVE_ORIGIN_PEER_BUCKETS `region=bucket@endpoint`), as the peer copy does on AWS.
 *
 * Metadata: on AWS the tables are DynamoDB global tables, replicated between the regions by
 * AWS. No local server replicates tables, so both regions share ONE dynalite and one table
 * prefix: a stand-in for a global table whose replication is instant. Killing a region's
 * origin leaves its metadata readable by the other, as a global table would.
 */

export const LOCAL_REGION_NAMES = ['us-east-1', 'eu-west-1'] as const;
const TABLE_PREFIX = 'live-origin-regions-';

export interface LocalRegion {
  readonly region: string;
  readonly bucket: string;
  readonly s3: LocalS3;
}

/** Where two local regions' servers listen: plain data, so another process can use them. */
export interface LocalRegionsAddress {
  readonly regions: readonly [{ region: string; bucket: string; s3: string }, { region: string; bucket: string; s3: string }];
  readonly dynamoDb: string;
  readonly tablePrefix: string;
}

/**
 * The environment of region `index`'s origin process in aws mode: its own S3 server and
 * bucket, the other region's bucket as its peer, the shared tables, `token` granting every event.
 */
export function regionOriginEnv(address: LocalRegionsAddress, index: 0 | 1, token: string): Record<string, string> {
  const own = address.regions[index];
  const peer = address.regions[index === 0 ? 1 : 0];
  return {
    ...LOCAL_CREDENTIALS,
    AWS_REGION: own.region,
    AWS_ENDPOINT_URL_S3: own.s3,
    AWS_ENDPOINT_URL_DYNAMODB: address.dynamoDb,
    LIVE_ORIGIN_STORE: 'aws',
    LIVE_ORIGIN_BUCKET: own.bucket,
    LIVE_ORIGIN_TABLE_PREFIX: address.tablePrefix,
    LIVE_ORIGIN_PEER_BUCKETS: `${peer.region}=${peer.bucket}@${peer.s3}`,
    LIVE_ORIGIN_TOKENS: `${token}=*`,
  };
}

export interface LocalRegions {
  readonly regions: readonly [LocalRegion, LocalRegion];
  /** Shared by both regions: the stand-in for global tables. */
  readonly dynamoDb: LocalDynamoDb;
  readonly tablePrefix: string;
  readonly address: LocalRegionsAddress;
  /** regionOriginEnv for these servers. */
  originEnv(index: 0 | 1, token: string): Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts both regions' S3 servers and the shared DynamoDB server and creates the buckets and
 * tables. Like startLocalAws, leaves this process's SDK pointed at region 1's servers.
 */
export async function startLocalRegions(): Promise<LocalRegions> {
  const [name1, name2] = LOCAL_REGION_NAMES;
  const bucket1 = `live-origin-${name1}`;
  const bucket2 = `live-origin-${name2}`;
  const first = await startLocalAws({ region: name1, bucket: bucket1, tablePrefix: TABLE_PREFIX });
  const directory = await mkdtemp(join(tmpdir(), 'live-origin-region2-'));
  let s3Region2: LocalS3 | undefined;
  try {
    s3Region2 = await startLocalS3(join(directory, 's3'));
    // Region 2's bucket on region 2's server; then the SDK goes back to region 1's.
    process.env.AWS_ENDPOINT_URL_S3 = s3Region2.endpoint;
    await ensureAwsResources({ bucket: bucket2, tablePrefix: TABLE_PREFIX, region: name2 });
  } catch (error) {
    await s3Region2?.stop();
    await first.stop();
    await rm(directory, { recursive: true, force: true });
    throw error;
  } finally {
    process.env.AWS_ENDPOINT_URL_S3 = first.s3.endpoint;
  }
  const regions = [
    { region: name1, bucket: bucket1, s3: first.s3 },
    { region: name2, bucket: bucket2, s3: s3Region2 },
  ] as const;
  const address: LocalRegionsAddress = {
    regions: [
      { region: name1, bucket: bucket1, s3: first.s3.endpoint },
      { region: name2, bucket: bucket2, s3: s3Region2.endpoint },
    ],
    dynamoDb: first.dynamoDb.endpoint,
    tablePrefix: TABLE_PREFIX,
  };
  return {
    regions,
    dynamoDb: first.dynamoDb,
    tablePrefix: TABLE_PREFIX,
    address,
    originEnv: (index, token) => regionOriginEnv(address, index, token),
    async stop() {
      await Promise.allSettled([s3Region2.stop(), first.stop()]);
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * The same servers as startLocalRegions, each in a process of its own (two S3 servers and the
 * shared DynamoDB server): on a small host one event loop serving all three was the bottleneck
 * under a live load, and its answers came late enough for the origins' store timeouts to fire.
 * Creates the buckets and tables from this process; `stop` ends the three and removes their data.
 */
export async function startLocalRegionsInProcesses(timeoutMs = 60_000): Promise<{ address: LocalRegionsAddress; stop(): Promise<void> }> {
  const [name1, name2] = LOCAL_REGION_NAMES;
  const directory = await mkdtemp(join(tmpdir(), 'live-origin-regions-'));
  const servers: StoreServerProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.allSettled(servers.map((server) => server.end()));
    await rm(directory, { recursive: true, force: true });
  };
  try {
    const started = await Promise.allSettled([
      spawnStoreServer('s3', join(directory, 's3-1'), timeoutMs),
      spawnStoreServer('s3', join(directory, 's3-2'), timeoutMs),
      spawnStoreServer('dynamodb', join(directory, 'dynamodb'), timeoutMs),
    ]);
    for (const result of started) if (result.status === 'fulfilled') servers.push(result.value);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const [s3Region1, s3Region2, dynamoDb] = servers as [StoreServerProcess, StoreServerProcess, StoreServerProcess];
    const address: LocalRegionsAddress = {
      regions: [
        { region: name1, bucket: `live-origin-${name1}`, s3: s3Region1.endpoint },
        { region: name2, bucket: `live-origin-${name2}`, s3: s3Region2.endpoint },
      ],
      dynamoDb: dynamoDb.endpoint,
      tablePrefix: TABLE_PREFIX,
    };
    Object.assign(process.env, LOCAL_CREDENTIALS, { AWS_ENDPOINT_URL_DYNAMODB: dynamoDb.endpoint });
    // Each region's bucket on its own server (the tables are ensured twice: idempotent).
    for (const region of address.regions) {
      process.env.AWS_ENDPOINT_URL_S3 = region.s3;
      process.env.AWS_REGION = region.region;
      await ensureAwsResources({ bucket: region.bucket, tablePrefix: TABLE_PREFIX, region: region.region });
    }
    return { address, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface LocalRegionsProcess {
  readonly address: LocalRegionsAddress;
  stop(): Promise<void>;
}

/** Runs the two regions' stores in a child process (run-local-regions.ts); resolves when they are ready. */
export async function spawnLocalRegions(timeoutMs = 60_000): Promise<LocalRegionsProcess> {
  const child = await spawnReporting<LocalRegionsAddress>('./run-local-regions.ts', [], 'local regions', timeoutMs);
  return { address: child.report, stop: child.stop };
}
