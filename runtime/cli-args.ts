import type { ParseArgsOptionsConfig } from 'node:util';
import { parseArgs } from 'node:util';

/**
 * The command line of every entry point (`npm start` and the npm scripts): `--help` prints the
 * usage and exits 0; an unknown flag, a missing value or a stray argument is one line on stderr
 * and exit 2, before any work starts, never a stack trace.
 */

/** getopt's and the shells' status for a command called wrongly. */
export const USAGE_EXIT_CODE = 2;

export interface CommandLine<O extends ParseArgsOptionsConfig> {
  /** What error lines start with: `drill: unknown option '--x'`. */
  readonly name: string;
  /** The whole `--help` text; its first line is `usage: ...`. */
  readonly usage: string;
  readonly options: O;
}

export type CommandValues<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>>['values'];

export type CommandLineResult<O extends ParseArgsOptionsConfig> =
  | { readonly kind: 'help' }
  | { readonly kind: 'wrong'; readonly message: string }
  | { readonly kind: 'run'; readonly values: CommandValues<O> };

/** What `args` ask for, without printing or exiting. */
export function readCommandLine<O extends ParseArgsOptionsConfig>(command: CommandLine<O>, args: readonly string[]): CommandLineResult<O> {
  const flags = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  if (flags.includes('--help') || flags.includes('-h')) return { kind: 'help' };
  try {
    const { values } = parseArgs({ args: [...args], options: command.options, strict: true, allowPositionals: false });
    return { kind: 'run', values: values as CommandValues<O> };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (!code?.startsWith('ERR_PARSE_ARGS_')) throw error;
    // Node's messages go on with advice about positionals after `--`; the first sentence is the point.
    return { kind: 'wrong', message: firstSentence((error as Error).message) };
  }
}

/** Parses `process.argv`: prints the usage and exits 0 on `--help`, exits 2 with one line on anything it does not take. */
export function parseCommandLine<O extends ParseArgsOptionsConfig>(command: CommandLine<O>, args: readonly string[] = process.argv.slice(2)): CommandValues<O> {
  const result = readCommandLine(command, args);
  if (result.kind === 'help') {
    process.stdout.write(`${command.usage.trimEnd()}\n`);
    process.exit(0);
  }
  if (result.kind === 'wrong') usageExit(command.name, result.message);
  return result.values;
}

/** One line on stderr and exit 2: for a flag's value the command cannot use. */
export function usageExit(name: string, message: string): never {
  process.stderr.write(`${name}: ${message} (--help shows the usage)\n`);
  process.exit(USAGE_EXIT_CODE);
}

function firstSentence(message: string): string {
  const end = message.indexOf('. ');
  const sentence = end < 0 ? message : message.slice(0, end);
  return sentence.charAt(0).toLowerCase() + sentence.slice(1).replace(/\.$/, '');
}
