/**
 * `npm run bundle`: the runtime bundle the AMI runs, built by lib/runtime-bundle.ts (the same
 * function the image construct calls), written to a directory of your choice.
 *
 * CLI: `npx tsx scripts/bundle-runtime.ts [--entry runtime/server.ts] [--out-dir dist/runtime]`
 */
import { join } from 'node:path';
import { bundleRuntime, PROJECT_ROOT } from '../lib/runtime-bundle.js';

function argValue(args: readonly string[], name: string): string | undefined {
  const index = args.indexOf(name);
  if (index === -1) return undefined;
  const value = args[index + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value`);
  return value;
}

try {
  const args = process.argv.slice(2);
  const bundle = bundleRuntime({ entry: argValue(args, '--entry'), outDir: argValue(args, '--out-dir') ?? join(PROJECT_ROOT, 'dist', 'runtime') });
  process.stdout.write(`${bundle.file}\n`);
} catch (error) {
  process.stderr.write(`bundle-runtime: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
