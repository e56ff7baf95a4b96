import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestOrigin } from '../support/origin.js';
import { AUTH, configure, put, startOrigin } from '../support/origin.js';

let origin: TestOrigin;
beforeAll(async () => {
  origin = await startOrigin();
});
afterAll(async () => origin.close());

const live = (path: string, init?: RequestInit) => fetch(`${origin.url}/live/${path}`, init);

describe('selection', () => {
  it('serves the clean candidate when the first in order is defective', async () => {
    await put(origin, 'sel-1', 'a', 'v/seg_1.m4s', 'from-a', { 'live-defect': 'short' });
    await put(origin, 'sel-1', 'b', 'v/seg_1.m4s', 'from-b');
    const res = await live('sel-1/v/seg_1.m4s');
    expect(res.headers.get('live-pipeline')).toBe('b');
    expect(await res.text()).toBe('from-b');
    expect(res.headers.get('live-defect')).toBeNull();
  });

  it('serves the first present candidate with every defect pair when all are defective', async () => {
    await put(origin, 'sel-2', 'a', 'v/seg_1.m4s', 'from-a', { 'live-defect': 'short' });
    await put(origin, 'sel-2', 'b', 'v/seg_1.m4s', 'from-b', { 'live-defect': 'tfdt, av-sync' });
    const res = await live('sel-2/v/seg_1.m4s');
    expect(res.headers.get('live-pipeline')).toBe('a');
    expect(res.headers.get('live-defect')).toBe('a=short, b=tfdt, b=av-sync');
  });

  it('follows the configured pipeline order', async () => {
    await configure(origin, 'sel-3', { pipelines: ['b', 'a'] });
    await put(origin, 'sel-3', 'a', 'v/seg_1.m4s', 'from-a');
    await put(origin, 'sel-3', 'b', 'v/seg_1.m4s', 'from-b');
    expect((await live('sel-3/v/seg_1.m4s')).headers.get('live-pipeline')).toBe('b');
  });

  it('keeps serving the pinned candidate when an earlier pipeline publishes later', async () => {
    await put(origin, 'sel-4', 'b', 'v/seg_1.m4s', 'from-b');
    expect((await live('sel-4/v/seg_1.m4s')).headers.get('live-pipeline')).toBe('b');
    await put(origin, 'sel-4', 'a', 'v/seg_1.m4s', 'from-a');
    const res = await live('sel-4/v/seg_1.m4s');
    expect(res.headers.get('live-pipeline')).toBe('b');
    expect(await res.text()).toBe('from-b');
  });

  it('moves off the pinned candidate once it is reported defective', async () => {
    await put(origin, 'sel-5', 'a', 'v/seg_1.m4s', 'from-a');
    await put(origin, 'sel-5', 'b', 'v/seg_1.m4s', 'from-b');
    expect((await live('sel-5/v/seg_1.m4s')).headers.get('live-pipeline')).toBe('a');
    await fetch(`${origin.url}/ingest/sel-5/a/v/seg_1.m4s`, { method: 'PATCH', headers: { ...AUTH, 'live-defect': 'corrupt' } });
    expect((await live('sel-5/v/seg_1.m4s')).headers.get('live-pipeline')).toBe('b');
  });

  it('serves a playlist as last PUT with half a segment of TTL', async () => {
    await put(origin, 'sel-6', 'a', 'v/index.m3u8', '#EXTM3U v1', { 'content-type': 'application/vnd.apple.mpegurl' });
    await put(origin, 'sel-6', 'a', 'v/index.m3u8', '#EXTM3U v2', { 'content-type': 'application/vnd.apple.mpegurl' });
    const res = await live('sel-6/v/index.m3u8');
    expect(await res.text()).toBe('#EXTM3U v2');
    expect(res.headers.get('live-ttl-ms')).toBe('1000');
    expect(res.headers.get('cache-control')).toBe('public, max-age=1');
  });
});

describe('playlists from a pipeline that stopped', () => {
  it('moves to the live pipeline once the pinned one falls three segments behind', async () => {
    const D = 100;
    await configure(origin, 'sel-7', { segmentDurationMs: D, availabilityStartTime: new Date(Date.now()).toISOString() });
    for (const p of ['a', 'b']) {
      await put(origin, 'sel-7', p, 'v/seg_1.m4s', `${p}1`);
      await put(origin, 'sel-7', p, 'v/index.m3u8', `#EXTM3U from ${p}`);
    }
    expect((await live('sel-7/v/index.m3u8')).headers.get('live-pipeline')).toBe('a');
    for (let n = 2; n <= 6; n++) {
      await new Promise((resolve) => setTimeout(resolve, D));
      await put(origin, 'sel-7', 'b', `v/seg_${n}.m4s`, `b${n}`);
      await put(origin, 'sel-7', 'b', 'v/index.m3u8', `#EXTM3U from b up to ${n}`);
    }
    const res = await live('sel-7/v/index.m3u8');
    expect(res.headers.get('live-pipeline')).toBe('b');
    expect(await res.text()).toBe('#EXTM3U from b up to 6');
  });

  it('keeps serving segments the stopped pipeline produced while it was alive', async () => {
    const res = await live('sel-7/v/seg_1.m4s');
    expect(res.headers.get('live-pipeline')).toBe('a');
  });
});

describe('response headers', () => {
  it('sends the 200 headers of the contract', async () => {
    await put(origin, 'hdr-1', 'a', 'v/seg_1.m4s', 'abc', { 'content-type': 'video/iso.segment' });
    const res = await live('hdr-1/v/seg_1.m4s');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/iso.segment');
    expect(res.headers.get('content-length')).toBe('3');
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    expect(res.headers.get('last-modified')).toMatch(/GMT$/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=86400, immutable');
    expect(res.headers.get('live-ttl-ms')).toBe('86400000');
  });

  it('gives a defective segment one segment duration of TTL', async () => {
    await configure(origin, 'hdr-2', { segmentDurationMs: 1500, availabilityStartTime: '2026-01-01T00:00:00Z' });
    await put(origin, 'hdr-2', 'a', 'v/seg_1.m4s', 'abc', { 'live-defect': 'short' });
    const res = await live('hdr-2/v/seg_1.m4s');
    expect(res.headers.get('live-ttl-ms')).toBe('1500');
    expect(res.headers.get('cache-control')).toBe('public, max-age=1');
  });

  it('carries the latest value of every notification on 200 and 404', async () => {
    await put(origin, 'hdr-3', 'a', 'v/seg_1.m4s', 'x', { 'live-notify-alert': 'first', 'live-notify-availability-start': 'now' });
    await put(origin, 'hdr-3', 'b', 'v/seg_1.m4s', 'x', { 'live-notify-alert': 'second' });
    const ok = await live('hdr-3/v/seg_1.m4s');
    expect(ok.headers.get('live-notify-alert')).toBe('second');
    expect(ok.headers.get('live-notify-availability-start')).toBe('now');
    const missing = await live('hdr-3/v/init.mp4');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('live-notify-alert')).toBe('second');
  });

  it('answers HEAD with the headers and no body', async () => {
    await put(origin, 'hdr-4', 'a', 'v/seg_1.m4s', 'abcdef');
    const res = await live('hdr-4/v/seg_1.m4s', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('6');
    expect(res.headers.get('live-pipeline')).toBe('a');
    expect(await res.text()).toBe('');
  });

  it('answers 304 to a matching If-None-Match', async () => {
    await put(origin, 'hdr-5', 'a', 'v/seg_1.m4s', 'abcdef');
    const first = await live('hdr-5/v/seg_1.m4s');
    const etag = first.headers.get('etag')!;
    const res = await live('hdr-5/v/seg_1.m4s', { headers: { 'if-none-match': `W/${etag}` } });
    expect(res.status).toBe(304);
    expect(res.headers.get('etag')).toBe(etag);
    expect(res.headers.get('live-ttl-ms')).toBe('86400000');
  });

  it('answers a single Range with 206 and an unsatisfiable one with 416', async () => {
    await put(origin, 'hdr-6', 'a', 'v/seg_1.m4s', '0123456789');
    const partial = await live('hdr-6/v/seg_1.m4s', { headers: { range: 'bytes=2-4' } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe('bytes 2-4/10');
    expect(await partial.text()).toBe('234');
    const suffix = await live('hdr-6/v/seg_1.m4s', { headers: { range: 'bytes=-3' } });
    expect(await suffix.text()).toBe('789');
    const beyond = await live('hdr-6/v/seg_1.m4s', { headers: { range: 'bytes=10-' } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe('bytes */10');
  });
});

describe('misses', () => {
  it('answers 404 for an unknown event, without notifications', async () => {
    const res = await live('nobody/v/seg_1.m4s');
    expect(res.status).toBe(404);
    expect(res.headers.get('live-ttl-ms')).toBe('1000');
  });

  it('answers 400 for a bad event id', async () => {
    expect((await live('-bad/v/seg_1.m4s')).status).toBe(400);
  });

  it('answers 405 with Allow for PURGE or POST', async () => {
    const res = await live('x/v/seg_1.m4s', { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('CDN secret', () => {
  it('answers 403 without Live-CDN-Auth and 200 with it', async () => {
    const guarded = await startOrigin({ cdnSecret: 's3cret-value' });
    try {
      await put(guarded, 'cdn-1', 'a', 'v/seg_1.m4s', 'x');
      expect((await fetch(`${guarded.url}/live/cdn-1/v/seg_1.m4s`)).status).toBe(403);
      expect((await fetch(`${guarded.url}/live/cdn-1/v/seg_1.m4s`, { headers: { 'live-cdn-auth': 'wrong-value!' } })).status).toBe(403);
      const ok = await fetch(`${guarded.url}/live/cdn-1/v/seg_1.m4s`, { headers: { 'live-cdn-auth': 's3cret-value' } });
      expect(ok.status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});
