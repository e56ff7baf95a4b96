import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { addLiveOriginStacks, type LiveOriginStacks } from '../../lib/live-origin-app.js';
import { FIXTURE_ENTRY, newApp, twoRegionConfig } from './helpers.js';

interface Violation {
  readonly ruleName: string;
  readonly violatingConstructs: { readonly constructPath: string }[];
}

/** Synthesizes both regions plus DNS under the AwsSolutions pack, as bin/ does. */
function synthWithNag(addExtra?: (stacks: LiveOriginStacks) => void): { error?: unknown; violations: Violation[] } {
  const app: App = newApp();
  const stacks = addLiveOriginStacks(app, twoRegionConfig(), { runtimeEntry: FIXTURE_ENTRY });
  addExtra?.(stacks);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let error: unknown;
  try {
    app.synth();
  } catch (caught) {
    error = caught;
  }
  const report = JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: { pluginName: string; violations: Violation[] }[];
  };
  const violations = report.pluginReports.filter((plugin) => plugin.pluginName === 'AwsSolutions').flatMap((plugin) => plugin.violations);
  return { error, violations };
}

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in any stack', () => {
    const { error, violations } = synthWithNag();
    const findings = violations.flatMap((violation) => violation.violatingConstructs.map((c) => `${violation.ruleName} at ${c.constructPath}`));
    expect(findings).toEqual([]);
    expect(error).toBeUndefined();
    // Two full regions under the whole rule pack: about 30 s alone, much more on a shared machine.
  }, 180_000);

  it('does check the origin stacks: an unlogged bucket there is reported', () => {
    const { error, violations } = synthWithNag((stacks) => {
      new s3.Bucket(stacks.origins['eu-west-1']!, 'Unlogged', { enforceSSL: true });
    });
    expect(violations.map((violation) => violation.ruleName)).toContain('AwsSolutions-S1');
    expect(error).toBeDefined();
  }, 180_000);
});
