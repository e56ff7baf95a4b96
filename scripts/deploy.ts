/**
 * `npm run deploy`: deploys the stacks one at a time in the order that keeps a region serving.
 * The standby region (every region but `primaryRegion`) goes first, so a bad change shows there
 * before it reaches the region that takes the traffic; then the primary; then the CDN stack.
 * Data stacks come before any origin stack (every fleet writes to every region's bucket and to
 * the tables). Each stack is deployed with `cdk deploy --exclusively`, so the CLI never reorders
 * them; the first failure stops the rest.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type LiveOriginConfig, parseConfig, type RawContext, readContext } from '../lib/config.js';
import { STACK_NAMES } from '../lib/naming.js';
import { PROJECT_ROOT } from '../lib/runtime-bundle.js';
import { USAGE_EXIT_CODE } from '../runtime/cli-args.js';

/**
 * The \`cdk deploy\` options passed on to every stack's deployment: those that take a value, and
 * flags. Anything else is refused before anything runs: a mistyped option would otherwise reach
 * every stack's \`cdk deploy\`.
 */
const CDK_VALUE_OPTIONS = [
  '-c',
  '--context',
  '--require-approval',
  '--profile',
  '--role-arn',
  '-r',
  '--concurrency',
  '--progress',
  '--tags',
  '-t',
  '--parameters',
  '--outputs-file',
  '-O',
  '--toolkit-stack-name',
  '--method',
  '-m',
];
const CDK_FLAGS = [
  '--verbose',
  '-v',
  '--debug',
  '--ci',
  '--force',
  '-f',
  '--no-rollback',
  '--rollback',
  '--hotswap',
  '--previous-parameters',
  '--no-previous-parameters',
];

const HELP = `usage: npm run deploy -- [--dry-run] [cdk deploy options, e.g. -c key=value --require-approval never]

Deploys, one stack at a time with \`cdk deploy --exclusively\`:
  1. the data stacks, standby regions first, then the primary region's;
  2. the origin stacks of the standby regions (every region but primaryRegion);
  3. the origin stack of primaryRegion;
  4. the CDN stack (with -c cdn=cloudfront).
The first failure stops the rest. Context comes from cdk.json and -c, as for cdk itself.

  --dry-run   print the cdk commands instead of running them
  --help      this text

cdk deploy options passed on to each stack: ${CDK_VALUE_OPTIONS.join(' ')} (each with its value),
${CDK_FLAGS.join(' ')}. Any other option is refused (exit 2) before anything is deployed.`;

/** The first argument that is not an option this command knows (with its value), if any. */
export function unknownOption(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const name = arg.startsWith('--') && arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    if (name === '--dry-run' || CDK_FLAGS.includes(name)) continue;
    if (!CDK_VALUE_OPTIONS.includes(name)) return arg;
    if (name === arg && args[++i] === undefined) return `${arg} (without its value)`;
  }
  return undefined;
}

/** Stack names in deployment order. */
export function deployOrder(config: LiveOriginConfig): string[] {
  const standby = config.regions.filter((region) => region !== config.primaryRegion);
  const regions = [...standby, config.primaryRegion];
  return [
    ...regions.map((region) => STACK_NAMES.data(region)),
    ...regions.map((region) => STACK_NAMES.origin(region)),
    ...(config.cdn ? [STACK_NAMES.cdn] : []),
  ];
}

/** cdk.json's context with every `-c key=value` (or `--context key=value`) of `args` on top. */
export function contextOf(args: readonly string[]): RawContext {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const context: Record<string, unknown> = { ...cdkJson.context };
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== '-c' && args[i] !== '--context') continue;
    const pair = args[++i] ?? '';
    const at = pair.indexOf('=');
    if (at > 0) context[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return readContext((key) => context[key]);
}

function main(args: readonly string[]): number {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const unknown = unknownOption(args);
  if (unknown !== undefined) {
    process.stderr.write(`deploy: unknown option '${unknown}' (--help shows the usage)\n`);
    return USAGE_EXIT_CODE;
  }
  const dryRun = args.includes('--dry-run');
  const cdkArgs = args.filter((arg) => arg !== '--dry-run');
  let config: LiveOriginConfig;
  try {
    config = parseConfig(contextOf(cdkArgs));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
  for (const stack of deployOrder(config)) {
    const command = ['cdk', 'deploy', '--exclusively', stack, ...cdkArgs];
    process.stdout.write(`npx ${command.join(' ')}\n`);
    if (dryRun) continue;
    const run = spawnSync('npx', command, { cwd: PROJECT_ROOT, stdio: 'inherit' });
    if (run.status !== 0) {
      process.stderr.write(`deploy: ${stack} failed; the stacks after it were not deployed\n`);
      return run.status ?? 1;
    }
  }
  return 0;
}

if (process.argv[1]?.endsWith('deploy.ts')) process.exitCode = main(process.argv.slice(2));
