import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TestOrigin } from '../support/origin.js';
import { AUTH, configure, eventually, put, startOrigin, startPurgeReceiver } from '../support/origin.js';
import { openGet, openPut } from '../support/streaming.js';

/**
 * Quality scores and the short wait for a better candidate (contract v3), over real sockets on
 * the system clock. The wait's own timing on fake time is in test/service/better-wait.test.ts.
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

const D = 2_000;
/** A window no busy host overruns between two PUTs a test sends one after the other. */
const WIDE_WAIT_MS = 1_500;

const live = (event: string, path: string, headers: Record<string, string> = {}) => fetch(`${origin.url}/live/${event}/${path}`, { headers });
const candidate = (event: string, pipeline: string, path: string) => fetch(`${origin.url}/ingest/${event}/${pipeline}/${path}`, { headers: AUTH });
const patch = (event: string, pipeline: string, path: string, headers: Record<string, string>) =>
  fetch(`${origin.url}/ingest/${event}/${pipeline}/${path}`, { method: 'PATCH', headers: { ...AUTH, ...headers } });

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${origin.url}/metrics`)).text();
  const prefix = labels === '' ? `${name} ` : `${name}{${labels}}`;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** CMSD-Static `ht` (ms the origin held the request), if any. */
function heldMs(response: Response | { headers: Record<string, string | string[] | undefined> }): number | undefined {
  const value = response instanceof Response ? response.headers.get('cmsd-static') : String(response.headers['cmsd-static'] ?? '');
  const match = /(?:^|,)ht=(\d+)/.exec(value ?? '');
  return match ? Number(match[1]) : undefined;
}

/**
 * An event with a template whose segment `next` is due one D from now (so a request for it is
 * held), and pipelines a and b at the edge: both published the segment before.
 */
async function liveEvent(event: string, next: number, extra: Record<string, unknown> = {}): Promise<void> {
  const ast = Date.now() + D - next * D;
  const response = await configure(origin, event, {
    pipelines: ['a', 'b'],
    segmentDurationMs: D,
    availabilityStartTime: new Date(ast).toISOString(),
    startNumber: 1,
    ...extra,
  });
  expect(response.status).toBeLessThan(300);
  for (const pipeline of ['a', 'b']) expect((await put(origin, event, pipeline, `v/seg_${next - 1}.m4s`, `${pipeline}${next - 1}`)).status).toBe(201);
}

describe('Live-Quality on ingest', () => {
  it('stores the score with the candidate and answers it on delivery and to operators', async () => {
    expect((await put(origin, 'q-1', 'a', 'v/seg_1.m4s', 'a1', { 'live-quality': '40' })).status).toBe(201);
    const served = await live('q-1', 'v/seg_1.m4s');
    expect([served.status, served.headers.get('live-pipeline'), served.headers.get('live-quality')]).toEqual([200, 'a', '40']);
    expect((await candidate('q-1', 'a', 'v/seg_1.m4s')).headers.get('live-quality')).toBe('40');
  });

  it('counts a PUT without the header as 100', async () => {
    await put(origin, 'q-2', 'a', 'v/seg_1.m4s', 'a1');
    expect((await live('q-2', 'v/seg_1.m4s')).headers.get('live-quality')).toBe('100');
  });

  it.each(['101', '-1', '4.5', 'good', ''])('refuses Live-Quality %j with 400 and a reason, storing nothing', async (value) => {
    const event = `q-bad-${Buffer.from(value).toString('hex') || 'empty'}`;
    const response = await put(origin, event, 'a', 'v/seg_1.m4s', 'a1', { 'live-quality': value });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'bad_request', message: 'Live-Quality must be an integer from 0 to 100 (100 best)' });
    expect((await candidate(event, 'a', 'v/seg_1.m4s')).status).toBe(404);
    expect((await fetch(`${origin.url}/admin/events/${event}`, { headers: AUTH })).status).toBe(404);
  });

  it('PATCH replaces the score (the answer shows it), refuses a bad one changing nothing, and needs a header', async () => {
    await put(origin, 'q-3', 'a', 'v/seg_1.m4s', 'a1', { 'live-quality': '90' });
    const patched = await patch('q-3', 'a', 'v/seg_1.m4s', { 'live-quality': '35' });
    expect([patched.status, await patched.json()]).toEqual([200, { pipeline: 'a', path: 'v/seg_1.m4s', defects: [], quality: 35 }]);
    const refused = await patch('q-3', 'a', 'v/seg_1.m4s', { 'live-quality': '200', 'live-defect': 'short' });
    expect(refused.status).toBe(400);
    const unchanged = await candidate('q-3', 'a', 'v/seg_1.m4s');
    expect([unchanged.headers.get('live-quality'), unchanged.headers.get('live-defect')]).toEqual(['35', null]);
    const empty = await patch('q-3', 'a', 'v/seg_1.m4s', {});
    expect(empty.status).toBe(400);
    expect((await empty.json()).message).toMatch(/Live-Defect .* or a Live-Quality/);
  });

  it('a PUT of the same bytes with another score revises the score (200, same ETag)', async () => {
    const first = await put(origin, 'q-4', 'a', 'v/seg_1.m4s', 'same', { 'live-quality': '20' });
    const again = await put(origin, 'q-4', 'a', 'v/seg_1.m4s', 'same', { 'live-quality': '80' });
    expect([again.status, again.headers.get('etag')]).toEqual([200, first.headers.get('etag')]);
    expect((await candidate('q-4', 'a', 'v/seg_1.m4s')).headers.get('live-quality')).toBe('80');
  });

  it('streams a PUT still arriving with the score it declared', async () => {
    await configure(origin, 'q-5', {});
    const upload = openPut(origin.url, 'q-5/a/v/seg_1.m4s', { 'live-quality': '70' });
    await upload.write('first chunk');
    const reader = openGet(origin.url, 'q-5/v/seg_1.m4s');
    const head = await reader.head;
    expect([head.status, head.headers['live-pipeline'], head.headers['live-quality']]).toEqual([200, 'a', '70']);
    await upload.end();
    await reader.done;
  });
});

describe('selection by quality', () => {
  it('serves the highest clean score, its lifetime one D while below 100, and 100 as immutable', async () => {
    await put(origin, 'q-10', 'a', 'v/seg_1.m4s', 'a1', { 'live-quality': '40' });
    await put(origin, 'q-10', 'b', 'v/seg_1.m4s', 'b1', { 'live-quality': '90' });
    const served = await live('q-10', 'v/seg_1.m4s');
    expect([served.headers.get('live-pipeline'), served.headers.get('live-quality'), served.headers.get('live-defect')]).toEqual(['b', '90', null]);
    // No template: D is taken as 2 s.
    expect([served.headers.get('live-ttl-ms'), served.headers.get('cache-control')]).toEqual(['2000', 'public, max-age=2']);
    await put(origin, 'q-10', 'a', 'v/seg_2.m4s', 'a2');
    expect((await live('q-10', 'v/seg_2.m4s')).headers.get('cache-control')).toBe('public, max-age=86400, immutable');
  });

  it('counts a score below the event’s minQuality as the defect low-quality', async () => {
    await configure(origin, 'q-11', { pipelines: ['a', 'b'], minQuality: 50 });
    await put(origin, 'q-11', 'a', 'v/seg_1.m4s', 'a1', { 'live-quality': '45' });
    await put(origin, 'q-11', 'b', 'v/seg_1.m4s', 'b1', { 'live-quality': '30', 'live-defect': 'short' });
    const served = await live('q-11', 'v/seg_1.m4s');
    expect([served.headers.get('live-pipeline'), served.headers.get('live-defect')]).toEqual(['a', 'a=low-quality, b=short, b=low-quality']);
  });
});

describe('heal: a better copy after the path was served', () => {
  it('moves the path to a candidate of a higher score and purges what the CDN holds', async () => {
    await put(origin, 'q-20', 'a', 'v/seg_1.m4s', 'a1', { 'live-quality': '40' });
    expect((await live('q-20', 'v/seg_1.m4s')).headers.get('live-pipeline')).toBe('a');
    await put(origin, 'q-20', 'b', 'v/seg_1.m4s', 'b1', { 'live-quality': '95' });
    await eventually(() => expect(edge.received).toEqual([{ method: 'PURGE', url: '/live/q-20/v/seg_1.m4s' }]));
    const healed = await live('q-20', 'v/seg_1.m4s');
    expect([healed.headers.get('live-pipeline'), healed.headers.get('live-quality')]).toEqual(['b', '95']);
  });

  it('keeps the pin and purges nothing for a copy of the same or a lower score', async () => {
    await put(origin, 'q-21', 'a', 'v/seg_1.m4s', 'a1', { 'live-quality': '60' });
    expect((await live('q-21', 'v/seg_1.m4s')).headers.get('live-pipeline')).toBe('a');
    await put(origin, 'q-21', 'b', 'v/seg_1.m4s', 'b1', { 'live-quality': '60' });
    await put(origin, 'q-21', 'c', 'v/seg_1.m4s', 'c1', { 'live-quality': '50' });
    // A change that does purge, on another path, shows the purges of the two PUTs above have had their turn.
    await put(origin, 'q-21', 'a', 'v/seg_2.m4s', 'a2', { 'live-quality': '10' });
    await live('q-21', 'v/seg_2.m4s');
    await patch('q-21', 'a', 'v/seg_2.m4s', { 'live-quality': '11' });
    await eventually(() => expect(edge.received.map((r) => r.url)).toEqual(['/live/q-21/v/seg_2.m4s']));
    expect((await live('q-21', 'v/seg_1.m4s')).headers.get('live-pipeline')).toBe('a');
  });
});

describe('waiting briefly for a better candidate', () => {
  it('holds the first release while a live pipeline may bring a better copy, then serves that copy', async () => {
    await liveEvent('q-30', 10, { betterWaitMs: WIDE_WAIT_MS });
    const before = await metric('live_origin_first_selections_total', 'outcome="better_after_wait"');
    const reader = openGet(origin.url, 'q-30/v/seg_10.m4s');
    await eventually(async () => expect(await metric('live_origin_held_requests', '')).toBeGreaterThan(0));
    expect((await put(origin, 'q-30', 'a', 'v/seg_10.m4s', 'a10', { 'live-defect': 'corrupt' })).status).toBe(201);
    const betterSent = performance.now();
    expect((await put(origin, 'q-30', 'b', 'v/seg_10.m4s', 'b10', { 'live-quality': '100' })).status).toBe(201);
    const head = await reader.head;
    await reader.done;
    expect([head.status, head.headers['live-pipeline'], head.headers['live-quality'], head.headers['live-defect']]).toEqual([200, 'b', '100', undefined]);
    expect(reader.body().toString()).toBe('b10');
    // Released by b's copy, not by a's.
    expect(head.at).toBeGreaterThan(betterSent);
    expect(heldMs(head)).toBeGreaterThan(0);
    expect(await metric('live_origin_first_selections_total', 'outcome="better_after_wait"')).toBe(before + 1);
  });

  it('a request arriving during the window (not held) waits for its end too', async () => {
    await liveEvent('q-31', 10, { betterWaitMs: WIDE_WAIT_MS });
    await put(origin, 'q-31', 'a', 'v/seg_10.m4s', 'a10', { 'live-quality': '40' });
    const reader = openGet(origin.url, 'q-31/v/seg_10.m4s');
    await eventually(async () => expect(await metric('live_origin_held_requests', '')).toBeGreaterThan(0));
    await put(origin, 'q-31', 'b', 'v/seg_10.m4s', 'b10', { 'live-quality': '90' });
    const head = await reader.head;
    await reader.done;
    expect([head.headers['live-pipeline'], head.headers['live-quality']]).toEqual(['b', '90']);
  });

  it('serves the first copy once the window ends with nothing better, at least betterWaitMs after it came', async () => {
    await liveEvent('q-32', 10);
    const before = await metric('live_origin_first_selections_total', 'outcome="wait_timed_out"');
    const reader = openGet(origin.url, 'q-32/v/seg_10.m4s');
    await eventually(async () => expect(await metric('live_origin_held_requests', '')).toBeGreaterThan(0));
    await put(origin, 'q-32', 'a', 'v/seg_10.m4s', 'a10', { 'live-quality': '40' });
    const head = await reader.head;
    await reader.done;
    expect([head.headers['live-pipeline'], head.headers['live-quality'], head.headers['live-ttl-ms']]).toEqual(['a', '40', String(D)]);
    // The default wait for D = 2 s: 250 ms from a's arrival, which came after the request.
    expect(heldMs(head)).toBeGreaterThanOrEqual(250);
    expect(await metric('live_origin_first_selections_total', 'outcome="wait_timed_out"')).toBe(before + 1);
  });

  it('releases a clean copy of score 100 at once, and later copies of the same score leave it (no purge)', async () => {
    await liveEvent('q-33', 10, { betterWaitMs: WIDE_WAIT_MS });
    const before = await metric('live_origin_first_selections_total', 'outcome="clean"');
    const reader = openGet(origin.url, 'q-33/v/seg_10.m4s');
    await eventually(async () => expect(await metric('live_origin_held_requests', '')).toBeGreaterThan(0));
    await put(origin, 'q-33', 'b', 'v/seg_10.m4s', 'b10');
    const head = await reader.head;
    await reader.done;
    expect(head.headers['live-pipeline']).toBe('b');
    expect(await metric('live_origin_first_selections_total', 'outcome="clean"')).toBe(before + 1);
    await put(origin, 'q-33', 'a', 'v/seg_10.m4s', 'a10');
    expect((await live('q-33', 'v/seg_10.m4s')).headers.get('live-pipeline')).toBe('b');
    expect(edge.received).toEqual([]);
  });

  it('does not wait when no other pipeline is live: the degraded copy goes out at once', async () => {
    await configure(origin, 'q-34', { betterWaitMs: WIDE_WAIT_MS });
    await put(origin, 'q-34', 'a', 'v/seg_1.m4s', 'a1');
    await put(origin, 'q-34', 'a', 'v/seg_2.m4s', 'a2', { 'live-quality': '30' });
    const before = await metric('live_origin_first_selections_total', 'outcome="degraded"');
    const served = await live('q-34', 'v/seg_2.m4s');
    expect([served.headers.get('live-pipeline'), served.headers.get('live-quality'), heldMs(served)]).toEqual(['a', '30', undefined]);
    expect(await metric('live_origin_first_selections_total', 'outcome="degraded"')).toBe(before + 1);
  });

  it('records each accepted segment’s score by pipeline', async () => {
    const before = await metric('live_origin_segment_quality_bucket', 'le="40",pipeline="z"');
    await put(origin, 'q-35', 'z', 'v/seg_1.m4s', 'z1', { 'live-quality': '35' });
    await put(origin, 'q-35', 'z', 'v/seg_2.m4s', 'z2');
    await put(origin, 'q-35', 'z', 'v/index.m3u8', '#EXTM3U\n', { 'live-quality': '10' });
    expect(await metric('live_origin_segment_quality_bucket', 'le="40",pipeline="z"')).toBe(before + 1);
    expect(await metric('live_origin_segment_quality_count', 'pipeline="z"')).toBe(2);
    const status = await (await fetch(`${origin.url}/admin/events/q-35`, { headers: AUTH })).json();
    expect(status.pipelines[0].recentQuality).toEqual([35, 100]);
  });
});
