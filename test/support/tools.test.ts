import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inCi, toolVerdict } from './tools.js';

/**
 * A suite that lacks a tool skips on a developer's machine and fails in CI. The verdicts, then a
 * real vitest run of a fixture suite that needs a tool no machine has, once with CI set and once
 * without.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'live-origin-tools-'));
const config = join(dir, 'vitest.config.mjs');
writeFileSync(config, `export default { test: { root: ${JSON.stringify(ROOT)}, include: ['test/support/fixtures/needs-a-missing-tool.fixture.ts'] } };\n`);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runFixture(ci: string | undefined): Promise<{ code: number | null; output: string }> {
  const env = { ...process.env };
  delete env.CI;
  if (ci !== undefined) env.CI = ci;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', config], { cwd: ROOT, env });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, output }));
  });
}

describe('tools a suite needs', () => {
  it('reads CI as CI services set it', () => {
    expect(inCi({ CI: 'true' })).toBe(true);
    expect(inCi({ CI: '1' })).toBe(true);
    expect(inCi({ CI: 'TRUE' })).toBe(true);
    expect(inCi({})).toBe(false);
    expect(inCi({ CI: '' })).toBe(false);
    expect(inCi({ CI: '0' })).toBe(false);
    expect(inCi({ CI: 'false' })).toBe(false);
  });

  it('runs with every tool, skips without one, and fails without one in CI', () => {
    expect(toolVerdict([], { CI: 'true' })).toBe('run');
    expect(toolVerdict([], {})).toBe('run');
    expect(toolVerdict(['varnish'], {})).toBe('skip');
    expect(toolVerdict(['varnish'], { CI: 'true' })).toBe('fail');
  });

  it('in CI, a missing tool fails the run and names the tool', async () => {
    const { code, output } = await runFixture('true');
    expect(code, output).not.toBe(0);
    expect(output).toContain('lacks no-such-tool (apt-get install no-such-tool)');
  }, 60_000);

  it('elsewhere, a missing tool skips the suite with a line that names it', async () => {
    const { code, output } = await runFixture(undefined);
    expect(code, output).toBe(0);
    expect(output).toContain('a suite that needs no-such-tool: skipped, missing no-such-tool (apt-get install no-such-tool)');
    expect(output).toMatch(/1 skipped/);
  }, 60_000);
});
