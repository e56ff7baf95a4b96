import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PurgeClient } from '../../runtime/adapters/purge-client.js';
import type { TestOrigin } from '../support/origin.js';
import { AUTH, configure, put, startOrigin } from '../support/origin.js';

/**
 * Purge targets down or slow: a CDN node that accepts connections and never answers, one that
 * answers after 3 s, and one whose port is closed. Ingest and delivery never wait on them,
 * each purge gives up after a bounded number of attempts, and the backlog is bounded, with
 * what is dropped counted.
 */

const closers: (() => Promise<unknown>)[] = [];
/**
 * PurgeClient's default per-attempt timeout: a request that waited for one purge attempt to a
 * node that never answers took at least this long (timers never fire early), however quiet or
 * busy the host. The checks below use it as their bound rather than a latency margin.
 */
const PURGE_ATTEMPT_MS = 2_000;

async function listen(server: net.Server | http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Accepts connections and never answers. */
async function blackhole(): Promise<string> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  const url = await listen(server);
  // Closers run in reverse: the sockets go before the server waits for them.
  closers.push(async () => {
    for (const socket of sockets) socket.destroy();
  });
  return url;
}

async function slowCdn(delayMs: number): Promise<string> {
  const server = http.createServer((_request, response) => void setTimeout(() => response.end(), delayMs));
  const url = await listen(server);
  closers.push(async () => server.closeAllConnections());
  return url;
}

/** A port that was just free: connections to it are refused. */
async function closedPort(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

describe('purge targets down or slow, behind a live origin', () => {
  let origin: TestOrigin;

  beforeAll(async () => {
    origin = await startOrigin({ purgeUrls: [await blackhole(), await slowCdn(3_000), await closedPort()] });
    closers.push(() => origin.close());
  });

  it('a 1000-number invalidation (3000 purges) is answered at once, and PUTs and GETs keep their latency', async () => {
    const event = 'purge-down';
    expect(
      (
        await configure(origin, event, {
          pipelines: ['a'],
          segmentDurationMs: 2000,
          availabilityStartTime: new Date(Date.now() - 60_000).toISOString(),
          startNumber: 0,
        })
      ).ok,
    ).toBe(true);
    expect((await put(origin, event, 'a', 'v/seg_0.m4s', Buffer.from('zero'))).status).toBe(201);

    const started = performance.now();
    const invalidation = await fetch(`${origin.url}/admin/events/${event}/invalidations`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ from: 1_000, to: 1_999 }),
    });
    const invalidationMs = performance.now() - started;
    expect(invalidation.status).toBe(202);
    const backlogAfter = origin.purger.backlog;

    const putMs: number[] = [];
    const getMs: number[] = [];
    for (let n = 1; n <= 20; n++) {
      let t = performance.now();
      expect((await put(origin, event, 'a', `v/seg_${n}.m4s`, Buffer.alloc(16 * 1024, n))).status).toBe(201);
      putMs.push(performance.now() - t);
      for (let i = 0; i < 10; i++) {
        t = performance.now();
        const response = await fetch(`${origin.url}/live/${event}/v/seg_${n}.m4s`);
        await response.arrayBuffer();
        expect(response.status).toBe(200);
        getMs.push(performance.now() - t);
      }
    }
    const metrics = await (await fetch(`${origin.url}/metrics`)).text();
    const failed = Number(/live_origin_purges_total\{outcome="failed"\} (\S+)/.exec(metrics)?.[1] ?? 0);
    const backlogGauge = Number(/^live_origin_purge_backlog (\S+)/m.exec(metrics)?.[1]);
    const figures = {
      invalidationMs: Math.round(invalidationMs),
      backlogAfterInvalidation: backlogAfter,
      backlogNow: origin.purger.backlog,
      putP99Ms: +percentile(putMs, 99).toFixed(1),
      getP99Ms: +percentile(getMs, 99).toFixed(1),
      purgesFailedSoFar: failed,
      backlogGauge,
    };
    console.log(`purge targets down: ${JSON.stringify(figures)}`);
    expect(invalidationMs).toBeLessThan(PURGE_ATTEMPT_MS);
    expect(backlogAfter).toBeGreaterThan(2_000);
    expect(backlogAfter).toBeLessThanOrEqual(10_000 + 16);
    // The backlog is visible to operators while it lasts.
    expect(backlogGauge).toBeGreaterThan(2_000);
    // A PUT or GET that waited for one purge attempt would take 2 s (the attempt timeout) or more.
    expect(Math.max(...putMs)).toBeLessThan(PURGE_ATTEMPT_MS);
    expect(Math.max(...getMs)).toBeLessThan(PURGE_ATTEMPT_MS);
    // The refused port fails fast: its purges end as failed after their bounded attempts.
    expect(failed).toBeGreaterThan(0);
  }, 30_000);
});

describe('the purge backlog is bounded and what it drops is counted', () => {
  it('1000 purges to a dead node with room for 100: purge() never waits, 900 are dropped, the rest fail after 2 attempts each', async () => {
    const target = await blackhole();
    const outcomes = new Map<string, number>();
    let peak = 0;
    const purger = new PurgeClient({
      baseUrls: [target],
      onOutcome: (outcome) => outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1),
      onBacklog: (backlog) => (peak = Math.max(peak, backlog)),
      attempts: 2,
      retryDelayMs: 5,
      timeoutMs: 100,
      concurrency: 10,
      maxQueued: 100,
    });
    // The first fetch of a process loads its HTTP client; that is not the purger's cost.
    await fetch(await closedPort()).catch(() => undefined);
    const started = performance.now();
    for (let n = 0; n < 1_000; n++) purger.purge('ev', [`v/seg_${n}.m4s`]);
    const enqueueMs = performance.now() - started;
    const backlog = purger.backlog;
    await purger.flush();
    const drainedMs = performance.now() - started;
    console.log(
      `purge backlog bound: enqueue of 1000 took ${enqueueMs.toFixed(1)} ms, backlog ${backlog} (peak ${peak}), outcomes ${JSON.stringify([...outcomes])}, drained in ${drainedMs.toFixed(0)} ms`,
    );
    // purge() is synchronous; this only checks it stays cheap (the first ten start their fetches).
    expect(enqueueMs).toBeLessThan(1_000);
    expect(peak).toBeLessThanOrEqual(110);
    expect(outcomes.get('dropped')).toBe(1_000 - 110);
    expect(outcomes.get('failed')).toBe(110);
    expect(purger.backlog).toBe(0);
    // 11 rounds of 10 in flight, each two 100 ms attempts: bounded, not a retry loop.
    expect(drainedMs).toBeLessThan(11 * 2 * 100 + 3_000);
  }, 15_000);
});
