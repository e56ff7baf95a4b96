/**
 * The error ratio Route 53 follows counts what the origin could not serve (a store that fails
 * a request, an internal error) and none of its deliberate answers (shedding, a hold's 404,
 * health checks), so that a surge or a stalled packager never reads as a broken region.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../runtime/adapters/memory-stores.js';
import { NO_OBSERVER } from '../../runtime/ports/store-observer.js';
import type { Stores } from '../../runtime/ports/stores.js';
import { AUTH, configure, put, startOrigin } from '../support/origin.js';

/** The memory store whose candidate writes fail while `down` (as an unreachable store's would). */
function failingWrites(): { stores: Stores; setDown(down: boolean): void } {
  const inner = createMemoryStores({ memoryBytes: 1 << 20, observer: NO_OBSERVER });
  let down = false;
  const metadata = Object.create(inner.metadata) as Stores['metadata'];
  metadata.putCandidate = async (candidate) => {
    if (down) throw new Error('store down');
    return inner.metadata.putCandidate(candidate);
  };
  return { stores: { ...inner, metadata }, setDown: (value) => (down = value) };
}

describe('the unserved share (UnservedPercent)', () => {
  it('counts a write the store refused as not served, and a served one as served', async () => {
    const { stores, setDown } = failingWrites();
    const origin = await startOrigin({ stores });
    try {
      const before = origin.metrics.snapshot();
      expect((await put(origin, 'un-1', 'a', 'v/seg_1.m4s', 'ok')).status).toBe(201);
      setDown(true);
      expect((await put(origin, 'un-1', 'a', 'v/seg_2.m4s', 'lost')).status).toBe(503);
      const after = origin.metrics.snapshot();
      expect(after.served - before.served).toBe(2);
      expect(after.unserved - before.unserved).toBe(1);
    } finally {
      await origin.close();
    }
  });

  it('counts shedding 503s, hold 404s and health checks as answers, not failures', async () => {
    // One held request at most: a second concurrent hold is shed with 503.
    const origin = await startOrigin({ maxHeld: 1 });
    try {
      expect(
        (
          await configure(origin, 'un-2', {
            pipelines: ['a'],
            segmentDurationMs: 2000,
            availabilityStartTime: new Date(Date.now() - 1000).toISOString(),
            startNumber: 0,
          })
        ).status,
      ).toBe(201);
      const before = origin.metrics.snapshot();
      const held = fetch(`${origin.url}/live/un-2/v/seg_0.m4s`);
      // Wait until the first request is held, then the second finds the cap full.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && (await origin.metrics.held.get()).values[0]?.value !== 1) await new Promise((resolve) => setTimeout(resolve, 10));
      const shed = await fetch(`${origin.url}/live/un-2/v/seg_0.m4s`);
      expect(shed.status).toBe(503);
      expect((await held).status).toBe(404);
      expect((await fetch(`${origin.url}/readyz`)).status).toBe(200);
      expect((await fetch(`${origin.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${origin.url}/ingest/un-2/a/v/seg_9.m4s`, { headers: AUTH })).status).toBe(404);
      const after = origin.metrics.snapshot();
      expect(after.unserved - before.unserved).toBe(0);
      // The two delivery answers and the ingest GET count; the health checks do not.
      expect(after.served - before.served).toBe(3);
    } finally {
      await origin.close();
    }
  });
});
