import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PageServer, PlayerReport } from '../support/browser.js';
import { chromiumInstalled, launchChromium, startPageServer } from '../support/browser.js';
import { ffmpegInstalled } from '../support/ffmpeg.js';
import type { IngestProxy } from '../support/ingest-proxy.js';
import { startIngestProxy } from '../support/ingest-proxy.js';
import { startLlDashPackager } from '../support/live-packagers.js';
import type { TestOrigin } from '../support/origin.js';
import { configure, startOrigin, TOKEN } from '../support/origin.js';
import type { OpenGet } from '../support/streaming.js';
import { openGet } from '../support/streaming.js';
import { describeWithTools } from '../support/tools.js';
import type { Varnish } from '../support/varnish.js';
import { freePort, startVarnish, varnishInstalled } from '../support/varnish.js';

/**
 * LL-DASH end to end, serving while ingesting: two ffmpeg pipelines publish the same chunked
 * CMAF timeline (one chunked PUT per 2 s segment, flushed every 0.25 s fragment), the origin
 * streams each segment from its PUT's first byte, Varnish with the shipped VCL streams it on,
 * and dash.js in Chromium, on a page of another origin, plays in its low-latency mode (turned on
 * by the MPD's availabilityTimeComplete="false") at the MPD's 1 s latency target, its clock
 * synchronised to the origin's /time through the edge. Pipeline a, the one served, is killed in
 * the middle of a segment: its PUT is cut, the player's stream of that segment with it, and
 * the origin serves pipeline b's copy from byte 0.
 *
 * Beside the player, a probe in this process reads every segment through the edge as it
 * streams, and the ingest proxy notes when each fragment left the packager: per-hop timings
 * (packager flush, edge delivery) to tell where the latency goes.
 */

const run = describeWithTools([
  !chromiumInstalled() && 'chromium (apt-get install chromium)',
  !ffmpegInstalled() && 'ffmpeg (apt-get install ffmpeg)',
  !varnishInstalled() && 'varnish (apt-get install varnish)',
]);

const EVENT = 'lld-e2e';
const SEGMENT_SECONDS = 2;
const FRAGMENT_SECONDS = 0.25;
const TARGET_LATENCY_SECONDS = 1;
const FPS = 25;
/** Pipeline a is killed this long after playback starts (then in the middle of a segment); watched until the end. */
const KILL_AFTER_MS = 14_000;
const WATCH_AFTER_KILL_MS = 12_000;
/** Latency is judged once the player has settled at its target. */
const SETTLE_MS = 4_000;
/** A stall this soon after the kill is the kill's. */
const KILL_SHADOW_MS = 4_000;
/** Longer than the test: the packagers are killed, never run out. */
const PACKAGER_SECONDS = 120;
const MEDIA = /chunk-stream(\d+)-(\d+)\.m4s$/;

/** The goal, printed beside the figures. */
const GOAL = { medianMs: 1_100, p95Ms: 1_700, stalls: 1, stallsAtKill: 0 };
/**
 * What the test asserts: what it passes reliably on the project's shared 2-core host, where
 * other tests run beside it (runs and figures: docs/reliability.md, "LL-DASH in a browser").
 * Alone it meets the goal with room; beside the LL-HLS browser test its median was 1.1 s.
 */
const ASSERTED = { medianMs: 1_300, p95Ms: 2_000, stalls: 2, stallsAtKill: 0 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

run('LL-DASH in a real browser: dash.js low-latency mode in Chromium, through Varnish, from segments streamed while ingested', () => {
  let origin: TestOrigin;
  let edge: Varnish;
  let proxy: IngestProxy;
  let pages: PageServer;
  let browser: Browser;
  const packagers = new Map<string, { child: ChildProcess; stderr: () => string }>();
  /** For each segment of each pipeline, every chunk of its PUT as it left the packager: when, and the bytes sent so far. */
  const flushed = new Map<string, { at: number; total: number }[]>();

  beforeAll(async () => {
    const port = await freePort();
    edge = await startVarnish(`http://127.0.0.1:${port}`);
    origin = await startOrigin({ port, purgeUrls: [edge.url] });
    proxy = await startIngestProxy(
      { a: origin.url, b: origin.url },
      {
        stream: true,
        onChunk: (pipeline, path, bytes, at) => {
          const key = `${pipeline} ${path}`;
          const chunks = flushed.get(key) ?? [];
          chunks.push({ at, total: (chunks.at(-1)?.total ?? 0) + bytes });
          flushed.set(key, chunks);
        },
      },
    );
    pages = await startPageServer();
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    for (const { child } of packagers.values()) child.kill('SIGKILL');
    await browser?.close();
    await pages?.close();
    await proxy?.close();
    await edge?.stop();
    await origin?.close();
  });

  function startPipeline(pipeline: string): void {
    const child = startLlDashPackager({
      ingestBase: `${proxy.url}/ingest/${EVENT}/${pipeline}`,
      token: TOKEN,
      seconds: PACKAGER_SECONDS,
      segmentSeconds: SEGMENT_SECONDS,
      fps: FPS,
      fragmentSeconds: FRAGMENT_SECONDS,
      targetLatencySeconds: TARGET_LATENCY_SECONDS,
      // The clock the player reaches: the origin's, through the edge.
      utcTimingUrl: `${edge.url}/time`,
    });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    packagers.set(pipeline, { child, stderr: () => stderr });
  }

  /** The MPD's availabilityStartTime (epoch-locked by the proxy), once the first one is published. */
  async function availabilityStart(timeoutMs: number): Promise<number> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const response = await fetch(`${origin.url}/live/${EVENT}/d/manifest.mpd`).catch(() => undefined);
      const found = response?.ok ? /availabilityStartTime="([^"]+)"/.exec(await response.text()) : null;
      if (found) return Date.parse(found[1]!);
      if (Date.now() > until) throw new Error(`no manifest after ${timeoutMs} ms: ${[...packagers.values()].map((p) => p.stderr()).join(' | ')}`);
      await sleep(100);
    }
  }

  it('plays about 1 s behind live and rides out the kill of the served pipeline mid-segment', async () => {
    // a first by a hair, so a's PUT of each segment starts first and a is the pipeline served.
    startPipeline('a');
    await sleep(50);
    startPipeline('b');
    const ast = await availabilityStart(20_000);
    // The event's timeline is the packagers' (the MPD's): segment n (from 1) ends at AST + n x D.
    expect(
      (
        await configure(origin, EVENT, {
          pipelines: ['a', 'b'],
          segmentDurationMs: SEGMENT_SECONDS * 1000,
          availabilityStartTime: new Date(ast).toISOString(),
          startNumber: 1,
        })
      ).ok,
    ).toBe(true);
    const segmentAt = (wallMs: number) => Math.floor((wallMs - ast) / (SEGMENT_SECONDS * 1000)) + 1;
    // Two whole segments before the player starts.
    while (segmentAt(Date.now()) < 3) await sleep(100);

    // The probe: every video segment through the edge from its start, chunk by chunk.
    const probes = new Map<number, { get: OpenGet; startedAt: number }>();
    let probing = true;
    const probeLoop = (async () => {
      for (let n = segmentAt(Date.now()) + 1; probing; n++) {
        const startsAt = ast + (n - 1) * SEGMENT_SECONDS * 1000;
        await sleep(Math.max(0, startsAt - Date.now()));
        if (!probing) break;
        probes.set(n, { get: openGet(edge.url, `${EVENT}/d/chunk-stream0-${String(n).padStart(5, '0')}.m4s`), startedAt: performance.now() });
      }
    })();

    const tab: Page = await browser.newPage();
    await tab.goto(pages.playerUrl('dash', `${edge.url}/live/${EVENT}/d/manifest.mpd`, { lowLatency: true }));
    const report = () => tab.evaluate('window.playerReport') as Promise<PlayerReport>;
    const until = Date.now() + 20_000;
    while ((await report()).playingAt === null) {
      if (Date.now() > until) throw new Error(`the player never played: ${JSON.stringify(await report())}`);
      await sleep(200);
    }
    const playingSince = Date.now();
    await sleep(KILL_AFTER_MS);
    // Then in the middle of a segment: a's PUT of it is half sent.
    const intoSegment = (Date.now() - ast) % (SEGMENT_SECONDS * 1000);
    await sleep((SEGMENT_SECONDS * 1000 * 1.5 - intoSegment) % (SEGMENT_SECONDS * 1000));
    const killedAt = Date.now();
    const killedSegment = segmentAt(killedAt);
    packagers.get('a')!.child.kill('SIGKILL');
    await sleep(WATCH_AFTER_KILL_MS);
    probing = false;
    await probeLoop;

    const final = await report();
    const steady = final.samples.filter((s) => s.at >= playingSince + SETTLE_MS);
    const latencies = steady.map((s) => s.latencyMs).sort((a, b) => a - b);
    const median = percentile(latencies, 0.5);
    const p95 = percentile(latencies, 0.95);
    const stalls = final.stalls.filter((at) => at > playingSince);
    const stallsAtKill = stalls.filter((at) => at >= killedAt && at < killedAt + KILL_SHADOW_MS);
    const media = final.responses.filter((r) => MEDIA.test(r.url));
    const servedAtKill = media.filter((r) => Number(MEDIA.exec(r.url)![2]) === killedSegment - 1).map((r) => r.pipeline);
    const servedKilled = media.filter((r) => Number(MEDIA.exec(r.url)![2]) === killedSegment).map((r) => `${r.pipeline ?? r.status}`);
    const servedAfter = media.filter((r) => Number(MEDIA.exec(r.url)![2]) > killedSegment).map((r) => r.pipeline);

    // Per hop, for the video segments the probe read whole: the packager's last byte of a
    // segment against the end of the media in it (encoding and packaging), and every chunk the
    // packager sent against when the probe, reading through the edge, had those bytes
    // (proxy, origin, Varnish).
    const hops = { packager: [] as number[], toEdge: [] as number[] };
    const wallToPerf = Date.now() - performance.now();
    for (const [n, probe] of probes) {
      if ((await probe.get.done).complete !== true) continue;
      const pipeline = (await probe.get.head).headers['live-pipeline'] as string;
      const sent = flushed.get(`${pipeline} d/chunk-stream0-${String(n).padStart(5, '0')}.m4s`) ?? [];
      if (sent.length === 0) continue;
      hops.packager.push(sent.at(-1)!.at - (ast + n * SEGMENT_SECONDS * 1000 - wallToPerf));
      let received = 0;
      let next = 0;
      for (const chunk of probe.get.chunks) {
        received += chunk.bytes.length;
        for (; next < sent.length && sent[next]!.total <= received; next++) hops.toEdge.push(chunk.at - sent[next]!.at);
      }
    }
    const summary = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return sorted.length === 0
        ? 'none'
        : `median ${Math.round(percentile(sorted, 0.5))} ms, p95 ${Math.round(percentile(sorted, 0.95))} ms (n=${sorted.length})`;
    };
    const rates = steady.map((s) => s.rate);
    // Streamed answers the origin cut because their PUT failed: the edge's fetch of a's segment in flight.
    const cut = (await origin.metrics.streamedAnswers.get()).values.find((value) => value.labels.outcome === 'cut')?.value ?? 0;
    console.log(
      `LL-DASH via Varnish (dash.js ${final.lowLatency ? 'low-latency mode' : 'NOT in low-latency mode'}, target ${TARGET_LATENCY_SECONDS} s): ` +
        `live latency median ${median} ms, p95 ${p95} ms (goal ${GOAL.medianMs} / ${GOAL.p95Ms}); ` +
        `stalls after start ${stalls.length}, at the kill ${stallsAtKill.length} (goal at most ${GOAL.stalls}, ${GOAL.stallsAtKill} at the kill); ` +
        `playback rate ${Math.min(...rates).toFixed(2)}-${Math.max(...rates).toFixed(2)}; ` +
        `killed a in segment ${killedSegment} at ${killedAt - ast - (killedSegment - 1) * SEGMENT_SECONDS * 1000} ms into it; ` +
        `answers the origin cut: ${cut}; the player's answers for that segment (video, audio; retries) from ${servedKilled.join(', ')}; ` +
        `served before the kill: ${[...new Set(servedAtKill)].join(',')}, after: ${[...new Set(servedAfter)].join(',')}; ` +
        `per hop: a segment's last byte left the packager ${summary(hops.packager)} after the end of its media; ` +
        `a chunk from the packager to a reader at the edge ${summary(hops.toEdge)}; the player holds the rest (its target); ` +
        `player errors: ${[...final.fatal, ...final.errors].join(', ') || 'none'}`,
    );

    expect(final.lowLatency).toBe(true);
    expect(final.fatal).toEqual([]);
    expect(servedAtKill).toContain('a');
    expect(cut).toBeGreaterThanOrEqual(1);
    expect(servedAfter.length).toBeGreaterThan(0);
    expect(servedAfter.every((pipeline) => pipeline === 'b')).toBe(true);
    expect(median).toBeLessThanOrEqual(ASSERTED.medianMs);
    expect(p95).toBeLessThanOrEqual(ASSERTED.p95Ms);
    expect(stalls.length).toBeLessThanOrEqual(ASSERTED.stalls);
    expect(stallsAtKill.length).toBeLessThanOrEqual(ASSERTED.stallsAtKill);
    // The player kept playing to the end: its playhead moved in the last second.
    expect(final.samples.at(-1)!.time).toBeGreaterThan(final.samples.at(-5)!.time);
  }, 90_000);
});
