/**
 * `npm run start:aws-local`: the origin in aws mode against local S3 and DynamoDB servers.
 *
 * Unless AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_DYNAMODB point elsewhere, starts s3rver and
 * dynalite on free loopback ports (data in a temp directory, removed on exit), creates the
 * bucket(s) and tables if missing, then runs runtime/server.ts with LIVE_ORIGIN_STORE=aws,
 * forwarding SIGINT/SIGTERM, and stops the local servers when the origin exits.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureAwsResources } from '../runtime/adapters/aws-stores.js';
import { parseCommandLine } from '../runtime/cli-args.js';
import { DEFAULT_TABLE_PREFIX } from '../runtime/defaults.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startLocalDynamoDb, startLocalS3 } from './local/local-aws.js';

const DEFAULT_BUCKET = 'live-origin-local';

/** The peer buckets to create on this S3 server: a `region=bucket@endpoint` one lives on its own server. */
function peerBuckets(spec: string | undefined): Record<string, string> {
  const buckets: Record<string, string> = {};
  for (const entry of (spec ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [region, bucket] = entry.split('=');
    if (!region || !bucket) throw new Error(`LIVE_ORIGIN_PEER_BUCKETS entries must be region=bucket, got "${entry}"`);
    if (!bucket.includes('@')) buckets[region] = bucket;
  }
  return buckets;
}

const USAGE = `usage: npm run start:aws-local

The origin in aws mode (S3 and DynamoDB adapters) against local servers: starts s3rver and
dynalite on free loopback ports unless AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_DYNAMODB point
elsewhere, creates the bucket and tables, and runs the origin until Ctrl-C. It takes no flags:
the origin's settings come from the environment as for npm start (npm start -- --help), with
LIVE_ORIGIN_BUCKET=${DEFAULT_BUCKET} and LIVE_ORIGIN_TABLE_PREFIX=${DEFAULT_TABLE_PREFIX} by default.`;

async function main(): Promise<void> {
  parseCommandLine({ name: 'start:aws-local', usage: USAGE, options: {} });
  const env = process.env;
  const stops: (() => Promise<void>)[] = [];
  const directory = await mkdtemp(join(tmpdir(), 'live-origin-local-'));
  stops.push(() => rm(directory, { recursive: true, force: true }));
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };

  try {
    if (!env.AWS_ENDPOINT_URL_S3) {
      const s3 = await startLocalS3(join(directory, 's3'));
      stops.push(() => s3.stop());
      env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
      // s3rver verifies signatures against its own fixed key pair.
      Object.assign(env, LOCAL_CREDENTIALS);
      process.stdout.write(`local S3 (s3rver) on ${s3.endpoint}\n`);
    }
    if (!env.AWS_ENDPOINT_URL_DYNAMODB) {
      const dynamoDb = await startLocalDynamoDb(join(directory, 'dynamodb'));
      stops.push(() => dynamoDb.stop());
      env.AWS_ENDPOINT_URL_DYNAMODB = dynamoDb.endpoint;
      env.AWS_ACCESS_KEY_ID ??= LOCAL_CREDENTIALS.AWS_ACCESS_KEY_ID;
      env.AWS_SECRET_ACCESS_KEY ??= LOCAL_CREDENTIALS.AWS_SECRET_ACCESS_KEY;
      process.stdout.write(`local DynamoDB (dynalite) on ${dynamoDb.endpoint}\n`);
    }
    env.AWS_REGION ??= LOCAL_REGION;
    env.LIVE_ORIGIN_STORE = 'aws';
    env.LIVE_ORIGIN_BUCKET ||= DEFAULT_BUCKET;
    env.LIVE_ORIGIN_TABLE_PREFIX ||= DEFAULT_TABLE_PREFIX;
    await ensureAwsResources({
      bucket: env.LIVE_ORIGIN_BUCKET,
      tablePrefix: env.LIVE_ORIGIN_TABLE_PREFIX,
      region: env.AWS_REGION,
      peerBuckets: peerBuckets(env.LIVE_ORIGIN_PEER_BUCKETS),
    });
    process.stdout.write(`bucket ${env.LIVE_ORIGIN_BUCKET}, tables ${env.LIVE_ORIGIN_TABLE_PREFIX}{candidates,events} ready\n`);
  } catch (error) {
    await stopAll();
    throw error;
  }

  const origin = spawn(process.execPath, ['--import', 'tsx', 'runtime/server.ts'], { env, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => origin.kill(signal));
  origin.on('exit', (code, signal) => {
    void stopAll().then(() => process.exit(code ?? (signal ? 1 : 0)));
  });
}

await main();
