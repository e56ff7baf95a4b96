import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestOrigin } from '../support/origin.js';
import { AUTH, configure, eventually, put, startOrigin, startPurgeReceiver, TOKEN } from '../support/origin.js';
import { describeWithTools } from '../support/tools.js';
import { DASHBOARD_FILE, dashboardPanels, headingAnchors, RUNBOOK_FILE, readText } from './ops-files.js';

const runbook = readText(RUNBOOK_FILE);

/** The shell blocks of the runbook's "Procedures" section that talk to the origin, in order. */
function procedureCommands(markdown: string): string[] {
  const start = markdown.indexOf('\n## Procedures');
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((block) => block.includes('$ORIGIN'));
}

const withTools = describeWithTools(
  ['curl', 'jq'].map((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0 && `${tool} (apt-get install ${tool})`),
);

describe('docs/runbook.md', () => {
  it('links only to sections it has', () => {
    const anchors = headingAnchors(runbook);
    const links = [...runbook.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(20);
    expect(links.filter((link) => !anchors.has(link))).toEqual([]);
  });

  it('points at dashboard panels that exist', () => {
    const titles = new Set(dashboardPanels(JSON.parse(readText(DASHBOARD_FILE))).map((p) => p.title));
    const lookFirst = [...runbook.matchAll(/\*\*Look first\.\*\*([\s\S]*?)\n\n/g)].map((m) => m[1]!);
    expect(lookFirst.length).toBeGreaterThanOrEqual(13);
    const named = lookFirst.flatMap((text) =>
      [
        ...text
          .replace(/\s+/g, ' ')
          .replace(/`[^`]*`/g, '')
          .matchAll(/"([^"]+)"/g),
      ].map((m) => m[1]!),
    );
    expect(named.length).toBeGreaterThan(20);
    expect(named.filter((title) => !titles.has(title))).toEqual([]);
  });

  it('has the procedures the issue asks for, each with a command', () => {
    const blocks = procedureCommands(runbook).join('\n');
    expect(blocks).toContain('"pipeline": "a"'); // mask a pipeline
    expect(blocks).toMatch(/"from": \d+, "to": \d+/); // invalidate a range
    expect(blocks).toContain('{"all": true}'); // flush an event
    expect(blocks).toContain('.pipelines = ['); // set the order
    expect(runbook).toContain('npm run drill -- --fail <region>'); // fail a region over
  });
});

withTools('the runbook procedures, run as written against a live origin', () => {
  let origin: TestOrigin;
  let cdn: Awaited<ReturnType<typeof startPurgeReceiver>>;
  let dir: string;
  const EVENT = 'news-1';

  beforeAll(async () => {
    cdn = await startPurgeReceiver();
    origin = await startOrigin({ purgeUrls: [cdn.url] });
    dir = mkdtempSync(path.join(os.tmpdir(), 'live-origin-runbook-'));
    const template = { segmentDurationMs: 2000, availabilityStartTime: new Date(Date.now() - 1400 * 2000).toISOString(), startNumber: 1 };
    expect((await configure(origin, EVENT, { pipelines: ['a', 'b'], ...template })).status).toBe(201);
    for (const n of [1200, 1201, 1202, 1300]) {
      for (const pipeline of ['a', 'b']) {
        expect((await put(origin, EVENT, pipeline, `video/720p/seg_${n}.m4s`, `${pipeline}${n}`)).status).toBe(201);
      }
    }
  });
  afterAll(async () => {
    await origin?.close();
    await cdn?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const served = async (n: number): Promise<{ status: number; pipeline: string | null }> => {
    const res = await fetch(`${origin.url}/live/${EVENT}/video/720p/seg_${n}.m4s`);
    await res.arrayBuffer();
    return { status: res.status, pipeline: res.headers.get('live-pipeline') };
  };
  const status = async (): Promise<{ config: { pipelines?: string[]; segmentDurationMs?: number }; masks: unknown[] }> =>
    (await fetch(`${origin.url}/admin/events/${EVENT}`, { headers: AUTH })).json() as never;

  it('each succeed, and do what the runbook says', async () => {
    const blocks = procedureCommands(runbook);
    expect(blocks.length).toBe(5);
    // The origin answers curl on this process's event loop, so the commands run as async children.
    const runAsync = (block: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const child = spawn('bash', ['-euo', 'pipefail', '-c', block], { cwd: dir, env: { ...process.env, ORIGIN: origin.url, TOKEN, EVENT } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk) => (stdout += chunk));
        child.stderr.on('data', (chunk) => (stderr += chunk));
        child.once('error', reject);
        child.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`exit ${code}: ${block}\n${stderr}`))));
      });

    // Look at an event.
    expect(JSON.parse(await runAsync(blocks[0]!))).toMatchObject({ event: EVENT });

    // Set the pipeline order: b first, the rest of the configuration kept; what was served stays pinned.
    expect(await served(1300)).toEqual({ status: 200, pipeline: 'a' });
    expect(await served(1202)).toEqual({ status: 200, pipeline: 'a' });
    await runAsync(blocks[1]!);
    expect((await status()).config).toMatchObject({ pipelines: ['b', 'a'], segmentDurationMs: 2000, startNumber: 1 });
    expect(await served(1200)).toEqual({ status: 200, pipeline: 'b' });
    expect(await served(1300)).toEqual({ status: 200, pipeline: 'a' });

    // Mask pipeline a for 1200-1260: b serves those, even where a was pinned.
    await runAsync(blocks[2]!);
    expect((await status()).masks).toHaveLength(1);
    expect(await served(1202)).toEqual({ status: 200, pipeline: 'b' });

    // Invalidate 1200-1201 for all pipelines, and one path of a.
    await runAsync(blocks[3]!);
    expect(await served(1201)).toMatchObject({ status: 410 });
    expect(await served(1202)).toEqual({ status: 200, pipeline: 'b' });
    await eventually(() => expect(cdn.received.map((r) => r.url)).toContain(`/live/${EVENT}/video/720p/seg_1201.m4s`));

    // Flush: the whole event purged from the CDN.
    await runAsync(blocks[4]!);
    await eventually(() => expect(cdn.received).toContainEqual({ method: 'PURGE', url: `/live/${EVENT}/*` }));
    expect(await served(1300)).toEqual({ status: 200, pipeline: 'b' });
  });
});
