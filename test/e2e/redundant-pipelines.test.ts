import { afterAll, beforeAll, expect, it } from 'vitest';
import { ffmpegInstalled, play, startPackager } from '../support/ffmpeg.js';
import type { TestOrigin } from '../support/origin.js';
import { startOrigin, TOKEN } from '../support/origin.js';
import { describeWithTools } from '../support/tools.js';

// CI installs ffmpeg (.ci/run) and must run this; elsewhere it is skipped, never faked.
const run = describeWithTools([!ffmpegInstalled() && 'ffmpeg (apt-get install ffmpeg)']);

const SECONDS = 8;
const FPS = 25;

run('two real ffmpeg packagers, one dies mid-stream, a real player watches', () => {
  let origin: TestOrigin;
  beforeAll(async () => {
    origin = await startOrigin();
  });
  afterAll(async () => origin?.close());

  it('plays every frame from start to end: the surviving pipeline hides the dead one', async () => {
    const options = { token: TOKEN, seconds: SECONDS, segmentSeconds: 1, fps: FPS };
    const a = startPackager({ ...options, ingestBase: `${origin.url}/ingest/e2e/a` });
    const b = startPackager({ ...options, ingestBase: `${origin.url}/ingest/e2e/b` });
    const bDone = new Promise((resolve) => b.once('exit', resolve));
    // Pipeline a crashes after about three segments: no more segments, no final playlist.
    const crash = setTimeout(() => a.kill('SIGKILL'), 3500);

    await new Promise((resolve) => setTimeout(resolve, 2500));
    const watched = await play(`${origin.url}/live/e2e/v/index.m3u8`, 25_000);
    await bDone;
    clearTimeout(crash);

    expect(watched.errors).toBe('');
    expect(watched.code).toBe(0);
    expect(watched.videoFrames).toBe(SECONDS * FPS);

    const early = await fetch(`${origin.url}/live/e2e/v/seg_1.m4s`);
    expect(early.headers.get('live-pipeline')).toBe('a');
    const late = await fetch(`${origin.url}/live/e2e/v/seg_${SECONDS}.m4s`);
    expect(late.headers.get('live-pipeline')).toBe('b');
    const status = await (await fetch(`${origin.url}/admin/events/e2e`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
    expect(status.pipelines.find((p: { pipeline: string }) => p.pipeline === 'a').liveEdge).toBeLessThan(SECONDS);
  }, 40_000);
});
