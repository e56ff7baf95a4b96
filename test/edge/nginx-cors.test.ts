import { afterAll, beforeAll, expect, it } from 'vitest';
import { CORS_EXPOSED_HEADERS, corsExposeHeaders, corsPolicy } from '../../runtime/domain/cors.js';
import type { Nginx } from '../support/nginx.js';
import { nginxInstalled, startNginx, startTwoRegionNginx } from '../support/nginx.js';
import type { TestOrigin } from '../support/origin.js';
import { AUTH, eventually, put, startOrigin } from '../support/origin.js';
import { describeWithTools } from '../support/tools.js';
import { freePort } from '../support/varnish.js';

// CI installs nginx (.ci/run) and must run these; elsewhere they are skipped, never faked.
const run = describeWithTools([!nginxInstalled() && 'nginx (apt-get install nginx)']);

const PAGE = 'http://player.example.test';
const OTHER = 'http://elsewhere.example.test';

run('CORS through the shipped nginx configuration', () => {
  let origin: TestOrigin;
  let edge: Nginx;

  beforeAll(async () => {
    const port = await freePort();
    edge = await startNginx(`http://127.0.0.1:${port}`);
    origin = await startOrigin({ port, cors: corsPolicy([PAGE, OTHER]), purgeUrls: [edge.url] });
  });
  afterAll(async () => {
    await edge?.stop();
    await origin?.close();
  });

  it('keeps one cached copy per page (Vary: Origin): a cached permission never reaches another page', async () => {
    await put(origin, 'edge-cors', 'a', 'v/seg_1.m4s', 'bytes');
    const url = `${edge.url}/live/edge-cors/v/seg_1.m4s`;
    const first = await fetch(url, { headers: { origin: PAGE } });
    expect(first.headers.get('access-control-allow-origin')).toBe(PAGE);
    expect(first.headers.get('access-control-expose-headers')).toContain('Live-Pipeline');
    const unlisted = await fetch(url, { headers: { origin: 'http://unlisted.example.test' } });
    expect(unlisted.status).toBe(200);
    expect(unlisted.headers.get('access-control-allow-origin')).toBeNull();
    const again = await fetch(url, { headers: { origin: PAGE } });
    expect(again.headers.get('x-cache')).toBe('HIT');
    expect(again.headers.get('access-control-allow-origin')).toBe(PAGE);
  });

  it('passes the preflight to the origin, which answers it', async () => {
    const response = await fetch(`${edge.url}/live/edge-cors/v/seg_1.m4s`, {
      method: 'OPTIONS',
      headers: { origin: PAGE, 'access-control-request-method': 'GET', 'access-control-request-headers': 'range' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(PAGE);
    expect(response.headers.get('access-control-allow-headers')).toContain('Range');
  });

  it("a purge of one object reaches every page's copy of it", async () => {
    await put(origin, 'edge-cors-2', 'a', 'v/seg_1.m4s', 'from-a');
    await put(origin, 'edge-cors-2', 'b', 'v/seg_1.m4s', 'from-b');
    const url = `${edge.url}/live/edge-cors-2/v/seg_1.m4s`;
    const pages = [PAGE, OTHER];
    for (const page of pages) expect(await (await fetch(url, { headers: { origin: page } })).text()).toBe('from-a');
    for (const page of pages) expect((await fetch(url, { headers: { origin: page } })).headers.get('x-cache')).toBe('HIT');
    await fetch(`${origin.url}/ingest/edge-cors-2/a/v/seg_1.m4s`, { method: 'PATCH', headers: { ...AUTH, 'live-defect': 'corrupt' } });
    await origin.purger.flush();
    for (const page of pages) {
      await eventually(async () => expect(await (await fetch(url, { headers: { origin: page } })).text()).toBe('from-b'));
    }
  });
});

run('CORS on the answers nginx makes itself', () => {
  it('a 503 when no region answers is readable by a player on another page, as the origin would send it', async () => {
    // Nothing listens on these ports: every fetch fails, and nginx answers itself.
    const one = await startNginx(`http://127.0.0.1:${await freePort()}`);
    const two = await startTwoRegionNginx(`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`);
    try {
      for (const edge of [one, two]) {
        const response = await fetch(`${edge.url}/live/edge-cors/v/index.m3u8`, { headers: { origin: PAGE } });
        expect(response.status).toBe(503);
        expect(await response.json()).toMatchObject({ error: 'unavailable' });
        expect(response.headers.get('access-control-allow-origin')).toBe('*');
        // The same list the origin exposes (runtime/domain/cors.ts), so Retry-After and Age are readable.
        expect(response.headers.get('access-control-expose-headers')).toBe(corsExposeHeaders());
        expect(CORS_EXPOSED_HEADERS).toContain('Retry-After');
        expect(response.headers.get('retry-after')).toBe('1');
      }
    } finally {
      await one.stop();
      await two.stop();
    }
  });
});
