import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalAws } from './support/local-aws.js';
import { startLocalAws } from './support/local-aws.js';
import type { ServerProcess } from './support/server-process.js';
import { startServerProcess } from './support/server-process.js';

/** LIVE_ORIGIN_WORKERS: N processes on one host, each an instance of the multi-instance design. */

const TOKEN = 'workers-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };

let local: LocalAws;
let server: ServerProcess | undefined;

beforeAll(async () => {
  local = await startLocalAws({ tablePrefix: 'live-origin-workers-' });
}, 60_000);
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = undefined;
});
afterAll(async () => {
  await local?.stop();
});

/** Pids of the live server processes `pid` started (not tsx's esbuild helper). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid), '-f', 'runtime/server.ts'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

describe('LIVE_ORIGIN_WORKERS in aws mode', () => {
  it('runs that many workers on one port; a publish on any releases requests held on all; SIGTERM drains them all', async () => {
    server = await startServerProcess({ ...local.originEnv(TOKEN), LIVE_ORIGIN_WORKERS: '2' });
    const primary = server.child.pid!;
    // Both workers listen before the test goes on (each prints its line); the second may come
    // long after the first on a busy host, so it gets as long as a start does (60 s).
    for (let i = 0; i < 600 && (server.output().match(/listening on/g) ?? []).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect((server.output().match(/listening on/g) ?? []).length).toBe(2);
    const workers = childrenOf(primary);
    expect(workers).toHaveLength(2);

    await fetch(`${server.url}/admin/events/w1`, {
      method: 'PUT',
      headers: { ...AUTH, 'content-type': 'application/json' },
      // seg_0 is due about a minute from now: its hold deadline lies beyond the test's time
      // limit, so a 200 with the bytes can only come from the publish, however slow the host.
      body: JSON.stringify({ segmentDurationMs: 60_000, availabilityStartTime: new Date(Date.now() - 1_000).toISOString(), startNumber: 0 }),
    });
    // Separate connections, spread over both workers by the primary's round robin.
    const held = Array.from({ length: 6 }, () => fetch(`${server!.url}/live/w1/v/seg_0.m4s`, { headers: { connection: 'close' } }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const put = await fetch(`${server.url}/ingest/w1/a/v/seg_0.m4s`, { method: 'PUT', headers: AUTH, body: 'segment-zero' });
    expect(put.status).toBe(201);
    const answers = await Promise.all(held);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(await answer.text()).toBe('segment-zero');
    }

    expect(await server.stop('SIGTERM')).toBe(0);
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
  }, 30_000);
});

describe('LIVE_ORIGIN_WORKERS in memory mode', () => {
  it('runs one process and says so', async () => {
    server = await startServerProcess({ LIVE_ORIGIN_TOKENS: `${TOKEN}=*`, LIVE_ORIGIN_WORKERS: '2' });
    expect(childrenOf(server.child.pid!)).toHaveLength(0);
    expect(server.output()).toMatch(/LIVE_ORIGIN_WORKERS applies to aws mode/);
    const put = await fetch(`${server.url}/ingest/m1/a/v/seg_1.m4s`, { method: 'PUT', headers: AUTH, body: 'one' });
    expect(put.status).toBe(201);
    expect(await server.stop('SIGTERM')).toBe(0);
  }, 30_000);
});
