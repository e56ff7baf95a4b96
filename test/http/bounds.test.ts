import { describe, expect, it } from 'vitest';
import { AUTH, configure, put, startOrigin } from '../support/origin.js';

describe('memory store bounds', () => {
  it('keeps windowSegments numbers per rendition and counts what it evicts', async () => {
    const origin = await startOrigin();
    try {
      await configure(origin, 'bd-1', { windowSegments: 3 });
      for (let n = 1; n <= 5; n++) {
        await put(origin, 'bd-1', 'a', `v/seg_${n}.m4s`, `v${n}`);
        await put(origin, 'bd-1', 'a', `a/seg_${n}.m4s`, `a${n}`);
      }
      expect((await fetch(`${origin.url}/ingest/bd-1/a/v/seg_2.m4s`, { headers: AUTH })).status).toBe(404);
      expect((await fetch(`${origin.url}/live/bd-1/v/seg_3.m4s`)).status).toBe(200);
      expect((await fetch(`${origin.url}/live/bd-1/a/seg_5.m4s`)).status).toBe(200);
      const metrics = await (await fetch(`${origin.url}/metrics`)).text();
      expect(metrics).toContain('live_origin_evictions_total{store="metadata"} 4');
    } finally {
      await origin.close();
    }
  });

  it('keeps the highest numbers of the window when numbers arrive out of order', async () => {
    const origin = await startOrigin();
    try {
      await configure(origin, 'bd-3', { windowSegments: 3 });
      for (const n of [5, 3, 4, 1, 2, 6]) await put(origin, 'bd-3', 'a', `v/seg_${n}.m4s`, `v${n}`);
      const kept = [];
      for (let n = 1; n <= 6; n++) {
        if ((await fetch(`${origin.url}/ingest/bd-3/a/v/seg_${n}.m4s`, { headers: AUTH })).status === 200) kept.push(n);
      }
      expect(kept).toEqual([4, 5, 6]);
    } finally {
      await origin.close();
    }
  });

  it('evicts the oldest bytes beyond LIVE_ORIGIN_MEMORY_BYTES, and a GET never serves what is gone', async () => {
    const origin = await startOrigin({ memoryBytes: 3 * 1024 });
    try {
      for (let n = 1; n <= 5; n++) await put(origin, 'bd-2', 'a', `v/seg_${n}.m4s`, Buffer.alloc(1024, n));
      expect(origin.stores.segments).toHaveProperty('usedBytes', 3 * 1024);
      // 404 or 410 depending on whether a cadence was inferred from the quick publishes; never 200.
      expect([404, 410]).toContain((await fetch(`${origin.url}/live/bd-2/v/seg_1.m4s`)).status);
      const newest = await fetch(`${origin.url}/live/bd-2/v/seg_5.m4s`);
      expect(Buffer.from(await newest.arrayBuffer()).equals(Buffer.alloc(1024, 5))).toBe(true);
      const metrics = await (await fetch(`${origin.url}/metrics`)).text();
      expect(metrics).toContain('live_origin_evicted_bytes_total{store="segments"} 2048');
    } finally {
      await origin.close();
    }
  });
});
