import { describe, expect, it } from 'vitest';
import { readCommandLine } from '../runtime/cli-args.js';

const command = {
  name: 'tool',
  usage: 'usage: tool [--quick] [--only <x>]',
  options: { quick: { type: 'boolean' }, only: { type: 'string' } },
} as const;

describe('readCommandLine', () => {
  it('reads the flags it knows', () => {
    expect(readCommandLine(command, ['--quick', '--only', 'a'])).toEqual({ kind: 'run', values: { quick: true, only: 'a' } });
    expect(readCommandLine(command, ['--only=a,b'])).toEqual({ kind: 'run', values: { only: 'a,b' } });
    expect(readCommandLine(command, [])).toEqual({ kind: 'run', values: {} });
  });

  it('asks for the usage on --help or -h, wherever it stands and whatever else is wrong', () => {
    for (const args of [['--help'], ['-h'], ['--quick', '--help'], ['--bogus', '-h']]) {
      expect(readCommandLine(command, args), args.join(' ')).toEqual({ kind: 'help' });
    }
  });

  it('does not take --help after -- as a request for the usage', () => {
    expect(readCommandLine(command, ['--', '--help']).kind).toBe('wrong');
  });

  it('refuses an unknown flag in one sentence naming it', () => {
    expect(readCommandLine(command, ['--bogus'])).toEqual({ kind: 'wrong', message: "unknown option '--bogus'" });
    expect(readCommandLine(command, ['-x'])).toEqual({ kind: 'wrong', message: "unknown option '-x'" });
  });

  it('refuses a missing value, a value for a switch, and a stray argument', () => {
    const wrong = [['--only'], ['--quick=yes'], ['extra']].map((args) => readCommandLine(command, args));
    expect(wrong).toEqual([
      { kind: 'wrong', message: "option '--only <value>' argument missing" },
      { kind: 'wrong', message: "option '--quick' does not take an argument" },
      { kind: 'wrong', message: "unexpected argument 'extra'" },
    ]);
    for (const result of wrong) expect((result as { message: string }).message).not.toContain('\n');
  });
});
