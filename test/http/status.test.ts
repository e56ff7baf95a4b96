import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestOrigin } from '../support/origin.js';
import { AUTH, configure, eventually, NEWS_TOKEN, put, startOrigin, TOKEN } from '../support/origin.js';

let origin: TestOrigin;
beforeAll(async () => {
  origin = await startOrigin();
});
afterAll(async () => origin.close());

async function status(headers: Record<string, string> = AUTH): Promise<{ code: number; body: any; response: Response }> {
  const response = await fetch(`${origin.url}/status.json`, { headers });
  return { code: response.status, body: await response.json(), response };
}

describe('GET /status (the page)', () => {
  it('is public HTML that holds no token and only talks to its own origin', async () => {
    const response = await fetch(`${origin.url}/status`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const html = await response.text();
    expect(html).toContain('status.json');
    expect(html).not.toContain(TOKEN);
    expect(html).not.toMatch(/<script[^>]+src=/);
  });
});

describe('GET /status.json', () => {
  it('answers 401 with Bearer and Basic challenges without a token or with an unknown one', async () => {
    for (const headers of [{}, { authorization: 'Bearer not-a-known-token-000' }, { authorization: TOKEN }] as Record<string, string>[]) {
      const { code, body, response } = await status(headers);
      expect(code, JSON.stringify(headers)).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer, Basic realm="live-origin"');
      expect(body.error).toBe('unauthorized');
    }
  });

  it('shows every active event with each pipeline live edge, lateness, defects and health', async () => {
    await configure(origin, 'st-1', { pipelines: ['b', 'a'] });
    await put(origin, 'st-1', 'a', 'v/seg_3.m4s', 'x', { 'live-defect': 'short' });
    await put(origin, 'st-1', 'a', 'v/seg_4.m4s', 'x');
    await put(origin, 'st-1', 'b', 'v/seg_4.m4s', 'y');
    await put(origin, 'st-2', 'a', 'v/seg_1.m4s', 'x');
    const { code, body, response } = await status();
    expect(code).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(Date.parse(body.at)).toBeGreaterThan(Date.now() - 5_000);
    expect(body.readiness).toBe('ready');
    const events = body.events.map((e: { event: string }) => e.event);
    expect(events).toEqual(expect.arrayContaining(['st-1', 'st-2']));
    const st1 = body.events.find((e: { event: string }) => e.event === 'st-1');
    expect(st1.config.pipelines).toEqual(['b', 'a']);
    expect(st1.pipelines).toMatchObject([
      { pipeline: 'b', liveEdge: 4, ingests: 1, defectiveIngests: 0, healthy: true },
      { pipeline: 'a', liveEdge: 4, ingests: 2, defectiveIngests: 1, healthy: true },
    ]);
    expect(typeof st1.pipelines[0].latenessMs).toBe('number');
  });

  it('shows a token only the events it grants', async () => {
    await put(origin, 'news-1', 'a', 'v/seg_1.m4s', 'x');
    const { code, body } = await status({ authorization: `Bearer ${NEWS_TOKEN}` });
    expect(code).toBe(200);
    expect(body.events.map((e: { event: string }) => e.event)).toEqual(['news-1']);
    expect(body.selections.every((s: { event: string }) => s.event.startsWith('news-'))).toBe(true);
    expect(body.purges.every((p: { event: string }) => p.event.startsWith('news-'))).toBe(true);
  });

  it('counts held requests while they wait', async () => {
    // Segment 0 is due in one second: a GET now is held until it is published.
    await configure(origin, 'st-hold', { segmentDurationMs: 2_000, availabilityStartTime: new Date(Date.now() - 1_000).toISOString(), startNumber: 0 });
    const before = (await status()).body.held;
    const leave = new AbortController();
    const held = fetch(`${origin.url}/live/st-hold/v/seg_0.m4s`, { signal: leave.signal }).catch(() => undefined);
    await eventually(async () => expect((await status()).body.held).toBe(before + 1));
    leave.abort();
    await held;
    await eventually(async () => expect((await status()).body.held).toBe(before));
  });

  it('lists pins and the pin moves, not the GETs served by a pin in force', async () => {
    await configure(origin, 'st-pin', { pipelines: ['a', 'b'] });
    await put(origin, 'st-pin', 'a', 'v/seg_1.m4s', 'from a');
    await put(origin, 'st-pin', 'b', 'v/seg_1.m4s', 'from b');
    for (let i = 0; i < 3; i++) expect((await fetch(`${origin.url}/live/st-pin/v/seg_1.m4s`)).headers.get('live-pipeline')).toBe('a');
    // a reports its copy defective after publication: the origin moves to b and purges the path.
    const patch = await fetch(`${origin.url}/ingest/st-pin/a/v/seg_1.m4s`, { method: 'PATCH', headers: { ...AUTH, 'live-defect': 'corrupt' } });
    expect(patch.status).toBe(200);
    expect((await fetch(`${origin.url}/live/st-pin/v/seg_1.m4s`)).headers.get('live-pipeline')).toBe('b');
    const { selections, purges } = (await status()).body;
    const pins = selections.filter((s: { event: string }) => s.event === 'st-pin');
    expect(pins).toMatchObject([
      { path: 'v/seg_1.m4s', pipeline: 'b', previous: 'a', outcome: 'clean' },
      { path: 'v/seg_1.m4s', pipeline: 'a', outcome: 'clean' },
    ]);
    expect(pins[1].previous).toBeUndefined();
    expect(purges.filter((p: { event: string }) => p.event === 'st-pin').map((p: { paths: string[] }) => p.paths)).toEqual([['v/seg_1.m4s']]);
  });

  it('lists recent purges, newest first', async () => {
    await put(origin, 'st-purge', 'a', 'v/seg_1.m4s', 'x');
    const invalidate = (body: unknown) =>
      fetch(`${origin.url}/admin/events/st-purge/invalidations`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await invalidate({ from: 1, to: 1 })).status).toBe(202);
    expect((await invalidate({ all: true })).status).toBe(202);
    const purges = (await status()).body.purges.filter((p: { event: string }) => p.event === 'st-purge');
    expect(purges.map((p: { paths: string[] }) => p.paths)).toEqual([['*'], ['v/seg_1.m4s']]);
    expect(purges[0].at).toBeGreaterThanOrEqual(purges[1].at);
  });
});
