import { afterAll, beforeAll, expect, it } from 'vitest';
import { ffmpegInstalled, startPackager } from '../support/ffmpeg.js';
import type { TestOrigin } from '../support/origin.js';
import { startOrigin, TOKEN } from '../support/origin.js';
import { describeWithTools } from '../support/tools.js';
import type { UplinkProxy } from '../support/uplink-proxy.js';
import { startUplinkProxy } from '../support/uplink-proxy.js';

// CI installs ffmpeg (.ci/run) and must run this; elsewhere it is skipped, never faked.
const run = describeWithTools([!ffmpegInstalled() && 'ffmpeg (apt-get install ffmpeg)']);

const SECONDS = 18;
/** The uplink drops out once the origin has this segment, for SILENCE_MS, then sends what it kept. */
const STALL_AFTER = 3;
const SILENCE_MS = 10_000;

/**
 * A real ffmpeg packager (1 s segments, its own playlist: EXTINF 1.000000, TARGETDURATION 1)
 * behind an uplink that drops out for 10 s and then delivers everything it kept back to back.
 * A CDN stand-in keeps asking for the segment after the origin's live edge, as players do.
 * The origin learns the declared 1 s from ffmpeg's playlist: nothing ffmpeg produced is ever
 * answered 410, during the silence or after the burst.
 */
run('a real packager reconnecting after 10 s of silence', () => {
  let origin: TestOrigin;
  let uplink: UplinkProxy;
  beforeAll(async () => {
    origin = await startOrigin();
    uplink = await startUplinkProxy(origin.url);
  });
  afterAll(async () => {
    await uplink?.close();
    await origin?.close();
  });

  const liveEdge = async (): Promise<number> => {
    const response = await fetch(`${origin.url}/admin/events/rc`, { headers: { authorization: `Bearer ${TOKEN}` } });
    if (response.status !== 200) return 0;
    const status = (await response.json()) as { pipelines: { liveEdge?: number }[] };
    return status.pipelines[0]?.liveEdge ?? 0;
  };

  it('answers the next segment 404 while silent and holds it after the burst; never 410 for what ffmpeg produced', async () => {
    const packager = startPackager({ ingestBase: `${uplink.url}/ingest/rc/a`, token: TOKEN, seconds: SECONDS, segmentSeconds: 1, fps: 25 });
    let done = false;
    const exited = new Promise<void>((resolve) =>
      packager.once('exit', () => {
        done = true;
        resolve();
      }),
    );
    const answers: { n: number; status: number }[] = [];
    const cdn = (async () => {
      while (!done) {
        const n = (await liveEdge()) + 1;
        if (n === 1) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          continue;
        }
        const res = await fetch(`${origin.url}/live/rc/v/seg_${n}.m4s`);
        await res.arrayBuffer();
        answers.push({ n, status: res.status });
        if (res.status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    while ((await liveEdge()) < STALL_AFTER) await new Promise((resolve) => setTimeout(resolve, 50));
    uplink.stall();
    await new Promise((resolve) => setTimeout(resolve, SILENCE_MS));
    const releasedAt = Date.now();
    await uplink.release();
    const burst = uplink.forwarded.filter((f) => f.at >= releasedAt && /seg_\d+\.m4s$/.test(f.path));
    await exited;
    await cdn;

    expect(packager.exitCode).toBe(0);
    // The reconnect was a burst: the segments ffmpeg made during the silence reached the origin back to back.
    expect(burst.length).toBeGreaterThanOrEqual(SILENCE_MS / 1000 - 2);
    expect(burst.every((f) => f.status === 201)).toBe(true);
    // The CDN asked throughout: 404s while silent (held, then given up), 200s once segments came.
    expect(answers.some((a) => a.status === 404)).toBe(true);
    const lastOfBurst = Math.max(...burst.map((f) => Number(/seg_(\d+)\.m4s$/.exec(f.path)![1])));
    expect(answers.some((a) => a.status === 200 && a.n > lastOfBurst)).toBe(true);
    expect(answers.filter((a) => a.status === 410)).toEqual([]);
    for (let n = 1; n <= SECONDS; n++) expect((await fetch(`${origin.url}/live/rc/v/seg_${n}.m4s`)).status).toBe(200);
  }, 60_000);
});
