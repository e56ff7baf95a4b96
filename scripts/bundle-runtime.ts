/**
 * `npm run bundle`: the runtime bundle the AMI runs, built by lib/runtime-bundle.ts (the same
 * function the image construct calls), written to a directory of your choice.
 *
 * CLI: `npm run bundle -- [--entry runtime/server.ts] [--out-dir dist/runtime]` (USAGE below).
 */
import { join } from 'node:path';
import { bundleRuntime, PROJECT_ROOT, RUNTIME_BUNDLE_FILE } from '../lib/runtime-bundle.js';
import { parseCommandLine } from '../runtime/cli-args.js';

const USAGE = `usage: npm run bundle -- [--entry <file>] [--out-dir <dir>]

Bundles the origin runtime into one ES module file (${RUNTIME_BUNDLE_FILE} and its source map), the
artifact the AMI runs with node; prints the bundle's path.

  --entry <file>        the server entry (default runtime/server.ts)
  --out-dir <dir>       where the bundle goes (default dist/runtime)`;

try {
  const values = parseCommandLine(
    { name: 'bundle', usage: USAGE, options: { entry: { type: 'string' }, 'out-dir': { type: 'string' } } },
    process.argv.slice(2),
  );
  const bundle = bundleRuntime({ entry: values.entry, outDir: values['out-dir'] ?? join(PROJECT_ROOT, 'dist', 'runtime') });
  process.stdout.write(`${bundle.file}\n`);
} catch (error) {
  process.stderr.write(`bundle-runtime: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
