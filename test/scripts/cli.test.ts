import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../lib/helpers.js';
import type { CommandRun } from '../support/run-command.js';
import { runAsync } from '../support/run-command.js';

/**
 * Every npm script that takes arguments, as a person types it: `--help` prints the usage and
 * exits 0; a flag it does not know is one line on stderr and exit 2, and nothing starts (the
 * demo would start Varnish and ffmpeg, the bench its 8 minutes, each printing as it goes).
 */

/** `npm run --silent <script> -- <args>`: --silent keeps npm's own banner out of stdout. */
function npmRun(script: string, args: string[]): Promise<CommandRun> {
  // Work that starts anyway is stopped, and the test fails on what it printed.
  return runAsync('npm', ['run', '--silent', script, '--', ...args], { cwd: REPO_ROOT, killAfterMs: 60_000 });
}

const SCRIPTS: readonly { readonly script: string; readonly name: string; readonly usage: string }[] = [
  { script: 'start', name: 'live-origin', usage: 'usage: npm start' },
  { script: 'start:aws-local', name: 'start:aws-local', usage: 'usage: npm run start:aws-local' },
  { script: 'demo', name: 'demo', usage: 'usage: npm run demo -- ' },
  { script: 'drill', name: 'drill', usage: 'usage: npm run drill -- ' },
  { script: 'soak', name: 'soak', usage: 'usage: npm run soak -- ' },
  { script: 'bench', name: 'bench', usage: 'usage: npm run bench -- ' },
  { script: 'bundle', name: 'bundle', usage: 'usage: npm run bundle -- ' },
  { script: 'deploy', name: 'deploy', usage: 'usage: npm run deploy -- ' },
];

describe('npm scripts on the command line', () => {
  it.each(SCRIPTS)(
    'npm run $script: --help is the usage (exit 0); an unknown flag is one line (exit 2)',
    async ({ script, name, usage }) => {
      const [help, wrong] = await Promise.all([npmRun(script, ['--help']), npmRun(script, ['--no-such-flag'])]);
      expect(help.status, help.stderr).toBe(0);
      expect(help.stdout.startsWith(usage), help.stdout).toBe(true);
      expect(help.stderr).toBe('');

      expect(wrong.status, wrong.stdout + wrong.stderr).toBe(2);
      expect(wrong.stderr).toBe(`${name}: unknown option '--no-such-flag' (--help shows the usage)\n`);
      expect(wrong.stdout).toBe('');
    },
    120_000,
  );

  it('npm run drill: a flag without its value, or a bad value, is one line and exit 2 before any AWS call', async () => {
    const [missing, badRegion] = await Promise.all([npmRun('drill', ['--fail']), npmRun('drill', ['--fail', 'moon-1'])]);
    expect([missing.status, badRegion.status]).toEqual([2, 2]);
    expect(missing.stderr).toBe("drill: option '--fail <value>' argument missing (--help shows the usage)\n");
    expect(badRegion.stderr).toBe('drill: "moon-1" is not a region name (--help shows the usage)\n');
  }, 120_000);

  it('npm run bench: --only names a stage that does not exist: one line and exit 2, no bench', async () => {
    const run = await npmRun('bench', ['--only=throughput,fast']);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe('bench: no stage "fast"; the stages are throughput, fanout, streaming, ingest, feed, quality (--help shows the usage)\n');
    expect(run.stdout).toBe('');
  }, 120_000);
});
