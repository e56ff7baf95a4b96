import { randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BucketLocation } from '../../runtime/adapters/s3-segment-store.js';
import { S3SegmentStore } from '../../runtime/adapters/s3-segment-store.js';
import { etagOf } from '../contract/store-contract.js';
import type { LocalAws } from '../support/local-aws.js';
import { startLocalAws } from '../support/local-aws.js';
import { RecordingObserver } from './recording-observer.js';

const PEER_REGION = 'eu-west-1';
const PEER_BUCKET = 'live-origin-peer';

let local: LocalAws;
let client: S3Client;

beforeAll(async () => {
  local = await startLocalAws({ peerBuckets: { [PEER_REGION]: PEER_BUCKET } });
  client = new S3Client({ region: local.region, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
});

afterAll(async () => {
  client.destroy();
  await local.stop();
});

function store(observer = new RecordingObserver(), writeFaultMs?: number) {
  const localBucket: BucketLocation = { region: local.region, bucket: local.bucket, client };
  const peers: BucketLocation[] = [{ region: PEER_REGION, bucket: PEER_BUCKET, client }];
  return new S3SegmentStore({ local: localBucket, peers, observer, writeFaultMs });
}

async function rawObject(bucket: string, key: string) {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { bytes: Buffer.from(await response.Body!.transformToByteArray()), length: response.ContentLength, metadata: response.Metadata };
}

describe('S3SegmentStore', () => {
  it('stores exactly the bytes sent, under {event}/{pipeline}/{path}, with type and etag as metadata', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 7);
    await store().put({ event: 'ev-1', pipeline: 'a', path: 'video/720p/seg_1.m4s' }, body, { contentType: 'video/mp4', etag: etagOf(body) });
    const raw = await rawObject(local.bucket, 'ev-1/a/video/720p/seg_1.m4s');
    expect(raw.length).toBe(body.length);
    expect(raw.bytes.equals(body)).toBe(true);
    expect(raw.metadata).toEqual({ etag: etagOf(body) });
  });

  it('sends the MD5 entity tag as Content-MD5, so S3 refuses bytes damaged on the way', async () => {
    const seen: Record<string, string>[] = [];
    const probe = new S3Client({ region: local.region, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    probe.middlewareStack.add(
      (next) => (args) => {
        seen.push({ ...(args.request as { headers: Record<string, string> }).headers });
        return next(args);
      },
      { step: 'finalizeRequest' },
    );
    const body = Buffer.from('payload');
    const probed = new S3SegmentStore({ local: { region: local.region, bucket: local.bucket, client: probe }, observer: new RecordingObserver() });
    await probed.put({ event: 'ev-1', pipeline: 'a', path: 'seg_2.m4s' }, body, { contentType: 'video/mp4', etag: etagOf(body) });
    probe.destroy();
    expect(seen[0]?.['content-md5']).toBe(Buffer.from(etagOf(body).slice(1, -1), 'hex').toString('base64'));
  });

  it('reads from a peer bucket when the local bucket misses, and only the version asked for', async () => {
    const body = Buffer.from('copied to the peer only');
    await client.send(
      new PutObjectCommand({ Bucket: PEER_BUCKET, Key: 'ev-2/a/seg_3.m4s', Body: body, ContentType: 'video/mp4', Metadata: { etag: etagOf(body) } }),
    );
    const key = { event: 'ev-2', pipeline: 'a', path: 'seg_3.m4s' };
    const found = await store().get(key, etagOf(body));
    expect(found?.body.equals(body)).toBe(true);
    expect(found?.etag).toBe(etagOf(body));
    expect(await store().get(key, '"another-version"')).toBeUndefined();
    expect(await store().get({ ...key, path: 'nowhere.m4s' })).toBeUndefined();
  });

  it('reports latency, and a write slower than the threshold as a slow fault', async () => {
    const observer = new RecordingObserver();
    const body = Buffer.from('slow');
    await store(observer, 0).put({ event: 'ev-3', pipeline: 'a', path: 'seg_4.m4s' }, body, { contentType: 'video/mp4', etag: etagOf(body) });
    expect(observer.faults).toEqual([{ store: 'segments', operation: 'put', reason: 'slow' }]);
    expect(observer.latencies.some((entry) => entry.operation === 'put' && entry.seconds > 0)).toBe(true);
  });
});
