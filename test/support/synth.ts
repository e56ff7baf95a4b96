import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cdkJsonContext, REPO_ROOT } from '../lib/helpers.js';
import { runAsync } from './run-command.js';

/** The environment of a machine that has never seen AWS: no AWS_* variable at all. */
export function offlineEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_') && !name.startsWith('CDK_')));
  return {
    ...env,
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    // Not a credential: stops the SDK probing the instance metadata address for one.
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/**
 * Every template the CDK app (bin/live-origin.ts) writes with cdk.json's context plus `context`,
 * by file name: the app run as the CLI runs it (context through CDK_CONTEXT_JSON), without the
 * CLI's own start-up. Whatever stacks the app builds are read from its output directory.
 */
export async function synthesizeTemplates(context: Record<string, unknown> = {}): Promise<Map<string, Record<string, unknown>>> {
  const outdir = mkdtempSync(join(tmpdir(), 'live-origin-templates-'));
  try {
    const run = await runAsync(process.execPath, ['--import', 'tsx', 'bin/live-origin.ts'], {
      cwd: REPO_ROOT,
      env: { ...offlineEnv(), CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJsonContext(), ...context }), CDK_OUTDIR: outdir },
    });
    if (run.status !== 0) throw new Error(`synthesis failed (${run.status}): ${run.output}`);
    const files = readdirSync(outdir).filter((name) => name.endsWith('.template.json'));
    return new Map(files.map((name) => [name, JSON.parse(readFileSync(join(outdir, name), 'utf8')) as Record<string, unknown>]));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
