import { afterEach, describe, expect, it } from 'vitest';
import type { ServerProcess } from './support/server-process.js';
import { startServerProcess } from './support/server-process.js';

let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = undefined;
});

describe('server entry (as npm start runs it)', () => {
  it('prints where it listens and the ingest token it generated, and that token works', async () => {
    server = await startServerProcess({ LIVE_ORIGIN_TOKENS: '' });
    const token = /Ingest token \(generated, grants every event\): (\S+)/.exec(server.output())?.[1];
    expect(token).toBeTruthy();
    const res = await fetch(`${server.url}/ingest/demo/a/video/seg_1.m4s`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}` },
      body: 'x',
    });
    expect(res.status).toBe(201);
  });

  it('refuses to start on bad configuration, with a clear message and exit code 2', async () => {
    const start = startServerProcess({ LIVE_ORIGIN_MAX_HELD: 'lots' });
    await expect(start).rejects.toThrow(/exited with 2/);
    await expect(start).rejects.toThrow(/LIVE_ORIGIN_MAX_HELD must be an integer/);
  });

  it('drains on SIGTERM: readiness goes 503, held requests are answered, then it exits 0', async () => {
    const token = 'drain-token-0123456789';
    server = await startServerProcess({ LIVE_ORIGIN_TOKENS: `${token}=*`, LIVE_ORIGIN_DRAIN_DELAY_MS: '600' });
    const auth = { authorization: `Bearer ${token}` };
    await fetch(`${server.url}/admin/events/drain`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ segmentDurationMs: 5000, availabilityStartTime: new Date(Date.now()).toISOString() }),
    });
    const held = fetch(`${server.url}/live/drain/v/seg_1.m4s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stoppedAt = Date.now();
    const code = server.stop('SIGTERM');
    const res = await held;
    expect(res.status).toBe(404);
    expect(Date.now() - stoppedAt).toBeLessThan(500);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'draining' });
    expect(await code).toBe(0);
  });
});
