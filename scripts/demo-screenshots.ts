import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/**
 * The README's pictures: the demo page (player beside the status page) after some playback,
 * and the status page alone, taken with Debian's Chromium through playwright-core.
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

/** What the player measured when the picture was taken. */
export interface PlayerFigures {
  readonly currentTime: number;
  readonly latencyS: number | null;
  readonly stalls: number;
  readonly errors: number;
  readonly fatal: number;
  readonly pipelines: Record<string, number>;
}

export async function takeDemoScreenshots(options: ScreenshotOptions): Promise<PlayerFigures> {
  mkdirSync(options.directory, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 860 } });
    await page.goto(options.pageUrl);
    await page.waitForFunction((seconds) => (globalThis as any).demo?.currentTime >= seconds, options.afterPlaybackS, {
      timeout: (options.afterPlaybackS + 45) * 1000,
    });
    const figures = (await page.evaluate(() => {
      const demo = (globalThis as any).demo;
      return { currentTime: demo.currentTime, latencyS: demo.latencyS, stalls: demo.stalls, errors: demo.errors, fatal: demo.fatal, pipelines: demo.pipelines };
    })) as PlayerFigures;
    await page.screenshot({ path: join(options.directory, 'demo.png') });

    const status = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    await status.goto(options.statusUrl);
    await status.waitForSelector('tr[data-pipeline="b"]');
    await status.screenshot({ path: join(options.directory, 'status.png') });
    return figures;
  } finally {
    await browser.close();
  }
}
