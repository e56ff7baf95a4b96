import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/**
 * The README's pictures: the demo page (player beside the status page) after some playback,
 * the status page alone, and the demo page again after the faults a, d, b and c (fired through the
 * page's buttons, as a visitor would), taken with Debian's Chromium through playwright-core.
 */

export const CHROMIUM = '/usr/bin/chromium';
/** Headless Chromium that talks to nothing but the loopback servers it is pointed at. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--autoplay-policy=no-user-gesture-required',
];

export interface ScreenshotOptions {
  readonly directory: string;
  readonly pageUrl: string;
  /** The status page URL with `#token=...`. */
  readonly statusUrl: string;
  readonly afterPlaybackS: number;
}

/** How long each fault plays before the next one (and before the last picture). */
const FAULT_PLAY_S = { a: 10, d: 10, b: 10, c: 15 } as const;

/**
 * The buttons each step presses: d follows a healed (so what the player got under d is the
 * degraded copies' alone), and b comes after d since it kills the pipeline d degrades.
 */
const FAULT_STEPS = [
  { fault: 'a', clicks: ['a'] },
  { fault: 'd', clicks: ['a', 'd'] },
  { fault: 'b', clicks: ['b'] },
  { fault: 'c', clicks: ['c'] },
] as const;

/** What the player measured when the picture was taken. */
export interface PlayerFigures {
  /** Seconds actually played. */
  readonly playedS: number;
  readonly latencyS: number | null;
  readonly stalls: number;
  readonly errors: number;
  readonly fatal: number;
  readonly pipelines: Record<string, number>;
  readonly defective: Record<string, number>;
  /** Segments answered with a `Live-Quality` below 100, by pipeline. */
  readonly degraded: Record<string, number>;
}

/** The player's figures after the first playback and after each fault. */
export type DemoFigures = Record<'playback' | 'fault a' | 'fault d' | 'fault b' | 'fault c', PlayerFigures>;

export async function takeDemoScreenshots(options: ScreenshotOptions): Promise<DemoFigures> {
  mkdirSync(options.directory, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 860 } });
    await page.goto(options.pageUrl);
    await page.waitForFunction((seconds) => (globalThis as any).demo?.playedS >= seconds, options.afterPlaybackS, {
      timeout: (options.afterPlaybackS + 45) * 1000,
    });
    const measure = async () =>
      (await page.evaluate(() => {
        const demo = (globalThis as any).demo;
        const { playedS, latencyS, stalls, errors, fatal, pipelines, defective, degraded } = demo;
        return { playedS, latencyS, stalls, errors, fatal, pipelines: { ...pipelines }, defective: { ...defective }, degraded: { ...degraded } };
      })) as PlayerFigures;
    const playback = await measure();
    await page.screenshot({ path: join(options.directory, 'demo.png') });

    const status = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    await status.goto(options.statusUrl);
    await status.waitForSelector('tr[data-pipeline="b"]');
    await status.screenshot({ path: join(options.directory, 'status.png') });
    await status.close();

    const figures: Partial<DemoFigures> = { playback };
    for (const { fault, clicks } of FAULT_STEPS) {
      for (const click of clicks) await page.click(`#fault-${click}`);
      await new Promise((resolve) => setTimeout(resolve, FAULT_PLAY_S[fault] * 1000));
      figures[`fault ${fault}`] = await measure();
    }
    await page.screenshot({ path: join(options.directory, 'demo-faults.png') });
    return figures as DemoFigures;
  } finally {
    await browser.close();
  }
}
