import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS } from '../../scripts/demo-screenshots.js';
import type { TestOrigin } from '../support/origin.js';
import { configure, put, startOrigin, TOKEN } from '../support/origin.js';
import { describeWithTools } from '../support/tools.js';

/**
 * The status page in a real browser (Debian's Chromium through playwright-core): the operator
 * enters the token, the page polls /status.json with it, and what an ingest changes shows up
 * on the next refresh. The screenshot goes to a temp directory (the README's comes from the demo).
 */

const chromiumInstalled = spawnSync(CHROMIUM, ['--version'], { stdio: 'ignore' }).status === 0;
const run = describeWithTools([!chromiumInstalled && 'chromium (apt-get install chromium)']);

let origin: TestOrigin;
let browser: Browser;
let shots: string;
beforeAll(async () => {
  origin = await startOrigin();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  shots = mkdtempSync(join(tmpdir(), 'live-origin-status-shot-'));
});
afterAll(async () => {
  await browser?.close();
  await origin?.close();
  if (shots) rmSync(shots, { recursive: true, force: true });
});

run('status page in Chromium', () => {
  it('asks for the token, refuses a wrong one, then shows pipelines updating live after ingests', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    await page.goto(`${origin.url}/status`);
    await expect.poll(() => page.textContent('#error')).toBe('enter a token');

    await page.fill('#token', 'not-a-known-token-000');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('#error')).toBe('token refused (401)');

    await configure(origin, 'browser-1', { pipelines: ['a', 'b'] });
    await put(origin, 'browser-1', 'a', 'v/seg_1.m4s', 'x');
    await put(origin, 'browser-1', 'b', 'v/seg_1.m4s', 'y', { 'live-defect': 'short' });
    await page.fill('#token', TOKEN);
    await page.click('button[type=submit]');
    const edgeOf = (pipeline: string) => page.textContent(`[data-event="browser-1"] tr[data-pipeline="${pipeline}"] td:nth-child(2)`);
    await expect.poll(() => edgeOf('a')).toBe('1');
    expect(await page.textContent('#error')).toBe('');
    expect(await page.textContent('[data-event="browser-1"] tr[data-pipeline="b"] td:nth-child(5)')).toBe('1');
    expect(await page.textContent('[data-event="browser-1"] tr[data-pipeline="a"] td:last-child')).toBe('healthy');

    // Nothing reloads the page: the next poll brings the new edge and the new pin.
    await put(origin, 'browser-1', 'a', 'v/seg_2.m4s', 'x');
    expect((await fetch(`${origin.url}/live/browser-1/v/seg_2.m4s`)).status).toBe(200);
    await expect.poll(() => edgeOf('a'), { timeout: 5_000 }).toBe('2');
    await expect.poll(() => page.textContent('#selections tbody'), { timeout: 5_000 }).toContain('v/seg_2.m4s');

    const file = join(shots, 'status.png');
    await page.screenshot({ path: file });
    expect(statSync(file).size).toBeGreaterThan(10_000);
    await page.close();
  });

  it('takes the token from the URL fragment and removes it from the address bar', async () => {
    const page = await browser.newPage();
    await page.goto(`${origin.url}/status#token=${TOKEN}`);
    await expect.poll(() => page.textContent('#summary')).toContain('readiness ready');
    expect(new URL(page.url()).hash).toBe('');
    await page.close();
  });
});
