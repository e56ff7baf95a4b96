import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Nginx } from '../support/nginx.js';
import { nginxInstalled, startNginx } from '../support/nginx.js';
import type { TestOrigin } from '../support/origin.js';
import { configure, eventually, put, startOrigin } from '../support/origin.js';
import { openPut } from '../support/streaming.js';
import { describeWithTools } from '../support/tools.js';
import { freePort } from '../support/varnish.js';

// CI installs nginx (.ci/run) and must run these; elsewhere they are skipped, never faked.
const run = describeWithTools([!nginxInstalled() && 'nginx (apt-get install nginx)']);

/** nginx's buffers for an answer (proxy_buffer_size, proxy_buffers in docs/cdn/nginx-edge.conf). */
const BUFFER_BYTES = 64 * 1024;
/**
 * Bytes the stand-in sends at a time: chunked, a CMAF chunk of one frame (it fits in a buffer);
 * with Content-Length, more than a buffer (nginx passes such an answer on in whole buffers).
 */
const CHUNK_BYTES = { chunked: 8 * 1024, length: BUFFER_BYTES + 32 * 1024 } as const;
const CHUNKS = 4;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How the origin frames a streamed answer: chunked when the PUT declared no length, else Content-Length. */
type Framing = keyof typeof CHUNK_BYTES;

/** A viewer's GET through the edge: what arrived, and when it ended. */
interface Viewer {
  readonly bytes: Buffer[];
  received(): number;
  cache(): string | undefined;
  /** Resolves with how the answer ended: whole (`end`) or cut (`aborted`). */
  readonly done: Promise<'end' | 'aborted'>;
  endedAt(): number;
}

function view(url: string): Viewer {
  const bytes: Buffer[] = [];
  let cache: string | undefined;
  let endedAt = 0;
  const done = new Promise<'end' | 'aborted'>((resolve) => {
    http
      .get(url, (res) => {
        cache = res.headers['x-cache'] as string;
        res.on('data', (chunk: Buffer) => bytes.push(chunk));
        res.on('end', () => {
          endedAt = Date.now();
          resolve('end');
        });
        res.on('error', () => resolve('aborted'));
      })
      .on('error', () => resolve('aborted'));
  });
  return { bytes, received: () => bytes.reduce((sum, b) => sum + b.length, 0), cache: () => cache, done, endedAt: () => endedAt };
}

/**
 * What nginx does with an answer the origin streams while the segment is still being ingested
 * (contract v3): 200 at once with the bytes so far, then each chunk as it arrives, the end
 * withheld until the PUT is acknowledged, and the connection cut if the PUT fails. A loopback
 * server stands in for that origin and streams under the test's control, one chunk per step.
 */
run('a streamed answer through the shipped nginx configuration', () => {
  let edge: Nginx;
  let backend: http.Server;
  /** Origin requests per path. */
  const requests = new Map<string, number>();
  /** Lets the stand-in's current answer send its next chunk (or end, or fail). */
  let step: () => void = () => {};
  /** One step, once the stand-in has taken it (its handler goes on in the same turn). */
  const advance = async () => {
    step();
    await sleep(0);
  };
  let framing: Framing = 'chunked';
  /** Paths whose first answer is cut after two chunks, as when the PUT fails. */
  const failFirst = new Set<string>();

  beforeAll(async () => {
    backend = http.createServer(async (req, res) => {
      const count = (requests.get(req.url!) ?? 0) + 1;
      requests.set(req.url!, count);
      const fails = failFirst.has(req.url!) && count === 1;
      const size = CHUNK_BYTES[framing];
      res.writeHead(200, { 'Cache-Control': 'public, max-age=60', ...(framing === 'length' ? { 'Content-Length': String(size * CHUNKS) } : {}) });
      for (let i = 0; i < CHUNKS; i++) {
        res.write(Buffer.alloc(size, 97 + i));
        await new Promise<void>((resolve) => (step = resolve));
        if (fails && i === 1) {
          res.socket!.destroy();
          return;
        }
      }
      res.end();
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    edge = await startNginx(`http://127.0.0.1:${(backend.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    await edge?.stop();
    await new Promise((resolve) => backend?.close(resolve));
  });

  for (const mode of ['chunked', 'length'] as const) {
    it(`reaches the first viewer as it arrives, while viewers that join wait for the whole object, then read the cache (${mode})`, async () => {
      framing = mode;
      const size = CHUNK_BYTES[mode];
      const path = `/live/stream-${mode}/v/seg_1.m4s`;
      const first = view(`${edge.url}${path}`);
      /**
       * Waits until the first viewer has what nginx passes on of `chunks` chunks: chunked, all of
       * them (each chunk whole, as soon as it is sent); with Content-Length, more than before
       * (whole buffers, the first one shared with the headers).
       */
      const seenByFirst: number[] = [];
      const arrived = async (chunks: number) => {
        if (mode === 'chunked') await eventually(() => expect(first.received()).toBe(chunks * size));
        else await eventually(() => expect(first.received()).toBeGreaterThan(seenByFirst.at(-1) ?? 0));
        seenByFirst.push(first.received());
      };
      await arrived(1);
      const late = view(`${edge.url}${path}`);
      // Time for the late viewer's request to reach nginx; if it came later, it would wait all the same.
      await sleep(200);
      for (let i = 2; i <= CHUNKS; i++) {
        await advance();
        await arrived(i);
        expect(late.received()).toBe(0);
      }
      await advance();
      const endedAt = Date.now();
      expect(await first.done).toBe('end');
      expect(first.received()).toBe(size * CHUNKS);
      expect(await late.done).toBe('end');
      expect(Buffer.concat(late.bytes).equals(Buffer.concat(first.bytes))).toBe(true);
      expect(late.cache()).toBe('HIT');
      expect(requests.get(path)).toBe(1);
      console.log(
        `${mode}: the first viewer had ${seenByFirst.join(', ')} of ${size * CHUNKS} bytes after each ${size}-byte chunk; ` +
          `the waiter got all of it ${late.endedAt() - endedAt} ms after the origin's end`,
      );
    });

    it(`is never cached when it is cut: its viewer sees it cut, a waiter refills it whole from the origin (${mode})`, async () => {
      framing = mode;
      const path = `/live/stream-${mode}/v/seg_2.m4s`;
      failFirst.add(path);
      const first = view(`${edge.url}${path}`);
      await eventually(() => expect(first.received()).toBeGreaterThan(0));
      const waiter = view(`${edge.url}${path}`);
      await sleep(200);
      await advance();
      // The origin cuts its answer after the second chunk (the PUT failed).
      await advance();
      expect(await first.done).toBe('aborted');
      expect(first.received()).toBeLessThan(CHUNK_BYTES[mode] * CHUNKS);
      // The waiter's own origin request, which this time is whole.
      await eventually(() => expect(requests.get(path)).toBe(2));
      for (let i = 0; i < CHUNKS; i++) await advance();
      expect(await waiter.done).toBe('end');
      expect(waiter.received()).toBe(CHUNK_BYTES[mode] * CHUNKS);
      const after = view(`${edge.url}${path}`);
      expect(await after.done).toBe('end');
      expect(after.cache()).toBe('HIT');
      expect(after.received()).toBe(CHUNK_BYTES[mode] * CHUNKS);
      expect(requests.get(path)).toBe(2);
    });
  }
});

/**
 * The same through the real origin: a segment held at the origin and streamed from its PUT's
 * first byte (serving while ingesting), one viewer who started the fill and one who waits behind
 * nginx's cache lock.
 */
run('a segment streamed while ingesting, from the real origin through the shipped nginx configuration', () => {
  let origin: TestOrigin;
  let edge: Nginx;
  /** Delivery GETs the origin got, per path. */
  const fetches = new Map<string, number>();

  beforeAll(async () => {
    const port = await freePort();
    edge = await startNginx(`http://127.0.0.1:${port}`);
    origin = await startOrigin({ port, purgeUrls: [edge.url] });
    origin.app.server.on('request', (req: http.IncomingMessage) => {
      if (req.method === 'GET' && req.url?.startsWith('/live/')) fetches.set(req.url, (fetches.get(req.url) ?? 0) + 1);
    });
  });
  afterAll(async () => {
    await edge?.stop();
    await origin?.close();
  });

  /** An event whose segment 0 is the next one: nginx's fetch of it is held at the origin. */
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
    const first = Date.parse(await (await fetch(`${edge.url}/time`)).text());
    await sleep(20);
    const second = await fetch(`${edge.url}/time`);
    expect(second.status).toBe(200);
    expect(Date.parse(await second.text())).toBeGreaterThan(first);
  });

  for (const mode of ['chunked', 'length'] as const) {
    it(`the viewer whose miss fetched it streams; a waiter gets the whole object from the cache (${mode})`, async () => {
      const event = `ns-real-${mode}`;
      const path = `/live/${event}/v/seg_0.m4s`;
      await liveEvent(event);
      const size = CHUNK_BYTES[mode];
      const parts = Array.from({ length: CHUNKS }, () => randomBytes(size));
      const first = view(`${edge.url}${path}`);
      await eventually(() => expect(origin.app.origin.holds.held).toBe(1), 5_000);
      const waiter = view(`${edge.url}${path}`);
      // Time for the waiter's request to reach nginx's lock; if it came later, it would wait all the same.
      await sleep(200);
      const writer = openPut(origin.url, `${event}/a/v/seg_0.m4s`, {}, mode === 'length' ? size * CHUNKS : undefined);
      const seen: number[] = [];
      for (let i = 0; i < CHUNKS - 1; i++) {
        await writer.write(parts[i]!);
        // Chunked: each chunk whole as soon as it is written; with a length, whole buffers.
        if (mode === 'chunked') await eventually(() => expect(first.received()).toBe((i + 1) * size), 5_000);
        else await eventually(() => expect(first.received()).toBeGreaterThan(seen.at(-1) ?? 0), 5_000);
        seen.push(first.received());
        expect(waiter.received()).toBe(0);
      }
      await writer.write(parts.at(-1)!);
      expect((await writer.end()).status).toBe(201);
      const ackedAt = Date.now();
      const whole = Buffer.concat(parts);
      expect(await first.done).toBe('end');
      expect(Buffer.concat(first.bytes).equals(whole)).toBe(true);
      expect(await waiter.done).toBe('end');
      expect(Buffer.concat(waiter.bytes).equals(whole)).toBe(true);
      expect(waiter.cache()).toBe('HIT');
      expect(fetches.get(path)).toBe(1);
      console.log(
        `real origin, ${mode}: the first viewer had ${seen.join(', ')} of ${size * CHUNKS} bytes before the PUT's last chunk; the waiter none, then all of it ${waiter.endedAt() - ackedAt} ms after the ack`,
      );
    });

    it(`a PUT cut mid-body cuts the viewer, caches nothing, and the waiter refills pipeline b's copy (${mode})`, async () => {
      const event = `ns-real-cut-${mode}`;
      const path = `/live/${event}/v/seg_0.m4s`;
      await liveEvent(event);
      const size = CHUNK_BYTES[mode];
      const first = view(`${edge.url}${path}`);
      await eventually(() => expect(origin.app.origin.holds.held).toBe(1), 5_000);
      const waiter = view(`${edge.url}${path}`);
      await sleep(200);
      const a = openPut(origin.url, `${event}/a/v/seg_0.m4s`, {}, mode === 'length' ? size * CHUNKS : undefined);
      await a.write(randomBytes(size));
      await eventually(() => expect(first.received()).toBeGreaterThan(0), 5_000);
      a.destroy();
      expect(await first.done).toBe('aborted');
      const b = randomBytes(size * 2);
      expect((await put(origin, event, 'b', 'v/seg_0.m4s', b)).status).toBe(201);
      expect(await waiter.done).toBe('end');
      expect(Buffer.concat(waiter.bytes).equals(b)).toBe(true);
      expect(fetches.get(path)).toBe(2);
      const after = view(`${edge.url}${path}`);
      expect(await after.done).toBe('end');
      expect(after.cache()).toBe('HIT');
      expect(Buffer.concat(after.bytes).equals(b)).toBe(true);
    });
  }
});
