import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.js';
import { contextOf, deployOrder, unknownOption } from '../../scripts/deploy.js';
import { REPO_ROOT } from '../lib/helpers.js';

describe('npm run deploy', () => {
  it('deploys data first, then the standby region, then the primary, then the CDN', () => {
    expect(deployOrder(parseConfig({ regions: 'us-east-1,eu-west-1', cdn: 'cloudfront' }))).toEqual([
      'LiveOrigin-Data-eu-west-1',
      'LiveOrigin-Data-us-east-1',
      'LiveOrigin-Origin-eu-west-1',
      'LiveOrigin-Origin-us-east-1',
      'LiveOrigin-Cdn',
    ]);
  });

  it('follows primaryRegion: after a CDN failover the sick home region is the standby, deployed first', () => {
    expect(deployOrder(parseConfig({ regions: 'us-east-1,eu-west-1', primaryRegion: 'eu-west-1' }))).toEqual([
      'LiveOrigin-Data-us-east-1',
      'LiveOrigin-Data-eu-west-1',
      'LiveOrigin-Origin-us-east-1',
      'LiveOrigin-Origin-eu-west-1',
    ]);
  });

  it('reads cdk.json and -c as cdk does', () => {
    expect(contextOf(['-c', 'primaryRegion=eu-west-1', '--context', 'cdn=cloudfront'])).toMatchObject({
      homeRegion: 'us-east-1',
      primaryRegion: 'eu-west-1',
      cdn: 'cloudfront',
    });
  });

  it('prints the cdk commands in that order with --dry-run, passing the options through', () => {
    const run = spawnSync('npx', ['tsx', 'scripts/deploy.ts', '--dry-run', '-c', 'cdn=cloudfront', '--require-approval', 'never'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual(
      ['LiveOrigin-Data-eu-west-1', 'LiveOrigin-Data-us-east-1', 'LiveOrigin-Origin-eu-west-1', 'LiveOrigin-Origin-us-east-1', 'LiveOrigin-Cdn'].map(
        (stack) => `npx cdk deploy --exclusively ${stack} -c cdn=cloudfront --require-approval never`,
      ),
    );
  }, 60_000);

  it('knows the options it passes on, with their values, and names the first it does not', () => {
    expect(unknownOption(['--dry-run', '-c', 'cdn=cloudfront', '--require-approval=never', '--profile', 'prod', '--ci'])).toBeUndefined();
    expect(unknownOption(['-c', 'cdn=cloudfront', '--no-such-flag'])).toBe('--no-such-flag');
    // A value is not read as an option, and an option missing its value is refused.
    expect(unknownOption(['--profile', '--ci'])).toBeUndefined();
    expect(unknownOption(['--require-approval'])).toBe('--require-approval (without its value)');
    expect(unknownOption(['stray'])).toBe('stray');
  });

  it('refuses an unknown option before deploying anything (exit 2), so a typo never reaches cdk', () => {
    const run = spawnSync('npx', ['tsx', 'scripts/deploy.ts', '--dry-run', '--no-such-flag'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe("deploy: unknown option '--no-such-flag' (--help shows the usage)\n");
  }, 60_000);

  it('explains itself with --help', () => {
    const run = spawnSync('npx', ['tsx', 'scripts/deploy.ts', '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('standby regions first');
  }, 60_000);
});
