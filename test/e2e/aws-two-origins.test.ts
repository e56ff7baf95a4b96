import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { percentile } from '../adapters/recording-observer.js';
import type { LocalAws } from '../support/local-aws.js';
import { startLocalAws } from '../support/local-aws.js';
import type { ServerProcess } from '../support/server-process.js';
import { startServerProcess } from '../support/server-process.js';

/**
 * Two origin processes in aws mode over the same local S3 and DynamoDB, as two instances
 * behind one load balancer: a publish acknowledged by one releases a request held by the other.
 */

const TOKEN = 'e2e-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const SEGMENT_MS = 2_000;

let local: LocalAws;
let a: ServerProcess;
let b: ServerProcess;

beforeAll(async () => {
  local = await startLocalAws();
  const env = local.originEnv(TOKEN);
  [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await local?.stop();
});

/** An event whose segment 0 is due one second from now: a GET for it is held. */
async function liveEvent(event: string): Promise<void> {
  const response = await fetch(`${a.url}/admin/events/${event}`, {
    method: 'PUT',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({
      pipelines: ['a', 'b'],
      segmentDurationMs: SEGMENT_MS,
      availabilityStartTime: new Date(Date.now() - 1_000).toISOString(),
      startNumber: 0,
    }),
  });
  expect(response.status).toBeLessThan(300);
}

function ingest(origin: ServerProcess, event: string, path: string, body: Buffer): Promise<Response> {
  return fetch(`${origin.url}/ingest/${event}/a/${path}`, { method: 'PUT', headers: { ...AUTH, 'content-type': 'video/mp4' }, body });
}

function publish(origin: ServerProcess, event: string, pipeline: string, path: string, body: Buffer): Promise<Response> {
  return fetch(`${origin.url}/ingest/${event}/${pipeline}/${path}`, { method: 'PUT', headers: { ...AUTH, 'content-type': 'video/mp4' }, body });
}

/** How long a check waits for something to happen before it fails: far beyond what it should take. */
const GIVE_UP_MS = 5_000;

/**
 * Polls `/readyz` until it answers `status` (and returns it), or GIVE_UP_MS pass (and returns
 * the last answer): readiness is waited for as it changes, not for a time it should take (the
 * one-second bound is measured in aws-faults-mid-traffic.test.ts).
 */
async function readinessBecomes(origin: ServerProcess, status: number): Promise<number> {
  let last = 0;
  for (const giveUpAt = Date.now() + GIVE_UP_MS; Date.now() < giveUpAt; ) {
    last = (await fetch(`${origin.url}/readyz`)).status;
    if (last === status) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return last;
}

function md5Etag(body: Buffer): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}

/** One delivery GET: status, the chosen pipeline and entity tag, and the bytes. */
async function deliver(
  origin: ServerProcess,
  event: string,
  path: string,
): Promise<{ status: number; pipeline: string | null; etag: string | null; body: Buffer }> {
  const response = await fetch(`${origin.url}/live/${event}/${path}`);
  return {
    status: response.status,
    pipeline: response.headers.get('live-pipeline'),
    etag: response.headers.get('etag'),
    body: Buffer.from(await response.arrayBuffer()),
  };
}

describe('two origin processes on one AWS store', () => {
  it('releases a GET held on one instance when the other acknowledges the publish', async () => {
    const delays: number[] = [];
    const rounds = 15;
    for (let i = 0; i < rounds; i++) {
      const event = `e2e-hold-${i}`;
      await liveEvent(event);
      const body = Buffer.from(`segment 0 of ${event}`);
      const held = fetch(`${b.url}/live/${event}/video/seg_0.m4s`).then(async (response) => ({
        response,
        at: Date.now(),
        bytes: Buffer.from(await response.arrayBuffer()),
      }));
      // Let the request reach the hold before publishing, at a random phase of the poll.
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 50));
      const put = await ingest(a, event, 'video/seg_0.m4s', body);
      const ackAt = Date.now();
      expect(put.status).toBe(201);
      const { response, at, bytes } = await held;
      expect(response.status).toBe(200);
      expect(response.headers.get('live-pipeline')).toBe('a');
      // Either the whole object after the ack (with its ETag) or, when instance B saw the PUT
      // arriving first, the PUT streamed through A's relay: no ETag, the same bytes, its end only
      // after the ack (the contract's serving-while-ingesting answer).
      const etag = response.headers.get('etag');
      if (etag !== null) expect(etag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
      else expect(response.headers.get('accept-ranges')).toBeNull();
      expect(bytes.equals(body)).toBe(true);
      delays.push(at - ackAt);
    }
    console.log(`held GET on instance B released after instance A's ack, over ${rounds}: p50 ${percentile(delays, 50)} ms, p99 ${percentile(delays, 99)} ms`);
    expect(delays).toHaveLength(rounds);
  }, 60_000);

  it('waits across instances for the better copy: a GET held on A gets b’s clean copy acknowledged by B, not a’s degraded one from A', async () => {
    const event = 'e2e-better';
    // Segment 5 due one second from now, both pipelines at the edge (segment 4), and a window no busy host overruns.
    const configured = await fetch(`${a.url}/admin/events/${event}`, {
      method: 'PUT',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({
        pipelines: ['a', 'b'],
        segmentDurationMs: SEGMENT_MS,
        availabilityStartTime: new Date(Date.now() + 1_000 - 6 * SEGMENT_MS).toISOString(),
        startNumber: 0,
        betterWaitMs: 1_500,
      }),
    });
    expect(configured.status).toBeLessThan(300);
    const put = (origin: ServerProcess, pipeline: string, path: string, quality: number) =>
      fetch(`${origin.url}/ingest/${event}/${pipeline}/${path}`, {
        method: 'PUT',
        headers: { ...AUTH, 'content-type': 'video/mp4', 'live-quality': String(quality) },
        body: Buffer.from(`${pipeline} ${path}`),
      });
    expect([(await put(a, 'a', 'video/seg_4.m4s', 100)).status, (await put(b, 'b', 'video/seg_4.m4s', 100)).status]).toEqual([201, 201]);
    // A judges b live from the shared pipeline stats, which it reads within the 1 s bound: once it
    // shows b at the edge (as it would any pipeline publishing for longer than that).
    const bSeenOnA = async () => {
      const status = (await (await fetch(`${a.url}/admin/events/${event}`, { headers: AUTH })).json()) as {
        pipelines: { pipeline: string; liveEdge?: number }[];
      };
      return status.pipelines.find((p) => p.pipeline === 'b')?.liveEdge === 4;
    };
    for (const giveUpAt = Date.now() + GIVE_UP_MS; !(await bSeenOnA()) && Date.now() < giveUpAt; ) await new Promise((resolve) => setTimeout(resolve, 50));
    const held = deliver(a, event, 'video/seg_5.m4s');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await put(a, 'a', 'video/seg_5.m4s', 40)).status).toBe(201);
    expect((await put(b, 'b', 'video/seg_5.m4s', 100)).status).toBe(201);
    const answer = await held;
    expect([answer.status, answer.pipeline, answer.body.toString()]).toEqual([200, 'b', 'b video/seg_5.m4s']);
    // The pin taken on A holds on B.
    expect((await deliver(b, event, 'video/seg_5.m4s')).pipeline).toBe('b');
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/live_origin_first_selections_total\{outcome="better_after_wait"\} 1/);
  }, 30_000);

  it('answers 503 with Retry-After while S3 is down, keeps serving cached segments, and recovers', async () => {
    const event = 'e2e-fault';
    await liveEvent(event);
    const before = Buffer.from('published before the outage');
    expect((await ingest(a, event, 'video/seg_0.m4s', before)).status).toBe(201);
    expect((await fetch(`${b.url}/live/${event}/video/seg_0.m4s`)).status).toBe(200);

    await local.s3.stop();
    try {
      const refused = await ingest(a, event, 'video/seg_1.m4s', Buffer.from('during the outage'));
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBeTruthy();
      const cached = await fetch(`${b.url}/live/${event}/video/seg_0.m4s`);
      expect(cached.status).toBe(200);
      expect(Buffer.from(await cached.arrayBuffer()).equals(before)).toBe(true);
      expect(await readinessBecomes(a, 503)).toBe(503);
    } finally {
      await local.s3.start();
    }

    expect(await readinessBecomes(a, 200)).toBe(200);
    const after = Buffer.from('published after the outage');
    expect((await ingest(a, event, 'video/seg_1.m4s', after)).status).toBe(201);
    const read = await fetch(`${b.url}/live/${event}/video/seg_1.m4s`);
    expect(read.status).toBe(200);
    expect(Buffer.from(await read.arrayBuffer()).equals(after)).toBe(true);
  }, 30_000);

  it('keeps one pinned pipeline across instances, and both move to the other one within 1 s of a defect report', async () => {
    const event = 'e2e-pin';
    await liveEvent(event);
    const path = 'video/seg_7.m4s';
    const bodyA = Buffer.from(`pipeline a's ${path}`);
    const bodyB = Buffer.from(`pipeline b's ${path}`);
    // b publishes first (through B) and B serves it, so the pin names b; then a, first in the
    // event's order, publishes through A. Only the pin keeps A serving b: without it the
    // order picks a.
    expect((await publish(b, event, 'b', path, bodyB)).status).toBe(201);
    const first = await deliver(b, event, path);
    expect(first.status).toBe(200);
    expect(first.pipeline).toBe('b');
    expect(first.etag).toBe(md5Etag(bodyB));
    expect((await publish(a, event, 'a', path, bodyA)).status).toBe(201);

    const immediately = await Promise.all([deliver(a, event, path), deliver(b, event, path)]);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const refreshed = await Promise.all([deliver(a, event, path), deliver(b, event, path)]);
    for (const served of [...immediately, ...refreshed]) {
      expect(served.status).toBe(200);
      expect(served.pipeline).toBe('b');
      expect(served.etag).toBe(first.etag);
      expect(served.body.equals(bodyB)).toBe(true);
    }

    // The pinned candidate reported corrupt through A: both instances re-select a within 1 s.
    const patch = await fetch(`${a.url}/ingest/${event}/b/${path}`, { method: 'PATCH', headers: { ...AUTH, 'live-defect': 'corrupt' } });
    expect(patch.status).toBe(200);
    const patchedAt = Date.now();
    // Judged by the last request that still got b: how long after the acknowledged PATCH it was
    // sent (a slow answer to this busy process does not count against the origin).
    const switched = await Promise.all(
      [a, b].map(async (origin) => {
        let lastB: number | undefined;
        for (;;) {
          const sentAt = Date.now() - patchedAt;
          const served = await deliver(origin, event, path);
          expect(served.status).toBe(200);
          if (served.pipeline === 'a') {
            expect(served.etag).toBe(md5Etag(bodyA));
            expect(served.body.equals(bodyA)).toBe(true);
            return lastB ?? -1;
          }
          expect(served.pipeline).toBe('b');
          lastB = sentAt;
          if (sentAt > GIVE_UP_MS) return Infinity;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }),
    );
    const lastServedB = (ms: number) => (ms < 0 ? 'no request still got b' : `the last request that still got b was sent ${ms} ms after it`);
    console.log(`re-selection after PATCH Live-Defect: corrupt on instance A: on A ${lastServedB(switched[0]!)}; on B ${lastServedB(switched[1]!)}`);
    for (const ms of switched) expect(ms).toBeLessThan(1_000);
    // And it stays there on both (the pin moved to a; no flapping back to b).
    await new Promise((resolve) => setTimeout(resolve, 600));
    for (const served of await Promise.all([deliver(a, event, path), deliver(b, event, path), deliver(a, event, path), deliver(b, event, path)])) {
      expect(served.pipeline).toBe('a');
      expect(served.etag).toBe(md5Etag(bodyA));
    }
  }, 30_000);

  it('agrees on one pipeline when the first GETs of a fresh path race on both instances', async () => {
    const event = 'e2e-pin-race';
    await liveEvent(event);
    const rounds = 10;
    const chosen: string[] = [];
    for (let i = 0; i < rounds; i++) {
      const path = `video/seg_${100 + i}.m4s`;
      const bodies: Record<string, Buffer> = { a: Buffer.from(`a ${path}`), b: Buffer.from(`b ${path}`) };
      // Published at once, a through A and b through B: each instance may know only its own
      // candidate when the first GETs arrive.
      const puts = await Promise.all([publish(a, event, 'a', path, bodies.a!), publish(b, event, 'b', path, bodies.b!)]);
      expect(puts.map((put) => put.status)).toEqual([201, 201]);
      const served = await Promise.all(Array.from({ length: 10 }, (_, j) => deliver(j % 2 === 0 ? a : b, event, path)));
      const later = await Promise.all([deliver(a, event, path), deliver(b, event, path)]);
      const pipelines = new Set([...served, ...later].map((s) => s.pipeline));
      expect([...served, ...later].map((s) => s.status)).toEqual(Array(12).fill(200));
      expect([...pipelines]).toHaveLength(1);
      const [pipeline] = [...pipelines] as string[];
      for (const s of [...served, ...later]) {
        expect(s.etag).toBe(md5Etag(bodies[pipeline]!));
        expect(s.body.equals(bodies[pipeline]!)).toBe(true);
      }
      chosen.push(pipeline);
    }
    console.log(`racing first GETs (5 on each instance) agreed on one pipeline in each of ${rounds} fresh paths: ${chosen.join(' ')}`);
  }, 30_000);
});
