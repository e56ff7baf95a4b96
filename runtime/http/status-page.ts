/**
 * The status page: one self-contained HTML document (no framework, nothing fetched from a CDN),
 * kept as a string so the runtime bundle (lib/runtime-bundle.ts) carries it with no files.
 *
 * The page holds no secret and is served to anyone. A browser cannot send a bearer header when
 * it navigates, so the page asks for the token (form field, or `#token=...` in the URL fragment,
 * which never reaches a server or a log) and sends it as `Authorization: Bearer` on each poll of
 * `/status.json`. The token is kept in the tab's sessionStorage only.
 */

/** How often the page polls `/status.json`. */
export const STATUS_REFRESH_MS = 1_000;

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Live Origin status</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; padding: 12px 16px; background: #f6f7f9; color: #1b1f24; }
  h1 { font-size: 18px; margin: 0 0 8px; }
  h2 { font-size: 15px; margin: 16px 0 6px; }
  form { display: flex; gap: 6px; align-items: center; margin-bottom: 8px; }
  input { font: inherit; padding: 3px 6px; width: 22em; }
  #summary { color: #444; margin-bottom: 6px; }
  #error { color: #b00020; font-weight: 600; }
  table { border-collapse: collapse; background: #fff; margin-bottom: 8px; }
  th, td { border: 1px solid #d8dce1; padding: 3px 8px; text-align: left; font-variant-numeric: tabular-nums; }
  th { background: #eceff3; font-weight: 600; }
  .event { background: #fff; border: 1px solid #d8dce1; border-radius: 4px; padding: 8px 10px; margin-bottom: 10px; }
  .event h3 { margin: 0 0 4px; font-size: 15px; }
  .meta { color: #555; font-size: 12px; margin-bottom: 6px; }
  .ok { color: #0a7a2f; font-weight: 600; }
  .bad { color: #b00020; font-weight: 600; }
  .moved { background: #fff4d6; }
  .low { color: #9a5b00; font-weight: 600; }
  .columns { display: flex; gap: 16px; flex-wrap: wrap; }
</style>
</head>
<body>
<h1>Live Origin status</h1>
<form id="token-form">
  <label for="token">Token</label>
  <input id="token" name="token" type="password" autocomplete="off" placeholder="bearer token">
  <button type="submit">Show</button>
  <span id="error" role="alert"></span>
</form>
<div id="summary"></div>
<div id="events"></div>
<div class="columns">
  <section><h2>Recent selections</h2><table id="selections"><thead><tr><th>time</th><th>event</th><th>path</th><th>pipeline</th><th>was</th><th>outcome</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Recent purges</h2><table id="purges"><thead><tr><th>time</th><th>event</th><th>paths</th></tr></thead><tbody></tbody></table></section>
</div>
<script>
(() => {
  const REFRESH_MS = ${STATUS_REFRESH_MS};
  const KEY = 'live-origin-status-token';
  const $ = (id) => document.getElementById(id);
  let token = sessionStorage.getItem(KEY) || '';
  const fragment = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fragment) {
    token = fragment;
    sessionStorage.setItem(KEY, token);
    history.replaceState(null, '', location.pathname + location.search);
  }
  $('token').value = token;
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    token = $('token').value.trim();
    sessionStorage.setItem(KEY, token);
    poll();
  });

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  function row(cells, cls) {
    const tr = el('tr', undefined, cls);
    for (const cell of cells) tr.append(cell instanceof Node ? cell : el('td', cell));
    return tr;
  }
  function time(iso) { return new Date(iso).toISOString().slice(11, 23); }
  // A pipeline's latest quality score, with the mean and lowest of its recent ones when any fell below 100.
  function quality(scores) {
    if (!scores || scores.length === 0) return el('td', '-');
    const last = scores[scores.length - 1];
    const low = Math.min(...scores);
    if (low === 100) return el('td', '100');
    const mean = Math.round(scores.reduce((sum, score) => sum + score, 0) / scores.length);
    return el('td', last + ' (mean ' + mean + ', min ' + low + ' of last ' + scores.length + ')', 'low');
  }
  function fill(tbody, rows) { tbody.replaceChildren(...rows); }

  function renderEvent(status) {
    const box = el('div', undefined, 'event');
    box.dataset.event = status.event;
    box.append(el('h3', status.event));
    const config = status.config || {};
    const parts = [];
    if (config.pipelines) parts.push('order ' + config.pipelines.join(', '));
    if (config.segmentDurationMs) parts.push('segments ' + config.segmentDurationMs + ' ms');
    for (const r of status.renditions || []) parts.push(r.rendition + ' newest ' + (r.newest ?? '-'));
    if (status.masks && status.masks.length) parts.push(status.masks.length + ' mask(s)');
    box.append(el('div', parts.join(' · '), 'meta'));
    const notes = Object.entries(status.notifications || {});
    if (notes.length) box.append(el('div', notes.map(([k, v]) => k + ': ' + v).join(' · '), 'meta'));
    const table = el('table');
    table.append(row(['pipeline', 'live edge', 'lateness', 'ingests', 'defective', 'quality', 'masks', 'last ingest', 'health'].map((h) => el('th', h))));
    for (const p of status.pipelines || []) {
      const tr = row([
        p.pipeline,
        p.liveEdge ?? '-',
        p.latenessMs === undefined ? '-' : Math.round(p.latenessMs) + ' ms',
        p.ingests,
        p.defectiveIngests ?? 0,
        quality(p.recentQuality),
        p.masks ?? 0,
        p.lastIngestAt ? time(p.lastIngestAt) : '-',
        el('td', p.healthy ? 'healthy' : 'unhealthy', p.healthy ? 'ok' : 'bad'),
      ]);
      tr.dataset.pipeline = p.pipeline;
      table.append(tr);
    }
    box.append(table);
    return box;
  }

  function render(s) {
    $('summary').textContent = 'at ' + time(s.at) + ' · readiness ' + s.readiness + ' · held requests ' + s.held +
      ' · events ' + s.events.length + (s.moreEvents ? ' (+' + s.moreEvents + ' not shown)' : '');
    $('events').replaceChildren(...s.events.map(renderEvent));
    fill($('selections').tBodies[0], s.selections.map((x) =>
      row([time(new Date(x.at).toISOString()), x.event, x.path, x.pipeline, x.previous ?? '', x.outcome], x.previous ? 'moved' : '')));
    fill($('purges').tBodies[0], s.purges.map((x) => row([time(new Date(x.at).toISOString()), x.event, x.paths.join(' ')])));
  }

  let timer;
  async function poll() {
    clearTimeout(timer);
    if (!token) {
      $('error').textContent = 'enter a token';
      return;
    }
    try {
      // credentials 'omit': the token travels in its own header, and a 401 that offers Basic
      // must not make the browser open its login dialog (the fetch would wait on it).
      const response = await fetch('status.json', { headers: { authorization: 'Bearer ' + token }, cache: 'no-store', credentials: 'omit' });
      if (response.status === 401 || response.status === 403) {
        $('error').textContent = 'token refused (' + response.status + ')';
        return;
      }
      if (!response.ok) throw new Error('status ' + response.status);
      render(await response.json());
      $('error').textContent = '';
    } catch (error) {
      $('error').textContent = 'origin unreachable: ' + error.message;
    }
    timer = setTimeout(poll, REFRESH_MS);
  }
  poll();
})();
</script>
</body>
</html>
`;
