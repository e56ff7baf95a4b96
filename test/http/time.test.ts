import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corsPolicy } from '../../runtime/domain/cors.js';
import { ManualClock } from '../support/manual-clock.js';
import type { TestOrigin } from '../support/origin.js';
import { startOrigin } from '../support/origin.js';

/** `GET /time` (contract v3): the origin's clock, for DASH UTCTiming and ffmpeg's -utc_timing_url. */

const NOW = Date.parse('2026-12-05T10:11:12.345Z');
let origin: TestOrigin;
let listed: TestOrigin;
beforeAll(async () => {
  origin = await startOrigin({ clock: new ManualClock(NOW) });
  listed = await startOrigin({ cors: corsPolicy(['https://player.example']) });
});
afterAll(async () => {
  await origin.close();
  await listed.close();
});

describe('GET /time', () => {
  it("answers the origin's clock as ISO 8601 UTC with milliseconds, never cached, readable by any page", async () => {
    const response = await fetch(`${origin.url}/time`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('2026-12-05T10:11:12.345Z');
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('parses as a date (what dash.js and ffmpeg do with it), on the system clock within a second', async () => {
    const before = Date.now();
    const text = await (await fetch(`${listed.url}/time`)).text();
    expect(text).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Math.abs(Date.parse(text) - before)).toBeLessThan(1_000);
  });

  it('echoes an allowed page under a list policy, and nothing for another page', async () => {
    const allowed = await fetch(`${listed.url}/time`, { headers: { origin: 'https://player.example' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://player.example');
    expect(allowed.headers.get('vary')).toBe('Origin');
    const other = await fetch(`${listed.url}/time`, { headers: { origin: 'https://elsewhere.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers HEAD and a CORS preflight; refuses other methods with 405', async () => {
    expect((await fetch(`${origin.url}/time`, { method: 'HEAD' })).status).toBe(200);
    const preflight = await fetch(`${origin.url}/time`, {
      method: 'OPTIONS',
      headers: { origin: 'https://player.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    const post = await fetch(`${origin.url}/time`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});
