import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LocalRegionsProcess } from '../../scripts/local/local-regions.js';
import { regionOriginEnv, spawnLocalRegions } from '../../scripts/local/local-regions.js';
import { percentile } from '../adapters/recording-observer.js';
import { ffmpegInstalled } from '../support/ffmpeg.js';
import type { IngestProxy } from '../support/ingest-proxy.js';
import { startIngestProxy } from '../support/ingest-proxy.js';
import { startHlsPackager } from '../support/live-packagers.js';
import type { ServerProcess } from '../support/server-process.js';
import { startServerProcess } from '../support/server-process.js';
import { describeWithTools } from '../support/tools.js';
import type { Varnish } from '../support/varnish.js';
import { freePort, startTwoRegionVarnish, varnishInstalled } from '../support/varnish.js';

/**
 * The demo's quality faults end to end (issue 23): two regions (aws-mode origins on local S3
 * servers and one shared DynamoDB), Varnish with the two-region VCL in front, two ffmpeg HLS
 * packagers (a publishing to region 1, b to region 2), and players pulling through Varnish the
 * way a low-latency player does: each asks for the next segment before it exists, so the
 * origin holds it. Pipeline a's copy of every segment arrives first and b's ~100 ms later (the
 * ingest proxy holds b's until a's is acknowledged), the order in which a degraded first copy
 * would reach viewers. Over 60 s, pipeline a flags its segments defective (the demo's fault a),
 * then scores them 40 (the demo's fault d); b stays healthy throughout, so players must receive
 * no defective and no degraded segment. Prints the release latency the wait adds.
 */

// CI installs ffmpeg and Varnish (.ci/run) and must run this; elsewhere it is skipped, never faked.
const run = describeWithTools([!ffmpegInstalled() && 'ffmpeg (apt-get install ffmpeg)', !varnishInstalled() && 'varnish (apt-get install varnish)']);

const TOKEN = 'quality-e2e-token-0123456789';
const EVENT = 'quality-e2e';
const SEGMENT_SECONDS = 2;
const FPS = 25;
/** Longer than the test: the packagers are killed at the end, never run out. */
const PACKAGER_SECONDS = 150;
/** How far behind pipeline a's copy pipeline b's reaches the origin: two healthy encoders. */
const ARRIVAL_GAP_MS = 100;
/**
 * The event's wait for a better copy. The default (250 ms for 2 s segments) covers a 100 ms gap
 * on a quiet host; this one leaves room for a shared 2-core host running both regions, both
 * encoders and Varnish, where b's copy reaches region 1 through the other region and the feed.
 */
const BETTER_WAIT_MS = 1_000;
const PLAYERS = 3;

/** The fault schedule, in ms after the players start. */
const FAULT_A_FROM = 12_000;
const FAULT_A_TO = 28_000;
const FAULT_D_FROM = 32_000;
const FAULT_D_TO = 48_000;
const END = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  readonly player: number;
  readonly number: number;
  readonly status: number;
  readonly pipeline: string | null;
  readonly defect: string | null;
  readonly quality: string | null;
  /** CMSD-Static `ht`: how long the origin held the request that filled Varnish. */
  readonly heldMs: number | undefined;
  readonly sentAt: number;
  readonly at: number;
}

run('quality faults through Varnish: the demo’s faults a and d, with b healthy', () => {
  let regions: LocalRegionsProcess;
  let origins: ServerProcess[] = [];
  let edge: Varnish;
  let proxy: IngestProxy;
  const packagers: ChildProcess[] = [];

  beforeAll(async () => {
    regions = await spawnLocalRegions();
    const ports = [await freePort(), await freePort()];
    edge = await startTwoRegionVarnish(`http://127.0.0.1:${ports[0]}`, `http://127.0.0.1:${ports[1]}`);
    origins = await Promise.all(
      ([0, 1] as const).map((index) =>
        startServerProcess({ ...regionOriginEnv(regions.address, index, TOKEN), PORT: String(ports[index]), LIVE_ORIGIN_PURGE_URLS: edge.url }),
      ),
    );
    proxy = await startIngestProxy({ a: origins[0]!.url, b: origins[1]!.url });
    proxy.follow('b', 'a', ARRIVAL_GAP_MS);
  }, 90_000);

  afterAll(async () => {
    for (const child of packagers) child.kill('SIGKILL');
    await proxy?.close();
    await edge?.stop();
    await Promise.all(origins.map((origin) => origin.stop('SIGKILL')));
    await regions?.stop();
  });

  /** Follows the playlist, then asks for each next segment before it exists (held at the origin). */
  async function player(id: number, until: number, answers: Answer[]): Promise<void> {
    let next: number | undefined;
    while (Date.now() < until) {
      if (next === undefined) {
        const playlist = await fetch(`${edge.url}/live/${EVENT}/v/index.m3u8`).catch(() => undefined);
        const numbers = playlist?.ok ? [...(await playlist.text()).matchAll(/seg_(\d+)\.m4s/g)].map((m) => Number(m[1])) : [];
        if (numbers.length === 0) {
          await sleep(200);
          continue;
        }
        next = Math.max(...numbers) + 1;
      }
      const sentAt = Date.now();
      const response = await fetch(`${edge.url}/live/${EVENT}/v/seg_${next}.m4s`).catch(() => undefined);
      await response?.arrayBuffer();
      if (!response) {
        await sleep(200);
        continue;
      }
      const ht = /(?:^|,)ht=(\d+)/.exec(response.headers.get('cmsd-static') ?? '')?.[1];
      answers.push({
        player: id,
        number: next,
        status: response.status,
        pipeline: response.headers.get('live-pipeline'),
        defect: response.headers.get('live-defect'),
        quality: response.headers.get('live-quality'),
        heldMs: ht === undefined ? undefined : Number(ht),
        sentAt,
        at: Date.now(),
      });
      if (response.status === 200 || response.status === 410) next++;
      // A 404 ahead of the hold window, or after a hold timed out: ask again shortly.
      else await sleep(200);
    }
  }

  it('players get b’s clean copies of every segment a sends defective or degraded, and a’s clean ones at once', async () => {
    const configured = await fetch(`${origins[0]!.url}/admin/events/${EVENT}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ pipelines: ['a', 'b'], betterWaitMs: BETTER_WAIT_MS }),
    });
    expect(configured.status).toBeLessThan(300);
    for (const pipeline of ['a', 'b']) {
      packagers.push(
        startHlsPackager({
          ingestBase: `${proxy.url}/ingest/${EVENT}/${pipeline}`,
          token: TOKEN,
          seconds: PACKAGER_SECONDS,
          segmentSeconds: SEGMENT_SECONDS,
          fps: FPS,
        }),
      );
    }
    // Players join once the origin has a timeline (three segments) and so holds the next one.
    const segments = async () =>
      (await fetch(`${origins[0]!.url}/admin/events/${EVENT}`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.json())) as {
        pipelines: { pipeline: string; liveEdge?: number }[];
      };
    for (const giveUpAt = Date.now() + 40_000; ; ) {
      const status = await segments();
      if (status.pipelines.length === 2 && status.pipelines.every((p) => (p.liveEdge ?? 0) >= 3)) break;
      if (Date.now() > giveUpAt) throw new Error(`the packagers did not publish three segments each: ${JSON.stringify(status.pipelines)}`);
      await sleep(250);
    }

    const started = Date.now();
    const answers: Answer[] = [];
    const players = Array.from({ length: PLAYERS }, (_, i) => sleep(i * 700).then(() => player(i, started + END, answers)));
    const at = (offset: number) => sleep(Math.max(0, started + offset - Date.now()));
    await at(FAULT_A_FROM);
    proxy.flag('a', 'corrupt');
    await at(FAULT_A_TO);
    proxy.flag('a', undefined);
    await at(FAULT_D_FROM);
    proxy.score('a', 40);
    await at(FAULT_D_TO);
    proxy.score('a', undefined);
    await Promise.all(players);

    const media = answers.filter((answer) => answer.status === 200);
    const flagged = new Set([...(proxy.flagged.get('a') ?? [])].map((id) => id.slice(EVENT.length + 1)));
    const scored = new Set([...(proxy.scored.get('a') ?? [])].map((id) => id.slice(EVENT.length + 1)));
    const faulted = (answer: Answer) => flagged.has(`v/seg_${answer.number}.m4s`) || scored.has(`v/seg_${answer.number}.m4s`);
    const aAcked = proxy.acked.get('a') ?? new Map<string, number>();
    // For a request sent before a's copy was acknowledged: how long after that its answer came.
    const releaseAfterAck = (answers: Answer[]) =>
      answers.flatMap((answer) => {
        const ack = aAcked.get(`${EVENT}/v/seg_${answer.number}.m4s`);
        return ack !== undefined && answer.sentAt < ack ? [answer.at - ack] : [];
      });
    const held = (answers: Answer[]) => answers.flatMap((answer) => (answer.heldMs === undefined ? [] : [answer.heldMs]));
    const figures = (name: string, answers: Answer[]) => {
      const ht = held(answers);
      const after = releaseAfterAck(answers);
      return `${name}: ${answers.length} answers (${new Set(answers.map((a) => a.number)).size} segments), CMSD ht p50 ${percentile(ht, 50)} ms, p99 ${percentile(ht, 99)} ms; answered after a's ack p50 ${percentile(after, 50)} ms, p99 ${percentile(after, 99)} ms (over ${after.length} held requests)`;
    };
    console.log(
      figures(
        "a's copy clean (released at once)",
        media.filter((answer) => !faulted(answer)),
      ),
    );
    console.log(figures("a's copy defective or scored 40 (waited for b's)", media.filter(faulted)));
    const metrics = await (await fetch(`${origins[0]!.url}/metrics`)).text();
    console.log(
      `region 1 first selections: ${metrics
        .split('\n')
        .filter((line) => line.startsWith('live_origin_first_selections_total{'))
        .join(', ')}`,
    );

    // Every player played on through both faults, from both pipelines.
    expect(answers.filter((answer) => answer.status >= 500)).toEqual([]);
    for (let id = 0; id < PLAYERS; id++) expect(media.filter((answer) => answer.player === id).length).toBeGreaterThanOrEqual(20);
    expect(flagged.size).toBeGreaterThan(3);
    expect(scored.size).toBeGreaterThan(3);
    const gotFaulted = media.filter(faulted);
    expect(new Set(gotFaulted.filter((answer) => flagged.has(`v/seg_${answer.number}.m4s`)).map((a) => a.number)).size).toBeGreaterThan(3);
    expect(new Set(gotFaulted.filter((answer) => scored.has(`v/seg_${answer.number}.m4s`)).map((a) => a.number)).size).toBeGreaterThan(3);

    // No viewer got a defective or degraded segment while b was healthy. "Healthy" is judged by
    // what happened, not by a margin: b's copy of the segment was acknowledged within the wait
    // after a's. A segment whose b copy came later (a host stalled for longer than the wait) may
    // rightly go out as a's after the wait timed out; it is reported and left out of the verdict.
    const bAcked = proxy.acked.get('b') ?? new Map<string, number>();
    const bLate = (answer: Answer) => {
      const id = `${EVENT}/v/seg_${answer.number}.m4s`;
      const [a, b] = [aAcked.get(id), bAcked.get(id)];
      return a !== undefined && (b === undefined || b - a > BETTER_WAIT_MS);
    };
    const excused = gotFaulted.filter(bLate);
    if (excused.length > 0) console.log(`b's copy came after the wait for segments ${[...new Set(excused.map((a) => a.number))].join(', ')}: left out`);
    const judged = media.filter((answer) => !(faulted(answer) && bLate(answer)));
    expect(judged.filter((answer) => answer.defect !== null || answer.quality !== '100')).toEqual([]);
    for (const answer of gotFaulted.filter((answer) => !bLate(answer))) expect(answer.pipeline).toBe('b');
    expect(new Set(gotFaulted.filter((answer) => answer.pipeline === 'b').map((a) => a.number)).size).toBeGreaterThan(6);
    // a's clean copies, first to arrive, went out without waiting for b's.
    expect(media.filter((answer) => !faulted(answer) && answer.pipeline === 'a').length).toBeGreaterThan(0);
    expect(metrics).toMatch(/live_origin_first_selections_total\{outcome="better_after_wait"\} [1-9]/);
  }, 180_000);
});
