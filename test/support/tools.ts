import { describe, it } from 'vitest';

/**
 * Suites that need a tool from outside npm (Varnish, ffmpeg, Chromium, promtool, curl, jq). On a
 * developer's machine a missing tool skips the suite, with a line naming it and how to install
 * it. In CI (the `CI` variable set, as `.ci/run` sets it) a missing tool is a failure instead:
 * CI installs every tool, so a skip there would pass a run in which the suite never ran.
 */

export type ToolVerdict = 'run' | 'skip' | 'fail';

/** `CI` set to anything but empty, `0` or `false`, as CI services set it (`true`, `1`). */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/** What a suite does given the tools it lacks (each named with how to install it). */
export function toolVerdict(missing: readonly string[], env: NodeJS.ProcessEnv = process.env): ToolVerdict {
  if (missing.length === 0) return 'run';
  return inCi(env) ? 'fail' : 'skip';
}

type Body = () => void;

/**
 * `describe` for a suite that needs tools. `needs` lists the missing ones as strings such as
 * `'varnish (apt-get install varnish)'`; `false` entries (tools found) are ignored, so callers
 * can write `!varnishInstalled() && 'varnish (apt-get install varnish)'`.
 */
export function describeWithTools(needs: readonly (string | false)[]): (title: string, body: Body) => void {
  const missing = needs.filter((need): need is string => need !== false);
  switch (toolVerdict(missing)) {
    case 'run':
      return describe;
    case 'fail':
      return (title) =>
        describe(title, () => {
          it(`has ${missing.join(', ')}`, () => {
            throw new Error(`CI installs every tool (.ci/run), but this machine lacks ${missing.join(', ')}: the suite cannot run`);
          });
        });
    case 'skip':
      return (title, body) => {
        console.warn(`${title}: skipped, missing ${missing.join(', ')}`);
        describe.skip(title, body);
      };
  }
}

/** `it` for one test that needs tools, with the same verdicts as `describeWithTools`. */
export function itWithTools(needs: readonly (string | false)[]): (title: string, body: () => unknown, timeoutMs?: number) => void {
  const missing = needs.filter((need): need is string => need !== false);
  switch (toolVerdict(missing)) {
    case 'run':
      return it;
    case 'fail':
      return (title) =>
        it(title, () => {
          throw new Error(`CI installs every tool (.ci/run), but this machine lacks ${missing.join(', ')}: this test cannot run`);
        });
    case 'skip':
      return (title, body, timeoutMs) => {
        console.warn(`${title}: skipped, missing ${missing.join(', ')}`);
        it.skip(title, body, timeoutMs);
      };
  }
}
