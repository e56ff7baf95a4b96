import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ffmpegInstalled } from '../support/ffmpeg.js';
import { eventually } from '../support/origin.js';
import { describeWithTools } from '../support/tools.js';
import { varnishInstalled } from '../support/varnish.js';

/**
 * `npm run demo` as a user runs it: a real process that starts two origin processes on local
 * stores, Varnish and two ffmpeg packagers. The test reads the URLs it prints, checks the
 * player page, the status page and the stream, fires the four faults through the page's own
 * control endpoints (fetching segments as a player does under the two that make pipeline a's
 * copies worse), then stops it with SIGINT and checks that every process it started is gone
 * and its working directory removed.
 */

const ENTRY = 'scripts/demo.ts';
const run = describeWithTools([!varnishInstalled() && 'varnish (apt-get install varnish)', !ffmpegInstalled() && 'ffmpeg (apt-get install ffmpeg)']);

let demo: { child: ChildProcess; exited: Promise<number | null> } | undefined;
/** Processes the demo started, killed here if a failed test left them (SIGKILL cannot be caught by the demo). */
let started: number[] = [];
let output = '';
afterAll(async () => {
  if (demo && demo.child.exitCode === null) {
    demo.child.kill('SIGINT');
    await Promise.race([demo.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  }
  for (const pid of started.filter(alive)) process.kill(pid, 'SIGKILL');
});

function startDemo(args: string[], env: Record<string, string> = {}): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited };
}

function printed(pattern: RegExp): string {
  const value = pattern.exec(output)?.[1];
  if (!value) throw new Error(`not printed: ${pattern}\n${output}`);
  return value;
}

/** Every live process below `root` (the demo's children and theirs), from /proc. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      // The command name is in parentheses and may hold spaces: the fields after it are fixed.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // Gone while listing.
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return state.slice(state.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * The next `count` segments the media playlist lists, each fetched through Varnish the moment a
 * reload (every 250 ms) shows it, as a player at the live edge does: 'clean' for a copy of score
 * 100 with no defect, else the pipeline, score and defects it came with.
 */
async function nextSegments(playlist: string, count: number): Promise<string[]> {
  const listed = async () => [...(await (await fetch(playlist)).text()).matchAll(/^(seg_\d+\.m4s)$/gm)].map((m) => m[1]!);
  const seen = new Set(await listed());
  const served: string[] = [];
  while (served.length < count) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    for (const segment of await listed()) {
      if (seen.has(segment) || served.length === count) continue;
      seen.add(segment);
      const answer = await fetch(new URL(segment, playlist));
      await answer.arrayBuffer();
      const quality = answer.headers.get('live-quality') ?? '100';
      const defect = answer.headers.get('live-defect');
      served.push(quality === '100' && !defect ? 'clean' : `${segment} from ${answer.headers.get('live-pipeline')}: quality ${quality}, defect ${defect}`);
    }
  }
  return served;
}

describe('npm run demo', () => {
  it('names the missing tool and the command that installs it', async () => {
    output = '';
    const { exited } = startDemo([], { DEMO_VARNISHD: '/nonexistent/varnishd' });
    expect(await exited).toBe(1);
    expect(output).toContain('varnishd (Debian package varnish)');
    expect(output).toContain('sudo apt-get install varnish ffmpeg');
  });
});

run('npm run demo (ffmpeg, Varnish, two regions)', () => {
  it('serves the player and status pages, plays through Varnish, takes the four faults (pipeline a’s worse copies never reach the player), and stops leaving nothing behind', async () => {
    output = '';
    demo = startDemo(['--for', '120s']);
    const { child, exited } = demo;
    await eventually(() => expect(output).toContain('Stop: q or Ctrl-C'), 50_000);
    started = descendants(child.pid!);
    // Two origins, Varnish (manager and child), two packagers.
    expect(started.length).toBeGreaterThanOrEqual(6);
    const page = printed(/player \+ status page:\s+(\S+)/);
    const stream = printed(/stream through Varnish:\s+(\S+)/);
    const status1 = printed(/status page us-east-1:\s+(\S+)/);
    const status2 = printed(/status page eu-west-1:\s+(\S+)/);
    const token = printed(/\(token (\S+)\)/);
    const workDir = printed(/working directory:\s+(\S+)/);
    const auth = { authorization: `Bearer ${token}` };

    const html = await (await fetch(page)).text();
    expect(html).toContain('<script src="/hls.min.js">');
    expect(html).toContain(stream);
    const hlsJs = await fetch(new URL('/hls.min.js', page));
    expect(hlsJs.status).toBe(200);
    expect((await hlsJs.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    expect((await fetch(status1)).status).toBe(200);
    expect((await fetch(`${status1}.json`)).status).toBe(401);

    // Both packagers publish through region 1 and 2; the status page sees them, and Varnish
    // serves the playlist (with CORS, for the page's player on another origin).
    const edges = async (statusUrl: string) => {
      const body = await (await fetch(`${statusUrl}.json`, { headers: auth })).json();
      const event = body.events.find((e: { event: string }) => e.event === 'demo');
      return Object.fromEntries((event?.pipelines ?? []).map((p: { pipeline: string }) => [p.pipeline, p])) as Record<
        string,
        { liveEdge?: number; defectiveIngests: number }
      >;
    };
    await eventually(async () => {
      const pipelines = await edges(status1);
      expect(pipelines.a?.liveEdge).toBeGreaterThanOrEqual(2);
      expect(pipelines.b?.liveEdge).toBeGreaterThanOrEqual(2);
    }, 20_000);
    // A player retries: on a busy machine a readiness probe may time out and Varnish answer 503 for a moment.
    await eventually(async () => {
      const playlist = await fetch(stream, { headers: { origin: page.replace(/\/$/, '') } });
      expect(playlist.status).toBe(200);
      expect(await playlist.text()).toMatch(/seg_\d+\.m4s/);
      expect(playlist.headers.get('access-control-allow-origin')).toBeTruthy();
    }, 10_000);

    const fault = async (name: string) => (await (await fetch(new URL(`/faults/${name}`, page), { method: 'POST' })).json()).message as string;
    // d: pipeline a's segments score 40; a and a: flagged defective. Either way a player fetching
    // each segment as soon as the playlist lists it gets b's clean copy, not a's worse one.
    expect(await fault('d')).toContain('40');
    expect(await nextSegments(stream, 3)).toEqual(Array(3).fill('clean'));
    await fault('d');
    expect(await fault('a')).toContain('defective');
    await eventually(async () => expect((await edges(status1)).a?.defectiveIngests).toBeGreaterThan(0), 10_000);
    expect(await nextSegments(stream, 3)).toEqual(Array(3).fill('clean'));
    // b: pipeline a is killed; c: region 1 is killed, and Varnish fetches from region 2.
    expect(await fault('b')).toContain('killed');
    expect(await fault('c')).toContain('killed');
    await eventually(async () => {
      const state = await (await fetch(new URL('/state', page))).json();
      expect(state).toMatchObject({ faults: { a: true, b: true, c: true }, regionsUp: ['eu-west-1'] });
    });
    await eventually(async () => {
      const after = await fetch(stream);
      expect(after.status).toBe(200);
      expect(after.headers.get('x-edge-backend')).toBe('region2');
    }, 10_000);
    expect((await edges(status2)).b?.liveEdge).toBeGreaterThanOrEqual(2);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('stopped');
    expect(started.filter(alive)).toEqual([]);
    expect(existsSync(workDir)).toBe(false);
  }, 90_000);
});
