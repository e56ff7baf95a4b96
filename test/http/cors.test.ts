import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../runtime/config.js';
import { corsPolicy } from '../../runtime/domain/cors.js';
import type { TestOrigin } from '../support/origin.js';
import { AUTH, configure, put, startOrigin } from '../support/origin.js';

const PAGE = 'http://player.example.test:8000';
const OTHER = 'http://elsewhere.example.test';
const EXPOSED = ['Live-Pipeline', 'Live-Defect', 'Live-Quality', 'Live-TTL-Ms', 'CMSD-Static', 'CMSD-Dynamic', 'ETag', 'Content-Range', 'Age'];

/** The origin with the default policy (any page), one with a list, and one that sheds every hold. */
let open: TestOrigin;
let listed: TestOrigin;
let shedding: TestOrigin;
beforeAll(async () => {
  [open, listed, shedding] = await Promise.all([startOrigin(), startOrigin({ cors: corsPolicy([PAGE]) }), startOrigin({ maxHeld: 0 })]);
});
afterAll(async () => {
  await Promise.all([open?.close(), listed?.close(), shedding?.close()]);
});

const fromPage = (origin: TestOrigin, path: string, headers: Record<string, string> = {}, page = PAGE) =>
  fetch(`${origin.url}${path}`, { headers: { origin: page, ...headers } });

function exposed(response: Response): string[] {
  return (response.headers.get('access-control-expose-headers') ?? '').split(',').map((name) => name.trim().toLowerCase());
}

function expectReadable(response: Response, allowOrigin: string): void {
  expect(response.headers.get('access-control-allow-origin')).toBe(allowOrigin);
  for (const name of EXPOSED) expect(exposed(response)).toContain(name.toLowerCase());
}

describe('CORS on delivery responses (default: any page)', () => {
  it('200, 206 and 304 carry Allow-Origin * and expose the Live-*, CMSD-* and range headers', async () => {
    await put(open, 'cors-1', 'a', 'v/seg_1.m4s', '0123456789', { 'live-notify-alert': 'ad-break' });
    const full = await fromPage(open, '/live/cors-1/v/seg_1.m4s');
    expect(full.status).toBe(200);
    expectReadable(full, '*');
    expect(full.headers.get('vary')).toBeNull();
    // The event's own notifications are readable too.
    expect(exposed(full)).toContain('live-notify-alert');

    const part = await fromPage(open, '/live/cors-1/v/seg_1.m4s', { range: 'bytes=2-4' });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe('234');
    expectReadable(part, '*');

    const same = await fromPage(open, '/live/cors-1/v/seg_1.m4s', { 'if-none-match': full.headers.get('etag')! });
    expect(same.status).toBe(304);
    expectReadable(same, '*');
  });

  it('404, 410 and 503 carry them too, so a player can read why', async () => {
    const unknown = await fromPage(open, '/live/cors-none/v/seg_1.m4s');
    expect(unknown.status).toBe(404);
    expectReadable(unknown, '*');

    await configure(open, 'cors-2', { segmentDurationMs: 1000, availabilityStartTime: '2026-01-01T00:00:00Z', startNumber: 1 });
    await put(open, 'cors-2', 'a', 'v/seg_1.m4s', 'x');
    const gone = await fromPage(open, '/live/cors-2/v/seg_2.m4s');
    expect(gone.status).toBe(410);
    expectReadable(gone, '*');

    const D = 1000;
    await configure(shedding, 'cors-3', { segmentDurationMs: D, availabilityStartTime: new Date(Date.now() - 3 * D).toISOString(), startNumber: 1 });
    // The next segment would be held; with no room for holds it is shed.
    const shed = await fromPage(shedding, '/live/cors-3/v/seg_4.m4s');
    expect(shed.status).toBe(503);
    expectReadable(shed, '*');
  });

  it('a refused request (400) is readable too', async () => {
    const response = await fromPage(open, '/live/cors-1/v/seg%201.m4s');
    expect(response.status).toBe(400);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('answers with * even without an Origin, so a cache keeps one copy for every page', async () => {
    await put(open, 'cors-4', 'a', 'v/seg_1.m4s', 'x');
    const response = await fetch(`${open.url}/live/cors-4/v/seg_1.m4s`);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('CORS with a list of allowed origins', () => {
  it('echoes a listed page and varies on Origin', async () => {
    await put(listed, 'cors-5', 'a', 'v/seg_1.m4s', 'x');
    const response = await fromPage(listed, '/live/cors-5/v/seg_1.m4s');
    expect(response.status).toBe(200);
    expectReadable(response, PAGE);
    expect(response.headers.get('vary')).toMatch(/origin/i);
  });

  it('gives another page no permission (the bytes still flow to CDNs and non-browser clients)', async () => {
    await put(listed, 'cors-6', 'a', 'v/seg_1.m4s', 'x');
    const response = await fromPage(listed, '/live/cors-6/v/seg_1.m4s', {}, OTHER);
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('vary')).toMatch(/origin/i);
  });

  it('refuses the preflight of another page with 403 and a JSON reason', async () => {
    const response = await fetch(`${listed.url}/live/cors-6/v/seg_1.m4s`, {
      method: 'OPTIONS',
      headers: { origin: OTHER, 'access-control-request-method': 'GET' },
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(await response.json()).toMatchObject({ error: 'forbidden', message: expect.stringContaining(OTHER) });
  });
});

describe('preflight on delivery', () => {
  it('answers 204 with methods, Range/If-None-Match/If-Range and a max age', async () => {
    const response = await fetch(`${listed.url}/live/cors-7/v/seg_1.m4s`, {
      method: 'OPTIONS',
      headers: { origin: PAGE, 'access-control-request-method': 'GET', 'access-control-request-headers': 'range' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(PAGE);
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, HEAD');
    expect(response.headers.get('access-control-allow-headers')).toBe('Range, If-None-Match, If-Range');
    expect(Number(response.headers.get('access-control-max-age'))).toBeGreaterThan(0);
    expect(await response.text()).toBe('');
  });

  it('refuses a preflight for a method that writes', async () => {
    const response = await fetch(`${open.url}/live/cors-7/v/seg_1.m4s`, {
      method: 'OPTIONS',
      headers: { origin: PAGE, 'access-control-request-method': 'PUT' },
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('checks identifiers first (400)', async () => {
    const response = await fetch(`${open.url}/live/bad%20event/v/seg_1.m4s`, {
      method: 'OPTIONS',
      headers: { origin: PAGE, 'access-control-request-method': 'GET' },
    });
    expect(response.status).toBe(400);
  });
});

describe('ingest and admin never answer CORS', () => {
  it('OPTIONS stays 405/404 there, with no CORS headers', async () => {
    const preflightHeaders = { origin: PAGE, 'access-control-request-method': 'PUT' };
    const ingest = await fetch(`${open.url}/ingest/cors-8/a/v/seg_1.m4s`, { method: 'OPTIONS', headers: preflightHeaders });
    expect(ingest.status).toBe(405);
    expect(ingest.headers.get('access-control-allow-origin')).toBeNull();
    const admin = await fetch(`${open.url}/admin/events/cors-8`, { method: 'OPTIONS', headers: preflightHeaders });
    expect(admin.status).toBe(405);
    expect(admin.headers.get('access-control-allow-origin')).toBeNull();
    const nowhere = await fetch(`${open.url}/nowhere`, { method: 'OPTIONS', headers: preflightHeaders });
    expect(nowhere.status).toBe(404);
  });

  it('a PUT from a page gets no Allow-Origin', async () => {
    const response = await fetch(`${open.url}/ingest/cors-9/a/v/seg_1.m4s`, { method: 'PUT', headers: { ...AUTH, origin: PAGE }, body: 'x' });
    expect(response.status).toBe(201);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('LIVE_ORIGIN_CORS_ORIGINS', () => {
  it('defaults to any origin, takes a comma-separated list, and refuses what is not an origin', () => {
    expect(loadConfig({}).cors).toEqual({ kind: 'any' });
    const listedConfig = loadConfig({ LIVE_ORIGIN_CORS_ORIGINS: `${PAGE}, https://b.example.com` }).cors;
    expect(listedConfig.kind === 'list' && [...listedConfig.origins]).toEqual([PAGE, 'https://b.example.com']);
    expect(() => loadConfig({ LIVE_ORIGIN_CORS_ORIGINS: 'b.example.com' })).toThrow(ConfigError);
  });
});
