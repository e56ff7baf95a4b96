import { decodeCmsdStatic } from '@svta/cml-cmsd';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestOrigin } from '../support/origin.js';
import { AUTH, configure, holdsEnded, put, startOrigin } from '../support/origin.js';

let origin: TestOrigin;
beforeAll(async () => {
  origin = await startOrigin();
});
afterAll(async () => origin.close());

const D = 400;
/** The blocking reload's 503 comes after three target durations (3 s); six would be the bug. */
const BLOCKING_TIMEOUT_BOUND_MS = 5_000;
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
    const holdsBefore = await holdsEnded(origin);
    const pending = live('ll-p1/v/filePart10.1.mp4');
    await sleep(100);
    expect((await put(origin, 'll-p1', 'a', 'v/filePart10.1.mp4', 'part 10.1')).status).toBe(201);
    const res = await pending;
    // Its bytes, not the deadline's 404: the publish released it.
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('part 10.1');
    // The count the at-once checks below rely on moves with a hold.
    expect(await holdsEnded(origin)).toBe(holdsBefore + 1);
  });

  it('holds the preload-hinted part of an event with no timeline yet (no template, no cadence), and says how long it held', async () => {
    // A fresh stream: one segment's first parts, no configuration, so nothing to infer a cadence from.
    await put(origin, 'll-nt', 'a', 'v/filePart2.0.mp4', 'part 2.0');
    await put(origin, 'll-nt', 'a', 'v/index.m3u8', '#EXTM3U\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="filePart2.1.mp4"\n');
    const startedAt = Date.now();
    const pending = live('ll-nt/v/filePart2.1.mp4');
    await sleep(300);
    expect((await put(origin, 'll-nt', 'a', 'v/filePart2.1.mp4', 'part 2.1')).status).toBe(201);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('part 2.1');
    const held = Number(decodeCmsdStatic(res.headers.get('cmsd-static')!).ht);
    expect(held).toBeGreaterThanOrEqual(250);
    expect(held).toBeLessThanOrEqual(Date.now() - startedAt);
    // The first part of the next segment follows part 0 of this one: held too.
    const first = live('ll-nt/v/filePart3.0.mp4');
    await sleep(100);
    await put(origin, 'll-nt', 'a', 'v/filePart3.0.mp4', 'part 3.0');
    expect((await first).status).toBe(200);
  });

  it('answers 404 at once for a part of an event with no timeline whose preceding part is not there', async () => {
    await put(origin, 'll-nt2', 'a', 'v/filePart2.0.mp4', 'part 2.0');
    const holdsBefore = await holdsEnded(origin);
    const res = await live('ll-nt2/v/filePart2.5.mp4');
    expect(res.status).toBe(404);
    // At once: answered without a hold (not judged by elapsed time, which a busy host stretches).
    expect(await holdsEnded(origin)).toBe(holdsBefore);
    expect((await live('ll-nt2/v/filePart9.0.mp4')).status).toBe(404);
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
  it('switches a playlist to the pipeline still publishing once the served one is silent for more than one target duration', async () => {
    await liveEvent('ll-f1', 10);
    for (const p of ['a', 'b']) {
      await put(origin, 'll-f1', p, 'v/filePart10.0.mp4', `${p}0`);
      await put(origin, 'll-f1', p, 'v/index.m3u8', `#EXTM3U from ${p}`);
    }
    expect((await live('ll-f1/v/index.m3u8')).headers.get('live-pipeline')).toBe('a');
    // a stops; b keeps publishing parts of the same segment and playlists every D/4: a is not
    // two segments behind, nor unhealthy (no segment is late), only silent for over one target
    // duration (1 s: D rounded up to whole seconds, as EXT-X-TARGETDURATION is).
    const until = Date.now() + 1000 + 150;
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

/** An LL-HLS media playlist whose last whole segment is `lastMsn` with `trailing` parts of the next. */
function llPlaylist(lastMsn: number, trailing: number, options: { target?: number; from?: string; block?: boolean; ended?: boolean } = {}): string {
  const { target = 1, from = '', block = true, ended = false } = options;
  const lines = ['#EXTM3U', `#EXT-X-TARGETDURATION:${target}`, '#EXT-X-PART-INF:PART-TARGET=0.25', `#EXT-X-MEDIA-SEQUENCE:${lastMsn - 2}`];
  if (block) lines.push('#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.75');
  if (from) lines.push(`#FROM:${from}`);
  for (let n = lastMsn - 2; n <= lastMsn; n++) lines.push('#EXTINF:1.0,', `fileSequence${n}.mp4`);
  for (let k = 0; k < trailing; k++) lines.push(`#EXT-X-PART:DURATION=0.25,URI="filePart${lastMsn + 1}.${k}.mp4"`);
  lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="filePart${lastMsn + 1}.${trailing}.mp4"`);
  if (ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

const M3U8 = { 'content-type': 'application/vnd.apple.mpegurl' };

describe('blocking playlist reload', () => {
  it('answers at once when the playlist already holds the segment, cacheable for six target durations', async () => {
    await liveEvent('br-1', 10);
    await put(origin, 'br-1', 'a', 'v/index.m3u8', llPlaylist(272, 2), M3U8);
    const res = await live('br-1/v/index.m3u8?_HLS_msn=272');
    expect(res.status).toBe(200);
    expect(res.headers.get('live-ttl-ms')).toBe('6000');
    expect(res.headers.get('cache-control')).toBe('public, max-age=6');
    expect(decodeCmsdStatic(res.headers.get('cmsd-static')!).ht).toBeUndefined();
    // A part of the segment in progress that is there, and any part of a whole segment.
    expect((await live('br-1/v/index.m3u8?_HLS_msn=273&_HLS_part=1')).status).toBe(200);
    expect((await live('br-1/v/index.m3u8?_HLS_msn=270&_HLS_part=9')).status).toBe(200);
  });

  it('holds a request for the next part until the playlist has it, and says how long it held', async () => {
    await liveEvent('br-2', 10);
    await put(origin, 'br-2', 'a', 'v/index.m3u8', llPlaylist(272, 2), M3U8);
    const pending = live('br-2/v/index.m3u8?_HLS_msn=273&_HLS_part=2');
    await sleep(150);
    expect(origin.app.origin.holds.held).toBe(1);
    await put(origin, 'br-2', 'a', 'v/index.m3u8', llPlaylist(272, 3), M3U8);
    const res = await pending;
    // The playlist, not the 503 of three target durations: the publish released it.
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('filePart273.2.mp4"');
    const cmsd = decodeCmsdStatic(res.headers.get('cmsd-static')!);
    expect(cmsd.ht).toBeGreaterThanOrEqual(140);
    expect(cmsd.ot).toBe('m');
    expect(res.headers.get('live-ttl-ms')).toBe('6000');
  });

  it('holds a request for the next segment through playlists that only add parts', async () => {
    await liveEvent('br-3', 10);
    await put(origin, 'br-3', 'a', 'v/index.m3u8', llPlaylist(272, 1), M3U8);
    let answered = false;
    const pending = live('br-3/v/index.m3u8?_HLS_msn=273').then((res) => {
      answered = true;
      return res;
    });
    await sleep(50);
    await put(origin, 'br-3', 'a', 'v/index.m3u8', llPlaylist(272, 3), M3U8);
    await sleep(100);
    expect(answered).toBe(false);
    await put(origin, 'br-3', 'a', 'v/index.m3u8', llPlaylist(273, 0), M3U8);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('fileSequence273.mp4');
  });

  it("waits for the served pipeline's playlist, not for another pipeline that got there first", async () => {
    await liveEvent('br-4', 10, { pipelines: ['a', 'b'] });
    for (const p of ['a', 'b']) await put(origin, 'br-4', p, 'v/index.m3u8', llPlaylist(272, 2, { from: p }), M3U8);
    expect((await live('br-4/v/index.m3u8')).headers.get('live-pipeline')).toBe('a');
    let answered = false;
    const pending = live('br-4/v/index.m3u8?_HLS_msn=273&_HLS_part=2').then((res) => {
      answered = true;
      return res;
    });
    await sleep(50);
    await put(origin, 'br-4', 'b', 'v/index.m3u8', llPlaylist(272, 3, { from: 'b' }), M3U8);
    await sleep(100);
    expect(answered).toBe(false);
    await put(origin, 'br-4', 'a', 'v/index.m3u8', llPlaylist(272, 3, { from: 'a' }), M3U8);
    const res = await pending;
    expect(res.headers.get('live-pipeline')).toBe('a');
    expect(await res.text()).toContain('#FROM:a');
  });

  it('answers 503 after three target durations, not cacheable, with Retry-After and the hold time', async () => {
    await liveEvent('br-5', 10);
    await put(origin, 'br-5', 'a', 'v/index.m3u8', llPlaylist(272, 2, { target: 1 }), M3U8);
    const before = origin.metrics.snapshot();
    const started = Date.now();
    const res = await live('br-5/v/index.m3u8?_HLS_msn=274');
    const waited = Date.now() - started;
    expect(res.status).toBe(503);
    expect(waited).toBeGreaterThanOrEqual(3000);
    // Three target durations, not six: generous above, as a busy host delays the answer.
    expect(waited).toBeLessThan(BLOCKING_TIMEOUT_BOUND_MS);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('live-ttl-ms')).toBe('0');
    expect((await res.json()).error).toBe('blocking_timeout');
    expect(decodeCmsdStatic(res.headers.get('cmsd-static')!).ht).toBeGreaterThanOrEqual(3000);
    // A stalled packager's blocking reload is a deliberate answer: served, not a failure Route 53 follows.
    const after = origin.metrics.snapshot();
    expect([after.served - before.served, after.unserved - before.unserved]).toEqual([1, 0]);
  });

  it.each([
    ['_HLS_part without _HLS_msn', '_HLS_part=1'],
    ['a negative _HLS_msn', '_HLS_msn=-1'],
    ['a non-numeric _HLS_part', '_HLS_msn=273&_HLS_part=x'],
    ['_HLS_msn three beyond the last segment', '_HLS_msn=275'],
    ['a part beyond the advance part limit', '_HLS_msn=273&_HLS_part=14'],
    ['a repeated _HLS_msn', '_HLS_msn=273&_HLS_msn=274'],
    ['an unknown _HLS_skip', '_HLS_msn=273&_HLS_skip=NO'],
  ])('refuses %s with 400 and a JSON reason, without holding', async (_name, query) => {
    await liveEvent('br-6', 10);
    await put(origin, 'br-6', 'a', 'v/index.m3u8', llPlaylist(272, 2), M3U8);
    const holdsBefore = await holdsEnded(origin);
    const res = await live(`br-6/v/index.m3u8?${query}`);
    expect(res.status).toBe(400);
    expect(await holdsEnded(origin)).toBe(holdsBefore);
    const body = await res.json();
    expect(body.error).toBe('bad_request');
    expect(body.message).toMatch(/_HLS_/);
  });

  it('holds two segments ahead (the limit) and answers a playlist that has ended at once', async () => {
    await liveEvent('br-7', 10);
    await put(origin, 'br-7', 'a', 'v/index.m3u8', llPlaylist(272, 0, { ended: true }), M3U8);
    const res = await live('br-7/v/index.m3u8?_HLS_msn=274');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('#EXT-X-ENDLIST');
  });

  it('ignores other query parameters and directives on playlists that cannot block', async () => {
    await liveEvent('br-8', 10);
    await put(origin, 'br-8', 'a', 'v/index.m3u8', llPlaylist(272, 2), M3U8);
    await put(origin, 'br-8', 'a', 'v/plain.m3u8', llPlaylist(272, 2, { block: false }), M3U8);
    const ordinary = await live('br-8/v/index.m3u8?session=1&_HLS_skip=YES');
    expect(ordinary.status).toBe(200);
    expect(ordinary.headers.get('live-ttl-ms')).toBe(String(D / 2));
    const holdsBefore = await holdsEnded(origin);
    const plain = await live('br-8/v/plain.m3u8?_HLS_msn=274');
    expect(plain.status).toBe(200);
    expect(await holdsEnded(origin)).toBe(holdsBefore);
    expect(plain.headers.get('live-ttl-ms')).toBe(String(D / 2));
    await put(origin, 'br-8', 'a', 'v/seg_9.m4s', 'nine');
    expect(await (await live('br-8/v/seg_9.m4s?_HLS_msn=x&token=y')).text()).toBe('nine');
  });

  it('releases a held reload when the served pipeline stops and the advancing one has the part', async () => {
    await liveEvent('br-9', 10, { pipelines: ['a', 'b'] });
    for (const p of ['a', 'b']) {
      await put(origin, 'br-9', p, 'v/filePart10.0.mp4', p);
      await put(origin, 'br-9', p, 'v/index.m3u8', llPlaylist(272, 1, { from: p }), M3U8);
    }
    const pending = live('br-9/v/index.m3u8?_HLS_msn=273&_HLS_part=2');
    // a stops; b goes on publishing parts and playlists; after one D of silence a is passed over.
    for (let k = 1; k <= 8; k++) {
      await sleep(D / 4);
      await put(origin, 'br-9', 'b', `v/filePart10.${k}.mp4`, `b${k}`);
      await put(origin, 'br-9', 'b', 'v/index.m3u8', llPlaylist(272, 1 + k, { from: 'b' }), M3U8);
    }
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.headers.get('live-pipeline')).toBe('b');
  });
});

describe('a blocking reload follows the pipeline that advances when the served playlist stalls', () => {
  it('answers from the other pipeline two part targets after the served playlist stopped changing', async () => {
    // Segments of 4 s: the one-segment-duration rule alone would wait 4 s.
    await configure(origin, 'st-1', {
      pipelines: ['a', 'b'],
      segmentDurationMs: 4000,
      availabilityStartTime: new Date(Date.now() - 40_000).toISOString(),
      startNumber: 1,
    });
    for (const p of ['a', 'b']) await put(origin, 'st-1', p, 'v/index.m3u8', llPlaylist(272, 1, { target: 4, from: p }), M3U8);
    const started = Date.now();
    const pending = live('st-1/v/index.m3u8?_HLS_msn=273&_HLS_part=3');
    // a has stopped; b goes on adding a part every 100 ms.
    for (let k = 2; k <= 6; k++) {
      await sleep(100);
      await put(origin, 'st-1', 'b', 'v/index.m3u8', llPlaylist(272, k, { target: 4, from: 'b' }), M3U8);
    }
    const res = await pending;
    const waited = Date.now() - started;
    expect(res.status).toBe(200);
    expect(res.headers.get('live-pipeline')).toBe('b');
    expect(await res.text()).toContain('#FROM:b');
    // Stall point: a's playlist is 2 x 250 ms old; before one segment duration (4 s), the wait
    // the one-segment-duration rule alone would give (the bound that is the point here).
    expect(waited).toBeGreaterThanOrEqual(450);
    expect(waited).toBeLessThan(4000);
    // The playlist's pin moved with it: ordinary requests now get b too.
    expect((await live('st-1/v/index.m3u8')).headers.get('live-pipeline')).toBe('b');
  });

  it('keeps waiting on the only pipeline there is, up to the 503', async () => {
    await configure(origin, 'st-2', { segmentDurationMs: 4000, availabilityStartTime: new Date(Date.now() - 40_000).toISOString(), startNumber: 1 });
    await put(origin, 'st-2', 'a', 'v/index.m3u8', llPlaylist(272, 1, { target: 1 }), M3U8);
    const pending = live('st-2/v/index.m3u8?_HLS_msn=273&_HLS_part=2');
    await sleep(800);
    await put(origin, 'st-2', 'a', 'v/index.m3u8', llPlaylist(272, 3, { target: 1 }), M3U8);
    expect((await pending).status).toBe(200);
  });
});

describe('held requests count against the hold limit', () => {
  it('sheds a blocking reload when the held-request cap is reached', async () => {
    const small = await startOrigin({ maxHeld: 1 });
    try {
      const ast = Date.now() + D - 10 * D;
      await configure(small, 'cap-1', { segmentDurationMs: D, availabilityStartTime: new Date(ast).toISOString(), startNumber: 1, holdGraceMs: 1000 });
      await put(small, 'cap-1', 'a', 'v/index.m3u8', llPlaylist(272, 2), M3U8);
      const heldSegment = fetch(`${small.url}/live/cap-1/v/seg_10.m4s`);
      await sleep(100);
      const shed = await fetch(`${small.url}/live/cap-1/v/index.m3u8?_HLS_msn=273&_HLS_part=2`);
      expect(shed.status).toBe(503);
      expect(shed.headers.get('retry-after')).toBe('5');
      expect((await shed.json()).error).toBe('overloaded');
      await put(small, 'cap-1', 'a', 'v/seg_10.m4s', 'ten');
      expect((await heldSegment).status).toBe(200);
    } finally {
      await small.close();
    }
  });
});

describe('LL-HLS part timing and lifetime', () => {
  it("holds the hinted first part of the segment after the next one, before that segment's own window", async () => {
    await liveEvent('pt-1', 10);
    // Segment 11 is not in its hold window yet (a whole segment would get 404), but its parts are.
    const whole = await live('pt-1/v/fileSequence11.mp4');
    expect(whole.status).toBe(404);
    const pending = live('pt-1/v/filePart11.0.mp4');
    await sleep(100);
    await put(origin, 'pt-1', 'a', 'v/filePart11.0.mp4', 'p11.0');
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('p11.0');
    // A clean part lives three segment durations; a whole segment is immutable.
    expect(res.headers.get('live-ttl-ms')).toBe(String(3 * D));
    expect(res.headers.get('cache-control')).toBe('public, max-age=1, immutable');
    expect(decodeCmsdStatic(res.headers.get('cmsd-static')!).ht).toBeGreaterThanOrEqual(90);
  });

  it('answers 404 for a part two segments ahead, cacheable until its window opens', async () => {
    await liveEvent('pt-2', 10);
    const res = await live('pt-2/v/filePart12.0.mp4');
    expect(res.status).toBe(404);
    const ttl = Number(res.headers.get('live-ttl-ms'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(D);
  });
});
