import { createHash, randomBytes } from 'node:crypto';
import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestOrigin } from '../support/origin.js';
import { configure, eventually, startOrigin } from '../support/origin.js';
import type { OpenGet } from '../support/streaming.js';
import { openGet, openPut } from '../support/streaming.js';
import { describeWithTools } from '../support/tools.js';
import type { Varnish } from '../support/varnish.js';
import { freePort, startTwoRegionVarnish, startVarnish, varnishInstalled } from '../support/varnish.js';

/**
 * Serving while ingesting through the shipped Varnish VCLs (docs/cdn/varnish.vcl and
 * varnish-two-regions.vcl, both with live-origin.vcl): a segment the origin streams while its
 * PUT arrives reaches every viewer waiting at the edge as it arrives, from one origin fetch; and
 * a stream cut because its PUT failed is cut for every viewer and never cached, so the next
 * request is a fresh origin fetch that gets the other pipeline's copy.
 */

// CI installs Varnish (.ci/run) and must run these; elsewhere they are skipped, never faked.
const run = describeWithTools([!varnishInstalled() && 'varnish (apt-get install varnish)']);

const VIEWERS = 20;
/**
 * How long a written chunk may take to reach every viewer through origin and edge: an upper
 * bound for a busy 2-core host, only there so a broken edge (one that waits for the whole
 * object) fails instead of hanging; the verdict is that the bytes arrived before the PUT ended.
 */
const CHUNK_BOUND_MS = 5_000;
/** A CMAF chunk of a few frames, and one bigger than Varnish's fetch chunk (16 KiB). */
const CHUNKS = [1_500, 40_000, 9_000, 25_000];

const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

/** Resolves once `viewer` has `bytes` bytes, or fails after the bound. */
async function within(viewer: OpenGet, bytes: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: ${viewer.body().length} of ${bytes} bytes after ${CHUNK_BOUND_MS} ms`)), CHUNK_BOUND_MS);
  });
  try {
    await Promise.race([viewer.received(bytes), late]);
  } finally {
    clearTimeout(timer);
  }
}

for (const setup of ['one region', 'two regions'] as const) {
  run(`a segment streamed while ingesting, through a real Varnish (${setup})`, () => {
    let origin: TestOrigin;
    let standby: TestOrigin | undefined;
    let edge: Varnish;
    /** Delivery GETs the origin got, per path (what the edge fetched). */
    const fetches = new Map<string, number>();

    beforeAll(async () => {
      const port = await freePort();
      if (setup === 'one region') {
        edge = await startVarnish(`http://127.0.0.1:${port}`);
      } else {
        // Region 2 is up but never asked: region 1 answers every fetch.
        standby = await startOrigin();
        edge = await startTwoRegionVarnish(`http://127.0.0.1:${port}`, standby.url);
      }
      origin = await startOrigin({ port, purgeUrls: [edge.url] });
      if (setup === 'two regions') {
        // Region 1 was not listening yet when Varnish first probed it: wait until misses go there.
        await eventually(async () => {
          const response = await fetch(`${edge.url}/live/vs-warmup/v/${Date.now()}.m4s`);
          await response.arrayBuffer();
          expect(response.headers.get('x-edge-backend')).toBe('region1');
        }, 10_000);
      }
      (origin.app.server as http.Server).on('request', (req: http.IncomingMessage) => {
        if (req.method === 'GET' && req.url?.startsWith('/live/')) fetches.set(req.url, (fetches.get(req.url) ?? 0) + 1);
      });
    });
    afterAll(async () => {
      await edge?.stop();
      await origin?.close();
      await standby?.close();
    });

    /** An event whose segment 0 is the next one: the edge's fetch of it is held at the origin. */
    async function liveEvent(event: string): Promise<void> {
      const response = await configure(origin, event, {
        pipelines: ['a', 'b'],
        segmentDurationMs: 2_000,
        availabilityStartTime: new Date().toISOString(),
        startNumber: 0,
      });
      expect(response.ok).toBe(true);
    }

    it('passes the origin clock (/time, a DASH UTCTiming source) through uncached', async () => {
      const first = await fetch(`${edge.url}/time`);
      const firstTime = Date.parse(await first.text());
      await new Promise((resolve) => setTimeout(resolve, 20));
      const second = await fetch(`${edge.url}/time`);
      expect(second.headers.get('x-cache')).toBe('MISS');
      expect(Date.parse(await second.text())).toBeGreaterThan(firstTime);
      expect(second.headers.get('access-control-allow-origin')).toBe('*');
    });

    for (const framing of ['chunked', 'content-length'] as const) {
      it(`hands each chunk to ${VIEWERS} waiting viewers before the PUT ends, from one origin fetch (${framing})`, async () => {
        const event = `vs-${setup === 'one region' ? 1 : 2}-${framing}`;
        const path = `${event}/v/seg_0.m4s`;
        await liveEvent(event);
        const parts = CHUNKS.map((size) => randomBytes(size));
        const whole = Buffer.concat(parts);
        const viewers = Array.from({ length: VIEWERS }, () => openGet(edge.url, path));
        // Every viewer waits at the edge behind one fetch, held at the origin.
        await eventually(() => expect(origin.app.origin.holds.held).toBe(1), 5_000);
        const writer = openPut(origin.url, `${event}/a/v/seg_0.m4s`, {}, framing === 'content-length' ? whole.length : undefined);
        // The answer starts with the PUT, before its first byte (as a packager's PUT starts a
        // fragment before it has one): every viewer has its headers first.
        for (const viewer of viewers) expect((await viewer.head).status).toBe(200);
        let sent = 0;
        const lateViewers: OpenGet[] = [];
        /** Per chunk: ms from the packager's write until the last of the viewers had it. */
        const spreads: number[] = [];
        for (const [index, part] of parts.entries()) {
          // Nobody has the end before the PUT's last byte (and its ack).
          if (index === parts.length - 1) {
            for (const viewer of [...viewers, ...lateViewers]) expect(await Promise.race([viewer.done, Promise.resolve('open')])).toBe('open');
          }
          await writer.write(part);
          const writtenAt = performance.now();
          sent += part.length;
          // With a declared length the origin keeps the last byte back until the ack.
          const owed = framing === 'content-length' && sent === whole.length ? sent - 1 : sent;
          await Promise.all(viewers.map((viewer, n) => within(viewer, owed, `viewer ${n} after chunk ${index}`)));
          spreads.push(Math.round(performance.now() - writtenAt));
          // A viewer that comes mid-stream joins the same fetch and starts at byte 0.
          if (index === 1) lateViewers.push(openGet(edge.url, path));
        }
        await Promise.all(lateViewers.map((viewer) => within(viewer, sent - 1, 'late viewer')));
        expect((await writer.end()).status).toBe(201);
        for (const viewer of [...viewers, ...lateViewers]) {
          expect(await viewer.done).toEqual({ complete: true });
          expect(md5(viewer.body())).toBe(md5(whole));
        }
        const head = await viewers[0]!.head;
        expect(head.headers['live-pipeline']).toBe('a');
        if (framing === 'chunked') expect(head.headers['transfer-encoding']).toBe('chunked');
        else expect(head.headers['content-length']).toBe(String(whole.length));
        expect(fetches.get(`/live/${path}`)).toBe(1);
        console.log(`${setup}, ${framing}: each chunk reached all ${VIEWERS} viewers ${spreads.join(', ')} ms after the packager wrote it; 1 origin fetch`);
        // The whole object stayed in the cache.
        const after = openGet(edge.url, path);
        expect(await after.done).toEqual({ complete: true });
        expect((await after.head).headers['x-cache']).toBe('HIT');
        expect(md5(after.body())).toBe(md5(whole));
        expect(fetches.get(`/live/${path}`)).toBe(1);
      });

      it(`cuts every viewer when the PUT fails mid-body, caches nothing, and refills from the other pipeline (${framing})`, async () => {
        const event = `vs-cut-${setup === 'one region' ? 1 : 2}-${framing}`;
        const path = `${event}/v/seg_0.m4s`;
        await liveEvent(event);
        const viewers = Array.from({ length: VIEWERS }, () => openGet(edge.url, path));
        await eventually(() => expect(origin.app.origin.holds.held).toBe(1), 5_000);
        const aBytes = randomBytes(30_000);
        const a = openPut(origin.url, `${event}/a/v/seg_0.m4s`, {}, framing === 'content-length' ? 2 * aBytes.length : undefined);
        for (const viewer of viewers) expect((await viewer.head).status).toBe(200);
        await a.write(aBytes);
        await Promise.all(viewers.map((viewer, n) => within(viewer, aBytes.length, `viewer ${n}`)));
        // Pipeline a's packager dies mid-segment.
        a.destroy();
        for (const viewer of viewers) {
          expect(await viewer.done).toEqual({ complete: false });
          expect(viewer.body().length).toBeLessThan(2 * aBytes.length);
        }
        expect(fetches.get(`/live/${path}`)).toBe(1);
        // Pipeline b's copy, whole; the edge asks the origin again, which serves b from byte 0.
        const bBytes = randomBytes(20_000);
        const b = openPut(origin.url, `${event}/b/v/seg_0.m4s`, {}, framing === 'content-length' ? bBytes.length : undefined);
        await b.write(bBytes);
        expect((await b.end()).status).toBe(201);
        const next = openGet(edge.url, path);
        expect(await next.done).toEqual({ complete: true });
        const head = await next.head;
        expect(head.headers['x-cache']).toBe('MISS');
        expect(head.headers['live-pipeline']).toBe('b');
        expect(md5(next.body())).toBe(md5(bBytes));
        expect(fetches.get(`/live/${path}`)).toBe(2);
        const cached = openGet(edge.url, path);
        expect(await cached.done).toEqual({ complete: true });
        expect((await cached.head).headers['x-cache']).toBe('HIT');
        expect(md5(cached.body())).toBe(md5(bBytes));
      });
    }
  });
}
