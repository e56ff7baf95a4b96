import { afterAll, beforeAll, expect, it } from 'vitest';
import { CORS_EXPOSED_HEADERS, corsExposeHeaders, corsPolicy } from '../../runtime/domain/cors.js';
import type { TestOrigin } from '../support/origin.js';
import { put, startOrigin } from '../support/origin.js';
import { describeWithTools } from '../support/tools.js';
import type { Varnish } from '../support/varnish.js';
import { freePort, startTwoRegionVarnish, startVarnish, varnishInstalled } from '../support/varnish.js';

// CI installs Varnish (.ci/run) and must run these; elsewhere they are skipped, never faked.
const run = describeWithTools([!varnishInstalled() && 'varnish (apt-get install varnish)']);

const PAGE = 'http://player.example.test';
const OTHER = 'http://elsewhere.example.test';

run('CORS through the shipped VCL', () => {
  let origin: TestOrigin;
  let edge: Varnish;

  beforeAll(async () => {
    origin = await startOrigin({ cors: corsPolicy([PAGE]) });
    edge = await startVarnish(origin.url);
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
    const other = await fetch(url, { headers: { origin: OTHER } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
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
});

run('CORS on the answers Varnish makes itself', () => {
  it('a 503 when no region answers is readable by a player on another page, as the origin would send it', async () => {
    // Nothing listens on these ports: every fetch fails, and Varnish answers with its own 503.
    const one = await startVarnish(`http://127.0.0.1:${await freePort()}`);
    const two = await startTwoRegionVarnish(`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`);
    try {
      for (const edge of [one, two]) {
        const response = await fetch(`${edge.url}/live/edge-cors/v/index.m3u8`, { headers: { origin: PAGE } });
        await response.arrayBuffer();
        expect(response.status).toBe(503);
        expect(response.headers.get('access-control-allow-origin')).toBe('*');
        // The same list the origin exposes (runtime/domain/cors.ts), so Retry-After and Age are readable.
        expect(response.headers.get('access-control-expose-headers')).toBe(corsExposeHeaders());
        expect(CORS_EXPOSED_HEADERS).toContain('Retry-After');
      }
    } finally {
      await one.stop();
      await two.stop();
    }
  });

  it('a synthetic answer (here the 200 of a ban) carries them too', async () => {
    const edge = await startVarnish(`http://127.0.0.1:${await freePort()}`);
    try {
      const response = await fetch(`${edge.url}/live/edge-cors/*`, { method: 'PURGE' });
      await response.arrayBuffer();
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.headers.get('access-control-expose-headers')).toBe(corsExposeHeaders());
    } finally {
      await edge.stop();
    }
  });
});
