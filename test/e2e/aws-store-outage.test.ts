/**
 * Health with the right blast radius: two origin processes in aws mode on the same local S3 and
 * DynamoDB, the store stopped for 30 s. Each process stays alive and answers /healthz (liveness,
 * which decides replacement: the instance's liveness-check.sh, run here against it, never asks
 * for one), reports /readyz 503 while the store is gone (readiness, which only takes it out of
 * the load balancer's rotation), and serves again by itself once the store is back.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceProgramPath } from '../../lib/instance/paths.js';
import { type StubHost, stubHost } from '../lib/instance/stub-host.js';
import type { LocalAws } from '../support/local-aws.js';
import { startLocalAws } from '../support/local-aws.js';
import type { ServerProcess } from '../support/server-process.js';
import { startServerProcess } from '../support/server-process.js';

const TOKEN = 'outage-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const OUTAGE_MS = 30_000;

let local: LocalAws;
let origins: ServerProcess[] = [];
let host: StubHost;

beforeAll(async () => {
  local = await startLocalAws();
  origins = await Promise.all([startServerProcess(local.originEnv(TOKEN)), startServerProcess(local.originEnv(TOKEN))]);
  host = stubHost({ secretJson: '{}' });
}, 120_000);

afterAll(async () => {
  await Promise.all(origins.map((origin) => origin.stop()));
  await local?.stop();
  host?.remove();
});

async function status(url: string): Promise<number | 'refused'> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 'refused';
  }
}

/** One run of the instance's liveness check against `origin` (AWS commands stubbed, curl real). */
function livenessCheck(origin: ServerProcess): Promise<void> {
  const env = host.env({
    AWS_REGION: 'us-east-1',
    LIVE_ORIGIN_HEALTH_URL: `${origin.url}/healthz`,
    LIVE_ORIGIN_LIVENESS_STATE: host.path(`failures-${origin.child.pid}`),
    LIVE_ORIGIN_LIVENESS_FAILURES: '2',
    LIVE_ORIGIN_METADATA_URL: 'http://metadata.invalid/latest',
  });
  const script = `curl() { case "$*" in *metadata.invalid*) command "${host.bin}/curl" "$@" ;; *) command /usr/bin/curl "$@" ;; esac; }; export -f curl; exec bash ${instanceProgramPath('liveness-check.sh')}`;
  return new Promise((resolve) => spawn('bash', ['-c', script], { env, stdio: 'ignore' }).once('exit', () => resolve()));
}

describe('a 30 s store outage under two origins', () => {
  it('keeps both alive and in place, out of rotation while the store is gone, and back by themselves', async () => {
    for (const origin of origins) expect(await status(`${origin.url}/readyz`)).toBe(200);
    expect((await fetch(`${origins[0]!.url}/ingest/outage-1/a/v/seg_1.m4s`, { method: 'PUT', headers: AUTH, body: 'before' })).status).toBe(201);

    await Promise.all([local.s3.stop(), local.dynamoDb.stop()]);
    const health: (number | 'refused')[] = [];
    const readiness: (number | 'refused')[] = [];
    const stoppedAt = Date.now();
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      for (const origin of origins) {
        health.push(await status(`${origin.url}/healthz`));
        readiness.push(await status(`${origin.url}/readyz`));
        await livenessCheck(origin);
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    await Promise.all([local.s3.start(), local.dynamoDb.start()]);

    expect(health.length).toBeGreaterThanOrEqual(10);
    expect(health.filter((answer) => answer !== 200)).toEqual([]);
    expect(readiness).toContain(503);
    expect(host.calls().filter((call) => call.startsWith('aws'))).toEqual([]);
    for (const origin of origins) expect(origin.child.exitCode).toBeNull();

    // Back by themselves: no restart, no replacement. The bound only stops a broken recovery from hanging the suite.
    const deadline = Date.now() + 60_000;
    const ready = async () => (await Promise.all(origins.map((origin) => status(`${origin.url}/readyz`)))).every((answer) => answer === 200);
    while (!(await ready()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await ready()).toBe(true);
    expect((await fetch(`${origins[0]!.url}/ingest/outage-1/a/v/seg_2.m4s`, { method: 'PUT', headers: AUTH, body: 'after' })).status).toBe(201);
    const read = await fetch(`${origins[1]!.url}/live/outage-1/v/seg_2.m4s`);
    expect(read.status).toBe(200);
    expect(await read.text()).toBe('after');
  }, 180_000);
});
