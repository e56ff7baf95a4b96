import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalAws } from '../support/local-aws.js';
import { startLocalAws } from '../support/local-aws.js';
import type { ServerProcess } from '../support/server-process.js';
import { startServerProcess } from '../support/server-process.js';
import { percentile } from '../adapters/recording-observer.js';

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
  const env = {
    LIVE_ORIGIN_STORE: 'aws',
    LIVE_ORIGIN_BUCKET: local.bucket,
    LIVE_ORIGIN_TABLE_PREFIX: local.tablePrefix,
    LIVE_ORIGIN_TOKENS: `${TOKEN}=*`,
    ...local.env,
  };
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
    body: JSON.stringify({ pipelines: ['a', 'b'], segmentDurationMs: SEGMENT_MS, availabilityStartTime: new Date(Date.now() - 1_000).toISOString(), startNumber: 0 }),
  });
  expect(response.status).toBeLessThan(300);
}

function ingest(origin: ServerProcess, event: string, path: string, body: Buffer): Promise<Response> {
  return fetch(`${origin.url}/ingest/${event}/a/${path}`, { method: 'PUT', headers: { ...AUTH, 'content-type': 'video/mp4' }, body });
}

describe('two origin processes on one AWS store', () => {
  it('releases a GET held on one instance when the other acknowledges the publish', async () => {
    const delays: number[] = [];
    const rounds = 15;
    for (let i = 0; i < rounds; i++) {
      const event = `e2e-hold-${i}`;
      await liveEvent(event);
      const body = Buffer.from(`segment 0 of ${event}`);
      const held = fetch(`${b.url}/live/${event}/video/seg_0.m4s`).then(async (response) => ({ response, at: Date.now(), bytes: Buffer.from(await response.arrayBuffer()) }));
      // Let the request reach the hold before publishing, at a random phase of the poll.
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 50));
      const put = await ingest(a, event, 'video/seg_0.m4s', body);
      const ackAt = Date.now();
      expect(put.status).toBe(201);
      const { response, at, bytes } = await held;
      expect(response.status).toBe(200);
      expect(response.headers.get('live-pipeline')).toBe('a');
      expect(response.headers.get('etag')).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
      expect(bytes.equals(body)).toBe(true);
      delays.push(at - ackAt);
    }
    console.log(`held GET on instance B released after instance A's ack, over ${rounds}: p50 ${percentile(delays, 50)} ms, p99 ${percentile(delays, 99)} ms`);
    expect(delays).toHaveLength(rounds);
  }, 60_000);

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
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      expect((await fetch(`${a.url}/readyz`)).status).toBe(503);
    } finally {
      await local.s3.start();
    }

    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect((await fetch(`${a.url}/readyz`)).status).toBe(200);
    const after = Buffer.from('published after the outage');
    expect((await ingest(a, event, 'video/seg_1.m4s', after)).status).toBe(201);
    const read = await fetch(`${b.url}/live/${event}/video/seg_1.m4s`);
    expect(read.status).toBe(200);
    expect(Buffer.from(await read.arrayBuffer()).equals(after)).toBe(true);
  }, 30_000);
});
