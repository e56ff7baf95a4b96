import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsStores } from '../../runtime/adapters/aws-stores.js';
import { putObjectInput } from '../../runtime/adapters/s3-segment-store.js';
import { ConfigError, loadConfig } from '../../runtime/config.js';
import { NO_OBSERVER } from '../../runtime/ports/store-observer.js';
import type { Stores } from '../../runtime/ports/stores.js';
import type { LocalAws, LocalS3 } from '../support/local-aws.js';
import { startLocalAws, startLocalS3 } from '../support/local-aws.js';

/**
 * Two local regions each on their own S3 server (as two AWS regions have their own S3): the
 * peer's bucket is addressed with `region=bucket@endpoint` in LIVE_ORIGIN_PEER_BUCKETS.
 */

const PEER_REGION = 'eu-west-1';
const PEER_BUCKET = 'live-origin-peer-endpoint';

let local: LocalAws;
let peerServer: LocalS3;
let peerDirectory: string;
let peerClient: S3Client;
let stores: Stores;

beforeAll(async () => {
  local = await startLocalAws();
  peerDirectory = await mkdtemp(join(tmpdir(), 'live-origin-peer-endpoint-'));
  peerServer = await startLocalS3(peerDirectory);
  peerClient = new S3Client({ region: PEER_REGION, endpoint: peerServer.endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
  await peerClient.send(new CreateBucketCommand({ Bucket: PEER_BUCKET }));
  // The wiring server.ts does, from the variable an operator sets.
  const config = loadConfig({
    ...local.originEnv('peer-endpoint-token-0123456789'),
    LIVE_ORIGIN_PEER_BUCKETS: `${PEER_REGION}=${PEER_BUCKET}@${peerServer.endpoint}`,
  });
  stores = createAwsStores(
    {
      bucket: local.bucket,
      tablePrefix: local.tablePrefix,
      region: local.region,
      peerBuckets: config.peerBuckets,
      peerEndpoints: config.peerEndpoints,
      memoryBytes: 1 << 24,
    },
    NO_OBSERVER,
  );
});

afterAll(async () => {
  await stores?.close();
  peerClient?.destroy();
  await peerServer?.stop();
  await local?.stop();
  if (peerDirectory) await rm(peerDirectory, { recursive: true, force: true });
});

const etagOf = (body: Buffer) => `"${createHash('md5').update(body).digest('hex')}"`;

async function inPeer(key: string): Promise<Buffer | undefined> {
  try {
    const object = await peerClient.send(new GetObjectCommand({ Bucket: PEER_BUCKET, Key: key }));
    return Buffer.from(await object.Body!.transformToByteArray());
  } catch {
    return undefined;
  }
}

describe('a peer bucket on its own S3 endpoint', () => {
  it('receives the copy of every acknowledged segment', async () => {
    const body = randomBytes(4096);
    await stores.segments.put({ event: 'pe', pipeline: 'a', path: 'v/seg_1.m4s' }, body, { contentType: 'video/mp4', etag: etagOf(body) });
    let copy: Buffer | undefined;
    for (const deadline = Date.now() + 3_000; !copy && Date.now() < deadline; ) {
      copy = await inPeer('pe/a/v/seg_1.m4s');
      if (!copy) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(copy?.equals(body)).toBe(true);
  });

  it('is read through that endpoint when the local bucket lacks the object', async () => {
    const body = randomBytes(2048);
    const key = { event: 'pe', pipeline: 'b', path: 'v/seg_2.m4s' };
    await peerClient.send(new PutObjectCommand(putObjectInput(PEER_BUCKET, key, body, { contentType: 'video/mp4', etag: etagOf(body) })));
    const read = await stores.segments.get(key, etagOf(body));
    expect(read?.body.equals(body)).toBe(true);
  });
});

describe('LIVE_ORIGIN_PEER_BUCKETS', () => {
  it('takes region=bucket and region=bucket@endpoint entries', () => {
    const config = loadConfig({ LIVE_ORIGIN_PEER_BUCKETS: 'eu-west-1=b1@http://127.0.0.1:9000/, ap-south-1=b2' });
    expect(config.peerBuckets).toEqual({ 'eu-west-1': 'b1', 'ap-south-1': 'b2' });
    expect(config.peerEndpoints).toEqual({ 'eu-west-1': 'http://127.0.0.1:9000' });
  });

  it('refuses an endpoint that is not an http(s) URL, or one without a bucket', () => {
    expect(() => loadConfig({ LIVE_ORIGIN_PEER_BUCKETS: 'eu-west-1=b1@127.0.0.1:9000' })).toThrow(ConfigError);
    expect(() => loadConfig({ LIVE_ORIGIN_PEER_BUCKETS: 'eu-west-1=b1@http://h/path' })).toThrow(ConfigError);
    expect(() => loadConfig({ LIVE_ORIGIN_PEER_BUCKETS: 'eu-west-1=@http://h' })).toThrow(ConfigError);
  });
});
