import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestOrigin } from '../support/origin.js';
import { AUTH, NEWS_TOKEN, put, startOrigin } from '../support/origin.js';

let origin: TestOrigin;
beforeAll(async () => {
  origin = await startOrigin({ maxObjectBytes: 4 * 1024 * 1024 });
});
afterAll(async () => origin.close());

/** Sends raw bytes over a socket (for requests fetch refuses to make) and returns the status line. */
async function rawRequest(url: string, request: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.end(request));
    let data = '';
    socket.on('data', (chunk) => (data += chunk));
    socket.on('end', () => resolve(data.split('\r\n')[0]!));
    socket.on('error', reject);
  });
}

describe('ingest PUT', () => {
  it('answers 201 with the MD5 ETag for a new object', async () => {
    const res = await put(origin, 'ev-a', 'a', 'video/seg_1.m4s', 'hello');
    expect(res.status).toBe(201);
    expect(res.headers.get('etag')).toBe('"5d41402abc4b2a76b9719d911017c592"');
  });

  it('answers 200 with the same ETag for a re-PUT of identical bytes', async () => {
    await put(origin, 'ev-b', 'a', 'video/seg_1.m4s', 'same');
    const res = await put(origin, 'ev-b', 'a', 'video/seg_1.m4s', 'same');
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(`"${createHash('md5').update('same').digest('hex')}"`);
  });

  it('replaces the candidate on a re-PUT of different bytes and counts the conflict', async () => {
    await put(origin, 'ev-c', 'a', 'video/seg_1.m4s', 'one');
    const res = await put(origin, 'ev-c', 'a', 'video/seg_1.m4s', 'two');
    expect(res.status).toBe(200);
    const got = await fetch(`${origin.url}/live/ev-c/video/seg_1.m4s`);
    expect(await got.text()).toBe('two');
    const metrics = await (await fetch(`${origin.url}/metrics`)).text();
    expect(metrics).toMatch(/live_origin_conflicting_puts_total\{pipeline="a"\} 1/);
  });

  it('replaces a playlist on every update without counting a conflict', async () => {
    const conflicts = async () => {
      const metrics = await (await fetch(`${origin.url}/metrics`)).text();
      return Number(/live_origin_conflicting_puts_total\{pipeline="a"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    };
    const before = await conflicts();
    await put(origin, 'ev-pl', 'a', 'video/index.m3u8', '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:1\n');
    const res = await put(origin, 'ev-pl', 'a', 'video/index.m3u8', '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:2\n');
    expect(res.status).toBe(200);
    const got = await fetch(`${origin.url}/live/ev-pl/video/index.m3u8`);
    expect(await got.text()).toContain('MEDIA-SEQUENCE:2');
    expect(await conflicts()).toBe(before);
    await put(origin, 'ev-pl', 'a', 'video/seg_1.m4s', 'one');
    await put(origin, 'ev-pl', 'a', 'video/seg_1.m4s', 'two');
    expect(await conflicts()).toBe(before + 1);
  });

  it('stores exactly the bytes sent (2 MiB random) and the content type', async () => {
    const bytes = randomBytes(2 * 1024 * 1024);
    await put(origin, 'ev-d', 'a', 'video/seg_7.m4s', bytes, { 'content-type': 'video/iso.segment' });
    const got = await fetch(`${origin.url}/ingest/ev-d/a/video/seg_7.m4s`, { headers: AUTH });
    expect(got.headers.get('content-type')).toBe('video/iso.segment');
    expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('keeps JSON bodies as raw bytes', async () => {
    await put(origin, 'ev-d', 'a', 'meta/info.json', '{not json', { 'content-type': 'application/json' });
    const got = await fetch(`${origin.url}/ingest/ev-d/a/meta/info.json`, { headers: AUTH });
    expect(await got.text()).toBe('{not json');
  });
});

describe('ingest checks, in contract order', () => {
  it('answers 401 without a token and stores nothing', async () => {
    const res = await fetch(`${origin.url}/ingest/ev-e/a/seg_1.m4s`, { method: 'PUT', body: 'x' });
    expect(res.status).toBe(401);
    expect((await res.json()).error).toBe('unauthorized');
    const got = await fetch(`${origin.url}/ingest/ev-e/a/seg_1.m4s`, { headers: AUTH });
    expect(got.status).toBe(404);
  });

  it('answers 403 when the token does not grant the event', async () => {
    const res = await fetch(`${origin.url}/ingest/sports-1/a/seg_1.m4s`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${NEWS_TOKEN}` },
      body: 'x',
    });
    expect(res.status).toBe(403);
  });

  it('grants events matching the token glob', async () => {
    const res = await fetch(`${origin.url}/ingest/news-1/a/seg_1.m4s`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${NEWS_TOKEN}` },
      body: 'x',
    });
    expect(res.status).toBe(201);
  });

  it('checks identifiers before the token (400, not 401)', async () => {
    const res = await fetch(`${origin.url}/ingest/ev-f/Bad_Pipe/seg_1.m4s`, { method: 'PUT', body: 'x' });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('invalid_identifier');
  });

  it('rejects percent-encoded traversal', async () => {
    // fetch would normalise the URL itself, so the bytes go over a raw socket.
    const status = await rawRequest(
      origin.url,
      `PUT /ingest/ev-f/a/%2e%2e/seg_1.m4s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${AUTH.authorization.slice(7)}\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx`,
    );
    expect(status).toContain('400');
  });

  it('rejects a literal .. segment sent as is', async () => {
    const status = await rawRequest(
      origin.url,
      `PUT /ingest/ev-f/a/video/../seg_1.m4s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${AUTH.authorization.slice(7)}\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx`,
    );
    expect(status).toContain('400');
  });

  it('answers 413 from Content-Length before reading, and stores nothing', async () => {
    const res = await put(origin, 'ev-g', 'a', 'seg_1.m4s', Buffer.alloc(4 * 1024 * 1024 + 1));
    expect(res.status).toBe(413);
    const got = await fetch(`${origin.url}/ingest/ev-g/a/seg_1.m4s`, { headers: AUTH });
    expect(got.status).toBe(404);
  });

  it('answers 413 for a chunked body that grows past the limit', async () => {
    const chunk = Buffer.alloc(1024 * 1024);
    const body = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const res = await fetch(`${origin.url}/ingest/ev-g/a/seg_2.m4s`, {
      method: 'PUT',
      headers: AUTH,
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
  });

  it('rejects bad Live-Defect syntax with 400 and stores nothing', async () => {
    const res = await put(origin, 'ev-h', 'a', 'seg_1.m4s', 'x', { 'live-defect': 'short;bad' });
    expect(res.status).toBe(400);
    expect((await fetch(`${origin.url}/ingest/ev-h/a/seg_1.m4s`, { headers: AUTH })).status).toBe(404);
  });

  it('rejects a bad Live-Segment header, but only after the token', async () => {
    const res = await put(origin, 'ev-h', 'a', 'seg_1.m4s', 'x', { 'live-segment': '-3' });
    expect(res.status).toBe(400);
    const anonymous = await fetch(`${origin.url}/ingest/ev-h/a/seg_1.m4s`, { method: 'PUT', headers: { 'live-segment': '-3' }, body: 'x' });
    expect(anonymous.status).toBe(401);
  });

  it('numbers an object by Live-Segment when given', async () => {
    await put(origin, 'ev-h', 'a', 'v/chunk-latest.m4s', 'x', { 'live-segment': '42' });
    const status = await (await fetch(`${origin.url}/admin/events/ev-h`, { headers: AUTH })).json();
    expect(status.pipelines[0].liveEdge).toBe(42);
  });

  it('rejects an over-long notification value', async () => {
    const res = await put(origin, 'ev-h', 'a', 'seg_2.m4s', 'x', { 'live-notify-alert': 'y'.repeat(1025) });
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(/longer than 1024/);
  });

  it('rejects a notification value with a control character', async () => {
    const status = await rawRequest(
      origin.url,
      `PUT /ingest/ev-h/a/seg_3.m4s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${AUTH.authorization.slice(7)}\r\nLive-Notify-Alert: a\x01b\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx`,
    );
    expect(status).toMatch(/400/);
  });

  it('answers 405 with Allow for an unsupported method', async () => {
    const res = await fetch(`${origin.url}/ingest/ev-h/a/seg_1.m4s`, { method: 'POST', headers: AUTH, body: 'x' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toContain('PUT');
  });
});

describe('operator access to one candidate', () => {
  it('PATCH replaces the defect set and none clears it', async () => {
    await put(origin, 'ev-i', 'a', 'seg_1.m4s', 'x');
    const patched = await fetch(`${origin.url}/ingest/ev-i/a/seg_1.m4s`, { method: 'PATCH', headers: { ...AUTH, 'live-defect': 'tfdt' } });
    expect(await patched.json()).toMatchObject({ defects: ['tfdt'] });
    const head = await fetch(`${origin.url}/ingest/ev-i/a/seg_1.m4s`, { method: 'HEAD', headers: AUTH });
    expect(head.headers.get('live-defect')).toBe('tfdt');
    const cleared = await fetch(`${origin.url}/ingest/ev-i/a/seg_1.m4s`, { method: 'PATCH', headers: { ...AUTH, 'live-defect': 'none' } });
    expect(await cleared.json()).toMatchObject({ defects: [] });
  });

  it('PATCH without Live-Defect is 400, on a missing candidate 404', async () => {
    await put(origin, 'ev-i', 'a', 'seg_2.m4s', 'x');
    expect((await fetch(`${origin.url}/ingest/ev-i/a/seg_2.m4s`, { method: 'PATCH', headers: AUTH })).status).toBe(400);
    const missing = await fetch(`${origin.url}/ingest/ev-i/a/seg_9.m4s`, { method: 'PATCH', headers: { ...AUTH, 'live-defect': 'short' } });
    expect(missing.status).toBe(404);
  });

  it('DELETE removes one pipeline candidate only', async () => {
    await put(origin, 'ev-j', 'a', 'seg_1.m4s', 'from-a');
    await put(origin, 'ev-j', 'b', 'seg_1.m4s', 'from-b');
    expect((await fetch(`${origin.url}/ingest/ev-j/a/seg_1.m4s`, { method: 'DELETE', headers: AUTH })).status).toBe(204);
    expect((await fetch(`${origin.url}/ingest/ev-j/a/seg_1.m4s`, { headers: AUTH })).status).toBe(404);
    const live = await fetch(`${origin.url}/live/ev-j/seg_1.m4s`);
    expect(live.headers.get('live-pipeline')).toBe('b');
  });
});
