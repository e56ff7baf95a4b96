import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TestOrigin } from '../support/origin.js';
import { AUTH, eventually, put, startOrigin, startPurgeReceiver } from '../support/origin.js';

let origin: TestOrigin;
let edgeA: Awaited<ReturnType<typeof startPurgeReceiver>>;
let edgeB: Awaited<ReturnType<typeof startPurgeReceiver>>;

beforeAll(async () => {
  edgeA = await startPurgeReceiver();
  edgeB = await startPurgeReceiver();
  origin = await startOrigin({ purgeUrls: [edgeA.url, edgeB.url] });
});
afterAll(async () => {
  await origin.close();
  await edgeA.close();
  await edgeB.close();
});
beforeEach(() => {
  edgeA.received.length = 0;
  edgeB.received.length = 0;
});

const invalidate = (event: string, body: unknown) =>
  fetch(`${origin.url}/admin/events/${event}/invalidations`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('automatic purge', () => {
  it('purges the path on every CDN node when the served candidate is reported defective', async () => {
    await put(origin, 'pg-1', 'a', 'v/seg_1.m4s', 'a1');
    await put(origin, 'pg-1', 'b', 'v/seg_1.m4s', 'b1');
    await fetch(`${origin.url}/live/pg-1/v/seg_1.m4s`);
    await fetch(`${origin.url}/ingest/pg-1/a/v/seg_1.m4s`, { method: 'PATCH', headers: { ...AUTH, 'live-defect': 'corrupt' } });
    await eventually(() => {
      expect(edgeA.received).toEqual([{ method: 'PURGE', url: '/live/pg-1/v/seg_1.m4s' }]);
      expect(edgeB.received).toEqual([{ method: 'PURGE', url: '/live/pg-1/v/seg_1.m4s' }]);
    });
  });

  it('purges when a clean candidate arrives for a path served defective', async () => {
    await put(origin, 'pg-2', 'a', 'v/seg_1.m4s', 'a1', { 'live-defect': 'short' });
    const served = await fetch(`${origin.url}/live/pg-2/v/seg_1.m4s`);
    expect(served.headers.get('live-defect')).toBe('a=short');
    await put(origin, 'pg-2', 'b', 'v/seg_1.m4s', 'b1');
    await eventually(() => expect(edgeA.received.map((r) => r.url)).toEqual(['/live/pg-2/v/seg_1.m4s']));
    expect((await fetch(`${origin.url}/live/pg-2/v/seg_1.m4s`)).headers.get('live-pipeline')).toBe('b');
  });

  it('purges when the served candidate is replaced with different bytes', async () => {
    await put(origin, 'pg-3', 'a', 'v/seg_1.m4s', 'first');
    await fetch(`${origin.url}/live/pg-3/v/seg_1.m4s`);
    await put(origin, 'pg-3', 'a', 'v/seg_1.m4s', 'second');
    await eventually(() => expect(edgeA.received.map((r) => r.url)).toEqual(['/live/pg-3/v/seg_1.m4s']));
  });

  it('does not purge a served playlist on its routine update, but does when it is reported defective', async () => {
    await put(origin, 'pg-5', 'a', 'v/index.m3u8', '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:1\n');
    await put(origin, 'pg-5', 'b', 'v/index.m3u8', '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:1\n');
    await fetch(`${origin.url}/live/pg-5/v/index.m3u8`);
    await put(origin, 'pg-5', 'a', 'v/index.m3u8', '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:2\n');
    await origin.purger.flush();
    expect(edgeA.received).toEqual([]);
    await fetch(`${origin.url}/ingest/pg-5/a/v/index.m3u8`, { method: 'PATCH', headers: { ...AUTH, 'live-defect': 'corrupt' } });
    await eventually(() => expect(edgeA.received.map((r) => r.url)).toEqual(['/live/pg-5/v/index.m3u8']));
  });

  it('does not purge when nothing was served yet', async () => {
    await put(origin, 'pg-4', 'a', 'v/seg_1.m4s', 'a1');
    await fetch(`${origin.url}/ingest/pg-4/a/v/seg_1.m4s`, { method: 'PATCH', headers: { ...AUTH, 'live-defect': 'short' } });
    await origin.purger.flush();
    expect(edgeA.received).toEqual([]);
  });
});

describe('invalidations', () => {
  it('masks a number range in every rendition, purges those paths, and answers 410 once all are masked', async () => {
    for (const r of ['720p', '1080p']) for (const n of [1, 2, 3]) await put(origin, 'pg-5', 'a', `${r}/seg_00${n}.m4s`, `${r}-${n}`);
    const res = await invalidate('pg-5', { from: 2, to: 3 });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ purged: 4 });
    await eventually(() =>
      expect(edgeA.received.map((r) => r.url).sort()).toEqual([
        '/live/pg-5/1080p/seg_002.m4s',
        '/live/pg-5/1080p/seg_003.m4s',
        '/live/pg-5/720p/seg_002.m4s',
        '/live/pg-5/720p/seg_003.m4s',
      ]),
    );
    expect((await fetch(`${origin.url}/live/pg-5/720p/seg_002.m4s`)).status).toBe(410);
    expect((await fetch(`${origin.url}/live/pg-5/720p/seg_001.m4s`)).status).toBe(200);
  });

  it('masks one pipeline only, so the other serves', async () => {
    await put(origin, 'pg-6', 'a', 'v/seg_5.m4s', 'a5');
    await put(origin, 'pg-6', 'b', 'v/seg_5.m4s', 'b5');
    expect((await fetch(`${origin.url}/live/pg-6/v/seg_5.m4s`)).headers.get('live-pipeline')).toBe('a');
    await invalidate('pg-6', { from: 5, to: 5, pipeline: 'a' });
    expect((await fetch(`${origin.url}/live/pg-6/v/seg_5.m4s`)).headers.get('live-pipeline')).toBe('b');
  });

  it('masks listed paths', async () => {
    await put(origin, 'pg-7', 'a', 'v/init.mp4', 'init');
    await invalidate('pg-7', { paths: ['v/init.mp4'] });
    await eventually(() => expect(edgeA.received.map((r) => r.url)).toEqual(['/live/pg-7/v/init.mp4']));
    expect((await fetch(`${origin.url}/live/pg-7/v/init.mp4`)).status).toBe(410);
  });

  it('flushes the whole event with one wildcard PURGE per CDN node', async () => {
    await put(origin, 'pg-8', 'a', 'v/seg_1.m4s', 'x');
    const res = await invalidate('pg-8', { all: true });
    expect(res.status).toBe(202);
    await eventually(() => expect(edgeB.received.map((r) => r.url)).toEqual(['/live/pg-8/*']));
  });

  it('rejects invalid bodies with 400 and a reason', async () => {
    await put(origin, 'pg-9', 'a', 'v/seg_1.m4s', 'x');
    for (const body of [{ from: 5, to: 2 }, { from: 1 }, { all: true, from: 1, to: 2 }, { paths: ['../x'] }, { nope: 1 }]) {
      const res = await invalidate('pg-9', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await res.json()).message).toBeTruthy();
    }
  });

  it('answers 404 for invalidations of an unknown event', async () => {
    expect((await invalidate('pg-none', { from: 1, to: 2 })).status).toBe(404);
  });
});

describe('purge retries', () => {
  it('retries failed PURGEs and counts the outcome', async () => {
    const flaky = await startPurgeReceiver(500);
    const local = await startOrigin({ purgeUrls: [flaky.url] });
    try {
      await put(local, 'pg-10', 'a', 'v/seg_1.m4s', 'x');
      await fetch(`${local.url}/live/pg-10/v/seg_1.m4s`);
      await put(local, 'pg-10', 'a', 'v/seg_1.m4s', 'y');
      await local.purger.flush();
      expect(flaky.received.length).toBe(3);
      const metrics = await (await fetch(`${local.url}/metrics`)).text();
      expect(metrics).toMatch(/live_origin_purges_total\{outcome="failed"\} 1/);
    } finally {
      await local.close();
      await flaky.close();
    }
  });
});
