/**
 * The bundle as the AMI runs it: built by lib/runtime-bundle.ts, started the way
 * live-origin.service starts it (`node server.mjs`, the unit's environment plus the environment
 * and credentials files boot.sh writes, run here on a stub host), answering /healthz, and
 * leaving on SIGTERM. AWS endpoints point at a closed loopback port, so nothing leaves the machine.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootScript } from '../../../lib/instance/boot-script.js';
import { systemdUnit } from '../../../lib/instance/units.js';
import { bundleRuntime, DEFAULT_RUNTIME_ENTRY, type RuntimeBundle } from '../../../lib/runtime-bundle.js';
import { bootOverrides, type StubHost, stubHost } from '../instance/stub-host.js';

/** A port nobody listens on (bound, then released). */
function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The environment file boot.sh writes (run on a stub host with this secret), as a map; its
 * credentials file stays on the host for the runtime to read.
 */
function bootEnvironment(host: StubHost): Record<string, string> {
  const script = bootScript({
    region: 'us-east-1',
    bucketName: 'live-origin-bundle-test-bogus',
    tablePrefix: 'live-origin-bundle-test-bogus-',
    peerBuckets: 'eu-west-1=live-origin-bundle-test-bogus-peer',
    secretName: 'unused',
    hotCacheMemoryFraction: 0.5,
    stackName: 'unused',
    signalResource: 'unused',
    logGroupName: 'unused',
    targetGroupArns: ['unused'],
    overrides: bootOverrides(host),
  });
  const run = spawnSync('bash', ['-c', script], { env: host.env(), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`boot.sh failed: ${run.stderr}`);
  return Object.fromEntries(
    readFileSync(host.path('etc/env'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1).replace(/^"(.*)"$/, '$1')]),
  );
}

/** `Environment=` assignments of the unit. */
function unitEnvironment(): Record<string, string> {
  const line = systemdUnit({ stopTimeout: Duration.seconds(60) })
    .split('\n')
    .find((entry) => entry.startsWith('Environment='))!;
  return Object.fromEntries(
    line
      .slice('Environment='.length)
      .split(' ')
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    const timer = setTimeout(() => reject(new Error(`still running ${timeoutMs} ms after SIGTERM`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

async function getStatus(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return undefined;
  }
}

describe('runtime bundle, started as live-origin.service starts it', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'live-origin-bundle-'));
  let bundle: RuntimeBundle;
  let child: ChildProcess;
  let port: number;
  let output = '';
  const host = stubHost({ secretJson: JSON.stringify({ LIVE_ORIGIN_TOKENS: 'bundle-test-token=*', LIVE_ORIGIN_CDN_SECRET: 'bundle-test-cdn-secret' }) });

  beforeAll(async () => {
    bundle = bundleRuntime({ entry: DEFAULT_RUNTIME_ENTRY, outDir });
    port = await unusedPort();
    const closedEndpoint = `http://127.0.0.1:${await unusedPort()}`;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      ...unitEnvironment(),
      ...bootEnvironment(host),
      // This machine's memory is not the instance's.
      LIVE_ORIGIN_MEMORY_BYTES: String(64 * 1024 * 1024),
      LIVE_ORIGIN_WORKERS: '1',
      // This machine, not the instance's 0.0.0.0:8080.
      HOST: '127.0.0.1',
      PORT: String(port),
      // Nothing may leave the machine: every AWS endpoint is a closed loopback port, the
      // credentials are fake, and the instance metadata service is never asked.
      AWS_ENDPOINT_URL: closedEndpoint,
      AWS_ENDPOINT_URL_S3: closedEndpoint,
      AWS_ENDPOINT_URL_DYNAMODB: closedEndpoint,
      AWS_ENDPOINT_URL_CLOUDWATCH: closedEndpoint,
      AWS_ACCESS_KEY_ID: 'AKIABUNDLETEST000000',
      AWS_SECRET_ACCESS_KEY: 'bundle-test-secret-key',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    child = spawn(process.execPath, [bundle.file], { cwd: '/', env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  }, 60_000);

  afterAll(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(outDir, { recursive: true, force: true });
    host.remove();
  });

  it('writes one ES module with its source map', () => {
    expect(bundle.file.endsWith('server.mjs')).toBe(true);
    expect(bundle.sourceMap.endsWith('server.mjs.map')).toBe(true);
  });

  it('answers GET /healthz with 200 in AWS mode', async () => {
    const deadline = Date.now() + 20_000;
    let status: number | undefined;
    while (Date.now() < deadline && child.exitCode === null) {
      status = await getStatus(`http://127.0.0.1:${port}/healthz`);
      if (status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status, output).toBe(200);
  }, 30_000);

  it('reports not ready on /readyz (the load balancer health check) while the store is unreachable', async () => {
    const deadline = Date.now() + 10_000;
    let status: number | undefined;
    while (Date.now() < deadline) {
      status = await getStatus(`http://127.0.0.1:${port}/readyz`);
      if (status === 503) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status, output).toBe(503);
  }, 15_000);

  it('authenticates with the tokens of the credentials file boot.sh wrote (none are in its environment)', async () => {
    const put = (token: string) =>
      fetch(`http://127.0.0.1:${port}/ingest/bundle-1/a/v/seg_1.m4s`, { method: 'PUT', headers: { authorization: `Bearer ${token}` }, body: 'x' });
    expect((await put('not-the-token-0123456789')).status).toBe(401);
    // Past authentication; the store (a closed port) then refuses the write.
    expect((await put('bundle-test-token')).status).toBe(503);
  }, 15_000);

  it('drains and exits cleanly on SIGTERM', async () => {
    child.kill('SIGTERM');
    const exit = await waitForExit(child, 40_000);
    expect(exit, output).toEqual({ code: 0, signal: null });
  }, 45_000);
});
