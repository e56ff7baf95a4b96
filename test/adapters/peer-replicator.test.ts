import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PeerReplicator } from '../../runtime/adapters/peer-replicator.js';
import { S3SegmentStore } from '../../runtime/adapters/s3-segment-store.js';
import { etagOf } from '../contract/store-contract.js';
import type { LocalAws, LocalS3 } from '../support/local-aws.js';
import { startLocalAws, startLocalS3 } from '../support/local-aws.js';
import { ManualClock } from '../support/manual-clock.js';
import { until } from '../support/until.js';
import { percentile, RecordingObserver } from './recording-observer.js';

const PEER_REGION = 'eu-west-1';
const PEER_BUCKET = 'live-origin-peer';

let local: LocalAws;
let peerServer: LocalS3;
let peerDirectory: string;
let localClient: S3Client;
let peerClient: S3Client;

beforeAll(async () => {
  local = await startLocalAws();
  peerDirectory = await mkdtemp(join(tmpdir(), 'live-origin-peer-'));
  peerServer = await startLocalS3(peerDirectory);
  const options = { forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' as const, maxAttempts: 1 };
  localClient = new S3Client({ ...options, region: local.region });
  peerClient = new S3Client({ ...options, region: PEER_REGION, endpoint: peerServer.endpoint });
  await peerClient.send(new CreateBucketCommand({ Bucket: PEER_BUCKET }));
});

afterAll(async () => {
  localClient.destroy();
  peerClient.destroy();
  await peerServer.stop();
  await local.stop();
  await rm(peerDirectory, { recursive: true, force: true });
});

function wire(options: { baseDelayMs?: number; maxDelayMs?: number; maxQueued?: number; concurrency?: number; clock?: ManualClock } = {}) {
  const observer = new RecordingObserver();
  const replicator = new PeerReplicator({ peers: [{ region: PEER_REGION, bucket: PEER_BUCKET, client: peerClient }], observer, ...options });
  const store = new S3SegmentStore({ local: { region: local.region, bucket: local.bucket, client: localClient }, afterPut: replicator, observer });
  return { observer, replicator, store };
}

async function peerCopy(key: string): Promise<Buffer | undefined> {
  try {
    const response = await peerClient.send(new GetObjectCommand({ Bucket: PEER_BUCKET, Key: key }));
    return Buffer.from(await response.Body!.transformToByteArray());
  } catch {
    return undefined;
  }
}

describe('PeerReplicator', () => {
  it('copies each acknowledged segment to the peer bucket, byte for byte, and reports the lag', async () => {
    const { observer, replicator, store } = wire();
    const count = 60;
    for (let i = 0; i < count; i++) {
      const body = randomBytes(256 * 1024);
      await store.put({ event: 'ev-copy', pipeline: 'a', path: `video/seg_${i}.m4s` }, body, { contentType: 'video/mp4', etag: etagOf(body) });
      if (i === 0) {
        await until(() => observer.copies.length === 1, 5_000);
        expect((await peerCopy('ev-copy/a/video/seg_0.m4s'))?.equals(body)).toBe(true);
      }
    }
    await until(() => observer.copies.length === count, 10_000);
    expect(observer.copies).toHaveLength(count);
    expect(observer.copyFailures).toEqual([]);
    const lags = observer.copies.map((copy) => copy.lagMs);
    console.log(`peer copy lag over ${count} x 256 KiB: p50 ${percentile(lags, 50)} ms, p99 ${percentile(lags, 99)} ms`);
    expect(observer.copies.every((copy) => copy.region === PEER_REGION && copy.lagMs >= 0)).toBe(true);
    await replicator.close();
  });

  it('keeps retrying while the peer is down and lands the copy once it is back', async () => {
    // The retries wait on fake time: each pause lasts what the replicator asks, however busy the
    // host. Pauses stay under a copy's time limit (2 s), which therefore never passes here.
    const clock = new ManualClock();
    const maxPauseMs = 1_000;
    const { observer, replicator, store } = wire({ baseDelayMs: 100, maxDelayMs: maxPauseMs, clock });
    await peerServer.stop();
    const body = Buffer.from('written while the peer region was unreachable');
    const start = clock.now();
    try {
      await store.put({ event: 'ev-outage', pipeline: 'a', path: 'seg_1.m4s' }, body, { contentType: 'video/mp4', etag: etagOf(body) });
      // 800 ms of the replicator's time with the peer down: every attempt in it is refused.
      await clock.runPauses(() => clock.now() - start >= 800, maxPauseMs);
      expect(observer.copies).toEqual([]);
      expect(replicator.pending).toBe(1);
    } finally {
      await peerServer.start();
    }
    await clock.runPauses(() => observer.copies.length === 1, maxPauseMs);
    expect(observer.copies[0]!.lagMs).toBeGreaterThanOrEqual(800);
    // The backlog was reported while the copy waited, and back at zero once it landed.
    expect(observer.backlogs.some((report) => report.region === PEER_REGION && report.pending === 1)).toBe(true);
    await until(() => observer.backlogs.at(-1)?.pending === 0, 2_000);
    expect(observer.backlogs.at(-1)).toEqual({ region: PEER_REGION, pending: 0 });
    expect((await peerCopy('ev-outage/a/seg_1.m4s'))?.equals(body)).toBe(true);
    expect(observer.copyFailures).toEqual([]);
    await replicator.close();
  });

  it('drops copies beyond its queue bound and counts them as overflow', async () => {
    const { observer, replicator } = wire({ maxQueued: 2, concurrency: 1 });
    const meta = { contentType: 'video/mp4', etag: '"x"' };
    for (let i = 0; i < 5; i++) replicator.afterPut({ event: 'ev-burst', pipeline: 'a', path: `seg_${i}.m4s` }, Buffer.from('x'), meta);
    // One in flight, two waiting, two dropped.
    expect(observer.copyFailures).toEqual([
      { region: PEER_REGION, reason: 'overflow' },
      { region: PEER_REGION, reason: 'overflow' },
    ]);
    await until(() => observer.copies.length === 3, 5_000);
    expect(observer.copies).toHaveLength(3);
    await replicator.close();
  });

  it('replaces a waiting copy with a newer version of the same key', async () => {
    const { observer, replicator } = wire({ concurrency: 1 });
    const key = { event: 'ev-versions', pipeline: 'a', path: 'index.m3u8' };
    replicator.afterPut({ ...key, path: 'first.m4s' }, Buffer.from('occupies the only slot'), { contentType: 'x', etag: '"0"' });
    for (const version of ['v1', 'v2', 'v3']) replicator.afterPut(key, Buffer.from(version), { contentType: 'x', etag: `"${version}"` });
    await until(() => observer.copies.length === 2, 5_000);
    // Nothing left to copy (rather than nothing more within some time): the older versions are gone.
    await until(() => replicator.pending === 0, 5_000);
    expect(replicator.pending).toBe(0);
    expect(observer.copies).toHaveLength(2);
    expect((await peerCopy('ev-versions/a/index.m3u8'))?.toString()).toBe('v3');
    await replicator.close();
  });
});
