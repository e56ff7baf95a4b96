/**
 * Bundles the origin runtime into one ES module file, the artifact that the AMI runs with
 * `node /opt/live-origin/server.mjs`. The image construct (through asset bundling), the
 * `npm run bundle` CLI (scripts/bundle-runtime.ts) and the bundle test call the same function,
 * so what is tested is what gets baked.
 *
 * The bundle is the same bytes wherever it is written: esbuild works from the repository root
 * and the source map names sources relative to it, so the asset's content and its hash
 * (`runtimeSourceHash`) depend only on the runtime's sources, the lockfile and this file, never
 * on the synth output directory. A hash that moved with the directory made every synth a new
 * image and a rolling replacement of every instance.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

/** The repository root (this file lives in `lib/`). */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The runtime's server entry. */
export const DEFAULT_RUNTIME_ENTRY = join(PROJECT_ROOT, 'runtime', 'server.ts');

/** File name of the bundle; the systemd unit runs exactly this file. */
export const RUNTIME_BUNDLE_FILE = 'server.mjs';

/** The Node.js major version installed on the AMI; the bundle targets it. */
export const RUNTIME_NODE_MAJOR = 22;

/** What pins the dependencies' versions: part of the bundle's hash. */
const LOCKFILE = join(PROJECT_ROOT, 'package-lock.json');

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
    // Path comments in the output are relative to this, whatever the caller's directory.
    absWorkingDir: PROJECT_ROOT,
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
  const sourceMap = `${file}.map`;
  rootRelativeSources(sourceMap, outDir);
  return { file, sourceMap };
}

/**
 * esbuild names each source relative to the map's directory (`../../../repo/runtime/...`); the
 * map is rewritten to name them relative to the repository root (`runtime/http/app.ts`), which
 * is also how a stack trace on the instance reads them (`/opt/live-origin/runtime/...`).
 */
function rootRelativeSources(sourceMap: string, outDir: string): void {
  const map = JSON.parse(readFileSync(sourceMap, 'utf8')) as { sources: string[] };
  map.sources = map.sources.map((source) => relative(PROJECT_ROOT, resolve(outDir, source)).split(sep).join('/'));
  writeFileSync(sourceMap, JSON.stringify(map));
}

/**
 * A hash of everything the bundle is made from: every file under the entry's directory (the
 * runtime's sources), the lockfile and this bundler. It is the asset's hash, so the image, its
 * version and the instances change only when one of these does.
 */
export function runtimeSourceHash(entry: string = DEFAULT_RUNTIME_ENTRY): string {
  const root = dirname(resolve(entry));
  const hash = createHash('sha256');
  const add = (name: string, content: Buffer): void => {
    hash.update(`${name}\0${content.length}\0`);
    hash.update(content);
  };
  add('entry', Buffer.from(relative(root, resolve(entry)).split(sep).join('/')));
  for (const file of sourceFiles(root)) add(relative(root, file).split(sep).join('/'), readFileSync(file));
  add('package-lock.json', readFileSync(LOCKFILE));
  add('bundler', readFileSync(fileURLToPath(import.meta.url)));
  return hash.digest('hex');
}

/** Every file below `dir`, sorted, without installed dependencies. */
function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}
