/**
 * Bundles the origin runtime into one ES module file, the artifact that the AMI runs with
 * `node /opt/live-origin/server.mjs`. The CDK image construct (through asset bundling) and the
 * bundle test call the same function, so what is tested is what gets baked.
 *
 * CLI: `npm run bundle -- [--entry runtime/server.ts] [--out-dir dist/runtime]` (USAGE below).
 */

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { parseCommandLine } from '../runtime/cli-args.js';

/** The repository root (this file lives in `scripts/`). */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The runtime's server entry, relative to the repository root. */
export const DEFAULT_RUNTIME_ENTRY = join(PROJECT_ROOT, 'runtime', 'server.ts');

/** File name of the bundle; the systemd unit runs exactly this file. */
export const RUNTIME_BUNDLE_FILE = 'server.mjs';

/** The Node.js major version installed on the AMI; the bundle targets it. */
export const RUNTIME_NODE_MAJOR = 22;

/**
 * CommonJS dependencies (fastify's and the AWS SDK's internals) call `require`, which an ES
 * module does not have; this banner gives the bundle one that resolves like Node would.
 */
const ESM_REQUIRE_SHIM =
  "import { createRequire as __liveOriginCreateRequire } from 'node:module';\n" + 'const require = __liveOriginCreateRequire(import.meta.url);';

export interface BundleRuntimeOptions {
  /**
   * The TypeScript entry file of the server.
   * @default DEFAULT_RUNTIME_ENTRY (runtime/server.ts)
   */
  readonly entry?: string;
  /** Directory that receives `server.mjs` and its source map; created if missing. */
  readonly outDir: string;
}

/** What a bundle run produced. */
export interface RuntimeBundle {
  /** Absolute path of the bundled `server.mjs`. */
  readonly file: string;
  /** Absolute path of its source map (`server.mjs.map`). */
  readonly sourceMap: string;
}

/**
 * Builds the bundle synchronously: CDK's local bundling hook (`tryBundle`) is synchronous.
 * Throws with esbuild's message when the entry or one of its imports does not resolve.
 */
export function bundleRuntime(options: BundleRuntimeOptions): RuntimeBundle {
  const entry = resolve(options.entry ?? DEFAULT_RUNTIME_ENTRY);
  const outDir = resolve(options.outDir);
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, RUNTIME_BUNDLE_FILE);
  buildSync({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: `node${RUNTIME_NODE_MAJOR}`,
    format: 'esm',
    // Prefer the ESM builds of dual packages, so fewer modules need the require shim.
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_SHIM },
    sourcemap: 'linked',
    // Error classes keep their names in logs and `instanceof`-free checks.
    keepNames: true,
    legalComments: 'eof',
    logLevel: 'silent',
  });
  return { file, sourceMap: `${file}.map` };
}

const USAGE = `usage: npm run bundle -- [--entry <file>] [--out-dir <dir>]

Bundles the origin runtime into one ES module file (${RUNTIME_BUNDLE_FILE} and its source map), the
artifact the AMI runs with node; prints the bundle's path.

  --entry <file>        the server entry (default runtime/server.ts)
  --out-dir <dir>       where the bundle goes (default dist/runtime)`;

function main(args: readonly string[]): void {
  const values = parseCommandLine({ name: 'bundle', usage: USAGE, options: { entry: { type: 'string' }, 'out-dir': { type: 'string' } } }, args);
  const bundle = bundleRuntime({ entry: values.entry, outDir: values['out-dir'] ?? join(PROJECT_ROOT, 'dist', 'runtime') });
  process.stdout.write(`${bundle.file}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bundle-runtime: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
