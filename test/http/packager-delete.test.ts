import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ReceivedPurge, TestOrigin } from '../support/origin.js';
import { AUTH, put, startOrigin, startPurgeReceiver } from '../support/origin.js';

/**
 * A packager's DELETE (ffmpeg's delete_segments with -method PUT) of an object that left its
 * window: it removes that pipeline's candidate only; the other pipeline's copy serves the path
 * and the pin moves to it; the CDN is purged only while the served playlist still lists the
 * object (players may fetch it, and caches hold the deleted copy), never for what left it.
 */

let origin: TestOrigin;
let edge: Awaited<ReturnType<typeof startPurgeReceiver>>;
beforeAll(async () => {
  edge = await startPurgeReceiver();
  origin = await startOrigin({ purgeUrls: [edge.url] });
});
afterAll(async () => {
  await origin.close();
  await edge.close();
});
beforeEach(() => {
  edge.received.length = 0;
});

const live = (path: string) => fetch(`${origin.url}/live/${path}`);
const remove = (event: string, pipeline: string, path: string) =>
  fetch(`${origin.url}/ingest/${event}/${pipeline}/${path}`, { method: 'DELETE', headers: AUTH });

/** An HLS playlist of 1 s segments `from`-`to`, as ffmpeg writes with -hls_list_size 3. */
function playlist(from: number, to: number): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:1', `#EXT-X-MEDIA-SEQUENCE:${from}`];
  for (let n = from; n <= to; n++) lines.push('#EXTINF:1.000000,', `seg_${n}.m4s`);
  return `${lines.join('\n')}\n`;
}

/** Both pipelines publish segments 1-6 and a playlist listing 4-6; a CDN fill pins pipeline a everywhere. */
async function twoPipelines(event: string): Promise<void> {
  for (const pipeline of ['a', 'b']) {
    for (let n = 1; n <= 6; n++) expect((await put(origin, event, pipeline, `v/seg_${n}.m4s`, `${pipeline} ${n}`)).status).toBe(201);
    expect((await put(origin, event, pipeline, 'v/index.m3u8', playlist(4, 6))).ok).toBe(true);
  }
  for (const path of ['v/index.m3u8', 'v/seg_1.m4s', 'v/seg_5.m4s']) expect((await live(`${event}/${path}`)).headers.get('live-pipeline')).toBe('a');
}

/** Purges the deletes sent: every purge the origin decided on has reached the edge once this resolves. */
async function purgedPaths(): Promise<string[]> {
  await origin.purger.flush();
  return edge.received.filter((r: ReceivedPurge) => r.method === 'PURGE').map((r) => r.url);
}

describe("a packager's DELETE", () => {
  it('of an object that left the served playlist: the other copy serves it, the pin moves, nothing is purged', async () => {
    await twoPipelines('pd-1');
    expect((await remove('pd-1', 'a', 'v/seg_1.m4s')).status).toBe(204);
    expect(await purgedPaths()).toEqual([]);
    const res = await live('pd-1/v/seg_1.m4s');
    expect(res.status).toBe(200);
    expect(res.headers.get('live-pipeline')).toBe('b');
    expect(await res.text()).toBe('b 1');
    expect((await origin.stores.metadata.getObject('pd-1', 'v/seg_1.m4s')).pinned).toBe('b');
    // Only a's copy went: its bytes too.
    expect(await origin.stores.segments.get({ event: 'pd-1', pipeline: 'a', path: 'v/seg_1.m4s' })).toBeUndefined();
  });

  it('of the served copy of an object the served playlist still lists: the pin moves and the path is purged', async () => {
    await twoPipelines('pd-2');
    expect((await remove('pd-2', 'a', 'v/seg_5.m4s')).status).toBe(204);
    expect(await purgedPaths()).toEqual([`/live/pd-2/v/seg_5.m4s`]);
    expect((await live('pd-2/v/seg_5.m4s')).headers.get('live-pipeline')).toBe('b');
  });

  it('of a copy that is not the served one: nothing to purge, inside the window or not', async () => {
    await twoPipelines('pd-3');
    expect((await remove('pd-3', 'b', 'v/seg_5.m4s')).status).toBe(204);
    expect((await remove('pd-3', 'b', 'v/seg_1.m4s')).status).toBe(204);
    expect(await purgedPaths()).toEqual([]);
    expect((await live('pd-3/v/seg_5.m4s')).headers.get('live-pipeline')).toBe('a');
  });

  it('of the last copy of an object outside the window, served until then: not purged, and the origin answers 410', async () => {
    await twoPipelines('pd-4');
    expect((await remove('pd-4', 'a', 'v/seg_1.m4s')).status).toBe(204);
    expect((await live('pd-4/v/seg_1.m4s')).headers.get('live-pipeline')).toBe('b');
    expect((await remove('pd-4', 'b', 'v/seg_1.m4s')).status).toBe(204);
    expect(await purgedPaths()).toEqual([]);
    expect((await live('pd-4/v/seg_1.m4s')).status).toBe(410);
  });

  it('without a playlist that declares the rendition (an operator on a bare event): purged when the served copy goes, as always', async () => {
    for (const pipeline of ['a', 'b']) await put(origin, 'pd-5', pipeline, 'v/seg_1.m4s', `${pipeline} 1`);
    expect((await live('pd-5/v/seg_1.m4s')).headers.get('live-pipeline')).toBe('a');
    expect((await remove('pd-5', 'a', 'v/seg_1.m4s')).status).toBe(204);
    expect(await purgedPaths()).toEqual(['/live/pd-5/v/seg_1.m4s']);
  });
});
