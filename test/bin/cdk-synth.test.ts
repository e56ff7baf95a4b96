import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACK_NAMES } from '../../lib/naming.js';
import { REPO_ROOT } from '../lib/helpers.js';
import type { CommandRun } from '../support/run-command.js';
import { runAsync } from '../support/run-command.js';
import { offlineEnv } from '../support/synth.js';

const outdir = mkdtempSync(join(tmpdir(), 'live-origin-synth-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('npx cdk synth', () => {
  let run: CommandRun;

  // One run of the real CLI for the whole file: two regions with DNS failover.
  beforeAll(async () => {
    run = await runAsync(
      'npx',
      [
        'cdk',
        'synth',
        '--no-notices',
        '--quiet',
        '--output',
        outdir,
        '-c',
        'regions=us-east-1,eu-west-1',
        '-c',
        'domainName=origin.example.com',
        '-c',
        'hostedZoneId=Z0123456789EXAMPLE',
      ],
      { cwd: REPO_ROOT, env: offlineEnv() },
    );
  }, 180_000);

  it('exits 0 without credentials', () => {
    expect(run.output).not.toMatch(/Need to perform AWS calls/);
    expect(run.status, run.output).toBe(0);
  });

  it('writes all four stacks, each origin stack with its failover record', () => {
    for (const region of ['us-east-1', 'eu-west-1']) {
      expect(existsSync(join(outdir, `${STACK_NAMES.data(region)}.template.json`))).toBe(true);
      const origin = readFileSync(join(outdir, `${STACK_NAMES.origin(region)}.template.json`), 'utf8');
      expect(origin).toContain('"AWS::Route53::RecordSet"');
    }
  });

  it('leaves no cdk-nag finding unacknowledged', () => {
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: unknown[] };
    expect(report.pluginReports).toEqual([]);
  });

  it('pins every stack to a region and no account', () => {
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as {
      artifacts: Record<string, { type: string; environment?: string }>;
    };
    const environments = Object.values(manifest.artifacts)
      .filter((artifact) => artifact.type === 'aws:cloudformation:stack')
      .map((artifact) => artifact.environment);
    expect(environments.sort()).toEqual([
      'aws://unknown-account/eu-west-1',
      'aws://unknown-account/eu-west-1',
      'aws://unknown-account/us-east-1',
      'aws://unknown-account/us-east-1',
    ]);
  });

  it('refuses bad context with a clear message and exit 1', async () => {
    const bad = await runAsync('npx', ['tsx', 'bin/live-origin.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...offlineEnv(),
        // How the CLI hands context to the app.
        CDK_CONTEXT_JSON: JSON.stringify({
          regions: 'us-east-1,eu-west-1,ap-southeast-2',
          domainName: 'origin.example.com',
          hostedZoneId: 'Z0123456789EXAMPLE',
        }),
        CDK_OUTDIR: join(outdir, 'bad'),
      },
    });
    expect(bad.status).toBe(1);
    expect(bad.output).toContain('DNS failover needs exactly two regions');
  }, 60_000);
});
