import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestOrigin } from '../support/origin.js';
import { NEWS_TOKEN, startOrigin, TOKEN } from '../support/origin.js';

let origin: TestOrigin;
beforeAll(async () => {
  origin = await startOrigin();
});
afterAll(async () => origin.close());

function basic(user: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/** The response's header lines as sent (fetch joins repeated lines into one value). */
function rawHeaderLines(url: string, name: string, options: http.RequestOptions = {}): Promise<{ status: number; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, options, (response) => {
      response.resume();
      const lines = response.rawHeaders.filter((_, i) => i % 2 === 1 && response.rawHeaders[i - 1]!.toLowerCase() === name);
      resolve({ status: response.statusCode!, lines });
    });
    request.once('error', reject);
    request.end();
  });
}

describe('Basic authentication: the token as the password, any user name', () => {
  it('publishes with Basic credentials and reads the candidate back with them', async () => {
    const put = await fetch(`${origin.url}/ingest/ba-1/a/v/seg_1.m4s`, { method: 'PUT', headers: basic('a', TOKEN), body: 'from a' });
    expect(put.status).toBe(201);
    const got = await fetch(`${origin.url}/ingest/ba-1/a/v/seg_1.m4s`, { headers: basic('someone-else', TOKEN) });
    expect(await got.text()).toBe('from a');
    expect((await fetch(`${origin.url}/live/ba-1/v/seg_1.m4s`)).headers.get('live-pipeline')).toBe('a');
  });

  it('applies the token grants to Basic as to Bearer: 403 for an event its glob does not match', async () => {
    const granted = await fetch(`${origin.url}/ingest/news-ba/a/v/seg_1.m4s`, { method: 'PUT', headers: basic('a', NEWS_TOKEN), body: 'x' });
    const refused = await fetch(`${origin.url}/ingest/sport-ba/a/v/seg_1.m4s`, { method: 'PUT', headers: basic('a', NEWS_TOKEN), body: 'x' });
    expect([granted.status, refused.status]).toEqual([201, 403]);
  });

  it('is accepted by the admin API and the status page data', async () => {
    const config = await fetch(`${origin.url}/admin/events/ba-2`, {
      method: 'PUT',
      headers: { ...basic('ops', TOKEN), 'content-type': 'application/json' },
      body: JSON.stringify({ pipelines: ['b', 'a'] }),
    });
    expect(config.status).toBe(201);
    const status = await fetch(`${origin.url}/status.json`, { headers: basic('ops', TOKEN) });
    expect(status.status).toBe(200);
    expect((await status.json()).events.map((e: { event: string }) => e.event)).toContain('ba-2');
  });

  it('refuses a wrong password, or the token as the user name, with 401 and stores nothing', async () => {
    for (const headers of [basic('a', 'not-a-known-token-000'), basic(TOKEN, ''), basic(TOKEN, 'x')]) {
      const res = await fetch(`${origin.url}/ingest/ba-3/a/v/seg_1.m4s`, { method: 'PUT', headers, body: 'x' });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect((await res.json()).error).toBe('unauthorized');
    }
    expect((await fetch(`${origin.url}/ingest/ba-3/a/v/seg_1.m4s`, { headers: basic('a', TOKEN) })).status).toBe(404);
  });

  it('names both schemes in a 401, one WWW-Authenticate line each', async () => {
    for (const path of ['/ingest/ba-4/a/v/seg_1.m4s', '/admin/events/ba-4', '/status.json']) {
      const { status, lines } = await rawHeaderLines(`${origin.url}${path}`, 'www-authenticate');
      expect(status, path).toBe(401);
      expect(lines, path).toEqual(['Bearer', 'Basic realm="live-origin"']);
    }
  });
});
