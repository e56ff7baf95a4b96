import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
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
  /** Live latency samples in ms (wall clock minus the playhead's wall-clock time), one a second. */
  readonly latencies: number[];
  readonly currentTime: number;
}

/**
 * The player page: records responses (XHR and fetch, with `Live-Pipeline`/`Live-Defect`, which
 * only CORS lets it read), stalls, errors and live latency.
 */
function playerPage(kind: 'hls' | 'dash', src: string): string {
  const player =
    kind === 'hls'
      ? `const hls = new Hls({ liveSyncDurationCount: 3 });
         hls.on(Hls.Events.ERROR, (_e, d) => (d.fatal ? report.fatal : report.errors).push(d.type + ':' + d.details));
         hls.loadSource(SRC); hls.attachMedia(video);
         latency = () => hls.playingDate ? Date.now() - hls.playingDate.getTime() : (hls.latency || 0) * 1000;`
      : `const player = dashjs.MediaPlayer().create();
         player.updateSettings({ streaming: { utcSynchronization: { defaultTimingSource: { scheme: 'urn:mpeg:dash:utc:http-iso:2014', value: location.origin + '/time' } } } });
         player.on(dashjs.MediaPlayer.events.ERROR, (e) => report.fatal.push('dash:' + JSON.stringify(e.error && (e.error.code + ' ' + e.error.message))));
         player.on(dashjs.MediaPlayer.events.PLAYBACK_ERROR, (e) => report.fatal.push('playback:' + String(e.error)));
         player.initialize(video, SRC, true);
         latency = () => (player.getCurrentLiveLatency() || 0) * 1000;`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>${kind}</title></head><body>
<video id="video" muted autoplay playsinline width="320" height="180"></video>
<script src="${kind === 'hls' ? '/hls.min.js' : '/dash.all.min.js'}"></script>
<script>
const SRC = ${JSON.stringify(src)};
const report = { kind: ${JSON.stringify(kind)}, playingAt: null, stalls: [], errors: [], fatal: [], responses: [], latencies: [], currentTime: 0 };
window.playerReport = report;
function record(url, status, get) {
  report.responses.push({ url: String(url), status, at: Date.now(), pipeline: get('live-pipeline'), defect: get('live-defect') });
}
const open = XMLHttpRequest.prototype.open;
const send = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.open = function (method, url, ...rest) { this.__url = url; return open.call(this, method, url, ...rest); };
XMLHttpRequest.prototype.send = function (...args) {
  this.addEventListener('loadend', () => record(this.responseURL || this.__url, this.status, (n) => this.status ? this.getResponseHeader(n) : null));
  return send.apply(this, args);
};
const plainFetch = window.fetch;
window.fetch = async (input, init) => {
  const response = await plainFetch(input, init);
  record(response.url, response.status, (n) => response.headers.get(n));
  return response;
};
const video = document.getElementById('video');
video.addEventListener('playing', () => { if (report.playingAt === null) report.playingAt = Date.now(); });
video.addEventListener('waiting', () => { if (report.playingAt !== null) report.stalls.push(Date.now()); });
video.addEventListener('error', () => report.fatal.push('video:' + (video.error && video.error.message)));
let latency = () => 0;
setInterval(() => {
  report.currentTime = video.currentTime;
  if (report.playingAt !== null && !video.paused) report.latencies.push(Math.round(latency()));
}, 1000);
${player}
</script></body></html>`;
}

export interface PageServer {
  readonly url: string;
  /** The page that plays `src` with hls.js or dash.js. */
  playerUrl(kind: 'hls' | 'dash', src: string): string;
  close(): Promise<void>;
}

/** Serves the player page, the players' scripts from node_modules, and `/time` (dash.js clock sync). */
export async function startPageServer(): Promise<PageServer> {
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://page');
    if (url.pathname === '/player.html') {
      const kind = url.searchParams.get('kind') === 'dash' ? 'dash' : 'hls';
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(playerPage(kind, url.searchParams.get('src') ?? ''));
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
    playerUrl: (kind, src) => `${base}/player.html?kind=${kind}&src=${encodeURIComponent(src)}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
