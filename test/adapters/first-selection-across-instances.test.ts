import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsStores } from '../../runtime/adapters/aws-stores.js';
import { parseObjectPath } from '../../runtime/domain/object-path.js';
import { qualityOf } from '../../runtime/domain/quality.js';
import { parseTokenGrants } from '../../runtime/domain/tokens.js';
import { buildApp } from '../../runtime/http/app.js';
import { OriginMetrics } from '../../runtime/metrics/origin-metrics.js';
import type { Stores } from '../../runtime/ports/stores.js';
import type { LocalAws } from '../support/local-aws.js';
import { startLocalAws } from '../support/local-aws.js';
import { ManualClock } from '../support/manual-clock.js';

/**
 * A path's first selection on one instance after another instance acknowledged a better copy,
 * while this instance's cached record of the path still shows only its own copy (reads may be
 * up to a second stale across instances). The first selection pins the path for good, so it
 * reads the record again from the store before it pins a worse copy. Two apps on one local
 * DynamoDB and S3, their metadata caches aged by one ManualClock, so "within the cache's
 * lifetime" is exact rather than a race against a busy host.
 */

type App = ReturnType<typeof buildApp>;

const EVENT = 'fresh-first';

let local: LocalAws;
const clock = new ManualClock();
const opened: { app: App; stores: Stores }[] = [];

beforeAll(async () => {
  local = await startLocalAws();
});

afterAll(async () => {
  for (const { app, stores } of opened.splice(0)) {
    await app.close();
    await stores.close();
  }
  await local.stop();
});

function instance(): { app: App; metrics: OriginMetrics } {
  const metrics = new OriginMetrics();
  const config = { bucket: local.bucket, tablePrefix: local.tablePrefix, region: local.region, peerBuckets: {}, memoryBytes: 1 << 24, clock };
  const stores = createAwsStores(config, metrics.storeObserver());
  const app = buildApp({
    clock,
    stores,
    purger: { purge: () => undefined, flush: async () => undefined },
    metrics,
    tokens: parseTokenGrants('t-0123456789abcdef=*'),
    maxObjectBytes: 1024 * 1024,
    maxHeld: 1000,
    eventRps: 0,
    logger: false,
  });
  opened.push({ app, stores });
  return { app, metrics };
}

async function publish(app: App, pipeline: string, path: string, quality?: number): Promise<void> {
  const body = Buffer.from(`${pipeline}:${path}:${quality ?? 100}`);
  await app.origin.ingest.put({
    event: EVENT,
    pipeline,
    object: parseObjectPath(path),
    body,
    etag: `"${createHash('md5').update(body).digest('hex')}"`,
    contentType: 'video/mp4',
    defects: [],
    quality,
    notifications: {},
  });
}

async function firstSelections(metrics: OriginMetrics): Promise<Record<string, number>> {
  const values = (await metrics.firstSelections.get()).values;
  return Object.fromEntries(values.map((v) => [v.labels.outcome, v.value]));
}

describe('a first selection across instances', () => {
  it('reads the record again before pinning a degraded copy when a pipeline at the edge has no copy in the cached one', async () => {
    const first = instance();
    const second = instance();
    // No wait for a better copy: this is about what the record shows, not about timing.
    await first.app.origin.control.putConfig(EVENT, { pipelines: ['a', 'b'], betterWaitMs: 0 });
    await publish(first.app, 'a', 'v/seg_1.m4s');
    await publish(second.app, 'b', 'v/seg_1.m4s');
    // Past every cache's lifetime: the first instance reads b's edge from the store.
    await clock.advance(5_000);
    const status = (await first.app.origin.control.status(EVENT)) as { pipelines: { pipeline: string; liveEdge?: number }[] };
    expect(status.pipelines.map((p) => [p.pipeline, p.liveEdge])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);

    // Segment 2: the first instance receives a's degraded copy (its ingest reads the path's record
    // first, so its cache now holds the record with a's copy); the second instance receives b's
    // clean one; all at one instant.
    await publish(first.app, 'a', 'v/seg_2.m4s', 40);
    await publish(second.app, 'b', 'v/seg_2.m4s', 100);

    const answer = await first.app.origin.delivery.deliver(EVENT, parseObjectPath('v/seg_2.m4s'));
    if (answer.kind !== 'object') throw new Error(`not an object: ${answer.kind}`);
    expect([answer.candidate.pipeline, qualityOf(answer.candidate)]).toEqual(['b', 100]);
    expect(await firstSelections(first.metrics)).toMatchObject({ clean: 1 });
    // The pin is shared: the second instance serves b too.
    const there = await second.app.origin.delivery.deliver(EVENT, parseObjectPath('v/seg_2.m4s'));
    expect(there.kind === 'object' && there.candidate.pipeline).toBe('b');
  });
});
