/**
 * The demo's web page: an hls.js player, or with `--ll-dash` a dash.js player in its low-latency
 * mode (either served from node_modules by the demo itself, nothing from a CDN), playing through
 * Varnish, beside the origin's own status page, with buttons for the four faults. The player page is on another origin than Varnish, so every segment it
 * reads crosses CORS as a real web player's would.
 *
 * `window.demo` exposes what the player measured, for the demo's test and screenshot.
 */

export interface DemoPageOptions {
  /** The master/media playlist (or, for LL-DASH, the MPD) through Varnish. */
  readonly playlistUrl: string;
  /**
   * `hls`: hls.js two segments behind the edge. `ll-dash`: dash.js at the MPD's latency target,
   * its low-latency mode on by itself (segments streamed while ingested).
   * @default 'hls'
   */
  readonly player?: DemoPlayer;
  /** Status page URLs by region; the page shows the first region that is up. */
  readonly statusUrls: readonly { readonly region: string; readonly url: string }[];
  /** Bearer token for the status page (a local demo's generated token; put in the fragment). */
  readonly token: string;
}

export type DemoPlayer = 'hls' | 'll-dash';

/** The script each player needs, as the demo serves it. */
export const PLAYER_SCRIPTS: Readonly<Record<DemoPlayer, { readonly url: string; readonly file: string }>> = {
  hls: { url: '/hls.min.js', file: 'node_modules/hls.js/dist/hls.min.js' },
  'll-dash': { url: '/dash.all.min.js', file: 'node_modules/dashjs/dist/modern/umd/dash.all.min.js' },
};

/** How often the page asks the demo which faults are on and which regions are up. */
const STATE_POLL_MS = 1_000;

/**
 * Counts a media answer's pipeline (`Live-Pipeline`, and `Live-Defect` when the origin had
 * nothing better than a defective copy) and logs each change.
 */
const COUNT_SEGMENT = `function countSegment(number, pipeline, defect, quality) {
    if (!pipeline) return;
    demo.pipelines[pipeline] = (demo.pipelines[pipeline] || 0) + 1;
    // The origin says when it had nothing better than a defective copy (Live-Defect: a=corrupt),
    // or than one scoring below 100 (Live-Quality: 40).
    if (defect) demo.defective[pipeline] = (demo.defective[pipeline] || 0) + 1;
    const degraded = quality !== null && quality !== undefined && quality !== '100';
    if (degraded) demo.degraded[pipeline] = (demo.degraded[pipeline] || 0) + 1;
    if (pipeline !== demo.lastPipeline || defect !== demo.lastDefect || quality !== demo.lastQuality) {
      log('segment ' + number + ' from pipeline ' + pipeline + (defect ? ', flagged defective (' + defect + ')' : '') + (degraded ? ', quality ' + quality : ''));
    }
    demo.lastPipeline = pipeline;
    demo.lastDefect = defect;
    demo.lastQuality = quality;
  }`;

/** Each player's part of the page: starts it on config.playlistUrl and defines latencyS(). */
const PLAYERS: Readonly<Record<DemoPlayer, string>> = {
  hls: `// Two segments behind the edge, caught up by playing faster after a slow start or a stall,
  // and by a jump back to that point once more than five segments behind (a busy machine).
  const hls = new Hls({ liveSyncDurationCount: 2, liveMaxLatencyDurationCount: 5, maxLiveSyncPlaybackRate: 1.5, manifestLoadingMaxRetry: 10, levelLoadingMaxRetry: 10, fragLoadingMaxRetry: 10 });
  hls.on(Hls.Events.FRAG_LOADED, (_e, data) => {
    const xhr = data.networkDetails;
    if (!xhr || !xhr.getResponseHeader) return;
    countSegment(data.frag.sn, xhr.getResponseHeader('live-pipeline'), xhr.getResponseHeader('live-defect'), xhr.getResponseHeader('live-quality'));
  });
  hls.on(Hls.Events.ERROR, (_e, data) => {
    demo.errors++;
    if (!data.fatal) return;
    demo.fatal++;
    log('fatal player error: ' + data.details + ', recovering');
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    // Before the first playlist arrived there is nothing to resume: load it again.
    else if (!demo.playing) setTimeout(() => hls.loadSource(config.playlistUrl), 1000);
    else hls.startLoad();
  });
  hls.loadSource(config.playlistUrl);
  hls.attachMedia(video);
  const latencyS = () => (hls.playingDate ? (Date.now() - hls.playingDate.getTime()) / 1000 : null);`,
  'll-dash': `// dash.js reads segments with fetch (streams, in its low-latency mode): the selection
  // headers of each video segment's answer, read through CORS as it starts.
  const plainFetch = window.fetch;
  window.fetch = async (input, init) => {
    const response = await plainFetch(input, init);
    const number = /chunk-stream0-(\\d+)\\.m4s$/.exec(response.url);
    if (number) countSegment(Number(number[1]), response.headers.get('live-pipeline'), response.headers.get('live-defect'), response.headers.get('live-quality'));
    return response;
  };
  // No settings: the MPD's latency target, its UTCTiming clock, and its low-latency mode.
  const player = dashjs.MediaPlayer().create();
  player.on(dashjs.MediaPlayer.events.ERROR, (e) => {
    demo.errors++;
    log('player error: ' + (e.error && (e.error.code + ' ' + e.error.message)));
  });
  player.initialize(video, config.playlistUrl, true);
  const latencyS = () => (demo.playing ? player.getCurrentLiveLatency() || null : null);`,
};

export function demoPage(options: DemoPageOptions): string {
  const player = options.player ?? 'hls';
  const config = JSON.stringify({ ...options, statePollMs: STATE_POLL_MS }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Live Origin demo</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #101418; color: #e8ecf0; }
  header { padding: 8px 14px; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
  h1 { font-size: 17px; margin: 0 12px 0 0; }
  button { font: inherit; padding: 4px 10px; border-radius: 4px; border: 1px solid #5a6470; background: #26303a; color: #e8ecf0; cursor: pointer; }
  button.on { background: #8a2a2a; border-color: #c04040; }
  main { display: flex; gap: 10px; padding: 0 10px 10px; height: calc(100vh - 52px); box-sizing: border-box; }
  #player { flex: 0 0 46%; display: flex; flex-direction: column; gap: 6px; }
  video { width: 100%; background: #000; aspect-ratio: 16 / 9; }
  #stats { font-variant-numeric: tabular-nums; display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; }
  #log { font: 12px/1.3 ui-monospace, monospace; color: #b8c2cc; overflow: auto; flex: 1; white-space: pre-wrap; }
  iframe { flex: 1; border: 0; background: #f6f7f9; border-radius: 4px; }
</style>
</head>
<body>
<header>
  <h1>Live Origin demo</h1>
  <button id="fault-a" data-fault="a">a: pipeline a sends defective segments</button>
  <button id="fault-d" data-fault="d">d: pipeline a scores its segments quality 40</button>
  <button id="fault-b" data-fault="b">b: kill pipeline a</button>
  <button id="fault-c" data-fault="c">c: kill region 1's origin</button>
</header>
<main>
  <section id="player">
    <video id="video" muted autoplay playsinline controls></video>
    <div id="stats"></div>
    <div id="log"></div>
  </section>
  <iframe id="status" title="origin status"></iframe>
</main>
<script src="${PLAYER_SCRIPTS[player].url}"></script>
<script>
(() => {
  const config = ${config};
  const $ = (id) => document.getElementById(id);
  const demo = (window.demo = { playing: false, stalls: 0, errors: 0, fatal: 0, pipelines: {}, defective: {}, degraded: {}, lastPipeline: null, lastDefect: null, lastQuality: null, latencyS: null, currentTime: 0, playedS: 0, log: [] });
  function log(line) {
    const entry = new Date().toISOString().slice(11, 19) + '  ' + line;
    demo.log.push(entry);
    $('log').textContent = demo.log.slice(-40).reverse().join('\\n');
  }

  const video = $('video');
  ${COUNT_SEGMENT}
  ${PLAYERS[player]}
  video.addEventListener('playing', () => { demo.playing = true; });
  // Seconds actually played (currentTime is media time, which starts where the live edge was and jumps on catch-up).
  let lastTime = null;
  video.addEventListener('timeupdate', () => {
    const step = lastTime === null ? 0 : video.currentTime - lastTime;
    if (step > 0 && step < 1) demo.playedS += step;
    lastTime = video.currentTime;
  });
  video.addEventListener('waiting', () => {
    if (!demo.playing) return;
    demo.stalls++;
    log('stall ' + demo.stalls);
  });
  video.play().catch(() => undefined);

  function renderStats() {
    demo.currentTime = video.currentTime;
    demo.latencyS = latencyS();
    const rows = [
      ['played', demo.playing ? demo.playedS.toFixed(1) + ' s (media time ' + video.currentTime.toFixed(1) + ' s)' : 'starting'],
      ['latency', demo.latencyS === null ? '-' : demo.latencyS.toFixed(${player === 'll-dash' ? 2 : 1}) + ' s behind the packager clock'],
      ['segments from', Object.entries(demo.pipelines).map(([p, n]) => p + ' ' + n + (demo.defective[p] ? ' (' + demo.defective[p] + ' flagged defective)' : '') + (demo.degraded[p] ? ' (' + demo.degraded[p] + ' below quality 100)' : '')).join(', ') || '-'],
      ['stalls / errors', demo.stalls + ' / ' + demo.errors + ' (fatal ' + demo.fatal + ')'],
      ['stream', config.playlistUrl],
    ];
    $('stats').replaceChildren(...rows.flatMap(([k, v]) => [Object.assign(document.createElement('span'), { textContent: k }), Object.assign(document.createElement('span'), { textContent: v })]));
  }
  setInterval(renderStats, 500);

  let shownRegion = null;
  async function pollState() {
    try {
      const state = await (await fetch('/state', { cache: 'no-store' })).json();
      for (const fault of ['a', 'b', 'c', 'd']) $('fault-' + fault).classList.toggle('on', Boolean(state.faults[fault]));
      const up = config.statusUrls.find((s) => state.regionsUp.includes(s.region)) || config.statusUrls[0];
      if (up.region !== shownRegion) {
        shownRegion = up.region;
        $('status').src = up.url + '#token=' + encodeURIComponent(config.token);
        log('status page of ' + up.region);
      }
    } catch {
      // The demo is stopping; nothing to update.
    }
  }
  for (const button of document.querySelectorAll('button[data-fault]')) {
    button.addEventListener('click', async () => {
      const fault = button.dataset.fault;
      const answer = await (await fetch('/faults/' + fault, { method: 'POST' })).json();
      log(answer.message);
      pollState();
    });
  }
  pollState();
  setInterval(pollState, config.statePollMs);
})();
</script>
</body>
</html>
`;
}
