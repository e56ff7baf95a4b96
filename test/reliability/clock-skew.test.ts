import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import type { ReceivedPurge, TestOrigin } from '../support/origin.js';
import { configure, eventually, put, startOrigin, startPurgeReceiver } from '../support/origin.js';

/**
 * Clock skew. The origin trusts one clock, its own: a segment's due time, the hold window, the
 * 404 lifetimes and 410s are computed from the event's availability start time (AST, written
 * by the packager in its clock) against the origin's clock (`now`, injectable). A packager whose
 * clock is off publishes early or late in the origin's frame; the tests pin down what each
 * offset costs: nothing while the packager is early or late by less than the hold grace, and
 * past it a 410 that the late segment's arrival corrects with a purge.
 */

const D = 2_000;

// The three offsets run side by side on their own events: each needs a few real segment durations.
describe.concurrent('a packager 2 s off the origin clock (real time, AST in the packager clock)', () => {
  let origin: TestOrigin;
  let purges: Awaited<ReturnType<typeof startPurgeReceiver>>;

  beforeAll(async () => {
    purges = await startPurgeReceiver();
    origin = await startOrigin({ purgeUrls: [purges.url] });
  });

  afterAll(async () => {
    await origin.close();
    await purges.close();
  });

  interface Seen {
    readonly status: number;
    readonly heldMs: number;
    readonly ttlMs: number;
    /** When the GET was sent and answered (Date.now()). */
    readonly sentAt: number;
    readonly answeredAt: number;
  }

  async function get(event: string, n: number): Promise<Seen> {
    const sentAt = Date.now();
    const started = performance.now();
    const response = await fetch(`${origin.url}/live/${event}/v/seg_${n}.m4s`);
    await response.arrayBuffer();
    return { status: response.status, heldMs: performance.now() - started, ttlMs: Number(response.headers.get('live-ttl-ms')), sentAt, answeredAt: Date.now() };
  }

  const sleepUntil = (at: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));

  /**
   * The packager's clock runs `behindMs` behind the origin's (negative: ahead): it publishes
   * segment n at its own due time, which the origin sees `behindMs` later. A CDN asks for n as
   * soon as the origin's hold window opens (due - D) and again just past the deadline.
   *
   * Each step happens at its time, and also after the steps meant to come before it have
   * happened (a GET meant to be answered before the publish is waited for, and the other way
   * round): on a busy host a late timer cannot swap them, so no verdict rests on the few
   * hundred ms between them.
   */
  async function run(event: string, behindMs: number) {
    const ast = Date.now() + 500;
    expect(
      (await configure(origin, event, { pipelines: ['a'], segmentDurationMs: D, availabilityStartTime: new Date(ast).toISOString(), startNumber: 0 })).ok,
    ).toBe(true);
    const due = (n: number) => ast + (n + 1) * D;
    const n = 1;
    const publishAt = due(n) + behindMs;
    const windowAt = due(n) - D + 50;
    /** The hold ends here (grace: one D) with a 404, if nothing was published. */
    const deadline = due(n) + D;
    const pastAt = due(n) + D + 200;
    let publishedAt = Infinity;
    const publish = async () => {
      await sleepUntil(publishAt);
      publishedAt = Date.now();
      expect((await put(origin, event, 'a', `v/seg_${n}.m4s`, Buffer.from(`segment ${n}`))).status).toBe(201);
    };
    let atWindow: Promise<Seen>;
    let pastDeadline: Seen | undefined;
    if (windowAt < publishAt) {
      await sleepUntil(windowAt);
      atWindow = get(event, n);
      // A hold that ends before the publish, and a GET past the deadline meant to come before
      // it, are answered first.
      if (deadline < publishAt) await atWindow;
      if (pastAt < publishAt) {
        await sleepUntil(pastAt);
        pastDeadline = await get(event, n);
      }
      await publish();
    } else {
      await publish();
      await sleepUntil(windowAt);
      atWindow = get(event, n);
    }
    const seenAtWindow = await atWindow;
    if (!pastDeadline) {
      await sleepUntil(pastAt);
      pastDeadline = await get(event, n);
    }
    const afterPublish = await get(event, n);
    const purged = purges.received.filter((p: ReceivedPurge) => p.url === `/live/${event}/v/seg_${n}.m4s`).length;
    const figures = { behindMs, atWindow: seenAtWindow, pastDeadline, afterPublish: afterPublish.status, purged, publishedAt };
    const shown = { status: seenAtWindow.status, heldMs: Math.round(seenAtWindow.heldMs), ttlMs: seenAtWindow.ttlMs };
    console.log(`clock skew: ${JSON.stringify({ behindMs, atWindow: shown, pastDeadline: pastDeadline.status, afterPublish: afterPublish.status, purged })}`);
    return figures;
  }

  it('packager 2 s ahead: the early segment is served at once, nothing 404s or 410s', async () => {
    const figures = await run('skew-ahead', -2_000);
    expect(figures.atWindow.status).toBe(200);
    expect(figures.atWindow.heldMs).toBeLessThan(500);
    expect(figures.pastDeadline.status).toBe(200);
    expect(figures.purged).toBe(0);
  }, 15_000);

  it('packager 1.5 s behind (inside the hold grace of one D): held requests are released by the late publish', async () => {
    const figures = await run('skew-behind', 1_500);
    expect(figures.atWindow.status).toBe(200);
    // Held from the window start (due - D) until the publish at due + 1.5 s released it: sent
    // before the segment existed, answered after it was published.
    expect(figures.atWindow.sentAt).toBeLessThan(figures.publishedAt);
    expect(figures.atWindow.answeredAt).toBeGreaterThanOrEqual(figures.publishedAt);
    expect(figures.pastDeadline.status).toBe(200);
    expect(figures.purged).toBe(0);
  }, 15_000);

  it('packager 2.5 s behind (past the grace): 404 at the deadline, 410 after it, then served and purged when it lands', async () => {
    const figures = await run('skew-far-behind', 2_500);
    // The hold ends at the deadline with a short-lived 404; just past it, the origin's clock says gone.
    expect(figures.atWindow.status).toBe(404);
    expect(figures.atWindow.ttlMs).toBeLessThanOrEqual(100);
    expect(figures.pastDeadline.status).toBe(410);
    // The late segment is served, and the 410 the CDN cached is purged.
    expect(figures.afterPublish).toBe(200);
    await eventually(() => expect(purges.received.some((p) => p.url === '/live/skew-far-behind/v/seg_1.m4s')).toBe(true));
  }, 15_000);
});

describe('availability start time far from now (injected origin clock)', () => {
  const NOW = Date.parse('2026-06-01T12:00:00.000Z');
  let origin: TestOrigin;

  beforeAll(async () => {
    origin = await startOrigin({ clock: new ManualClock(NOW) });
  });

  afterAll(async () => {
    await origin.close();
  });

  async function get(event: string, n: number) {
    const response = await fetch(`${origin.url}/live/${event}/v/seg_${n}.m4s`);
    await response.arrayBuffer();
    return { status: response.status, ttlMs: Number(response.headers.get('live-ttl-ms')), cacheControl: response.headers.get('cache-control') };
  }

  it('AST a year ahead: every segment is a 404 cacheable to the millisecond until its hold window opens', async () => {
    const ast = NOW + 365 * 86_400_000 + 123;
    expect(
      (await configure(origin, 'future', { pipelines: ['a'], segmentDurationMs: D, availabilityStartTime: new Date(ast).toISOString(), startNumber: 10 })).ok,
    ).toBe(true);
    for (const n of [10, 11, 5_000]) {
      const answer = await get('future', n);
      const windowStart = ast + (n - 10 + 1) * D - D;
      expect(answer).toMatchObject({ status: 404, ttlMs: windowStart - NOW });
      expect(answer.cacheControl).toContain(`max-age=${Math.floor((windowStart - NOW) / 1000)}`);
    }
    // Numbers before the start number do not exist: gone, not a negative lifetime.
    const before = await get('future', 3);
    expect([404, 410]).toContain(before.status);
    expect(before.ttlMs).toBeGreaterThanOrEqual(0);
  });

  it('AST ten years back: the live edge number is large and exact, older numbers are 410, the next is held', async () => {
    const ast = NOW - 10 * 365 * 86_400_000;
    expect(
      (await configure(origin, 'past', { pipelines: ['a'], segmentDurationMs: D, availabilityStartTime: new Date(ast).toISOString(), startNumber: 0 })).ok,
    ).toBe(true);
    const live = Math.floor((NOW - ast) / D);
    expect(live).toBeGreaterThan(150_000_000);
    expect((await get('past', 0)).status).toBe(410);
    expect((await get('past', live - 5)).status).toBe(410);
    expect(await get('past', live + 10)).toMatchObject({ status: 404, ttlMs: ast + (live + 10) * D - NOW });
    // Segment live - 1 is due now, so `live` is the next: its hold window opens now and its
    // deadline is two D away on the origin's clock. A request for it waits for the publish.
    let answered = false;
    const next = get('past', live).finally(() => {
      answered = true;
    });
    await eventually(() => expect(origin.app.origin.holds.held).toBe(1));
    expect(answered).toBe(false);
    expect((await put(origin, 'past', 'a', `v/seg_${live}.m4s`, Buffer.from('edge'))).status).toBe(201);
    expect((await next).status).toBe(200);
    expect(origin.app.origin.holds.held).toBe(0);
  });
});
