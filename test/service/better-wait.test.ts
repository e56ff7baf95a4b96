import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../runtime/adapters/memory-stores.js';
import { parseObjectPath } from '../../runtime/domain/object-path.js';
import { qualityOf } from '../../runtime/domain/quality.js';
import { parseTokenGrants } from '../../runtime/domain/tokens.js';
import { buildApp } from '../../runtime/http/app.js';
import { OriginMetrics } from '../../runtime/metrics/origin-metrics.js';
import type { Purger } from '../../runtime/ports/purger.js';
import type { Delivery } from '../../runtime/service/delivery-service.js';
import type { IngestStream } from '../../runtime/service/ingest-stream.js';
import { ManualClock } from '../support/manual-clock.js';

/**
 * The wait for a better candidate on fake time (contract v3): the delivery and ingest services
 * of one app on the memory stores, driven by a ManualClock, so "at most betterWaitMs after the
 * first arrival" is checked to the millisecond instead of against a busy host's timers.
 */

const D = 2_000;
/** The default wait for D = 2 s: min(250 ms, D/8). */
const WAIT = 250;
const EVENT = 'bw';
const NEXT = 10;
const PATH = `v/seg_${NEXT}.m4s`;

interface Harness {
  readonly clock: ManualClock;
  readonly metrics: OriginMetrics;
  readonly purged: string[];
  /** Publishes a complete copy of `path` from `pipeline` now. */
  publish(pipeline: string, path: string, headers?: { quality?: number; defects?: string[] }): Promise<void>;
  /** Starts a PUT of `path` from `pipeline` whose body is still arriving (an in-progress candidate). */
  begin(pipeline: string, path: string, quality: number): IngestStream;
  abandon(stream: IngestStream): void;
  /** Starts a GET; `answer` resolves with it, `at` tells the fake time it was answered. */
  get(path?: string): { readonly answer: Promise<Delivery>; at(): number | undefined };
  close(): Promise<void>;
}

const open: Harness[] = [];
afterEach(async () => {
  for (const harness of open.splice(0)) await harness.close();
});

/**
 * An app on fake time whose event has a template making segment NEXT due one D from now (a
 * request for it is held), and the given pipelines at the edge: each published segment NEXT - 1.
 */
async function harness(pipelines: readonly string[] = ['a', 'b'], config: Record<string, unknown> = {}): Promise<Harness> {
  const clock = new ManualClock();
  const metrics = new OriginMetrics();
  const purged: string[] = [];
  const purger: Purger = { purge: (_event, paths) => purged.push(...paths), flush: async () => undefined };
  const stores = createMemoryStores({ memoryBytes: 64 * 1024 * 1024, observer: metrics.storeObserver() });
  const app = buildApp({
    clock,
    stores,
    purger,
    metrics,
    tokens: parseTokenGrants('t-0123456789abcdef=*'),
    maxObjectBytes: 1024 * 1024,
    maxHeld: 1000,
    eventRps: 0,
    logger: false,
  });
  const { ingest, delivery, control } = app.origin;
  await control.putConfig(EVENT, {
    pipelines: [...pipelines],
    segmentDurationMs: D,
    availabilityStartTime: clock.now() + D - NEXT * D,
    startNumber: 1,
    ...config,
  });
  const publish: Harness['publish'] = async (pipeline, path, headers = {}) => {
    const body = Buffer.from(`${pipeline}:${path}:${headers.quality ?? 100}:${headers.defects ?? ''}`);
    await ingest.put({
      event: EVENT,
      pipeline,
      object: parseObjectPath(path),
      body,
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      contentType: 'video/mp4',
      defects: headers.defects ?? [],
      quality: headers.quality,
      notifications: {},
    });
    // Lets the requests it woke take their turn.
    await clock.advance(0);
  };
  for (const pipeline of pipelines) await publish(pipeline, `v/seg_${NEXT - 1}.m4s`);
  const h: Harness = {
    clock,
    metrics,
    purged,
    publish,
    begin: (pipeline, path, quality) =>
      ingest.begin({ event: EVENT, pipeline, object: parseObjectPath(path), contentType: 'video/mp4', defects: [], quality })!,
    abandon: (stream) => ingest.abandon(stream),
    get(path = PATH) {
      let at: number | undefined;
      const answer = delivery.deliver(EVENT, parseObjectPath(path));
      void answer.then(() => {
        at = clock.now();
      });
      return { answer, at: () => at };
    },
    async close() {
      await app.close();
      await stores.close();
    },
  };
  open.push(h);
  await clock.advance(0);
  return h;
}

function served(delivery: Delivery): { pipeline: string; quality: number; heldMs?: number } {
  if (delivery.kind === 'object') return { pipeline: delivery.candidate.pipeline, quality: qualityOf(delivery.candidate), heldMs: delivery.heldMs };
  if (delivery.kind === 'stream')
    return { pipeline: delivery.stream.candidate.pipeline, quality: qualityOf(delivery.stream.candidate), heldMs: delivery.heldMs };
  throw new Error(`not an object: ${JSON.stringify(delivery)}`);
}

async function firstSelections(metrics: OriginMetrics): Promise<Record<string, number>> {
  const values = (await metrics.firstSelections.get()).values;
  return Object.fromEntries(values.map((v) => [v.labels.outcome, v.value]));
}

describe('the first release of a held path', () => {
  it('waits betterWaitMs after a degraded first copy, to the millisecond, then serves it', async () => {
    const h = await harness();
    const request = h.get();
    await h.clock.advance(300);
    const arrival = h.clock.now();
    await h.publish('a', PATH, { quality: 40 });
    await h.clock.advance(WAIT - 1);
    expect(request.at()).toBeUndefined();
    await h.clock.advance(1);
    expect(request.at()).toBe(arrival + WAIT);
    expect(served(await request.answer)).toEqual({ pipeline: 'a', quality: 40, heldMs: 300 + WAIT });
    expect(await firstSelections(h.metrics)).toEqual({ wait_timed_out: 1 });
  });

  it('releases the moment the better copy arrives', async () => {
    const h = await harness();
    const request = h.get();
    await h.publish('a', PATH, { defects: ['corrupt'] });
    await h.clock.advance(90);
    expect(request.at()).toBeUndefined();
    await h.publish('b', PATH, { quality: 100 });
    expect(request.at()).toBe(h.clock.now());
    expect(served(await request.answer)).toMatchObject({ pipeline: 'b', quality: 100, heldMs: 90 });
    expect(await firstSelections(h.metrics)).toEqual({ better_after_wait: 1 });
  });

  it('releases a clean copy of score 100 at once', async () => {
    const h = await harness();
    const request = h.get();
    await h.publish('b', PATH);
    expect(request.at()).toBe(h.clock.now());
    expect(served(await request.answer).pipeline).toBe('b');
    expect(await firstSelections(h.metrics)).toEqual({ clean: 1 });
  });

  it('makes a request arriving during the window wait for the rest of it, measured from the first arrival', async () => {
    const h = await harness();
    const arrival = h.clock.now();
    await h.publish('a', PATH, { quality: 60 });
    await h.clock.advance(200);
    const request = h.get();
    await h.clock.advance(WAIT - 200 - 1);
    expect(request.at()).toBeUndefined();
    await h.clock.advance(1);
    expect(request.at()).toBe(arrival + WAIT);
    // Once the window is over, the path is decided: a request now is answered at once.
    const later = h.get();
    await h.clock.advance(0);
    expect(later.at()).toBe(arrival + WAIT);
  });

  it('does not wait when the other pipeline is behind the edge, or unhealthy', async () => {
    const behind = await harness(['a']);
    await behind.publish('b', `v/seg_${NEXT - 3}.m4s`);
    const request = behind.get();
    await behind.publish('a', PATH, { quality: 40 });
    expect(request.at()).toBe(behind.clock.now());
    expect(await firstSelections(behind.metrics)).toEqual({ degraded: 1 });

    const unhealthy = await harness();
    // Both at NEXT - 1; a much later copy of NEXT from a alone: b is three D late by then.
    await unhealthy.clock.advance(4 * D);
    const late = unhealthy.get(`v/seg_${NEXT}.m4s`);
    await unhealthy.publish('a', PATH, { quality: 40 });
    await unhealthy.clock.advance(0);
    expect(late.at()).toBe(unhealthy.clock.now());
  });

  it('with three pipelines, keeps waiting after a second degraded copy, and serves the best present at the end', async () => {
    const h = await harness(['a', 'b', 'c']);
    const request = h.get();
    const arrival = h.clock.now();
    await h.publish('a', PATH, { quality: 30 });
    await h.clock.advance(50);
    await h.publish('b', PATH, { quality: 70 });
    expect(request.at()).toBeUndefined();
    await h.clock.advance(WAIT - 50);
    expect(request.at()).toBe(arrival + WAIT);
    expect(served(await request.answer)).toMatchObject({ pipeline: 'b', quality: 70 });
    expect(await firstSelections(h.metrics)).toEqual({ better_after_wait: 1 });
  });

  it('serves a clean copy still arriving at once over a complete degraded one (score before completeness)', async () => {
    const h = await harness();
    const request = h.get();
    await h.publish('a', PATH, { quality: 40 });
    await h.clock.advance(30);
    expect(request.at()).toBeUndefined();
    const arriving = h.begin('b', PATH, 100);
    await h.clock.advance(0);
    expect(request.at()).toBe(h.clock.now());
    const answer = await request.answer;
    expect([answer.kind, served(answer).pipeline]).toEqual(['stream', 'b']);
    h.abandon(arriving);
  });

  it('does not wait with betterWaitMs 0', async () => {
    const h = await harness(['a', 'b'], { betterWaitMs: 0 });
    const request = h.get();
    await h.publish('a', PATH, { quality: 40 });
    expect(request.at()).toBe(h.clock.now());
  });

  it('a higher score arriving after the path was served moves it and purges; a lower one does not', async () => {
    const h = await harness();
    const request = h.get();
    await h.publish('a', PATH, { quality: 60 });
    await h.clock.advance(WAIT);
    expect(served(await request.answer).pipeline).toBe('a');
    await h.publish('b', PATH, { quality: 50 });
    expect(h.purged).toEqual([]);
    await h.publish('b', PATH, { quality: 90 });
    expect(h.purged).toEqual([PATH]);
    const again = h.get();
    expect(served(await again.answer)).toMatchObject({ pipeline: 'b', quality: 90 });
  });
});

describe('the wait over any arrivals (fast-check)', () => {
  const PIPELINES = ['a', 'b', 'c'] as const;
  const arrival = fc.record({
    pipeline: fc.constantFrom(...PIPELINES),
    offsetMs: fc.integer({ min: 0, max: 400 }),
    quality: fc.oneof(fc.constant(100), fc.integer({ min: 0, max: 100 })),
    defective: fc.boolean(),
  });
  const scenario = fc.record({
    arrivals: fc.uniqueArray(arrival, { selector: (a) => a.pipeline, minLength: 1, maxLength: 3 }),
    waitMs: fc.oneof(fc.constant(WAIT), fc.integer({ min: 0, max: 400 })),
  });

  it('releases no later than betterWaitMs after the first arrival, never early while a better copy may come, and never a lower score than a clean one present', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ arrivals, waitMs }) => {
        const h = await harness(PIPELINES, { betterWaitMs: waitMs });
        try {
          const t0 = h.clock.now();
          const request = h.get();
          const ordered = [...arrivals].sort((x, y) => x.offsetMs - y.offsetMs);
          for (const a of ordered) {
            await h.clock.advance(t0 + a.offsetMs - h.clock.now());
            await h.publish(a.pipeline, PATH, { quality: a.quality, defects: a.defective ? ['corrupt'] : [] });
          }
          await h.clock.advance(t0 + ordered.at(-1)!.offsetMs + waitMs + 1 - h.clock.now());
          const answer = await request.answer;
          if (answer.kind !== 'object') throw new Error(`answered ${answer.kind}`);
          const releasedAt = request.at()!;
          const firstAt = t0 + ordered[0]!.offsetMs;
          // At most betterWaitMs after the first arrival (on fake time a loop turn takes no time).
          expect(releasedAt).toBeGreaterThanOrEqual(firstAt);
          expect(releasedAt).toBeLessThanOrEqual(firstAt + waitMs);

          const chosen = answer.candidate;
          const cleanOf = (a: (typeof arrivals)[number]) => !a.defective;
          // Present when the decision was taken: arrived before the release's millisecond.
          const present = ordered.filter((a) => t0 + a.offsetMs < releasedAt);
          const cleanPresent = present.filter(cleanOf);
          if (cleanPresent.length > 0) {
            expect(chosen.defects).toEqual([]);
            expect(qualityOf(chosen)).toBeGreaterThanOrEqual(Math.max(...cleanPresent.map((a) => a.quality)));
          }
          // Released before the window's end only with a clean 100, or once every live pipeline had brought its copy.
          if (releasedAt < firstAt + waitMs) {
            const arrivedBy = ordered.filter((a) => t0 + a.offsetMs <= releasedAt).length;
            const cleanFull = chosen.defects.length === 0 && qualityOf(chosen) === 100;
            expect(cleanFull || arrivedBy === PIPELINES.length).toBe(true);
          }
        } finally {
          open.splice(open.indexOf(h), 1);
          await h.close();
        }
      }),
      { numRuns: 100 },
    );
  }, 60_000);
});
