import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import type { TestOrigin } from '../support/origin.js';
import { put, startOrigin } from '../support/origin.js';

/**
 * Timelines from what packagers declare (contract v3), on fake time: a catch-up burst of PUTs
 * lands within milliseconds, as after a reconnect, and the origin's answers for the next
 * objects are judged by the durations the playlist or manifest declares, not by the burst.
 * Each verdict is the status the origin answers at a moment the test sets.
 */

const clock = new ManualClock();
let origin: TestOrigin;
beforeAll(async () => {
  origin = await startOrigin({ clock });
});
afterAll(async () => origin.close());

const live = (path: string) => fetch(`${origin.url}/live/${path}`);

async function publish(event: string, path: string, body: string, pipeline = 'a'): Promise<void> {
  expect((await put(origin, event, pipeline, path, body)).ok).toBe(true);
}

/**
 * Whether the origin holds the request (its held count goes up) rather than answering it: an
 * event either way, never a wait on the wall clock. Each test's held requests are released
 * before the next one starts, so the count before the request is the file's.
 */
async function isHeld(request: Promise<Response>): Promise<boolean> {
  const before = origin.app.origin.holds.held;
  let answered: Response | undefined;
  void request.then((response) => {
    answered = response;
  });
  for (;;) {
    if (answered) return false;
    if (origin.app.origin.holds.held > before) return true;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** An LL-HLS media playlist with whole segments `from`-`to` (1 s, four 0.25 s parts each) and the hint at `to + 1`.0. */
function llHlsPlaylist(from: number, to: number): string {
  const lines = ['#EXTM3U', '#EXT-X-TARGETDURATION:1', '#EXT-X-PART-INF:PART-TARGET=0.25', `#EXT-X-MEDIA-SEQUENCE:${from}`, '#EXT-X-MAP:URI="init.mp4"'];
  for (let n = from; n <= to; n++) {
    for (let k = 0; k < 4; k++) lines.push(`#EXT-X-PART:DURATION=0.25,URI="filePart${n}.${k}.mp4"`);
    lines.push('#EXTINF:1.0,', `fileSequence${n}.mp4`);
  }
  lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="filePart${to + 1}.0.mp4"`);
  return `${lines.join('\n')}\n`;
}

/** A plain HLS media playlist of 1 s segments `seg_<n>.m4s`. */
function hlsPlaylist(from: number, to: number): string {
  const lines = ['#EXTM3U', '#EXT-X-TARGETDURATION:1', `#EXT-X-MEDIA-SEQUENCE:${from}`];
  for (let n = from; n <= to; n++) lines.push('#EXTINF:1.000000,', `seg_${n}.m4s`);
  return `${lines.join('\n')}\n`;
}

/** Segments `from`-`to` of a plain HLS stream, each followed by its playlist (the last five), `stepMs` apart on the fake clock. */
async function publishHlsRun(event: string, from: number, to: number, stepMs: number, label = 'segment'): Promise<void> {
  for (let n = from; n <= to; n++) {
    await publish(event, `v/seg_${n}.m4s`, `${label} ${n}`);
    await publish(event, 'v/index.m3u8', hlsPlaylist(Math.max(from, n - 4), n));
    await clock.advance(stepMs);
  }
}

describe('a catch-up burst after a reconnect', () => {
  it('holds the part the served playlist hints, 3 ms after that playlist, and serves it when it comes (the issue: 410)', async () => {
    // Parts and segments 100-102 PUT within a few ms, then the playlist that hints 103.0.
    for (let n = 100; n <= 102; n++) {
      for (let k = 0; k < 4; k++) await publish('dt-ll', `v/filePart${n}.${k}.mp4`, `part ${n}.${k}`);
      await publish('dt-ll', `v/fileSequence${n}.mp4`, `segment ${n}`);
      await clock.advance(1);
    }
    await publish('dt-ll', 'v/index.m3u8', llHlsPlaylist(100, 102));
    await clock.advance(3);
    const hinted = live('dt-ll/v/filePart103.0.mp4');
    expect(await isHeld(hinted)).toBe(true);
    await publish('dt-ll', 'v/filePart103.0.mp4', 'part 103.0');
    const res = await hinted;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('part 103.0');
    // The next whole segment is held too, and one two segments ahead is not yet due: 404, not 410.
    const segment = live('dt-ll/v/fileSequence103.mp4');
    expect(await isHeld(segment)).toBe(true);
    const ahead = await live('dt-ll/v/fileSequence105.mp4');
    expect(ahead.status).toBe(404);
    expect(Number(ahead.headers.get('live-ttl-ms'))).toBeGreaterThan(0);
    await publish('dt-ll', 'v/fileSequence103.mp4', 'segment 103');
    expect((await segment).status).toBe(200);
  });

  it('holds the next HLS segment after a burst of whole segments, and still calls an old one nobody produced gone', async () => {
    for (let n = 1; n <= 3; n++) {
      await publish('dt-hls', `v/seg_${n}.m4s`, `segment ${n}`);
      await clock.advance(1_000);
    }
    await clock.advance(20_000);
    for (let n = 5; n <= 12; n++) {
      await publish('dt-hls', `v/seg_${n}.m4s`, `segment ${n}`);
      await clock.advance(1);
    }
    await publish('dt-hls', 'v/index.m3u8', hlsPlaylist(8, 12));
    await clock.advance(3);
    const next = live('dt-hls/v/seg_13.m4s');
    expect(await isHeld(next)).toBe(true);
    expect((await live('dt-hls/v/seg_15.m4s')).status).toBe(404);
    // Segment 4 was skipped 20 s ago and no playlist lists it: gone, as before.
    expect((await live('dt-hls/v/seg_4.m4s')).status).toBe(410);
    await publish('dt-hls', 'v/seg_13.m4s', 'segment 13');
    expect((await next).status).toBe(200);
  });

  it('holds the next $Number$ after a burst of DASH template segments', async () => {
    const manifest = (start: number, count: number) =>
      `<?xml version="1.0"?><MPD type="dynamic" availabilityStartTime="2026-12-05T11:00:00Z" maxSegmentDuration="PT2.0S"><Period start="PT0S"><AdaptationSet><Representation id="0">` +
      `<SegmentTemplate timescale="1000" media="chunk-stream$RepresentationID$-$Number%05d$.m4s" startNumber="${start}"><SegmentTimeline><S t="0" d="2000" r="${count - 1}"/></SegmentTimeline></SegmentTemplate>` +
      '</Representation></AdaptationSet></Period></MPD>';
    for (let n = 100; n <= 102; n++) {
      await publish('dt-dash', `d/chunk-stream0-${String(n).padStart(5, '0')}.m4s`, `chunk ${n}`);
      await clock.advance(1);
    }
    await publish('dt-dash', 'd/manifest.mpd', manifest(100, 3));
    await clock.advance(3);
    const next = live('dt-dash/d/chunk-stream0-00103.m4s');
    expect(await isHeld(next)).toBe(true);
    expect((await live('dt-dash/d/chunk-stream0-00105.m4s')).status).toBe(404);
    await publish('dt-dash', 'd/chunk-stream0-00103.m4s', 'chunk 103');
    expect((await next).status).toBe(200);
  });
});

describe('a reconnect after 10 s of silence', () => {
  it('answers 404, not 410, for the next segment while the packager is silent, then follows the catch-up burst', async () => {
    await publishHlsRun('dt-silent', 1, 10, 1_000);
    await clock.advance(9_000);
    // 10 s after segment 10: segment 11 is far past its deadline, but the served playlist names it next.
    const during = live('dt-silent/v/seg_11.m4s');
    expect(await isHeld(during)).toBe(true);
    await clock.advance(1_000);
    const timedOut = await during;
    expect(timedOut.status).toBe(404);
    expect(timedOut.headers.get('live-ttl-ms')).toBe('100');
    // Segment 13, not named by the playlist, is gone by the timeline: 410 (purged when it comes late).
    expect((await live('dt-silent/v/seg_13.m4s')).status).toBe(410);
    // Reconnected: 11-20 within 10 ms, each with its playlist.
    await publishHlsRun('dt-silent', 11, 20, 1);
    await clock.advance(10);
    for (const n of [11, 13, 20]) expect((await live(`dt-silent/v/seg_${n}.m4s`)).status).toBe(200);
    const next = live('dt-silent/v/seg_21.m4s');
    expect(await isHeld(next)).toBe(true);
    expect((await live('dt-silent/v/seg_23.m4s')).status).toBe(404);
    await publish('dt-silent', 'v/seg_21.m4s', 'segment 21');
    expect((await next).status).toBe(200);
  });
});

describe('a packager restarted with new numbers', () => {
  it('follows the restarted numbering: the next segments are held or not yet due, not gone', async () => {
    await publishHlsRun('dt-restart', 101, 110, 1_000, 'old');
    await clock.advance(20_000);
    // ffmpeg started again, at 1.
    await publishHlsRun('dt-restart', 1, 2, 1_000, 'new');
    const next = live('dt-restart/v/seg_3.m4s');
    expect(await isHeld(next)).toBe(true);
    // Three ahead of the new edge: not yet in its hold window (by the old numbering, long gone: 410).
    const ahead = await live('dt-restart/v/seg_5.m4s');
    expect(ahead.status).toBe(404);
    expect(Number(ahead.headers.get('live-ttl-ms'))).toBeGreaterThan(0);
    await publish('dt-restart', 'v/seg_3.m4s', 'new 3');
    const res = await next;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('new 3');
  });
});
