import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromiumInstalled, launchChromium } from '../support/browser.js';
import { ffmpegInstalled } from '../support/ffmpeg.js';
import type { LlHlsPackager } from '../support/ll-hls-packager.js';
import { startLlHlsPackager } from '../support/ll-hls-packager.js';
import type { TestOrigin } from '../support/origin.js';
import { configure, startOrigin, TOKEN } from '../support/origin.js';
import { describeWithTools } from '../support/tools.js';
import type { Varnish } from '../support/varnish.js';
import { freePort, startVarnish, varnishInstalled } from '../support/varnish.js';

const HLS_JS = 'node_modules/hls.js/dist/hls.min.js';

const run = describeWithTools([
  !chromiumInstalled() && 'chromium (apt-get install chromium)',
  !ffmpegInstalled() && 'ffmpeg (apt-get install ffmpeg)',
  !varnishInstalled() && 'varnish (apt-get install varnish)',
]);

const SEGMENT_MS = 2000;
const PART_MS = 500;
/** Pipeline a is killed this long after playback starts; the player is watched until the end. */
const KILL_AFTER_MS = 8_000;
const WATCH_AFTER_KILL_MS = 12_000;
/** The target: live latency at most 3 s with 2 s segments and 0.5 s parts. */
const MAX_LATENCY_MS = 3_000;

/** A page with hls.js in low-latency mode; it samples the player every 250 ms into window.samples. */
const PAGE = `<!doctype html><html><body><video id="v" muted playsinline></video>
<script src="/hls.min.js"></script>
<script>
  window.samples = []; window.stalls = []; window.errors = [];
  const video = document.getElementById('v');
  // Catch up to the target latency (PART-HOLD-BACK) by playing a little faster when behind.
  const hls = new Hls({ lowLatencyMode: true, backBufferLength: 10, maxLiveSyncPlaybackRate: 1.5 });
  hls.on(Hls.Events.ERROR, (_e, data) => window.errors.push(data.details + (data.fatal ? ' (fatal)' : '') + ' ' + (data.url || data.frag?.url || '') + ' @' + Date.now()));
  hls.loadSource('/live/ll-e2e/v/index.m3u8');
  hls.attachMedia(video);
  hls.on(Hls.Events.MANIFEST_PARSED, () => video.play());
  video.addEventListener('waiting', () => window.stalls.push(Date.now()));
  // Wall-clock time of the frame on screen: the playlist's first segment's PROGRAM-DATE-TIME
  // plus the media time since (hls.playingDate is undefined while playing a part).
  const playingDate = () => {
    const first = hls.latestLevelDetails?.fragments[0];
    if (!first || first.programDateTime === null) return null;
    return new Date(first.programDateTime + (video.currentTime - first.start) * 1000);
  };
  setInterval(() => {
    const date = playingDate();
    window.samples.push({ at: Date.now(), time: video.currentTime, playing: !video.paused && video.readyState >= 3,
      latencyMs: date ? Date.now() - date.getTime() : null, hlsLatency: hls.latency, target: hls.targetLatency });
  }, 250);
</script></body></html>`;

interface Sample {
  readonly at: number;
  readonly time: number;
  readonly playing: boolean;
  readonly latencyMs: number | null;
  readonly hlsLatency: number;
  readonly target: number | null;
}

/** Serves the page and hls.js, and passes /live/ through to the edge (one origin for the page: no CORS involved). */
async function startPageServer(edgeUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const edge = new URL(edgeUrl);
  const hlsJs = readFileSync(HLS_JS);
  const server = http.createServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    } else if (req.url === '/hls.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(hlsJs);
    } else if (req.url!.startsWith('/live/')) {
      const upstream = http.request({ host: edge.hostname, port: edge.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

run('LL-HLS in a real browser: hls.js (lowLatencyMode) in Chromium through Varnish, two epoch-locked pipelines', () => {
  let origin: TestOrigin;
  let edge: Varnish;
  let page: { url: string; close(): Promise<void> };
  let browser: Browser;
  const pipelines: LlHlsPackager[] = [];

  beforeAll(async () => {
    const port = await freePort();
    edge = await startVarnish(`http://127.0.0.1:${port}`);
    origin = await startOrigin({ port, purgeUrls: [edge.url] });
    page = await startPageServer(edge.url);
    browser = await launchChromium();
  }, 30_000);
  afterAll(async () => {
    for (const pipeline of pipelines) pipeline.kill();
    await browser?.close();
    await page?.close();
    await edge?.stop();
    await origin?.close();
  });

  it('plays at most 3 s behind live and does not stall when the served pipeline dies', async () => {
    const ast = Math.floor(Date.now() / SEGMENT_MS) * SEGMENT_MS - 10 * SEGMENT_MS;
    await configure(origin, 'll-e2e', {
      pipelines: ['a', 'b'],
      segmentDurationMs: SEGMENT_MS,
      availabilityStartTime: new Date(ast).toISOString(),
      startNumber: 1,
    });
    const seconds = (KILL_AFTER_MS + WATCH_AFTER_KILL_MS) / 1000 + 12;
    for (const pipeline of ['a', 'b']) {
      pipelines.push(
        startLlHlsPackager({
          ingestBase: `${origin.url}/ingest/ll-e2e/${pipeline}`,
          token: TOKEN,
          astMs: ast,
          startNumber: 1,
          segmentMs: SEGMENT_MS,
          partMs: PART_MS,
          fps: 30,
          seconds,
          // 1.25 s: above the RFC's two-part minimum, below Apple's three (1.5 s), which leaves
          // the player too little room for the 3 s target on a loaded 2-core machine.
          partHoldBackParts: 2.5,
        }),
      );
    }
    // Let a playlist with a few parts exist before the player starts.
    while (pipelines[0]!.published.parts < 3) await new Promise((resolve) => setTimeout(resolve, 100));

    const tab = await browser.newPage();
    await tab.goto(page.url);
    await tab.waitForFunction(() => (globalThis as unknown as { samples: Sample[] }).samples.some((s) => s.playing && s.time > 0.5), undefined, {
      timeout: 15_000,
    });
    const playingSince = Date.now();
    await new Promise((resolve) => setTimeout(resolve, KILL_AFTER_MS));
    const killedAt = Date.now();
    pipelines[0]!.kill();
    await new Promise((resolve) => setTimeout(resolve, WATCH_AFTER_KILL_MS));

    const { samples, stalls, errors } = await tab.evaluate(() => {
      const w = globalThis as unknown as { samples: Sample[]; stalls: number[]; errors: string[] };
      return { samples: w.samples, stalls: w.stalls, errors: w.errors };
    });
    const steady = samples.filter((s) => s.at >= playingSince + 3_000 && s.latencyMs !== null);
    const latencies = steady.map((s) => s.latencyMs!).sort((a, b) => a - b);
    const median = latencies[latencies.length >> 1]!;
    const p95 = latencies[Math.floor(latencies.length * 0.95)]!;
    const before = steady.filter((s) => s.at < killedAt);
    const after = steady.filter((s) => s.at >= killedAt);
    const played = after.at(-1)!.time - after[0]!.time;
    console.log(
      `longest freeze after the kill ${longestFreezeMs(after)} ms; LL-HLS via Varnish: live latency median ${median} ms, p95 ${p95} ms (hls.js latency ${before.at(-1)?.hlsLatency.toFixed(2)} s, target ${before.at(-1)?.target}); killed at ${killedAt}; ` +
        `after killing pipeline a: played ${played.toFixed(1)} s of media in ${((after.at(-1)!.at - after[0]!.at) / 1000).toFixed(1)} s, ` +
        `stalls after start ${stalls.filter((t) => t > playingSince).length} (after the kill ${stalls.filter((t) => t >= killedAt).length}); parts a=${pipelines[0]!.published.parts} b=${pipelines[1]!.published.parts}; ` +
        `player errors: ${errors.join(', ') || 'none'}`,
    );

    expect(median).toBeLessThanOrEqual(MAX_LATENCY_MS);
    // No stall across the kill (from the kill to the end).
    expect(stalls.filter((t) => t >= killedAt)).toEqual([]);
    // Media kept flowing in real time across the kill: no freeze of a second or more.
    expect(played).toBeGreaterThan((WATCH_AFTER_KILL_MS - 1_000) / 1000);
    expect(longestFreezeMs(after)).toBeLessThan(1_000);
    // After the kill the playlist came from b.
    const playlist = await fetch(`${edge.url}/live/ll-e2e/v/index.m3u8`);
    expect(playlist.headers.get('live-pipeline')).toBe('b');
  }, 60_000);
});

/** The longest stretch in which the playhead did not move. */
function longestFreezeMs(samples: readonly Sample[]): number {
  let longest = 0;
  let movedAt = samples[0]?.at ?? 0;
  for (let i = 1; i < samples.length; i++) {
    if (samples[i]!.time > samples[i - 1]!.time) movedAt = samples[i]!.at;
    longest = Math.max(longest, samples[i]!.at - movedAt);
  }
  return longest;
}
