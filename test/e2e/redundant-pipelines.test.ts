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
    // Steps follow what the packagers have published (the origin's live edge per pipeline), not
    // the time they should have taken: on a busy host ffmpeg may start seconds late.
    const liveEdge = async (pipeline: string): Promise<number> => {
      const response = await fetch(`${origin.url}/admin/events/e2e`, { headers: { authorization: `Bearer ${TOKEN}` } });
      if (response.status !== 200) return -1;
      const status = (await response.json()) as { pipelines: { pipeline: string; liveEdge?: number }[] };
      return status.pipelines.find((p) => p.pipeline === pipeline)?.liveEdge ?? -1;
    };
    const reached = async (pipeline: string, edge: number) => {
      while ((await liveEdge(pipeline)) < edge && b.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 100));
    };
    // Pipeline a crashes after three segments: no more segments, no final playlist.
    const crash = reached('a', 3).then(() => a.kill('SIGKILL'));

    // The player joins once two segments are out, as it did at 2.5 s on a quiet host.
    await reached('b', 2);
    const watched = await play(`${origin.url}/live/e2e/v/index.m3u8`, 25_000);
    await bDone;
    await crash;

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
