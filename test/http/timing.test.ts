import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestOrigin } from '../support/origin.js';
import { configure, holdsEnded, put, startOrigin } from '../support/origin.js';

let origin: TestOrigin;
beforeAll(async () => {
  origin = await startOrigin();
});
afterAll(async () => origin.close());

const D = 400;

/** An event whose template makes segment `next` due one D from now (so it is in the hold window). */
async function liveEvent(event: string, next: number, extra: Record<string, unknown> = {}): Promise<number> {
  const ast = Date.now() + D - next * D;
  await configure(origin, event, {
    segmentDurationMs: D,
    availabilityStartTime: new Date(ast).toISOString(),
    startNumber: 1,
    ...extra,
  });
  return ast;
}

describe('template timing', () => {
  it('holds a request for the next segment and releases it the moment it is published', async () => {
    await liveEvent('tm-1', 10);
    const started = Date.now();
    const pending = fetch(`${origin.url}/live/tm-1/v/seg_10.m4s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const publishedAt = Date.now();
    await put(origin, 'tm-1', 'a', 'v/seg_10.m4s', 'ten');
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ten');
    // Released by the publish, not by the deadline: that would have answered 404.
    expect(publishedAt - started).toBeGreaterThanOrEqual(90);
  });

  it('answers 404 with the short TTL when nothing comes by the deadline', async () => {
    await liveEvent('tm-2', 10, { holdGraceMs: 100 });
    const started = Date.now();
    const res = await fetch(`${origin.url}/live/tm-2/v/seg_10.m4s`);
    expect(res.status).toBe(404);
    expect(res.headers.get('live-ttl-ms')).toBe('100');
    expect(Date.now() - started).toBeGreaterThanOrEqual(D);
    const metrics = await (await fetch(`${origin.url}/metrics`)).text();
    expect(metrics).toMatch(/live_origin_hold_timeouts_total [1-9]/);
  });

  it('answers 404 at once for a far-future segment, cacheable until it enters the hold window', async () => {
    const ast = await liveEvent('tm-3', 10);
    const before = Date.now();
    const res = await fetch(`${origin.url}/live/tm-3/v/seg_20.m4s`);
    const after = Date.now();
    expect(res.status).toBe(404);
    const windowStart = ast + (20 - 1 + 1) * D - D;
    const ttl = Number(res.headers.get('live-ttl-ms'));
    expect(ttl).toBeLessThanOrEqual(windowStart - before);
    expect(ttl).toBeGreaterThanOrEqual(windowStart - after - 1);
    expect(res.headers.get('cache-control')).toBe(`public, max-age=${Math.floor(ttl / 1000)}`);
  });

  it('answers 410 with a long TTL for a past segment nobody produced', async () => {
    await liveEvent('tm-4', 10);
    const res = await fetch(`${origin.url}/live/tm-4/v/seg_3.m4s`);
    expect(res.status).toBe(410);
    expect(res.headers.get('live-ttl-ms')).toBe('86400000');
  });

  it('answers 404 at once for a missing segment of an event with no template and no cadence', async () => {
    await put(origin, 'tm-5', 'a', 'v/seg_1.m4s', 'x');
    const holdsBefore = await holdsEnded(origin);
    const res = await fetch(`${origin.url}/live/tm-5/v/seg_2.m4s`);
    expect(res.status).toBe(404);
    // At once: answered without a hold.
    expect(await holdsEnded(origin)).toBe(holdsBefore);
  });
});

describe('cadence timing (no template)', () => {
  it('infers D from publishes and holds the next segment', async () => {
    for (let n = 1; n <= 4; n++) {
      await put(origin, 'tm-6', 'a', `v/seg_${n}.m4s`, `x${n}`);
      if (n < 4) await new Promise((resolve) => setTimeout(resolve, 150));
    }
    const pending = fetch(`${origin.url}/live/tm-6/v/seg_5.m4s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await put(origin, 'tm-6', 'a', 'v/seg_5.m4s', 'x5');
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('x5');
    const far = await fetch(`${origin.url}/live/tm-6/v/seg_9.m4s`);
    expect(far.status).toBe(404);
    expect(Number(far.headers.get('live-ttl-ms'))).toBeGreaterThan(0);
  });
});

describe('held request bounds', () => {
  it('sheds held requests beyond LIVE_ORIGIN_MAX_HELD with 503, Retry-After and a 5 s lifetime', async () => {
    const small = await startOrigin({ maxHeld: 2 });
    try {
      const ast = Date.now();
      await configure(small, 'tm-7', { segmentDurationMs: 600, availabilityStartTime: new Date(ast).toISOString() });
      const held = [1, 2].map(() => fetch(`${small.url}/live/tm-7/v/seg_1.m4s`));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const shed = await fetch(`${small.url}/live/tm-7/v/seg_1.m4s`);
      expect(shed.status).toBe(503);
      expect(shed.headers.get('retry-after')).toBe('5');
      expect(shed.headers.get('live-ttl-ms')).toBe('5000');
      await put(small, 'tm-7', 'a', 'v/seg_1.m4s', 'one');
      for (const res of await Promise.all(held)) expect(res.status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('sheds requests behind the live edge before those at it when an event is over its rate budget', async () => {
    const budget = await startOrigin({ eventRps: 10 });
    try {
      for (let n = 1; n <= 10; n++) await put(budget, 'tm-8', 'a', `v/seg_${n}.m4s`, 'x');
      // A burst of 10 tokens, the last 2 kept for the live edge (newest segment 10; 1 is far behind).
      let served = 0;
      let status = 200;
      while (status === 200 && served < 50) {
        status = (await fetch(`${budget.url}/live/tm-8/v/seg_1.m4s`)).status;
        if (status === 200) served++;
      }
      expect(status).toBe(503);
      expect(served).toBeGreaterThanOrEqual(8);
      // Requests behind the edge are refused now, yet the live edge is still served.
      const edge = await fetch(`${budget.url}/live/tm-8/v/seg_10.m4s`);
      expect(edge.status).toBe(200);
      const shed = await fetch(`${budget.url}/live/tm-8/v/seg_1.m4s`);
      expect(shed.status).toBe(503);
      expect(shed.headers.get('retry-after')).toBe('5');
    } finally {
      await budget.close();
    }
  });

  it('gives up a hold when the client goes away', async () => {
    await liveEvent('tm-9', 10);
    const controller = new AbortController();
    const pending = fetch(`${origin.url}/live/tm-9/v/seg_10.m4s`, { signal: controller.signal }).catch(() => 'aborted');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(origin.app.origin.holds.held).toBe(1);
    controller.abort();
    expect(await pending).toBe('aborted');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(origin.app.origin.holds.held).toBe(0);
  });
});
