/**
 * boot.sh run as an instance runs it (bash, the real instance programs, real node), with stubs
 * for AWS and systemd (stub-host.ts): what it writes, what it starts, and when it signals.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { type BootScriptOptions, bootScript, bootVariables } from '../../../lib/instance/boot-script.js';
import { instanceProgramPath } from '../../../lib/instance/paths.js';
import { TIMERS } from '../../../lib/instance/units.js';
import { bootOverrides, type StubHost, stubHost } from './stub-host.js';

const OPTIONS: BootScriptOptions = {
  region: 'us-east-1',
  bucketName: 'live-origin-segments-111111111111-us-east-1',
  tablePrefix: 'live-origin-',
  peerBuckets: 'eu-west-1=live-origin-segments-111111111111-eu-west-1',
  secretName: 'live-origin/runtime',
  hotCacheMemoryFraction: 0.5,
  stackName: 'LiveOrigin-Origin-us-east-1',
  signalResource: 'FleetGroupABC123',
  logGroupName: 'live-origin-test-logs',
  targetGroupArns: [
    'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/delivery/1',
    'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/ingest/2',
  ],
};

const SECRET = {
  LIVE_ORIGIN_TOKENS: 'tok-0123456789abcdef=news-*',
  LIVE_ORIGIN_CDN_SECRET: 'a"b\\c',
  LIVE_ORIGIN_CDN_SECRET_NEXT: 'next-secret',
  LIVE_ORIGIN_PURGE_URLS: 'https://purge.example.net',
  unrelated: 'x',
};

let host: StubHost | undefined;
afterEach(() => host?.remove());

/** Runs the whole user data on a stub host; paths point into the host's directory. */
function boot(secret: unknown, behaviour: { unhealthyChecks?: number; targetAttempts?: number } = {}) {
  host = stubHost({ secretJson: JSON.stringify(secret), unhealthyChecks: behaviour.unhealthyChecks });
  const script = bootScript({
    ...OPTIONS,
    overrides: {
      ...bootOverrides(host),
      ...(behaviour.targetAttempts ? { TARGET_ATTEMPTS: String(behaviour.targetAttempts) } : {}),
    },
  });
  const run = spawnSync('bash', ['-c', script], { env: host.env(), encoding: 'utf8', timeout: 60_000 });
  return { run, calls: host.calls(), host };
}

/** KEY=VALUE lines as systemd's EnvironmentFile reads them (double quotes with backslash escapes). */
function environmentFile(path: string): Record<string, string> {
  const entries = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const at = line.indexOf('=');
      let value = line.slice(at + 1);
      if (value.startsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
      return [line.slice(0, at), value] as const;
    });
  return Object.fromEntries(entries);
}

describe('boot.sh on an instance', () => {
  it('writes the runtime environment, with the settings of the secret but none of its credentials', () => {
    const { run, host } = boot(SECRET);
    expect(run.status, run.stderr).toBe(0);
    const env = environmentFile(host.path('etc/env'));
    expect(env).toMatchObject({
      PORT: '8080',
      HOST: '0.0.0.0',
      LIVE_ORIGIN_STORE: 'aws',
      LIVE_ORIGIN_BUCKET: OPTIONS.bucketName,
      LIVE_ORIGIN_TABLE_PREFIX: 'live-origin-',
      LIVE_ORIGIN_PEER_BUCKETS: OPTIONS.peerBuckets,
      AWS_REGION: 'us-east-1',
      LIVE_ORIGIN_WORKERS: '2',
      LIVE_ORIGIN_RELAY_HOST: '10.0.1.23',
      LIVE_ORIGIN_RELAY_PORT: '8081',
      LIVE_ORIGIN_CREDENTIALS_FILE: host.path('etc/credentials.json'),
      LIVE_ORIGIN_PURGE_URLS: 'https://purge.example.net',
    });
    expect(Number(env.LIVE_ORIGIN_MEMORY_BYTES)).toBeGreaterThan(0);
    expect(Object.keys(env).filter((key) => /TOKENS|CDN_SECRET/.test(key))).toEqual([]);
    expect((statSync(host.path('etc/env')).mode & 0o777).toString(8)).toBe('600');
  });

  it('writes the credentials file the runtime re-reads, readable by its group only', () => {
    const { run, host } = boot(SECRET);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(readFileSync(host.path('etc/credentials.json'), 'utf8'))).toEqual({
      LIVE_ORIGIN_TOKENS: SECRET.LIVE_ORIGIN_TOKENS,
      LIVE_ORIGIN_CDN_SECRET: SECRET.LIVE_ORIGIN_CDN_SECRET,
      LIVE_ORIGIN_CDN_SECRET_NEXT: SECRET.LIVE_ORIGIN_CDN_SECRET_NEXT,
    });
    expect((statSync(host.path('etc/credentials.json')).mode & 0o777).toString(8)).toBe('640');
    const instance = environmentFile(host.path('etc/instance.env'));
    expect(instance).toMatchObject({
      AWS_REGION: 'us-east-1',
      LIVE_ORIGIN_SECRET_NAME: 'live-origin/runtime',
      LIVE_ORIGIN_HEALTH_URL: 'http://127.0.0.1:8080/healthz',
    });
  });

  it('ships logs, then starts the runtime and its timers, and signals success only after both target groups count it healthy', () => {
    const { run, calls, host } = boot(SECRET, { unhealthyChecks: 2 });
    expect(run.status, run.stderr).toBe(0);
    const agent = calls.findIndex((call) => call.startsWith('agent-ctl -a fetch-config'));
    const start = calls.findIndex((call) => call.startsWith('systemctl enable --now'));
    expect(agent).toBeGreaterThan(-1);
    expect(agent).toBeLessThan(start);
    expect(calls[start]!.split(' ').slice(3)).toEqual(['live-origin.service', ...TIMERS]);
    const agentConfig = JSON.parse(readFileSync(host.path('agent.json'), 'utf8'));
    expect(agentConfig.logs.logs_collected.files.collect_list[0]).toMatchObject({
      file_path: '/var/log/live-origin/origin.log',
      log_group_name: 'live-origin-test-logs',
    });

    const readiness = calls.findIndex((call) => call.startsWith('curl') && call.includes('http://127.0.0.1:8080/readyz'));
    const health = calls.map((call, index) => [call, index] as const).filter(([call]) => call.startsWith('aws elbv2 describe-target-health'));
    const signals = calls.map((call, index) => [call, index] as const).filter(([call]) => call.startsWith('cfn-signal'));
    expect(readiness).toBeGreaterThan(start);
    // Two answers of `initial`, then `healthy`, for each of the two groups.
    expect(health).toHaveLength(6);
    for (const arn of OPTIONS.targetGroupArns) expect(health.filter(([call]) => call.includes(arn))).toHaveLength(3);
    expect(health.every(([call]) => call.includes('Id=i-0123456789abcdef0'))).toBe(true);
    expect(signals).toHaveLength(1);
    expect(signals[0]![0]).toContain('--exit-code 0');
    expect(signals[0]![0]).toContain(`--resource ${OPTIONS.signalResource}`);
    expect(signals[0]![1]).toBeGreaterThan(health.at(-1)![1]);
  });

  it('signals failure, and starts nothing, when the secret has no tokens', () => {
    const { run, calls } = boot({ LIVE_ORIGIN_CDN_SECRET: 'only-this' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('the secret has no LIVE_ORIGIN_TOKENS');
    expect(calls.filter((call) => call.startsWith('cfn-signal'))).toEqual([expect.stringContaining('--exit-code 1')]);
    expect(calls.some((call) => call.startsWith('systemctl'))).toBe(false);
  });

  it('signals failure when the load balancer never counts the instance healthy', () => {
    const { run, calls } = boot(SECRET, { unhealthyChecks: Number.POSITIVE_INFINITY, targetAttempts: 3 });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('never counted this instance healthy');
    expect(calls.filter((call) => call.startsWith('cfn-signal'))).toEqual([expect.stringContaining('--exit-code 1')]);
  });
});

describe('bootVariables', () => {
  it('gives boot.sh every variable it reads, and nothing it does not', () => {
    const script = readFileSync(instanceProgramPath('boot.sh'), 'utf8');
    const read = new Set([...script.matchAll(/\$\{?([A-Z][A-Z_]+)\b/g)].map((match) => match[1]!));
    // Variables the script sets itself, or that come from the instance environment it sources.
    const own = new Set(['AWS_REGION', 'LIVE_ORIGIN_SECRET_NAME']);
    const given = new Set(Object.keys(bootVariables(OPTIONS)));
    expect([...read].filter((name) => !given.has(name) && !own.has(name))).toEqual([]);
    expect([...given].filter((name) => !read.has(name))).toEqual([]);
  });
});
