import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestOrigin } from '../support/origin.js';
import { AUTH, configure, eventually, put, startOrigin } from '../support/origin.js';
import { describeWithTools } from '../support/tools.js';
import type { Varnish } from '../support/varnish.js';
import { freePort, startVarnish, varnishInstalled } from '../support/varnish.js';

// CI installs Varnish (.ci/run) and must run these; elsewhere they are skipped, never faked.
const run = describeWithTools([!varnishInstalled() && 'varnish (apt-get install varnish)']);

run('a real Varnish edge in front of the origin (docs/cdn/varnish.vcl)', () => {
  let origin: TestOrigin;
  let edge: Varnish;

  beforeAll(async () => {
    const port = await freePort();
    edge = await startVarnish(`http://127.0.0.1:${port}`);
    origin = await startOrigin({ port, purgeUrls: [edge.url] });
  });
  afterAll(async () => {
    await edge?.stop();
    await origin?.close();
  });

  const viaEdge = (path: string) => fetch(`${edge.url}/live/${path}`);

  it('caches a clean segment: the second viewer is a hit with the same pipeline', async () => {
    await put(origin, 've-1', 'a', 'v/seg_1.m4s', 'from-a');
    const first = await viaEdge('ve-1/v/seg_1.m4s');
    expect(await first.text()).toBe('from-a');
    const second = await viaEdge('ve-1/v/seg_1.m4s');
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(second.headers.get('live-pipeline')).toBe('a');
  });

  it('after a defect report on the served copy, viewers get the healthy pipeline (PURGE reached the edge)', async () => {
    await put(origin, 've-2', 'a', 'v/seg_1.m4s', 'from-a');
    await put(origin, 've-2', 'b', 'v/seg_1.m4s', 'from-b');
    expect(await (await viaEdge('ve-2/v/seg_1.m4s')).text()).toBe('from-a');
    await fetch(`${origin.url}/ingest/ve-2/a/v/seg_1.m4s`, { method: 'PATCH', headers: { ...AUTH, 'live-defect': 'corrupt' } });
    await eventually(async () => expect(await (await viaEdge('ve-2/v/seg_1.m4s')).text()).toBe('from-b'));
  });

  it('honours millisecond lifetimes: a defective copy expires after one segment duration', async () => {
    const D = 1000;
    await configure(origin, 've-3', { segmentDurationMs: D, availabilityStartTime: '2026-01-01T00:00:00Z' });
    // A HIT is only owed to a request answered within D of the fill being sent: on a host that
    // stalled longer between the two, the check starts again on a fresh segment.
    let judged = 0;
    for (let n = 1; n <= 3 && judged === 0; n++) {
      await put(origin, 've-3', 'a', `v/seg_${n}.m4s`, 'from-a', { 'live-defect': 'short' });
      // The segment's number is long past, so its first publish also purges the edge (a 410 may
      // be cached there): once that purge has arrived, it cannot remove the fill below.
      await origin.purger.flush();
      const filledAt = Date.now();
      const served = await viaEdge(`ve-3/v/seg_${n}.m4s`);
      expect(served.headers.get('live-defect')).toBe('a=short');
      const again = await viaEdge(`ve-3/v/seg_${n}.m4s`);
      if (Date.now() - filledAt >= D) continue;
      expect(again.headers.get('x-cache')).toBe('HIT');
      await new Promise((resolve) => setTimeout(resolve, D + 100));
      expect((await viaEdge(`ve-3/v/seg_${n}.m4s`)).headers.get('x-cache')).toBe('MISS');
      judged = n;
    }
    expect(judged).toBeGreaterThan(0);
  });

  it('coalesces viewers waiting for the next segment into one held origin request', async () => {
    const D = 1000;
    await configure(origin, 've-4', { segmentDurationMs: D, availabilityStartTime: new Date(Date.now() + D - 5 * D).toISOString() });
    const viewers = Array.from({ length: 20 }, () => viaEdge('ve-4/v/seg_5.m4s'));
    await eventually(() => expect(origin.app.origin.holds.held).toBe(1));
    await put(origin, 've-4', 'a', 'v/seg_5.m4s', 'five');
    const answers = await Promise.all(viewers);
    for (const res of answers) expect(res.status).toBe(200);
    expect(await Promise.all(answers.map((r) => r.text()))).toEqual(Array(20).fill('five'));
  });

  it('flushes a whole event with one wildcard PURGE', async () => {
    await put(origin, 've-5', 'a', 'v/seg_1.m4s', 'x');
    await viaEdge('ve-5/v/seg_1.m4s');
    expect((await viaEdge('ve-5/v/seg_1.m4s')).headers.get('x-cache')).toBe('HIT');
    await fetch(`${origin.url}/admin/events/ve-5/invalidations`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ all: true }),
    });
    await eventually(async () => expect((await viaEdge('ve-5/v/seg_1.m4s')).headers.get('x-cache')).toBe('MISS'));
  });
});
