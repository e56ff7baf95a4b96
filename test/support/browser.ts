import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../../scripts/demo-screenshots.js';

/**
 * Debian's Chromium driven by playwright-core, and a page server on its own loopback port (so
 * the players' requests to the CDN are cross-origin and CORS is exercised, as on the web).
 */

// One Chromium command line for the tests and the demo's screenshots.
export { CHROMIUM } from '../../scripts/demo-screenshots.js';

export function chromiumInstalled(): boolean {
  return existsSync(CHROMIUM);
}

/**
 * `niceness` (1 to 19) runs Chromium and every process it starts at that scheduling priority or
 * lower, so on a small host the viewer yields to the system under test. Chromium raises some of
 * its own threads (display-critical ones to nice -8) when it may, as root; the wrapper takes
 * that right away (CAP_SYS_NICE out of the bounding set, util-linux's setpriv) before `nice`.
 */
/** The browser process of each Chromium launched with a niceness (its wrapper writes the pid before `exec`). */
const browserPids = new WeakMap<Browser, string>();

/**
 * Sets the niceness of every thread of a browser launched with `niceness`, and of every process
 * under it. As root this may also lower it, which that Chromium cannot do itself.
 */
export function reniceChromium(browser: Browser, niceness: number): void {
  const pidFile = browserPids.get(browser);
  if (pidFile === undefined) return;
  const root = readFileSync(pidFile, 'utf8').trim();
  const children = new Map<string, string[]>();
  for (const line of spawnSync('ps', ['-eo', 'pid=,ppid=']).stdout.toString().split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/);
    if (pid && ppid) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  for (const pending = [root]; pending.length > 0; ) {
    const pid = pending.pop()!;
    pending.push(...(children.get(pid) ?? []));
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    spawnSync('renice', ['-n', String(niceness), '-p', ...tids]);
  }
}

export async function launchChromium(options: { niceness?: number } = {}): Promise<Browser> {
  const niceness = options.niceness ?? 0;
  if (niceness === 0) return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const dir = mkdtempSync(join(tmpdir(), 'live-origin-chromium-'));
  const executablePath = join(dir, 'chromium');
  const dropNice = existsSync('/usr/bin/setpriv') ? 'setpriv --bounding-set -sys_nice --inh-caps -sys_nice -- ' : '';
  const pidFile = join(dir, 'pid');
  writeFileSync(executablePath, `#!/bin/sh\necho $$ > ${pidFile}\nexec ${dropNice}nice -n ${niceness} ${CHROMIUM} "$@"\n`);
  chmodSync(executablePath, 0o755);
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS }).catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  browserPids.set(browser, pidFile);
  browser.on('disconnected', () => rmSync(dir, { recursive: true, force: true }));
  return browser;
}

const PLAYER_SCRIPTS: Readonly<Record<string, string>> = {
  '/hls.min.js': 'node_modules/hls.js/dist/hls.min.js',
  '/dash.all.min.js': 'node_modules/dashjs/dist/modern/umd/dash.all.min.js',
};

/** What the page records, read by the test with `page.evaluate(() => window.playerReport)`. */
export interface PlayerReport {
  readonly kind: 'hls' | 'dash';
  /** Wall clock (ms) of the first `playing`. */
  readonly playingAt: number | null;
  /** Wall clock of every `waiting` after the first `playing`. */
  readonly stalls: number[];
  readonly errors: string[];
  readonly fatal: string[];
  /** Every response the player got: URL, status and the origin's selection headers (read through CORS). */
  readonly responses: { url: string; status: number; at: number; pipeline: string | null; defect: string | null }[];
  /** The last six playlists or manifests the player got: length, first 120 and last 80 characters. */
  readonly manifests: { url: string; status: number; at: number; length: number; head: string; tail: string }[];
  /** Live latency samples in ms (wall clock minus the playhead's wall-clock time), one a second (four with low latency). */
  readonly latencies: number[];
  /** The same samples with their wall clock, playhead and playback rate. */
  readonly samples: { at: number; time: number; latencyMs: number; rate: number }[];
  readonly currentTime: number;
  /** dash.js: whether its low-latency mode is on (null for hls.js). */
  readonly lowLatency: boolean | null;
}

/**
 * dash.js as a low-latency player: no settings of its own, so it plays at the MPD's
 * ServiceDescription latency target, syncs its clock to the MPD's UTCTiming, and turns its
 * low-latency mode on by itself (segments with availabilityTimeComplete="false", fetched as
 * streams), catching up by playback rate as it does there.
 */
const LOW_LATENCY_DASH = `const player = dashjs.MediaPlayer().create();
         player.on(dashjs.MediaPlayer.events.ERROR, (e) => report.fatal.push('dash:' + JSON.stringify(e.error && (e.error.code + ' ' + e.error.message))));
         player.on(dashjs.MediaPlayer.events.PLAYBACK_ERROR, (e) => report.fatal.push('playback:' + String(e.error)));
         player.initialize(video, SRC, true);
         latency = () => (player.getCurrentLiveLatency() || 0) * 1000;
         lowLatency = () => player.getLowLatencyModeEnabled ? player.getLowLatencyModeEnabled() : null;`;

/** Latency samples per second: one for players seconds behind live, four for low latency. */
const SAMPLE_MS = { normal: 1000, lowLatency: 250 } as const;

/**
 * The player page: records responses (XHR and fetch, with `Live-Pipeline`/`Live-Defect`, which
 * only CORS lets it read), stalls, errors and live latency.
 */
function playerPage(kind: 'hls' | 'dash', src: string, lowLatencyDash = false): string {
  const player = lowLatencyDash
    ? LOW_LATENCY_DASH
    : kind === 'hls'
      ? `const hls = new Hls({ liveSyncDurationCount: 3 });
         hls.on(Hls.Events.ERROR, (_e, d) => (d.fatal ? report.fatal : report.errors).push(d.type + ':' + d.details));
         hls.loadSource(SRC); hls.attachMedia(video);
         latency = () => hls.playingDate ? Date.now() - hls.playingDate.getTime() : (hls.latency || 0) * 1000;`
      : `const player = dashjs.MediaPlayer().create();
         // Five seconds behind live: a buffer like hls.js's default (three target durations), where
         // dash.js's own default (four segments from an edge it computes from the clock) left it
         // under two seconds of buffer and stalling on one-second segments that arrive on time.
         player.updateSettings({ streaming: { delay: { liveDelay: 5 }, utcSynchronization: { defaultTimingSource: { scheme: 'urn:mpeg:dash:utc:http-iso:2014', value: location.origin + '/time' } } } });
         player.on(dashjs.MediaPlayer.events.ERROR, (e) => report.fatal.push('dash:' + JSON.stringify(e.error && (e.error.code + ' ' + e.error.message))));
         player.on(dashjs.MediaPlayer.events.PLAYBACK_ERROR, (e) => report.fatal.push('playback:' + String(e.error)));
         player.initialize(video, SRC, true);
         latency = () => (player.getCurrentLiveLatency() || 0) * 1000;`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>${kind}</title></head><body>
<video id="video" muted autoplay playsinline width="320" height="180"></video>
<script src="${kind === 'hls' ? '/hls.min.js' : '/dash.all.min.js'}"></script>
<script>
const SRC = ${JSON.stringify(src)};
const report = { kind: ${JSON.stringify(kind)}, playingAt: null, stalls: [], errors: [], fatal: [], responses: [], manifests: [], latencies: [], samples: [], currentTime: 0, lowLatency: null };
window.playerReport = report;
function record(url, status, get) {
  report.responses.push({ url: String(url), status, at: Date.now(), pipeline: get('live-pipeline'), defect: get('live-defect') });
}
// The last few playlists and manifests as the player got them (length, start and end), to tell a
// malformed body from a player's own complaint.
function recordManifest(url, status, text) {
  if (!/\\.(mpd|m3u8)(\\?|$)/.test(String(url)) || typeof text !== 'string') return;
  report.manifests.push({ url: String(url), status, at: Date.now(), length: text.length, head: text.slice(0, 120), tail: text.slice(-80) });
  if (report.manifests.length > 6) report.manifests.shift();
}
const open = XMLHttpRequest.prototype.open;
const send = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.open = function (method, url, ...rest) { this.__url = url; return open.call(this, method, url, ...rest); };
XMLHttpRequest.prototype.send = function (...args) {
  this.addEventListener('loadend', () => {
    record(this.responseURL || this.__url, this.status, (n) => this.status ? this.getResponseHeader(n) : null);
    if (this.responseType === '' || this.responseType === 'text') recordManifest(this.responseURL || this.__url, this.status, this.responseText);
  });
  return send.apply(this, args);
};
const plainFetch = window.fetch;
window.fetch = async (input, init) => {
  const response = await plainFetch(input, init);
  record(response.url, response.status, (n) => response.headers.get(n));
  if (/\\.(mpd|m3u8)(\\?|$)/.test(response.url)) response.clone().text().then((text) => recordManifest(response.url, response.status, text), () => undefined);
  return response;
};
const video = document.getElementById('video');
video.addEventListener('playing', () => { if (report.playingAt === null) report.playingAt = Date.now(); });
video.addEventListener('waiting', () => { if (report.playingAt !== null) report.stalls.push(Date.now()); });
video.addEventListener('error', () => report.fatal.push('video:' + (video.error && video.error.message)));
let latency = () => 0;
let lowLatency = () => null;
setInterval(() => {
  report.currentTime = video.currentTime;
  report.lowLatency = lowLatency();
  if (report.playingAt !== null && !video.paused) {
    report.latencies.push(Math.round(latency()));
    report.samples.push({ at: Date.now(), time: video.currentTime, latencyMs: Math.round(latency()), rate: video.playbackRate });
  }
}, ${lowLatencyDash ? SAMPLE_MS.lowLatency : SAMPLE_MS.normal});
${player}
</script></body></html>`;
}

export interface PageServer {
  readonly url: string;
  /** The page that plays `src` with hls.js or dash.js (`lowLatency`: dash.js as an LL-DASH player). */
  playerUrl(kind: 'hls' | 'dash', src: string, options?: { lowLatency?: boolean }): string;
  close(): Promise<void>;
}

/** Serves the player page, the players' scripts from node_modules, and `/time` (dash.js clock sync). */
export async function startPageServer(): Promise<PageServer> {
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://page');
    if (url.pathname === '/player.html') {
      const kind = url.searchParams.get('kind') === 'dash' ? 'dash' : 'hls';
      const lowLatencyDash = kind === 'dash' && url.searchParams.get('ll') === '1';
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(playerPage(kind, url.searchParams.get('src') ?? '', lowLatencyDash));
      return;
    }
    const script = PLAYER_SCRIPTS[url.pathname];
    if (script) {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(script));
      return;
    }
    if (url.pathname === '/time') {
      response.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end(new Date().toISOString());
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    playerUrl: (kind, src, options = {}) => `${base}/player.html?kind=${kind}&src=${encodeURIComponent(src)}${options.lowLatency ? '&ll=1' : ''}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
