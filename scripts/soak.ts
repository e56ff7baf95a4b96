/**
 * Soak: the memory store (or, with --store aws, the hot cache over local S3/DynamoDB) held at
 * its byte cap for a long run of segments from two redundant pipelines, while CDN readers fetch
 * the live edge. Checks that every PUT is acknowledged, every live-edge read returns exactly the
 * published bytes, evictions keep memory at the cap, and the origin's RSS stays flat.
 *
 *   npm run soak                       an hour of 2 s segments (1800 numbers), memory store
 *   npm run soak -- --store aws        the same on the hot cache over s3rver + dynalite
 *   npm run soak -- --segment-ms 20 --duration-s 20    a time-compressed run (what CI runs)
 *
 * The origin runs as its own process (runtime/server.ts through tsx), as in production.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseCommandLine, usageExit } from '../runtime/cli-args.js';
import { startLocalAws } from './local/local-aws.js';

export interface SoakOptions {
  /** Segment duration: one number per pipeline and rendition every this often. */
  readonly segmentMs: number;
  readonly durationMs: number;
  readonly segmentBytes: number;
  readonly renditions: number;
  /** LIVE_ORIGIN_MEMORY_BYTES: the memory store's (or hot cache's) cap. */
  readonly memoryBytes: number;
  readonly readers: number;
  readonly store: 'memory' | 'aws';
}

export const SOAK_DEFAULTS: SoakOptions = {
  segmentMs: 2_000,
  durationMs: 3_600_000,
  segmentBytes: 1024 * 1024,
  renditions: 3,
  memoryBytes: 256 * 1024 * 1024,
  readers: 8,
  store: 'memory',
};

export interface SoakResult {
  /** Numbers published (per pipeline and rendition) before the run's end. */
  readonly segments: number;
  /** Longest a publish started after its due time: how far the origin's answers held the packager back. */
  readonly publisherMaxLagMs: number;
  readonly puts: number;
  readonly putsAcked: number;
  readonly putP99Ms: number;
  readonly reads: number;
  readonly readsOk: number;
  readonly wrongBytes: number;
  readonly readP99Ms: number;
  readonly evictions: number;
  readonly rssMiB: { readonly first: number; readonly secondQuarter: number; readonly lastQuarter: number; readonly peak: number };
  readonly memoryCapMiB: number;
}

const TOKEN = 'soak-token-0123456789';
const EVENT = 'soak';

/** The bytes of one segment: identical for both pipelines (epoch-locked), distinct per number and rendition. */
export function segmentBody(n: number, rendition: number, bytes: number): Buffer {
  const seed = createHash('sha256').update(`${n}/${rendition}`).digest();
  const body = Buffer.allocUnsafe(bytes);
  for (let offset = 0; offset < bytes; offset += seed.length) seed.copy(body, offset, 0, Math.min(seed.length, bytes - offset));
  return body;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function startOrigin(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'runtime/server.ts'], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`origin did not start: ${out}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`origin exited with ${code}: ${out}`)));
  });
  return { child, url };
}

async function rssMiB(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/** Runs one soak and returns its figures; `log` gets a progress line every ~10% of the run. */
export async function runSoak(options: SoakOptions, log: (line: string) => void = () => undefined): Promise<SoakResult> {
  const local = options.store === 'aws' ? await startLocalAws({ bucket: 'live-origin-soak', tablePrefix: 'live-origin-soak-' }) : undefined;
  const env = local ? local.originEnv(TOKEN) : { LIVE_ORIGIN_TOKENS: `${TOKEN}=*` };
  const origin = await startOrigin({ ...env, LIVE_ORIGIN_MEMORY_BYTES: String(options.memoryBytes) });
  const auth = { authorization: `Bearer ${TOKEN}` };
  try {
    const ast = Date.now() + options.segmentMs;
    const config = await fetch(`${origin.url}/admin/events/${EVENT}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ pipelines: ['a', 'b'], segmentDurationMs: options.segmentMs, availabilityStartTime: new Date(ast).toISOString(), startNumber: 0 }),
    });
    if (!config.ok) throw new Error(`config refused: ${config.status}`);

    const segments = Math.floor(options.durationMs / options.segmentMs);
    const putMs: number[] = [];
    let puts = 0;
    let putsAcked = 0;
    let edge = -1;
    const rss: number[] = [];
    let peak = 0;
    let running = true;
    const sampler = (async () => {
      while (running) {
        const sample = await rssMiB(origin.child.pid!);
        rss.push(sample.rss);
        peak = Math.max(peak, sample.peak);
        await new Promise((resolve) => setTimeout(resolve, Math.max(200, Math.min(5_000, options.durationMs / 100))));
      }
    })();

    const reads = { count: 0, ok: 0, wrongBytes: 0, ms: [] as number[] };
    const readers = Array.from({ length: options.readers }, async (_, r) => {
      while (running) {
        const n = edge;
        if (n < 0) {
          await new Promise((resolve) => setTimeout(resolve, options.segmentMs / 4));
          continue;
        }
        const rendition = (n + r) % options.renditions;
        const started = performance.now();
        const response = await fetch(`${origin.url}/live/${EVENT}/r${rendition}/seg_${n}.m4s`);
        const body = Buffer.from(await response.arrayBuffer());
        reads.ms.push(performance.now() - started);
        reads.count++;
        if (response.status === 200) {
          reads.ok++;
          if (!body.equals(segmentBody(n, rendition, options.segmentBytes))) reads.wrongBytes++;
        }
        await new Promise((resolve) => setTimeout(resolve, options.segmentMs / 2));
      }
    });

    // Both pipelines publish every number at its due time (epoch-locked), renditions in parallel.
    // The run ends on time: an origin that cannot keep up shows as fewer segments and lag.
    const endAt = ast + options.durationMs;
    let published = 0;
    let maxLagMs = 0;
    for (let n = 0; n < segments && Date.now() < endAt; n++) {
      const due = ast + (n + 1) * options.segmentMs;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
      maxLagMs = Math.max(maxLagMs, Date.now() - due);
      published++;
      const answers = await Promise.all(
        ['a', 'b'].flatMap((pipeline) =>
          Array.from({ length: options.renditions }, async (_, rendition) => {
            const started = performance.now();
            const response = await fetch(`${origin.url}/ingest/${EVENT}/${pipeline}/r${rendition}/seg_${n}.m4s`, {
              method: 'PUT',
              headers: { ...auth, 'content-type': 'video/mp4' },
              body: segmentBody(n, rendition, options.segmentBytes),
            });
            await response.arrayBuffer();
            putMs.push(performance.now() - started);
            return response.status === 200 || response.status === 201;
          }),
        ),
      );
      puts += answers.length;
      putsAcked += answers.filter(Boolean).length;
      if (answers.every(Boolean)) edge = n;
      if (n % Math.max(1, Math.floor(segments / 10)) === 0) {
        log(`soak: segment ${n}/${segments}, ${putsAcked}/${puts} PUTs acked, ${reads.ok}/${reads.count} reads ok, RSS ${rss.at(-1)?.toFixed(0)} MiB`);
      }
    }
    running = false;
    await Promise.all([sampler, ...readers]);
    const metrics = await (await fetch(`${origin.url}/metrics`)).text();
    const evictions = metrics
      .split('\n')
      .filter((line) => line.startsWith('live_origin_evictions_total'))
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    const quarter = Math.max(1, Math.floor(rss.length / 4));
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
    return {
      segments: published,
      publisherMaxLagMs: Math.round(maxLagMs),
      puts,
      putsAcked,
      putP99Ms: Math.round(percentile(putMs, 99)),
      reads: reads.count,
      readsOk: reads.ok,
      wrongBytes: reads.wrongBytes,
      readP99Ms: Math.round(percentile(reads.ms, 99)),
      evictions,
      rssMiB: {
        first: Math.round(rss[0] ?? NaN),
        secondQuarter: Math.round(mean(rss.slice(quarter, 2 * quarter))),
        lastQuarter: Math.round(mean(rss.slice(-quarter))),
        peak: Math.round(peak),
      },
      memoryCapMiB: options.memoryBytes / 1024 / 1024,
    };
  } finally {
    origin.child.kill('SIGTERM');
    await new Promise((resolve) => (origin.child.exitCode === null ? origin.child.once('exit', resolve) : resolve(undefined)));
    await local?.stop();
  }
}

/**
 * Above the store's byte cap, the process may hold its own start-up footprint (the first RSS
 * sample), segments in flight and V8's headroom: this much, whatever the run's length.
 */
export const SOAK_RSS_HEADROOM_MIB = 64;
/** How much RSS may grow from the second quarter of a run to its last: flat, give or take. */
export const SOAK_RSS_DRIFT_MIB = 32;

/** The invariants of a soak run: every PUT acknowledged, every read exact, memory at its cap and flat. */
export function soakProblems(result: SoakResult): string[] {
  const problems: string[] = [];
  if (result.putsAcked !== result.puts) problems.push(`${result.puts - result.putsAcked} PUTs not acknowledged`);
  if (result.wrongBytes !== 0 || result.readsOk !== result.reads) {
    problems.push(`${result.reads - result.readsOk} live-edge reads failed (${result.wrongBytes} with wrong bytes)`);
  }
  const bound = result.rssMiB.first + result.memoryCapMiB + SOAK_RSS_HEADROOM_MIB;
  if (result.rssMiB.peak > bound) problems.push(`RSS peak ${result.rssMiB.peak} MiB over ${bound} MiB`);
  const drift = result.rssMiB.lastQuarter - result.rssMiB.secondQuarter;
  if (drift > SOAK_RSS_DRIFT_MIB) problems.push(`RSS grew ${drift} MiB from the second quarter to the last`);
  return problems;
}

const MIB = 1024 * 1024;

const USAGE = `usage: npm run soak -- [--store memory|aws] [--segment-ms <n>] [--duration-s <n>] [--segment-kib <n>]
                      [--renditions <n>] [--memory-mib <n>] [--readers <n>]

Holds the origin's memory store (or, with --store aws, its hot cache over local S3 and DynamoDB)
at its byte cap for a long run of segments from two pipelines while readers fetch the live edge;
fails unless every PUT is acknowledged, every read returns the published bytes and RSS stays flat.

  --store memory|aws    the store under test (default ${SOAK_DEFAULTS.store})
  --segment-ms <n>      one segment per pipeline and rendition every n ms (default ${SOAK_DEFAULTS.segmentMs})
  --duration-s <n>      length of the run (default ${SOAK_DEFAULTS.durationMs / 1000}: an hour)
  --segment-kib <n>     segment size (default ${SOAK_DEFAULTS.segmentBytes / 1024})
  --renditions <n>      renditions per pipeline (default ${SOAK_DEFAULTS.renditions})
  --memory-mib <n>      the store's cap, LIVE_ORIGIN_MEMORY_BYTES (default ${SOAK_DEFAULTS.memoryBytes / MIB})
  --readers <n>         concurrent live-edge readers (default ${SOAK_DEFAULTS.readers})

A time-compressed run, as CI does: npm run soak -- --segment-ms 20 --duration-s 20`;

async function main(): Promise<void> {
  const values = parseCommandLine({
    name: 'soak',
    usage: USAGE,
    options: {
      'segment-ms': { type: 'string' },
      'duration-s': { type: 'string' },
      'segment-kib': { type: 'string' },
      renditions: { type: 'string' },
      'memory-mib': { type: 'string' },
      readers: { type: 'string' },
      store: { type: 'string' },
    },
  });
  const number = (flag: keyof typeof values, fallback: number): number => {
    const text = values[flag];
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!(value > 0) || !Number.isFinite(value)) usageExit('soak', `--${flag} must be a positive number, got "${text}"`);
    return value;
  };
  if (values.store !== undefined && values.store !== 'memory' && values.store !== 'aws')
    usageExit('soak', `--store must be memory or aws, got "${values.store}"`);
  const options: SoakOptions = {
    segmentMs: number('segment-ms', SOAK_DEFAULTS.segmentMs),
    durationMs: number('duration-s', SOAK_DEFAULTS.durationMs / 1000) * 1000,
    segmentBytes: number('segment-kib', SOAK_DEFAULTS.segmentBytes / 1024) * 1024,
    renditions: number('renditions', SOAK_DEFAULTS.renditions),
    memoryBytes: number('memory-mib', SOAK_DEFAULTS.memoryBytes / MIB) * MIB,
    readers: number('readers', SOAK_DEFAULTS.readers),
    store: values.store ?? SOAK_DEFAULTS.store,
  };
  process.stdout.write(`soak: ${JSON.stringify(options)}\n`);
  const result = await runSoak(options, (line) => process.stdout.write(`${line}\n`));
  process.stdout.write(`soak result: ${JSON.stringify(result)}\n`);
  const problems = soakProblems(result);
  for (const problem of problems) process.stdout.write(`soak FAILED: ${problem}\n`);
  process.exit(problems.length === 0 ? 0 : 1);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
