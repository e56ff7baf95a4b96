import type { AddressInfo, Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALL_BUDGET_MS, DYNAMODB_HTTP, MAX_ATTEMPTS } from '../../runtime/adapters/aws-retry.js';
import { createAwsStores } from '../../runtime/adapters/aws-stores.js';
import { DynamoDbMetadataStore } from '../../runtime/adapters/dynamodb-metadata-store.js';
import type { Candidate } from '../../runtime/domain/model.js';
import type { Stores } from '../../runtime/ports/stores.js';
import { etagOf } from '../contract/store-contract.js';
import type { LocalAws } from '../support/local-aws.js';
import { startLocalAws } from '../support/local-aws.js';
import { RecordingObserver } from './recording-observer.js';

let local: LocalAws;
let stores: Stores;
let writer: Stores;
const observer = new RecordingObserver();

beforeAll(async () => {
  local = await startLocalAws();
  const config = { bucket: local.bucket, tablePrefix: local.tablePrefix, region: local.region, peerBuckets: {}, memoryBytes: 1 << 24 };
  stores = createAwsStores(config, observer);
  writer = createAwsStores(config, new RecordingObserver());
});

afterAll(async () => {
  await stores.close();
  await writer.close();
  await local.stop();
});

function candidate(event: string, path: string, body: Buffer): Candidate {
  return {
    event,
    pipeline: 'a',
    path,
    kind: 'segment',
    number: 1,
    rendition: '{n}',
    etag: etagOf(body),
    size: body.length,
    contentType: 'video/mp4',
    defects: [],
    publishedAt: Date.now(),
  };
}

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; error?: unknown }> {
  const started = Date.now();
  try {
    await run();
    return { ms: Date.now() - started };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

describe('AWS stores when S3 goes away', () => {
  it('fails writes and uncached reads within the budget, keeps serving cached objects, and recovers', async () => {
    const cached = { event: 'ev-s3', pipeline: 'a', path: 'seg_1.m4s' };
    const uncached = { event: 'ev-s3', pipeline: 'a', path: 'seg_2.m4s' };
    const body = Buffer.from('cached before the outage');
    await stores.segments.put(cached, body, { contentType: 'video/mp4', etag: etagOf(body) });
    await writer.segments.put(uncached, body, { contentType: 'video/mp4', etag: etagOf(body) });
    observer.faults.length = 0;

    await local.s3.stop();
    try {
      const put = await timed(() => stores.segments.put({ ...cached, path: 'seg_3.m4s' }, body, { contentType: 'video/mp4', etag: etagOf(body) }));
      expect(put.error).toBeDefined();
      expect(put.ms).toBeLessThan(2_500);
      expect((await stores.segments.get(cached))?.body.equals(body)).toBe(true);
      const get = await timed(() => stores.segments.get(uncached));
      expect(get.error).toBeDefined();
      await expect(stores.segments.ping()).rejects.toThrow();
      expect(observer.faults).toEqual(
        expect.arrayContaining([
          { store: 'segments', operation: 'put', reason: 'error' },
          { store: 'segments', operation: 'get', reason: 'error' },
        ]),
      );
    } finally {
      await local.s3.start();
    }

    await expect(stores.segments.ping()).resolves.toBeUndefined();
    expect((await stores.segments.get(uncached))?.body.equals(body)).toBe(true);
    await stores.segments.put({ ...cached, path: 'seg_4.m4s' }, body, { contentType: 'video/mp4', etag: etagOf(body) });
    expect((await writer.segments.get({ ...cached, path: 'seg_4.m4s' }))?.body.equals(body)).toBe(true);
  });
});

describe('AWS stores when DynamoDB goes away', () => {
  it('fails metadata calls, counts feed faults, and releases held objects again once it is back', async () => {
    const event = 'ev-ddb';
    await writer.metadata.putEventConfig(event, { pipelines: ['a'] }, Date.now());
    const path = 'seg_10.m4s';
    await stores.metadata.getObject(event, path);
    const released: string[] = [];
    stores.feed.subscribe((object) => released.push(object.path));
    stores.feed.watch({ event, path });
    observer.faults.length = 0;

    await local.dynamoDb.stop();
    try {
      const body = Buffer.from('x');
      const put = await timed(() => stores.metadata.putCandidate(candidate(event, 'seg_11.m4s', body)));
      expect(put.error).toBeDefined();
      expect(put.ms).toBeLessThan(2_500);
      await expect(stores.metadata.getObject(event, 'seg_12.m4s')).rejects.toThrow();
      await expect(stores.metadata.ping()).rejects.toThrow();
      // The feed's next poll fails too: waited for as it happens, not for a time it should take.
      const feedFailed = () => observer.faults.some((fault) => fault.store === 'feed');
      for (const giveUpAt = Date.now() + 5_000; !feedFailed() && Date.now() < giveUpAt; ) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(observer.faults).toEqual(
        expect.arrayContaining([
          { store: 'metadata', operation: 'putCandidate', reason: 'error' },
          { store: 'metadata', operation: 'getObject', reason: 'error' },
          { store: 'feed', operation: 'poll', reason: 'error' },
        ]),
      );
    } finally {
      await local.dynamoDb.start();
    }

    await expect(stores.metadata.ping()).resolves.toBeUndefined();
    const body = Buffer.from('after the outage');
    // Published as the ingest publishes: the candidate, then the publish record the feed reads.
    await writer.metadata.putCandidate({ ...candidate(event, path, body), number: 10, rendition: 'seg_{n}.m4s' });
    await writer.metadata.recordPublish(event, { pipeline: 'a', at: Date.now(), number: 10, rendition: 'seg_{n}.m4s', defective: false });
    const deadline = Date.now() + 3_000;
    while (!released.includes(path) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(released).toContain(path);
    expect((await stores.metadata.getObject(event, path)).candidates).toHaveLength(1);
    stores.feed.unwatch({ event, path });
  });

  it('gives up on a store that accepts connections but never answers within the 2 s budget', async () => {
    const sockets = new Set<Socket>();
    const blackhole: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const client = new DynamoDBClient({
      region: local.region,
      endpoint: `http://127.0.0.1:${(blackhole.address() as AddressInfo).port}`,
      maxAttempts: MAX_ATTEMPTS,
      requestHandler: DYNAMODB_HTTP,
    });
    const faults = new RecordingObserver();
    const metadata = new DynamoDbMetadataStore({ client, tablePrefix: local.tablePrefix, observer: faults });
    const read = await timed(() => metadata.getObject('ev', 'seg_1.m4s'));
    client.destroy();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => blackhole.close(resolve));
    // Given up on a timer (an attempt's 500 ms, or the call's budget), never before one attempt's
    // timeout (timers never fire early), and not long after the budget (they may fire late on a
    // busy host: the bound only catches a call that waits on and on).
    expect(['TimeoutError', 'StoreTimeoutError']).toContain((read.error as Error).name);
    expect(read.ms).toBeGreaterThan(400);
    expect(read.ms).toBeLessThan(CALL_BUDGET_MS + 1_000);
    expect(faults.faults.length).toBeGreaterThan(0);
  });

  it('reports a metadata write slower than the threshold as a slow fault', async () => {
    const slow = new RecordingObserver();
    const config = { bucket: local.bucket, tablePrefix: local.tablePrefix, region: local.region, peerBuckets: {}, memoryBytes: 1 << 20, writeFaultMs: 0 };
    const strict = createAwsStores(config, slow);
    await strict.metadata.putCandidate(candidate('ev-slow', 'seg_1.m4s', Buffer.from('x')));
    await strict.close();
    expect(slow.faults).toContainEqual({ store: 'metadata', operation: 'putCandidate', reason: 'slow' });
  });
});
