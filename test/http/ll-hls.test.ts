import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestOrigin } from '../support/origin.js';
import { AUTH, configure, put, startOrigin } from '../support/origin.js';

let origin: TestOrigin;
beforeAll(async () => {
  origin = await startOrigin();
});
afterAll(async () => origin.close());

const D = 400;
const live = (path: string, init?: RequestInit) => fetch(`${origin.url}/live/${path}`, init);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An event whose template puts segment `next` in the hold window now (due one D from now). */
async function liveEvent(event: string, next: number, extra: Record<string, unknown> = {}): Promise<number> {
  const ast = Date.now() + D - next * D;
  const res = await configure(origin, event, { segmentDurationMs: D, availabilityStartTime: new Date(ast).toISOString(), startNumber: 1, ...extra });
  expect(res.ok).toBe(true);
  return ast;
}

describe('LL-HLS parts', () => {
  it('holds a GET for the next part and releases it when a pipeline publishes it', async () => {
    await liveEvent('ll-p1', 10);
    const pending = live('ll-p1/v/filePart10.1.mp4');
    await sleep(100);
    const publishedAt = Date.now();
    expect((await put(origin, 'll-p1', 'a', 'v/filePart10.1.mp4', 'part 10.1')).status).toBe(201);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('part 10.1');
    expect(Date.now() - publishedAt).toBeLessThan(D);
  });

  it('takes the segment number and part index from Live-Segment and Live-Part', async () => {
    await liveEvent('ll-p2', 10);
    const res = await put(origin, 'll-p2', 'a', 'v/chunk.m4s', 'x', { 'live-segment': '10', 'live-part': '2' });
    expect(res.status).toBe(201);
    const status = await (await fetch(`${origin.url}/admin/events/ll-p2`, { headers: AUTH })).json();
    expect(status.pipelines[0].liveEdge).toBe(10);
  });

  it('refuses a Live-Part that is not a number, and one with no segment number to belong to', async () => {
    await liveEvent('ll-p3', 10);
    const bad = await put(origin, 'll-p3', 'a', 'v/filePart10.1.mp4', 'x', { 'live-part': 'one' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toMatch(/Live-Part/);
    expect((await put(origin, 'll-p3', 'a', 'v/chunk.m4s', 'x', { 'live-part': '1' })).status).toBe(400);
    expect((await live('ll-p3/v/filePart10.1.mp4')).status).not.toBe(200);
  });
});

describe('playlists follow the advancing pipeline', () => {
  it('switches a playlist to the pipeline still publishing once the served one is silent for more than one D', async () => {
    await liveEvent('ll-f1', 10);
    for (const p of ['a', 'b']) {
      await put(origin, 'll-f1', p, 'v/filePart10.0.mp4', `${p}0`);
      await put(origin, 'll-f1', p, 'v/index.m3u8', `#EXTM3U from ${p}`);
    }
    expect((await live('ll-f1/v/index.m3u8')).headers.get('live-pipeline')).toBe('a');
    // a stops; b keeps publishing parts of the same segment and playlists every D/4: a is not
    // two segments behind, nor silent long enough to be unhealthy, only silent for over one D.
    const until = Date.now() + D + 150;
    for (let k = 1; Date.now() < until; k++) {
      await put(origin, 'll-f1', 'b', `v/filePart10.${k}.mp4`, `b${k}`);
      await put(origin, 'll-f1', 'b', 'v/index.m3u8', `#EXTM3U from b ${k}`);
      await sleep(D / 4);
    }
    const res = await live('ll-f1/v/index.m3u8');
    expect(res.headers.get('live-pipeline')).toBe('b');
    expect(await res.text()).toMatch(/^#EXTM3U from b \d+$/);
  });
});

