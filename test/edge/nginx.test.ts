import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Nginx } from '../support/nginx.js';
import { nginxInstalled, startNginx } from '../support/nginx.js';
import type { TestOrigin } from '../support/origin.js';
import { AUTH, configure, eventually, put, startOrigin } from '../support/origin.js';
import { describeWithTools } from '../support/tools.js';
import { freePort } from '../support/varnish.js';

// CI installs nginx (.ci/run) and must run these; elsewhere they are skipped, never faked.
const run = describeWithTools([!nginxInstalled() && 'nginx (apt-get install nginx)']);

const CDN_SECRET = 'edge-secret-0123456789';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

run('a real nginx edge in front of the origin (docs/cdn/nginx.conf)', () => {
  let origin: TestOrigin;
  let edge: Nginx;
  /** Every request that reached the origin from the edge (with the CDN secret), as `METHOD url`, in order. */
  const reached: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    edge = await startNginx(`http://127.0.0.1:${port}`, { cdnSecret: CDN_SECRET });
    origin = await startOrigin({ port, purgeUrls: [edge.url], cdnSecret: CDN_SECRET });
    origin.app.server.on('request', (req: IncomingMessage) => {
      if (req.headers['live-cdn-auth'] === CDN_SECRET) reached.push(`${req.method} ${req.url}`);
    });
  });
  afterAll(async () => {
    await edge?.stop();
    await origin?.close();
  });

  const viaEdge = (path: string) => fetch(`${edge.url}/live/${path}`);
  const originGets = (path: string) => reached.filter((line) => line === `GET /live/${path}`).length;

  /** PURGEs the edge answered with 2xx. */
  const purgesDone = async () => (await origin.metrics.purges.get()).values.find((value) => value.labels.outcome === 'ok')?.value ?? 0;

  /** An event whose template puts segment `n` (of `D` ms) in the hold window `inMs` from now; returns when the window opens. */
  async function liveEvent(event: string, D: number, n: number, inMs = 0): Promise<number> {
    const windowOpensAt = Date.now() + inMs;
    const res = await configure(origin, event, {
      segmentDurationMs: D,
      startNumber: 1,
      availabilityStartTime: new Date(windowOpensAt - (n - 1) * D).toISOString(),
    });
    expect(res.ok).toBe(true);
    return windowOpensAt;
  }

  it('caches a clean segment, and fetches it with the CDN secret the origin asks for', async () => {
    await put(origin, 'ne-1', 'a', 'v/seg_1.m4s', 'from-a');
    expect((await fetch(`${origin.url}/live/ne-1/v/seg_1.m4s`)).status).toBe(403);
    const first = await viaEdge('ne-1/v/seg_1.m4s');
    expect(await first.text()).toBe('from-a');
    expect(first.headers.get('x-cache')).toBe('MISS');
    const second = await viaEdge('ne-1/v/seg_1.m4s');
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(second.headers.get('live-pipeline')).toBe('a');
    expect(originGets('ne-1/v/seg_1.m4s')).toBe(1);
  });

  it('after a defect report on the served copy, viewers get the healthy pipeline (PURGE reached the edge)', async () => {
    await put(origin, 'ne-2', 'a', 'v/seg_1.m4s', 'from-a');
    await put(origin, 'ne-2', 'b', 'v/seg_1.m4s', 'from-b');
    expect(await (await viaEdge('ne-2/v/seg_1.m4s')).text()).toBe('from-a');
    expect((await viaEdge('ne-2/v/seg_1.m4s')).headers.get('x-cache')).toBe('HIT');
    await fetch(`${origin.url}/ingest/ne-2/a/v/seg_1.m4s`, { method: 'PATCH', headers: { ...AUTH, 'live-defect': 'corrupt' } });
    await eventually(async () => expect(await (await viaEdge('ne-2/v/seg_1.m4s')).text()).toBe('from-b'));
    // The purge client counts a PURGE once it has read the edge's answer.
    await origin.purger.flush();
    expect(await purgesDone()).toBeGreaterThanOrEqual(1);
  });

  it('keeps a lifetime in whole seconds (a defective copy of D = 1 s: more than 1 s, at most 2 s) and caches nothing under a second', async () => {
    await configure(origin, 'ne-3', { segmentDurationMs: 1000, availabilityStartTime: '2026-01-01T00:00:00Z' });
    await put(origin, 'ne-3', 'a', 'v/seg_1.m4s', 'from-a', { 'live-defect': 'short' });
    // Published past its deadline, so the origin purges it (a 410 may be cached): not in the middle of what follows.
    await origin.purger.flush();
    const filled = await viaEdge('ne-3/v/seg_1.m4s');
    const filledAt = Date.now();
    expect(filled.headers.get('live-ttl-ms')).toBe('1000');
    expect(filled.headers.get('cache-control')).toBe('public, max-age=1');
    let lastHitAt = 0;
    for (;;) {
      const res = await viaEdge('ne-3/v/seg_1.m4s');
      await res.arrayBuffer();
      if (res.headers.get('x-cache') !== 'HIT') break;
      lastHitAt = Date.now();
      expect(lastHitAt - filledAt).toBeLessThan(3_000);
      await sleep(50);
    }
    // nginx's clock has whole seconds: kept until the end of the second after the one it was stored in.
    expect(lastHitAt).toBeGreaterThan(0);
    expect(lastHitAt - filledAt).toBeLessThanOrEqual(2_000);
    console.log(`defective copy (Live-TTL-Ms 1000, max-age=1): last served from nginx's cache ${lastHitAt - filledAt} ms after the fill`);

    // A playlist lives half a D: 500 ms, `max-age=0`, so every request goes to the origin.
    await put(origin, 'ne-3', 'a', 'v/index.m3u8', '#EXTM3U\n');
    for (let i = 0; i < 3; i++) expect((await viaEdge('ne-3/v/index.m3u8')).headers.get('x-cache')).toBe('MISS');
    expect(originGets('ne-3/v/index.m3u8')).toBe(3);
  });

  it('coalesces viewers waiting for the next segment into one held origin request', async () => {
    await liveEvent('ne-4', 1000, 5);
    const viewers = Array.from({ length: 20 }, () => viaEdge('ne-4/v/seg_5.m4s').then(async (res) => ({ res, body: await res.text(), at: Date.now() })));
    await eventually(() => expect(origin.app.origin.holds.held).toBe(1));
    // Every viewer's request is at the edge by now (they left together; one reached the origin).
    await sleep(100);
    const published = await put(origin, 'ne-4', 'a', 'v/seg_5.m4s', 'five');
    const publishedAt = Date.now();
    expect(published.status).toBe(201);
    const answers = await Promise.all(viewers);
    expect(answers.map(({ res }) => res.status)).toEqual(Array(20).fill(200));
    expect(answers.map(({ body }) => body)).toEqual(Array(20).fill('five'));
    expect(originGets('ne-4/v/seg_5.m4s')).toBe(1);
    const fill = answers.filter(({ res }) => res.headers.get('x-cache') === 'MISS');
    expect(fill).toHaveLength(1);
    const waits = answers.map(({ at }) => at - publishedAt).sort((a, b) => a - b);
    // Waiters poll the cache every 500 ms: none waits for the lock's timeout (25 s).
    expect(waits.at(-1)!).toBeLessThan(2_000);
    console.log(
      `20 viewers, 1 origin request: after the PUT's ack the fill answered in ${fill[0]!.at - publishedAt} ms, the 19 waiters in ${waits[1]}..${waits.at(-1)} ms (median ${waits[10]})`,
    );
  });

  it('caches a 404 for a future segment until about its hold window (whole seconds), then the request is held', async () => {
    const D = 2000;
    const windowOpensAt = await liveEvent('ne-5', D, 5, 2500);
    const first = await viaEdge('ne-5/v/seg_5.m4s');
    expect(first.status).toBe(404);
    expect(first.headers.get('cache-control')).toMatch(/max-age=[12]\b/);
    let lastHitAt = 0;
    let held: Promise<Response> | undefined;
    while (!held) {
      const pending = viaEdge('ne-5/v/seg_5.m4s');
      let answered = false;
      const heldAtOrigin = (async () => {
        while (!answered && origin.app.origin.holds.held === 0) await sleep(20);
      })();
      const answer = await Promise.race([pending, heldAtOrigin.then(() => undefined)]);
      answered = true;
      if (answer === undefined) {
        held = pending;
      } else {
        expect(answer.status).toBe(404);
        if (answer.headers.get('x-cache') === 'HIT') lastHitAt = Date.now();
        expect(Date.now() - windowOpensAt).toBeLessThan(3_000);
        await sleep(100);
      }
    }
    const heldAt = Date.now();
    // Kept at most the second after the origin's whole seconds: up to 1 s into the hold window.
    expect(lastHitAt - windowOpensAt).toBeLessThan(1_000 + 300);
    await put(origin, 'ne-5', 'a', 'v/seg_5.m4s', 'five');
    const released = await held;
    expect(released.status).toBe(200);
    expect(await released.text()).toBe('five');
    console.log(
      `404 until the hold window: last served from cache ${lastHitAt - windowOpensAt} ms after the window opened; first held request ${heldAt - windowOpensAt} ms after`,
    );
  });

  it('answers ranges and revalidations from its cache', async () => {
    await put(origin, 'ne-8', 'a', 'v/seg_1.m4s', '0123456789');
    const full = await viaEdge('ne-8/v/seg_1.m4s');
    const etag = full.headers.get('etag')!;
    expect(await full.text()).toBe('0123456789');
    const range = await fetch(`${edge.url}/live/ne-8/v/seg_1.m4s`, { headers: { range: 'bytes=2-4' } });
    expect(range.status).toBe(206);
    expect(await range.text()).toBe('234');
    expect(range.headers.get('content-range')).toBe('bytes 2-4/10');
    const revalidated = await fetch(`${edge.url}/live/ne-8/v/seg_1.m4s`, { headers: { 'if-none-match': etag } });
    expect(revalidated.status).toBe(304);
    expect(originGets('ne-8/v/seg_1.m4s')).toBe(1);
  });

  it('flushes a whole event with one wildcard PURGE, and no other event', async () => {
    await put(origin, 'ne-6', 'a', 'v/seg_1.m4s', 'x');
    await put(origin, 'ne-6b', 'a', 'v/seg_1.m4s', 'y');
    for (const path of ['ne-6/v/seg_1.m4s', 'ne-6b/v/seg_1.m4s']) {
      await viaEdge(path);
      expect((await viaEdge(path)).headers.get('x-cache')).toBe('HIT');
    }
    const before = await purgesDone();
    const flushed = await fetch(`${origin.url}/admin/events/ne-6/invalidations`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ all: true }),
    });
    expect(flushed.ok).toBe(true);
    await origin.purger.flush();
    expect(await purgesDone()).toBeGreaterThan(before);
    expect((await viaEdge('ne-6/v/seg_1.m4s')).headers.get('x-cache')).toBe('MISS');
    expect((await viaEdge('ne-6b/v/seg_1.m4s')).headers.get('x-cache')).toBe('HIT');
  });

  it('coalesces an LL-HLS blocking reload across players, keyed on _HLS_msn only, and caches the answer', async () => {
    await liveEvent('ne-7', 1000, 273);
    await put(origin, 'ne-7', 'a', 'v/index.m3u8', blockingPlaylist(272), M3U8);
    const players = Array.from({ length: 10 }, (_, i) =>
      viaEdge(`ne-7/v/index.m3u8?session=${i}&_HLS_msn=273`).then(async (res) => ({ res, body: await res.text() })),
    );
    await eventually(() => expect(origin.app.origin.holds.held).toBe(1));
    await sleep(100);
    await put(origin, 'ne-7', 'a', 'v/index.m3u8', blockingPlaylist(273), M3U8);
    for (const { res, body } of await Promise.all(players)) {
      expect(res.status).toBe(200);
      expect(body).toContain('seg_273.m4s');
    }
    const late = await viaEdge('ne-7/v/index.m3u8?_HLS_msn=273&player=late');
    expect(late.headers.get('x-cache')).toBe('HIT');
    expect(reached.filter((line) => line.startsWith('GET /live/ne-7/v/index.m3u8'))).toEqual(['GET /live/ne-7/v/index.m3u8?_HLS_msn=273']);
  });
});

const M3U8 = { 'content-type': 'application/vnd.apple.mpegurl' };

/** A media playlist that allows blocking reloads, ending with segment `lastMsn`. */
function blockingPlaylist(lastMsn: number): string {
  const lines = ['#EXTM3U', '#EXT-X-TARGETDURATION:1', '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES', `#EXT-X-MEDIA-SEQUENCE:${lastMsn - 1}`];
  for (const n of [lastMsn - 1, lastMsn]) lines.push('#EXTINF:1.0,', `seg_${n}.m4s`);
  return `${lines.join('\n')}\n`;
}
