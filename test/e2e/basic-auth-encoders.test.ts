import { afterAll, beforeAll, expect, it } from 'vitest';
import { ffmpegInstalled, play, startPackager } from '../support/ffmpeg.js';
import { startDashPackager } from '../support/live-packagers.js';
import type { TestOrigin } from '../support/origin.js';
import { startOrigin, TOKEN } from '../support/origin.js';
import { describeWithTools } from '../support/tools.js';

// CI installs ffmpeg (.ci/run) and must run this; elsewhere it is skipped, never faked.
const run = describeWithTools([!ffmpegInstalled() && 'ffmpeg (apt-get install ffmpeg)']);

const SECONDS = 4;
const FPS = 25;

/** `live_origin_requests_total` for ingest PUTs answered `status`. */
async function ingestPuts(origin: TestOrigin, status: number): Promise<number> {
  const text = await (await fetch(`${origin.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('live_origin_requests_total{') && line.includes('method="PUT"') && line.includes(`status="${status}"`))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

run('encoders that know only a user and a password: ffmpeg publishes with http://<pipeline>:<token>@host/...', () => {
  let origin: TestOrigin;
  beforeAll(async () => {
    origin = await startOrigin();
  });
  afterAll(async () => origin?.close());

  it('publishes HLS and DASH with Basic credentials and no Authorization header of its own; a player gets every frame', async () => {
    const options = { token: TOKEN, seconds: SECONDS, segmentSeconds: 1, fps: FPS, auth: 'basic' as const };
    const hls = startPackager({ ...options, ingestBase: `${origin.url}/ingest/basic/a` });
    const dash = startDashPackager({ ...options, ingestBase: `${origin.url}/ingest/basic/a` });
    for (const child of [hls, dash]) {
      // What the encoder is given: credentials in its URLs, no header option at all.
      expect(child.spawnargs.join(' ')).not.toMatch(/authorization|-headers|headers=/i);
      expect(child.spawnargs.join(' ')).toContain(`//a:${TOKEN}@127.0.0.1`);
    }
    const errors = [hls, dash].map((child) => {
      let text = '';
      child.stderr!.on('data', (chunk) => (text += chunk));
      return () => text;
    });
    const codes = await Promise.all([hls, dash].map((child) => new Promise((resolve) => child.once('exit', resolve))));
    expect(codes).toEqual([0, 0]);
    // The dash muxer always notes that it cannot write through a temporary name over HTTP.
    const unexpected = errors.map((text) =>
      text()
        .split('\n')
        .filter((line) => line !== '' && !/Cannot use rename on non file protocol/.test(line)),
    );
    expect(unexpected).toEqual([[], []]);

    const [hlsPlayed, dashPlayed] = await Promise.all([
      play(`${origin.url}/live/basic/v/index.m3u8`, 30_000),
      play(`${origin.url}/live/basic/d/manifest.mpd`, 30_000),
    ]);
    expect(hlsPlayed.errors).toBe('');
    expect(hlsPlayed.videoFrames).toBe(SECONDS * FPS);
    expect(dashPlayed.errors).toBe('');
    expect(dashPlayed.videoFrames).toBe(SECONDS * FPS);

    // Every object of both packagers stored, from pipeline a; the HLS muxer learnt the scheme
    // from the origin's 401 (one per object, before its body), the DASH muxer sent it up front.
    const stored = await ingestPuts(origin, 201);
    expect(stored).toBeGreaterThanOrEqual(2 * (SECONDS + 1));
    expect(await ingestPuts(origin, 401)).toBeGreaterThanOrEqual(SECONDS + 1);
    expect(await ingestPuts(origin, 403)).toBe(0);
  }, 60_000);
});
