/** The timers' programs (refresh-credentials.sh, liveness-check.sh) run as written, on a stub host. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { instanceProgramPath } from '../../../lib/instance/paths.js';
import { type StubHost, stubHost } from './stub-host.js';

let host: StubHost | undefined;
afterEach(() => host?.remove());

const group = spawnSync('id', ['-gn'], { encoding: 'utf8' }).stdout.trim();

function refresh(secret: unknown, existing?: string) {
  host = stubHost({ secretJson: JSON.stringify(secret) });
  const file = host.path('credentials.json');
  if (existing !== undefined) writeFileSync(file, existing);
  const run = spawnSync(instanceProgramPath('refresh-credentials.sh'), [], {
    env: host.env({
      AWS_REGION: 'us-east-1',
      LIVE_ORIGIN_SECRET_NAME: 'live-origin/runtime',
      LIVE_ORIGIN_CREDENTIALS_FILE: file,
      LIVE_ORIGIN_SERVICE_GROUP: group,
    }),
    encoding: 'utf8',
  });
  return { run, file, host };
}

describe('refresh-credentials.sh', () => {
  it('replaces the credentials file with the secret’s tokens and CDN secrets', () => {
    const { run, file } = refresh(
      { LIVE_ORIGIN_TOKENS: 't-0123456789abcdef=*', LIVE_ORIGIN_CDN_SECRET_NEXT: 'next', LIVE_ORIGIN_PURGE_URLS: 'https://p' },
      '{"LIVE_ORIGIN_TOKENS":"old"}',
    );
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ LIVE_ORIGIN_TOKENS: 't-0123456789abcdef=*', LIVE_ORIGIN_CDN_SECRET_NEXT: 'next' });
  });

  it('keeps the last good file when the secret has lost its tokens, and leaves no temporary file', () => {
    const { run, file, host } = refresh({ LIVE_ORIGIN_CDN_SECRET: 'x' }, '{"LIVE_ORIGIN_TOKENS":"old"}');
    expect(run.status).not.toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('{"LIVE_ORIGIN_TOKENS":"old"}');
    expect(spawnSync('sh', ['-c', `ls ${host.dir} | grep -c credentials.json.`], { encoding: 'utf8' }).stdout.trim()).toBe('0');
  });
});

describe('liveness-check.sh', () => {
  // A process of its own: the checks run synchronously here and would block an in-process server.
  let server: ChildProcess;
  let url: string;
  beforeAll(async () => {
    server = spawn(process.execPath, [
      '-e',
      "require('http').createServer((q, r) => r.end('{}')).listen(0, '127.0.0.1', function () { console.log(this.address().port) })",
    ]);
    const port = await new Promise<string>((resolve) => server.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())));
    url = `http://127.0.0.1:${port}/healthz`;
  });
  afterAll(() => {
    server.kill();
  });

  /** Runs the check `times` times against `healthUrl` (the real curl), with the AWS commands stubbed. */
  function check(healthUrl: string, times: number): { calls: string[]; state: string } {
    host = stubHost({ secretJson: '{}' });
    // The stub curl stands in for the metadata service only; the health URL is asked for real.
    const env = host.env({
      AWS_REGION: 'us-east-1',
      LIVE_ORIGIN_HEALTH_URL: healthUrl,
      LIVE_ORIGIN_LIVENESS_STATE: host.path('failures'),
      LIVE_ORIGIN_LIVENESS_FAILURES: '3',
      LIVE_ORIGIN_METADATA_URL: 'http://metadata.invalid/latest',
    });
    const script = `curl() { case "$*" in *metadata.invalid*) command "${host.bin}/curl" "$@" ;; *) command /usr/bin/curl "$@" ;; esac; }; export -f curl; exec bash ${instanceProgramPath('liveness-check.sh')}`;
    for (let i = 0; i < times; i++) spawnSync('bash', ['-c', script], { env, encoding: 'utf8' });
    return {
      calls: host.calls().filter((call) => call.startsWith('aws')),
      state: existsSync(host.path('failures')) ? readFileSync(host.path('failures'), 'utf8').trim() : '',
    };
  }

  it('leaves a runtime that answers /healthz alone', () => {
    expect(check(url, 5)).toEqual({ calls: [], state: '0' });
  });

  it('asks the group to replace the instance after the third failure in a row, not before', () => {
    const dead = 'http://127.0.0.1:9/healthz';
    expect(check(dead, 2).calls).toEqual([]);
    const { calls } = check(dead, 3);
    expect(calls).toEqual(['aws autoscaling set-instance-health --region us-east-1 --instance-id i-0123456789abcdef0 --health-status Unhealthy']);
  });
});
