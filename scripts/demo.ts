/**
 * `npm run demo`: the origin doing its job, in one command.
 *
 * Starts two regions (an origin process each, in aws mode on local S3 and DynamoDB servers:
 * one dynalite standing in for the global tables, one s3rver per region, each origin copying
 * its segments to the other region's bucket after the ack), Varnish with the shipped VCL in front of both, and two ffmpeg
 * packagers publishing the same epoch-locked HLS timeline (a test pattern with the pipeline's
 * name and a wall clock burnt in). Prints the URL of a page with an hls.js player beside the
 * origin's status page, and offers four faults, by key or by button:
 *   a  pipeline a flags its segments defective (press again to heal)
 *   d  pipeline a scores its segments quality 40 (press again to heal)
 *   b  pipeline a is killed
 *   c  region 1's origin is killed
 * Ctrl-C (or q) stops everything: process groups killed, temp directories removed.
 *
 * With --ll-dash the packagers publish low-latency DASH instead (chunked CMAF, one PUT per
 * segment streamed as it is encoded, which the origin serves while ingesting) and the page
 * plays it with dash.js in its low-latency mode, about one second behind the packagers.
 *
 * Over 400 lines on purpose: one command's wiring of processes (stores, origins, Varnish,
 * packagers, page server) and their faults; the page and the ingest proxy are their own modules.
 *
 * Missing tools are named with the command that installs them. The flags are in USAGE
 * (`npm run demo -- --help`); with --screenshots it also prints what the player measured.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine, usageExit } from '../runtime/cli-args.js';
import type { IngestProxy } from './demo-ingest-proxy.js';
import { DEMO_QUALITY, startIngestProxy } from './demo-ingest-proxy.js';
import type { DemoPlayer } from './demo-page.js';
import { demoPage, PLAYER_SCRIPTS } from './demo-page.js';
import type { Child, Tool } from './demo-processes.js';
import { findTool, startChild, waitForOutput } from './demo-processes.js';
import { writeEdgeVcl } from './local/edge-vcl.js';
import type { LocalRegionsAddress } from './local/local-regions.js';
import { LOCAL_REGION_NAMES, regionOriginEnv, startLocalRegionsInProcesses } from './local/local-regions.js';
import { hlsMuxerArgs, llDashMuxerArgs, testPatternArgs } from './packager-args.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const EVENT = 'demo';
const PIPELINES = ['a', 'b'] as const;
const SEGMENT_SECONDS = 2;
const FPS = 25;
/** LL-DASH (--ll-dash): a CMAF chunk every quarter second, and dash.js one second behind live. */
const LL_DASH = { fragmentSeconds: 0.25, targetLatencySeconds: 1 } as const;
const SOURCES = { hls: 'v/index.m3u8', 'll-dash': 'd/manifest.mpd' } as const;
/** Segments each packager's playlist lists: enough for a player 3 segments behind the edge. */
const PLAYLIST_SEGMENTS = 6;
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const REGIONS = LOCAL_REGION_NAMES.map((region) => ({ region }));
const ORIGIN_START_TIMEOUT_MS = 30_000;
/** The first playlist comes one segment after the encoders start, which may take seconds under load. */
const TIMELINE_TIMEOUT_MS = 30_000;
/**
 * Segments may arrive this many durations after they are due before the origin calls them gone:
 * the two encoders share the demo machine's CPU and fall behind real time when it is busy.
 */
const HOLD_GRACE_SEGMENTS = 2;
/**
 * How long a segment's first answer waits for the other pipeline's better copy (the event's
 * `betterWaitMs`). The default, 250 ms for 2 s segments, suits encoders locked to one clock a
 * few tens of milliseconds apart; the demo's two ffmpeg packagers start independently on one
 * busy machine, and b's copy of a segment was acked 49-438 ms from a's in runs on 2026-12-05/06
 * (printed when the demo stops).
 */
const BETTER_WAIT_MS = 1_000;
const VARNISH_START_TIMEOUT_MS = 15_000;
/** Playback time before the screenshots, so the player, the status page and the log have content. */
const SCREENSHOT_AFTER_PLAYBACK_S = 15;
const INSTALL_HINT = 'sudo apt-get install varnish ffmpeg';

/** DEMO_FFMPEG / DEMO_VARNISHD name a build of one's own; else PATH, then Debian's locations. */
const TOOLS: readonly Tool[] = [
  { name: 'ffmpeg', commands: candidates('DEMO_FFMPEG', ['ffmpeg', '/usr/bin/ffmpeg']), versionArgs: ['-version'], debianPackage: 'ffmpeg' },
  { name: 'varnishd', commands: candidates('DEMO_VARNISHD', ['varnishd', '/usr/sbin/varnishd']), versionArgs: ['-V'], debianPackage: 'varnish' },
];

function candidates(variable: string, defaults: string[]): string[] {
  const given = process.env[variable];
  return given ? [given] : defaults;
}

/** a: pipeline a defective; d: pipeline a degraded (quality); b: pipeline a killed; c: region 1 killed. */
type Fault = 'a' | 'b' | 'c' | 'd';

interface Options {
  readonly player: DemoPlayer;
  readonly forSeconds?: number;
  readonly screenshots?: string;
  readonly port: number;
}

const USAGE = `usage: npm run demo -- [--ll-dash] [--for <seconds>s] [--screenshots <dir>] [--port <n>]

The origin doing its job, in one command: two regions (an origin process each on local S3 and
DynamoDB servers), Varnish in front of both, and two ffmpeg packagers publishing the same HLS
timeline. Prints the URL of a page with a player beside the origin's status page. Faults by key
or by button: a  pipeline a flags its segments defective (again: heal)
                d  pipeline a scores its segments quality ${DEMO_QUALITY} (again: heal)
                b  pipeline a is killed
                c  region 1's origin is killed
q or Ctrl-C stops every process and removes the temporary directories.

  --ll-dash             low-latency DASH instead of HLS: the packagers stream each segment as
                        they encode it, the origin serves it while it arrives, and dash.js
                        plays it in its low-latency mode about 1 s behind them
  --for <seconds>s      stop by itself after this long (e.g. --for 60s)
  --screenshots <dir>   save demo.png and status.png from Chromium after 15 s of playback, then
                        fire faults a, d, b, c from the page, save demo-faults.png and print what
                        the player measured (about a minute: --for waits for it)
  --port <n>            the page's port (default: a free one)

Needs ffmpeg and Varnish: ${INSTALL_HINT}`;

function parseOptions(args: readonly string[]): Options {
  const values = parseCommandLine(
    {
      name: 'demo',
      usage: USAGE,
      options: { 'll-dash': { type: 'boolean' }, for: { type: 'string' }, screenshots: { type: 'string' }, port: { type: 'string' } },
    },
    args,
  );
  if (values.for !== undefined && !/^\d+s?$/.test(values.for)) usageExit('demo', `--for takes whole seconds like 60s, got "${values.for}"`);
  if (values.port !== undefined && !/^\d+$/.test(values.port)) usageExit('demo', `--port takes a port number, got "${values.port}"`);
  return {
    player: values['ll-dash'] === true ? 'll-dash' : 'hls',
    forSeconds: values.for === undefined ? undefined : Number.parseInt(values.for, 10),
    screenshots: values.screenshots,
    port: values.port === undefined ? 0 : Number(values.port),
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The output of an LL-DASH packager (--ll-dash): chunked CMAF, one chunked PUT per segment. */
function llDashOutput(pipeline: string, ingestBase: string, token: string, utcTimingUrl: string): string[] {
  return llDashMuxerArgs({
    segmentSeconds: SEGMENT_SECONDS,
    ...LL_DASH,
    utcTimingUrl,
    windowSegments: PLAYLIST_SEGMENTS,
    httpOptions: `headers=Authorization\\: Bearer ${token}`,
    manifestUrl: `${ingestBase}/ingest/${EVENT}/${pipeline}/${SOURCES['ll-dash']}`,
  });
}

/** HLS fMP4 playlists and segments, each PUT once written. */
function hlsOutput(pipeline: string, ingestBase: string, token: string): string[] {
  return hlsMuxerArgs({
    segmentSeconds: SEGMENT_SECONDS,
    listSize: PLAYLIST_SEGMENTS,
    flags: 'independent_segments+program_date_time',
    authArgs: ['-headers', `Authorization: Bearer ${token}\r\n`],
    ingestBase: `${ingestBase}/ingest/${EVENT}/${pipeline}`,
    playlist: SOURCES.hls,
  });
}

function packagerArgs(pipeline: string, output: string[]): string[] {
  // Burnt in: the pipeline's name and the wall clock (the player's latency is visible by eye).
  const label = `drawtext=fontfile=${FONT}:text='pipeline ${pipeline}   %{localtime\\:%X}':fontsize=40:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=8:x=24:y=48`;
  const pattern = testPatternArgs({
    fps: FPS,
    segmentSeconds: SEGMENT_SECONDS,
    size: '640x360',
    preset: 'veryfast',
    audioBitrate: '96k',
    videoFilter: label,
    zeroLatency: true,
  });
  return [...pattern, ...output];
}

/**
 * When segment 1's media starts on the packagers' clock, from what they published: an HLS
 * playlist's first program date-time (less the segments before it), or an MPD's
 * availabilityStartTime (its segments are numbered from 1 at that time). Undefined until then.
 */
function timelineStart(published: string): Date | undefined {
  const availabilityStart = /availabilityStartTime="([^"]+)"/.exec(published)?.[1];
  if (availabilityStart !== undefined) return new Date(Date.parse(availabilityStart));
  const sequence = /#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(published)?.[1];
  const firstDate = /#EXT-X-PROGRAM-DATE-TIME:(\S+)/.exec(published)?.[1];
  if (sequence === undefined || firstDate === undefined) return undefined;
  return new Date(Date.parse(firstDate) - (Number(sequence) - 1) * SEGMENT_SECONDS * 1000);
}

class Demo {
  private readonly token = `demo-${randomBytes(16).toString('hex')}`;
  private readonly faults = { a: false, b: false, c: false, d: false };
  private readonly children: Child[] = [];
  private readonly origins: (Child | undefined)[] = [];
  private readonly originUrls: URL[] = [];
  private readonly packagers = new Map<string, Child>();
  private varnish?: Child;
  private varnishUrl = '';
  /** Both regions' stores (an S3 server each, the shared DynamoDB), each server in its own process. */
  private regions?: { readonly address: LocalRegionsAddress; stop(): Promise<void> };
  private proxy?: IngestProxy;
  private control?: http.Server;
  private pageUrl = '';
  private workDir = '';
  private stopping?: Promise<void>;

  constructor(private readonly options: Options) {}

  async start(ffmpeg: string, varnishd: string): Promise<void> {
    const started = Date.now();
    const progress = (step: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${step}\n`);
    this.workDir = await mkdtemp(join(tmpdir(), 'live-origin-demo-'));
    this.regions = await startLocalRegionsInProcesses();
    const { address } = this.regions;
    progress(`local DynamoDB (global tables) ${address.dynamoDb}; S3 per region ${address.regions.map((region) => region.s3).join(', ')}`);
    const varnishPort = await freePort();
    this.varnishUrl = `http://127.0.0.1:${varnishPort}`;
    const ports = await Promise.all(REGIONS.map(() => freePort()));
    await Promise.all(REGIONS.map((_, index) => this.startOrigin(index, ports[index]!)));
    progress(`origins ready: ${REGIONS.map((r, index) => `${r.region} ${this.originUrls[index]!.href}`).join(', ')}`);

    // The shipped two-region VCL: a fallback director with /readyz probes, region 1 first.
    const vclFile = writeEdgeVcl(this.workDir, [this.originUrls[0]!, this.originUrls[1]!]);
    this.varnish = this.track(
      startChild('varnishd', varnishd, [
        '-F',
        '-j',
        'none',
        '-n',
        join(this.workDir, 'varnish'),
        '-a',
        `127.0.0.1:${varnishPort}`,
        '-f',
        vclFile,
        '-s',
        'malloc,128m',
        '-T',
        'none',
      ]),
    );
    await this.waitForVarnish(varnishPort);
    progress(`Varnish ready (two-region director): ${this.varnishUrl}`);

    await this.configureEvent({ pipelines: PIPELINES });
    this.proxy = await startIngestProxy({
      target: (pipeline) => this.originUrls[pipeline === 'a' && !this.faults.c ? 0 : 1]!.href,
      defective: (pipeline) => pipeline === 'a' && this.faults.a,
      quality: (pipeline) => (pipeline === 'a' && this.faults.d ? DEMO_QUALITY : undefined),
    });
    for (const pipeline of PIPELINES) {
      this.packagers.set(
        pipeline,
        this.track(startChild(`packager ${pipeline}`, ffmpeg, packagerArgs(pipeline, this.packagerOutput(pipeline)), { cwd: this.workDir })),
      );
    }
    await this.startControlServer();
    progress('packagers a and b publishing');
    const start = await this.lockTimeline();
    progress(`event timeline locked to the packagers' clock: segment 1 started at ${start.toISOString()}`);
  }

  /** Where and how a packager publishes: HLS, or with --ll-dash streamed LL-DASH. */
  private packagerOutput(pipeline: string): string[] {
    // The clock in the MPD is the one players reach: the origin's, through Varnish.
    if (this.options.player === 'll-dash') return llDashOutput(pipeline, this.proxy!.url, this.token, `${this.varnishUrl}/time`);
    return hlsOutput(pipeline, this.proxy!.url, this.token);
  }

  private track(child: Child): Child {
    this.children.push(child);
    return child;
  }

  private async startOrigin(index: number, port: number): Promise<void> {
    const own = REGIONS[index]!;
    const env = {
      ...process.env,
      // Its own S3 server and bucket, the other region's bucket as its peer, the shared tables.
      ...regionOriginEnv(this.regions!.address, index === 0 ? 0 : 1, this.token),
      LIVE_ORIGIN_PURGE_URLS: this.varnishUrl,
      LIVE_ORIGIN_WORKERS: '1',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    };
    const child = this.track(startChild(`origin ${own.region}`, process.execPath, ['--import', 'tsx', 'runtime/server.ts'], { cwd: PROJECT_ROOT, env }));
    const [, url] = await waitForOutput(child, /listening on (http:\/\/\S+)/, ORIGIN_START_TIMEOUT_MS);
    this.origins[index] = child;
    this.originUrls[index] = new URL(url!);
  }

  private async waitForVarnish(port: number): Promise<void> {
    const until = Date.now() + VARNISH_START_TIMEOUT_MS;
    for (;;) {
      if (this.varnish!.done()) throw new Error(`varnishd exited:\n${this.varnish!.output()}`);
      const up = await new Promise<boolean>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
      if (up) return;
      if (Date.now() > until) throw new Error(`varnishd did not listen:\n${this.varnish!.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private async configureEvent(config: Record<string, unknown>): Promise<void> {
    const response = await fetch(new URL(`/admin/events/${EVENT}`, this.originUrls[0]), {
      method: 'PUT',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(config),
    });
    if (!response.ok) throw new Error(`event config refused: ${response.status} ${await response.text()}`);
  }

  /**
   * Gives the event its template from the packagers' own clock (timelineStart: their playlist's
   * program date-time, or their MPD's availabilityStartTime), so the origin's deadlines follow the
   * encoders however long they took to start (seconds on a busy laptop).
   */
  private async lockTimeline(): Promise<Date> {
    const until = Date.now() + TIMELINE_TIMEOUT_MS;
    for (;;) {
      const response = await fetch(new URL(`/live/${EVENT}/${SOURCES[this.options.player]}`, this.originUrls[0])).catch(() => undefined);
      const start = timelineStart(response?.ok ? await response.text() : '');
      if (start !== undefined) {
        await this.configureEvent({
          pipelines: PIPELINES,
          segmentDurationMs: SEGMENT_SECONDS * 1000,
          availabilityStartTime: start.toISOString(),
          startNumber: 1,
          holdGraceMs: HOLD_GRACE_SEGMENTS * SEGMENT_SECONDS * 1000,
          betterWaitMs: BETTER_WAIT_MS,
        });
        return start;
      }
      if (Date.now() > until) throw new Error(`no playlist from the packagers within ${TIMELINE_TIMEOUT_MS} ms:\n${this.packagers.get('a')?.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  private streamUrl(): string {
    return `${this.varnishUrl}/live/${EVENT}/${SOURCES[this.options.player]}`;
  }

  private statusUrls(): { region: string; url: string }[] {
    return REGIONS.map((r, index) => ({ region: r.region, url: new URL('/status', this.originUrls[index]).href }));
  }

  private regionsUp(): string[] {
    return REGIONS.filter((_, index) => !this.origins[index]?.done()).map((r) => r.region);
  }

  private async startControlServer(): Promise<void> {
    const { player } = this.options;
    const page = demoPage({ player, playlistUrl: this.streamUrl(), statusUrls: this.statusUrls(), token: this.token });
    const script = PLAYER_SCRIPTS[player];
    const playerJs = readFileSync(join(PROJECT_ROOT, script.file));
    this.control = http.createServer((request, response) => {
      const fault = /^\/faults\/([abcd])$/.exec(request.url ?? '')?.[1];
      if (request.method === 'POST' && fault) {
        const message = this.fault(fault as Fault);
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ message }));
      } else if (request.method === 'GET' && request.url === '/state') {
        response
          .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
          .end(JSON.stringify({ faults: this.faults, regionsUp: this.regionsUp(), varnish: this.varnishUrl, statusUrls: this.statusUrls() }));
      } else if (request.method === 'GET' && request.url === script.url) {
        response.writeHead(200, { 'content-type': 'text/javascript' }).end(playerJs);
      } else if (request.method === 'GET' && request.url === '/') {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
      } else {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => this.control!.listen(this.options.port, '127.0.0.1', resolve));
    this.pageUrl = `http://127.0.0.1:${(this.control.address() as AddressInfo).port}/`;
  }

  /** Applies a fault; says what happened. */
  fault(fault: Fault): string {
    let message: string;
    if (fault === 'a') {
      this.faults.a = !this.faults.a;
      message = this.faults.a ? 'fault a: pipeline a now flags its media segments defective' : 'fault a healed: pipeline a publishes clean segments again';
    } else if (fault === 'd') {
      this.faults.d = !this.faults.d;
      message = this.faults.d
        ? `fault d: pipeline a now scores its media segments quality ${DEMO_QUALITY}`
        : 'fault d healed: pipeline a scores its segments 100 again';
    } else if (fault === 'b') {
      message = this.faults.b ? 'pipeline a is already dead' : 'fault b: pipeline a killed';
      this.faults.b = true;
      this.packagers.get('a')?.signal('SIGKILL');
    } else {
      message = this.faults.c ? "region 1's origin is already dead" : `fault c: region 1's origin (${REGIONS[0].region}) killed`;
      this.faults.c = true;
      this.origins[0]?.signal('SIGKILL');
    }
    process.stdout.write(`${message}\n`);
    return message;
  }

  describe(): string {
    return [
      '',
      'Live Origin demo',
      `  player + status page:  ${this.pageUrl}`,
      `  stream through Varnish: ${this.streamUrl()}${this.options.player === 'll-dash' ? '  (LL-DASH, streamed while ingested)' : ''}`,
      ...this.statusUrls().map((s) => `  status page ${s.region}: ${s.url}  (token ${this.token})`),
      `  working directory:     ${this.workDir}`,
      '',
      `Faults: a = pipeline a sends defective segments (again: heal), d = pipeline a scores its segments quality ${DEMO_QUALITY} (again: heal), b = kill pipeline a, c = kill region 1's origin`,
      'Stop: q or Ctrl-C',
      '',
    ].join('\n');
  }

  get page(): string {
    return this.pageUrl;
  }

  get firstStatusUrl(): string {
    return `${this.statusUrls()[0]!.url}#token=${this.token}`;
  }

  /** How far apart the packagers published the same segments: b's ack less a's, in ms. */
  arrivalGaps(): string {
    const gaps = this.proxy?.arrivals.gaps('a', 'b').sort((x, y) => x - y) ?? [];
    if (gaps.length === 0) return 'no segment was acked from both pipelines';
    const at = (fraction: number) => gaps[Math.min(gaps.length - 1, Math.floor(fraction * gaps.length))]!;
    return `pipeline b's copy of a segment acked ${at(0.5)} ms after a's (median; min ${gaps[0]}, p90 ${at(0.9)}, max ${gaps.at(-1)}; ${gaps.length} segments)`;
  }

  /** Stops every process group, the local stores and servers, and removes the temp directories. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      process.stdout.write(`${this.arrivalGaps()}\n`);
      await Promise.all([...this.packagers.values()].map((child) => child.stop()));
      await Promise.all(this.children.map((child) => child.stop()));
      await this.proxy?.close();
      await new Promise<void>((resolve) => {
        if (!this.control) return resolve();
        this.control.closeAllConnections();
        this.control.close(() => resolve());
      });
      await this.regions?.stop();
      if (this.workDir) await rm(this.workDir, { recursive: true, force: true });
    })();
    return this.stopping;
  }
}

function missingTools(): { ffmpeg: string; varnishd: string } | undefined {
  const found = TOOLS.map((tool) => ({ tool, command: findTool(tool) }));
  const missing = found.filter((f) => !f.command);
  if (missing.length === 0) return { ffmpeg: found[0]!.command!, varnishd: found[1]!.command! };
  process.stderr.write(
    `npm run demo needs ${missing.map((m) => `${m.tool.name} (Debian package ${m.tool.debianPackage})`).join(' and ')}.\nInstall with: ${INSTALL_HINT}\n`,
  );
  return undefined;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const tools = missingTools();
  if (!tools) {
    process.exitCode = 1;
    return;
  }
  const demo = new Demo(options);
  let exiting = false;
  const finish = async (code: number) => {
    if (exiting) return;
    exiting = true;
    process.stdout.write('stopping...\n');
    if (process.stdin.isTTY) process.stdin.setRawMode(false);
    process.stdin.pause();
    await demo.stop();
    process.stdout.write('stopped: every process ended, temp directories removed\n');
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void finish(0));

  try {
    await demo.start(tools.ffmpeg, tools.varnishd);
  } catch (error) {
    process.stderr.write(`demo failed to start: ${(error as Error).message}\n`);
    await finish(1);
    return;
  }
  process.stdout.write(demo.describe());

  if (process.stdin.isTTY) {
    process.stdin.setRawMode(true);
    process.stdin.on('data', (data) => {
      const key = data.toString();
      if (key === '\u0003' || key === 'q') void finish(0);
      else if (key === 'a' || key === 'b' || key === 'c' || key === 'd') demo.fault(key);
    });
  }
  let screenshotsTaken = Promise.resolve();
  if (options.screenshots) {
    const { takeDemoScreenshots } = await import('./demo-screenshots.js');
    screenshotsTaken = takeDemoScreenshots({
      directory: options.screenshots,
      pageUrl: demo.page,
      statusUrl: demo.firstStatusUrl,
      afterPlaybackS: SCREENSHOT_AFTER_PLAYBACK_S,
    })
      .then((figures) => void process.stdout.write(`screenshots saved in ${options.screenshots}; player figures:\n${JSON.stringify(figures, null, 2)}\n`))
      .catch((error: Error) => void process.stderr.write(`screenshots failed: ${error.message}\n`));
  }
  // The screenshots take about a minute (playback, then each fault in turn): a shorter --for waits for them.
  if (options.forSeconds !== undefined) setTimeout(() => void screenshotsTaken.then(() => finish(0)), options.forSeconds * 1000);
}

await main();
