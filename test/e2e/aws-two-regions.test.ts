import { createHash, randomBytes } from 'node:crypto';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { percentile } from '../adapters/recording-observer.js';
import type { LocalAws } from '../support/local-aws.js';
import { startLocalAws } from '../support/local-aws.js';
import type { ServerProcess } from '../support/server-process.js';
import { startServerProcess } from '../support/server-process.js';

/**
 * Regions as one origin: an origin process per region (AWS_REGION us-east-1 and eu-west-1),
 * each with its own segment bucket and LIVE_ORIGIN_PEER_BUCKETS naming the other region's, so
 * every acknowledged segment is copied to the peer region right after the ack.
 *
 * Stand-ins:
 * - Metadata: both regions share one dynalite and one table prefix. It stands in for a
 *   DynamoDB global table whose replication is instant; what is measured here is the bytes'
 *   path (the peer copy), not global-table replication lag.
 * - Bytes: one s3rver with one bucket per region. A process has a single
 *   AWS_ENDPOINT_URL_S3, and the peer clients of `createAwsStores` take their endpoint from the
 *   SDK's environment too, so every bucket a process names must live on that one endpoint.
 *   Each region still only writes its own bucket; the peer bucket is written by the replicator.
 *
 * To prove that region 2 serves bytes from its own bucket (the peer copy) and not through a
 * cross-region read, the measurements go through a second region-2 process that has NO peer
 * bucket: it cannot read region 1's bucket at all. The test also reads region 2's bucket
 * directly with an S3 client.
 */

const TOKEN = 'e2e-region-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const REGION_1 = 'us-east-1';
const REGION_2 = 'eu-west-1';
const BUCKET_1 = 'live-origin-e2e-use1';
const BUCKET_2 = 'live-origin-e2e-euw1';
/** The contract's bound: an acknowledged segment is readable within one second. */
const READ_BOUND_MS = 1_000;
/** How long a check waits for something to happen before it fails: far beyond READ_BOUND_MS. */
const GIVE_UP_MS = 5_000;

let local: LocalAws;
/** Region 1 (us-east-1): own bucket BUCKET_1, peer eu-west-1 = BUCKET_2. */
let region1: ServerProcess;
/** Region 2 (eu-west-1): own bucket BUCKET_2, peer us-east-1 = BUCKET_1. */
let region2: ServerProcess;
/** Region 2 again, without any peer bucket: whatever it serves came from BUCKET_2. */
let region2Only: ServerProcess;
let s3Region2: S3Client;

function regionEnv(region: string, bucket: string, peers: string): Record<string, string> {
  return {
    ...local.originEnv(TOKEN),
    AWS_REGION: region,
    LIVE_ORIGIN_BUCKET: bucket,
    LIVE_ORIGIN_PEER_BUCKETS: peers,
  };
}

beforeAll(async () => {
  local = await startLocalAws({ region: REGION_1, bucket: BUCKET_1, peerBuckets: { [REGION_2]: BUCKET_2 } });
  [region1, region2, region2Only] = await Promise.all([
    startServerProcess(regionEnv(REGION_1, BUCKET_1, `${REGION_2}=${BUCKET_2}`)),
    startServerProcess(regionEnv(REGION_2, BUCKET_2, `${REGION_1}=${BUCKET_1}`)),
    startServerProcess(regionEnv(REGION_2, BUCKET_2, '')),
  ]);
  s3Region2 = new S3Client({ region: REGION_2, endpoint: local.env.AWS_ENDPOINT_URL_S3, forcePathStyle: true });
}, 60_000);

afterAll(async () => {
  s3Region2?.destroy();
  await Promise.all([region1?.stop('SIGKILL'), region2?.stop(), region2Only?.stop()]);
  await local?.stop();
});

function md5Etag(body: Buffer): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}

/**
 * An event whose timeline lies an hour ahead: a segment without bytes is a plain 404 at once
 * (never held), so polling measures exactly when the bytes become servable.
 */
async function futureEvent(origin: ServerProcess, event: string): Promise<void> {
  const response = await fetch(`${origin.url}/admin/events/${event}`, {
    method: 'PUT',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({
      pipelines: ['a', 'b'],
      segmentDurationMs: 2_000,
      availabilityStartTime: new Date(Date.now() + 3_600_000).toISOString(),
      startNumber: 0,
    }),
  });
  expect(response.status).toBeLessThan(300);
}

async function publish(origin: ServerProcess, event: string, path: string, body: Buffer): Promise<{ status: number; ackAt: number }> {
  const response = await fetch(`${origin.url}/ingest/${event}/a/${path}`, { method: 'PUT', headers: { ...AUTH, 'content-type': 'video/mp4' }, body });
  const ackAt = Date.now();
  await response.arrayBuffer();
  return { status: response.status, ackAt };
}

async function deliver(
  origin: ServerProcess,
  event: string,
  path: string,
): Promise<{ status: number; etag: string | null; pipeline: string | null; body: Buffer }> {
  const response = await fetch(`${origin.url}/live/${event}/${path}`);
  return {
    status: response.status,
    etag: response.headers.get('etag'),
    pipeline: response.headers.get('live-pipeline'),
    body: Buffer.from(await response.arrayBuffer()),
  };
}

/**
 * GETs every 20 ms until 200 (or until `giveUpMs`): what the 200 carried, when it came (`at`), and when the last GET
 * that did not get it was sent (`missedAt`, -Infinity if the first one got it; Infinity if none
 * did). A segment was not yet readable at some moment after `missedAt`, and was by the 200:
 * the bound is judged on `missedAt`, so a slow answer to this busy process does not count
 * against the origin.
 */
async function pollUntilServed(origin: ServerProcess, event: string, path: string, giveUpMs: number) {
  const started = Date.now();
  const statuses = new Set<number>();
  let missedAt = -Infinity;
  for (;;) {
    const sentAt = Date.now();
    const served = await deliver(origin, event, path);
    if (served.status === 200) return { ...served, at: Date.now(), missedAt, statuses };
    statuses.add(served.status);
    missedAt = sentAt;
    if (Date.now() - started > giveUpMs) return { ...served, at: Infinity, missedAt: Infinity, statuses };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The object in region 2's bucket, read directly (undefined if absent). */
async function inRegion2Bucket(event: string, path: string): Promise<{ body: Buffer; etag: string | undefined } | undefined> {
  try {
    const object = await s3Region2.send(new GetObjectCommand({ Bucket: BUCKET_2, Key: `${event}/a/${path}` }));
    return { body: Buffer.from(await object.Body!.transformToByteArray()), etag: object.Metadata?.etag };
  } catch (error) {
    if ((error as Error).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

describe('two regions as one origin (peer bucket copies)', () => {
  it("serves a segment acknowledged in region 1 from region 2's own bucket within 1 s", async () => {
    const event = 'e2e-regions';
    await futureEvent(region1, event);
    const delays: number[] = [];
    const missed: number[] = [];
    const rounds = 20;
    let beforeCopy = 0;
    for (let i = 0; i < rounds; i++) {
      const path = `video/seg_${i}.m4s`;
      const body = randomBytes(16 * 1024 + i);
      const put = await publish(region1, event, path, body);
      expect(put.status).toBe(201);
      // Through the region-2 process that has no peer bucket: a 200 can only come from BUCKET_2.
      const served = await pollUntilServed(region2Only, event, path, GIVE_UP_MS);
      expect(served.status).toBe(200);
      expect([...served.statuses].every((status) => status === 404)).toBe(true);
      if (served.statuses.size > 0) beforeCopy++;
      expect(served.pipeline).toBe('a');
      expect(served.etag).toBe(md5Etag(body));
      expect(served.body.equals(body)).toBe(true);
      delays.push(served.at - put.ackAt);
      missed.push(Math.max(0, served.missedAt - put.ackAt));
      // The copy itself, read straight from region 2's bucket.
      const copy = await inRegion2Bucket(event, path);
      expect(copy?.body.equals(body)).toBe(true);
      expect(copy?.etag).toBe(md5Etag(body));
      // And the region-2 process with the usual peer configuration serves the same bytes.
      const peered = await deliver(region2, event, path);
      expect(peered.status).toBe(200);
      expect(peered.body.equals(body)).toBe(true);
    }
    console.log(
      `region 1 ack -> 200 in region 2 from its own bucket, over ${rounds} segments: p50 ${percentile(delays, 50)} ms, p99 ${percentile(delays, 99)} ms, max ${Math.max(...delays)} ms (${beforeCopy} first GETs came before the copy landed; the last GET that missed it was sent at most ${Math.max(...missed)} ms after the ack)`,
    );
    for (const ms of missed) expect(ms).toBeLessThan(READ_BOUND_MS);
  }, 30_000);

  it("copies the other way too: a segment acknowledged in region 2 lands in region 1's bucket", async () => {
    const event = 'e2e-regions-back';
    await futureEvent(region2, event);
    const path = 'video/seg_1.m4s';
    const body = randomBytes(8 * 1024);
    const put = await publish(region2, event, path, body);
    expect(put.status).toBe(201);
    const s3Region1 = new S3Client({ region: REGION_1, endpoint: local.env.AWS_ENDPOINT_URL_S3, forcePathStyle: true });
    try {
      let found: Buffer | undefined;
      // As pollUntilServed: judged by when the last read that missed the copy was sent.
      let missedAt = -Infinity;
      for (const deadline = put.ackAt + GIVE_UP_MS; !found && Date.now() < deadline; ) {
        const sentAt = Date.now();
        try {
          const object = await s3Region1.send(new GetObjectCommand({ Bucket: BUCKET_1, Key: `${event}/a/${path}` }));
          found = Buffer.from(await object.Body!.transformToByteArray());
        } catch (error) {
          if ((error as Error).name !== 'NoSuchKey') throw error;
          missedAt = sentAt;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      expect(found?.equals(body)).toBe(true);
      expect(missedAt - put.ackAt).toBeLessThan(READ_BOUND_MS);
    } finally {
      s3Region1.destroy();
    }
  }, 15_000);

  // Last: it kills region 1.
  it("keeps serving a segment in region 2 after region 1's origin is killed right after the ack", async () => {
    const event = 'e2e-regions-failover';
    await futureEvent(region1, event);
    const path = 'video/seg_3.m4s';
    const body = randomBytes(64 * 1024);
    const response = await fetch(`${region1.url}/ingest/${event}/a/${path}`, { method: 'PUT', headers: { ...AUTH, 'content-type': 'video/mp4' }, body });
    // Killed on the ack's status line, before even reading its body: no drain, no close().
    region1.child.kill('SIGKILL');
    expect(response.status).toBe(201);
    await region1.exited;
    const killedAt = Date.now();

    for (const origin of [region2Only, region2]) {
      const served = await pollUntilServed(origin, event, path, GIVE_UP_MS);
      expect(served.status).toBe(200);
      expect(served.missedAt - killedAt).toBeLessThan(READ_BOUND_MS);
      expect(served.pipeline).toBe('a');
      expect(served.etag).toBe(md5Etag(body));
      expect(served.body.equals(body)).toBe(true);
    }
    const copy = await inRegion2Bucket(event, path);
    expect(copy?.body.equals(body)).toBe(true);
    console.log(`after SIGKILL of region 1 on the ack, region 2 serves the segment from its own bucket (copy present: ${copy !== undefined})`);
  }, 15_000);
});
