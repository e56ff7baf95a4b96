import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ffmpegInstalled, startPackager } from '../support/ffmpeg.js';
import { startDashPackager } from '../support/live-packagers.js';
import type { TestOrigin } from '../support/origin.js';
import { startOrigin, startPurgeReceiver, TOKEN } from '../support/origin.js';
import { describeWithTools } from '../support/tools.js';

// CI installs ffmpeg (.ci/run) and must run this; elsewhere it is skipped, never faked.
const run = describeWithTools([!ffmpegInstalled() && 'ffmpeg (apt-get install ffmpeg)']);

const SECONDS = 8;
const WINDOW = 3;

/**
 * ffmpeg's own DELETEs: pipeline a keeps a window of three segments and deletes what leaves it
 * (hls `delete_segments`, dash `-window_size`), pipeline b keeps everything. A CDN stand-in
 * fills every segment as soon as pipeline a has it (so each is pinned to a, first in order)
 * and receives the origin's purges. Judged once both packagers are done, by what the origin
 * holds and answers.
 */
run("ffmpeg's DELETEs of segments that left its window", () => {
  let origin: TestOrigin;
  let edge: Awaited<ReturnType<typeof startPurgeReceiver>>;
  beforeAll(async () => {
    edge = await startPurgeReceiver();
    origin = await startOrigin({ purgeUrls: [edge.url] });
  });
  afterAll(async () => {
    await origin?.close();
    await edge?.close();
  });

  const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));

  /**
   * Fills segment n, in order, as soon as pipeline a published it: both copies are clean, so a's
   * wins (pipeline order) whether or not b's came first, and the path is pinned to a, the pipeline
   * that deletes it later. On a busy host b may publish first; filling on the first copy to land
   * would then pin b and leave nothing to move. A segment a has already left behind its window
   * (so has deleted, or is deleting) is skipped. The pipeline that served each first.
   */
  async function fillAsPublished(event: string, pathOf: (n: number) => string, done: () => boolean): Promise<Map<number, string>> {
    const first = new Map<number, string>();
    const { metadata } = origin.stores;
    /** Whether a's copy of n is there, waiting for it until a has left n behind or every packager is done. */
    const aPublished = async (n: number): Promise<boolean> => {
      for (;;) {
        if ((await metadata.getObject(event, pathOf(n))).candidates.some((c) => c.pipeline === 'a')) return true;
        if (done() || ((await metadata.getEvent(event))?.pipelines.a?.edge ?? 0) > n + WINDOW) return false;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    for (let n = 1; n <= SECONDS; n++) {
      if (!(await aPublished(n))) continue;
      const res = await fetch(`${origin.url}/live/${event}/${pathOf(n)}`);
      await res.arrayBuffer();
      if (res.status === 200) first.set(n, res.headers.get('live-pipeline')!);
    }
    return first;
  }

  async function judge(event: string, pathOf: (n: number) => string, firstServed: Map<number, string>): Promise<void> {
    const deleted: number[] = [];
    for (let n = 1; n <= SECONDS; n++) {
      const record = await origin.stores.metadata.getObject(event, pathOf(n));
      if (record.candidates.some((c) => c.pipeline === 'b') && !record.candidates.some((c) => c.pipeline === 'a')) deleted.push(n);
    }
    // ffmpeg deletes what is more than its window (and one segment of grace) behind its edge.
    expect(deleted.length).toBeGreaterThanOrEqual(SECONDS - WINDOW - 2);
    // At least one of them had been served from a: its pin has to move.
    expect(deleted.some((n) => firstServed.get(n) === 'a')).toBe(true);
    for (const n of deleted) {
      const res = await fetch(`${origin.url}/live/${event}/${pathOf(n)}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('live-pipeline')).toBe('b');
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(bytes.equals((await origin.stores.segments.get({ event, pipeline: 'b', path: pathOf(n) }))!.body)).toBe(true);
      expect((await origin.stores.metadata.getObject(event, pathOf(n))).pinned).toBe('b');
      expect(await origin.stores.segments.get({ event, pipeline: 'a', path: pathOf(n) })).toBeUndefined();
    }
    // They had left the playlist served: no purge for any of them.
    await origin.purger.flush();
    const purged = edge.received.filter((r) => r.method === 'PURGE').map((r) => r.url);
    expect(purged.filter((url) => deleted.some((n) => url === `/live/${event}/${pathOf(n)}`))).toEqual([]);
  }

  it('HLS and DASH: the deleted segments are served from the other pipeline, their pins move, nothing is purged', async () => {
    const options = { token: TOKEN, seconds: SECONDS, segmentSeconds: 1, fps: 25 };
    const base = (event: string, pipeline: string) => `${origin.url}/ingest/${event}/${pipeline}`;
    const packagers = [
      startPackager({ ...options, window: WINDOW, ingestBase: base('del-hls', 'a') }),
      startPackager({ ...options, ingestBase: base('del-hls', 'b') }),
      startDashPackager({ ...options, window: WINDOW, ingestBase: base('del-dash', 'a') }),
      startDashPackager({ ...options, ingestBase: base('del-dash', 'b') }),
    ];
    const errors = packagers.map((child) => {
      let text = '';
      child.stderr?.on('data', (chunk) => (text += chunk));
      return () => text;
    });
    let finished = false;
    const allExited = Promise.all(packagers.map(exited)).then(() => {
      finished = true;
    });
    const hlsPath = (n: number) => `v/seg_${n}.m4s`;
    const dashPath = (n: number) => `d/chunk-stream0-${String(n).padStart(5, '0')}.m4s`;
    const [hlsServed, dashServed] = await Promise.all([
      fillAsPublished('del-hls', hlsPath, () => finished),
      fillAsPublished('del-dash', dashPath, () => finished),
    ]);
    await allExited;
    expect(packagers.map((child) => child.exitCode)).toEqual([0, 0, 0, 0]);
    // ffmpeg reports no failed request, DELETEs included (the dash muxer always warns that it cannot rename over HTTP).
    const complaints = errors.map((text) =>
      text()
        .split('\n')
        .filter((line) => line !== '' && !line.includes('Cannot use rename on non file protocol')),
    );
    expect(complaints).toEqual([[], [], [], []]);
    await judge('del-hls', hlsPath, hlsServed);
    await judge('del-dash', dashPath, dashServed);
  }, 60_000);
});
