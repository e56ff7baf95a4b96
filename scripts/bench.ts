/**
 * `npm run bench`: the origin's performance, each figure beside its baseline, in one run.
 *
 * - Hot GET throughput, p99 and CPU per GET (`wrk -t1 -c50`, medians of 3 rounds) of 1 KiB, 16 KiB, 64 KiB
 *   and 2 MiB objects from: a bare node:http server answering the same Buffer from a Map (the
 *   floor under any Node server, scripts/bench-baseline-server.ts), nginx (1 worker, sendfile,
 *   access log off), the origin on the memory store, and the origin in aws mode on local S3 and
 *   DynamoDB servers (hot cache) with 1 and with 2 workers (LIVE_ORIGIN_WORKERS).
 * - Fan-out: 10,000 held GETs x 64 KiB and 1,000 x 2 MiB released by one PUT, origin (memory)
 *   against the bare server: first and last answer after the ack, and memory per held request.
 * - Streaming readers (serving while ingesting): 1, 100 and 1,000 GETs held before a chunked PUT
 *   of a 1 MiB segment sent as 8 chunks a quarter second apart, origin (memory) against a bare
 *   node:http relay writing the same chunks to the same sockets: first chunk to first byte at
 *   each reader (p50, p99), last chunk to the last reader's last byte, peak memory per reader.
 * - Ingest: 2 MiB PUT ack p99 and 64 KiB PUTs/s, memory and aws mode, beside the bare server
 *   reading the same bodies (the floor: loopback upload and one Buffer, no hash, no store).
 * - Cross-instance feed cost: DynamoDB read units per poll measured on dynalite
 *   (ReturnConsumedCapacity), as reads/s and monthly on-demand price for a fleet.
 * - The wait for a better copy (issue 23): the release latency it adds to a held GET when the
 *   first copy is clean (against betterWaitMs 0) and when a degraded first copy is followed by a
 *   clean one within the wait (against the gap between the two).
 *
 * Over 400 lines on purpose: the stages in running order with their tables; the shared tools
 * are in bench-tools.ts and the floor's server in bench-baseline-server.ts.
 *
 * Writes the tables into docs/benchmarks.md (between the bench markers). `--quick` runs every
 * stage tiny (seconds) as a smoke check of the bench itself, prints, and writes nothing;
 * `--only=<stage>[,...]` runs some stages and writes nothing either.
 * Needs Debian's nginx and wrk.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { BatchGetItemCommand, DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { candidateItem, objectPartition, PIPELINE_PREFIX } from '../runtime/adapters/dynamodb-items.js';
import { DynamoDbMetadataStore } from '../runtime/adapters/dynamodb-metadata-store.js';
import { FEED_POLL_MS } from '../runtime/adapters/dynamodb-publish-feed.js';
import { TABLE_PARTITION_KEY as PK, TABLE_SORT_KEY as SK, TABLE_SUFFIXES } from '../runtime/aws-contract.js';
import { parseCommandLine, usageExit } from '../runtime/cli-args.js';
import { OriginMetrics } from '../runtime/metrics/origin-metrics.js';
import type { Target } from './bench-tools.js';
import { ALL_CPUS, holdMany, median, need, percentile, pinToCpus, request, rssBytes, sleep, startNginx, startNode, stop, wrk } from './bench-tools.js';
import { startLocalAws } from './local/local-aws.js';

/** The stages, in the order they run. */
const STAGES = ['throughput', 'fanout', 'streaming', 'ingest', 'feed', 'quality'] as const;
const USAGE = `usage: npm run bench -- [--quick] [--only=<stage>[,<stage>...]]

The origin's performance, each figure beside its baseline (a bare node:http server, nginx): hot
GET throughput and p99 (wrk), fan-out of held GETs released by one PUT, readers of a segment
streamed while it is ingested (beside a bare relay), ingest acks, and the
cross-instance feed's DynamoDB cost. Takes about 10 minutes and writes the tables into
docs/benchmarks.md. Needs Debian's nginx and wrk.

  --quick               every stage tiny (seconds): a smoke check of the bench; writes nothing
  --only=<stages>       just these of ${STAGES.join(', ')}; writes nothing`;
const args = parseCommandLine({ name: 'bench', usage: USAGE, options: { quick: { type: 'boolean' }, only: { type: 'string' } } });
const QUICK = args.quick === true;
/** `--only=fanout,ingest`: run just those stages; the doc is then left alone. */
const ONLY = args.only?.split(',');
for (const stage of ONLY ?? []) {
  if (!(STAGES as readonly string[]).includes(stage)) usageExit('bench', `no stage "${stage}"; the stages are ${STAGES.join(', ')}`);
}
const runs = (stage: string) => !ONLY || ONLY.includes(stage);
const KIB = 1024;
const MIB = 1024 * KIB;
const SIZES = QUICK ? [KIB] : [KIB, 16 * KIB, 64 * KIB, 2 * MIB];
const ROUNDS = QUICK ? 1 : 3;
const SECONDS = QUICK ? 1 : 5;
const CONNECTIONS = 50;
const FAN_OUT = QUICK
  ? [{ count: 100, bytes: 64 * KIB }]
  : [
      { count: Number(process.env.BENCH_HELD ?? 10_000), bytes: 64 * KIB },
      { count: 1_000, bytes: 2 * MIB },
    ];
/** Readers of one streamed segment: a 2 s segment of 1 MiB sent as 8 chunks, one per LL-DASH fragment (0.25 s). */
const STREAM = {
  readers: QUICK ? [1, 10] : [1, 100, 1_000],
  chunks: 8,
  chunkBytes: QUICK ? 16 * KIB : 128 * KIB,
  chunkGapMs: QUICK ? 50 : 250,
} as const;
const INGEST_2M_PUTS = QUICK ? 5 : 200;
const INGEST_64K_SECONDS = QUICK ? 1 : 5;
const INGEST_CONCURRENCY = 8;
/** The quality stage: rounds per case, segment duration, and the gap between the two pipelines' PUTs. */
const QUALITY = { rounds: QUICK ? 3 : 40, segmentMs: 500, betterWaitMs: 250, gapMs: 50 };
const FEED = { renditions: QUICK ? 3 : 100, pipelines: 2, instances: 10, publishesPerRendition: QUICK ? 4 : 24 };
/** DynamoDB on-demand, standard table class, us-east-1: USD per million read request units. */
const USD_PER_MILLION_RRU = 0.125;
const SECONDS_PER_MONTH = 30 * 24 * 3600;
const TOKEN = 'bench-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const DOC = 'docs/benchmarks.md';
const BEGIN = '<!-- bench:begin (written by npm run bench) -->';
const END = '<!-- bench:end -->';

const objectPath = (size: number) => `live/bench/v/${size}.m4s`;
const kib = (bytes: number) => (bytes >= MIB ? `${bytes / MIB} MiB` : `${bytes / KIB} KiB`);
const fixed = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const out: string[] = [];
const say = (line = '') => {
  out.push(line);
  process.stdout.write(`${line}\n`);
};

async function publish(target: Target, event: string, relPath: string, body: Buffer): Promise<void> {
  const res = await request(`${target.url}/ingest/${event}/a/${relPath}`, { method: 'PUT', headers: { ...AUTH, 'content-type': 'video/iso.segment' }, body });
  if (res.status !== 201 && res.status !== 200) throw new Error(`${target.name}: PUT answered ${res.status} ${res.text}`);
}

async function originTargets(): Promise<Target[]> {
  const env = { LIVE_ORIGIN_TOKENS: `${TOKEN}=*`, LOG_LEVEL: 'info' };
  return [
    await startNode('origin, memory', 'runtime/server.ts', env),
    await startNode('origin, aws (local), 1 worker', 'scripts/start-aws-local.ts', env),
    await startNode('origin, aws (local), 2 workers', 'scripts/start-aws-local.ts', { ...env, LIVE_ORIGIN_WORKERS: '2' }, 2),
  ];
}

/** Hot GETs: every target, every size, ROUNDS interleaved rounds; medians. */
async function throughput(dir: string): Promise<void> {
  const bodies = new Map(SIZES.map((size) => [size, randomBytes(size)]));
  for (const [size, body] of bodies) {
    mkdirSync(path.join(dir, 'www', 'live/bench/v'), { recursive: true });
    writeFileSync(path.join(dir, 'www', objectPath(size)), body);
  }
  const targets = [
    await startNode('bare node:http', 'scripts/bench-baseline-server.ts', { BASELINE_SIZES: SIZES.join(',') }),
    await startNginx(path.join(dir, 'www'), dir),
    ...(await originTargets()),
  ];
  try {
    for (const target of targets.slice(2)) for (const [size, body] of bodies) await publish(target, 'bench', `v/${size}.m4s`, body);
    const rps = new Map<string, number[]>();
    const p99 = new Map<string, number[]>();
    const cpu = new Map<string, number[]>();
    let errors = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const size of SIZES) {
        for (const target of targets) {
          const url = `${target.url}/${objectPath(size)}`;
          if (!QUICK) wrk(url, 1, CONNECTIONS); // warm: JIT, hot caches of every worker
          const result = wrk(url, SECONDS, CONNECTIONS, target.child.pid);
          errors += result.errors;
          const key = `${target.name}|${size}`;
          rps.set(key, [...(rps.get(key) ?? []), result.rps]);
          p99.set(key, [...(p99.get(key) ?? []), result.p99Ms]);
          cpu.set(key, [...(cpu.get(key) ?? []), result.cpuUsPerRequest ?? NaN]);
        }
      }
    }
    const m = (name: string, size: number) => median(rps.get(`${name}|${size}`)!);
    const mp = (name: string, size: number) => median(p99.get(`${name}|${size}`)!);
    say(`### Hot GET: requests/s (p99 ms), wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, median of ${ROUNDS}`);
    say();
    say(`| object | ${targets.map((t) => t.name).join(' | ')} | memory / bare | memory / nginx | aws 1w / bare | aws 2w / aws 1w |`);
    say(`|---|${targets.map(() => '---').join('|')}|---|---|---|---|`);
    for (const size of SIZES) {
      const cells = targets.map((t) => `${Math.round(m(t.name, size))} (${fixed(mp(t.name, size), 1)})`);
      const [bare, nginx, memory, aws1, aws2] = targets.map((t) => m(t.name, size)) as [number, number, number, number, number];
      say(`| ${kib(size)} | ${cells.join(' | ')} | ${fixed(memory / bare)} | ${fixed(memory / nginx)} | ${fixed(aws1 / bare)} | ${fixed(aws2 / aws1)} |`);
    }
    say();
    const mc = (name: string, size: number) => median(cpu.get(`${name}|${size}`)!);
    say(
      `CPU per GET (user + system of the server's processes over the same runs, microseconds, median of ${ROUNDS}): what an answer costs, whatever share of the 2 cores wrk and the rest of the machine took. Efficiency is the baseline's CPU per GET over the origin's (1.0: as cheap as the baseline).`,
    );
    say();
    say(`| object | ${targets.map((t) => t.name).join(' | ')} | memory vs bare | memory vs nginx | aws 1w vs bare |`);
    say(`|---|${targets.map(() => '---').join('|')}|---|---|---|`);
    for (const size of SIZES) {
      const [bare, nginx, memory, aws1] = targets.map((t) => mc(t.name, size)) as [number, number, number, number];
      say(
        `| ${kib(size)} | ${targets.map((t) => fixed(mc(t.name, size), 1)).join(' | ')} | ${fixed(bare / memory)} | ${fixed(nginx / memory)} | ${fixed(bare / aws1)} |`,
      );
    }
    say();
    say(`Non-2xx or socket errors over all runs: ${errors}.`);
    say();
  } finally {
    for (const target of targets) await stop(target.child);
  }
}

/** How many requests a target holds right now. */
async function heldNow(target: Target, bare: boolean): Promise<number> {
  const res = await request(`${target.url}${bare ? '/_held' : '/metrics'}`);
  if (bare) return Number(res.text);
  const metrics = await new Promise<string>((resolve) => {
    http.get(`${target.url}/metrics`, (r) => {
      let text = '';
      r.on('data', (chunk) => (text += chunk));
      r.on('end', () => resolve(text));
    });
  });
  return Number(/^live_origin_held_requests (\d+)/m.exec(metrics)?.[1] ?? 0);
}

/** Configures `event` on the origin so that its seg_0 is the segment due now: a GET for it is held until published. */
async function holdingEvent(target: Target, event: string): Promise<void> {
  const at = new Date(Date.now() - 1_000).toISOString();
  const res = await request(`${target.url}/admin/events/${event}`, {
    method: 'PUT',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ segmentDurationMs: 30_000, availabilityStartTime: at, startNumber: 0 })),
  });
  if (res.status >= 300) throw new Error(`event config answered ${res.status}`);
}

/** Held GETs released by one PUT: first/last answer after the ack, and RSS per held request. */
async function fanOut(): Promise<void> {
  say('### Fan-out: held GETs released by one PUT (memory store vs bare node:http)');
  say();
  say(
    '| held x size | target | first answer after ack ms | last answer after ack ms | RSS per held request KiB | origin / bare (last) | origin / bare (RSS per held) |',
  );
  say('|---|---|---|---|---|---|---|');
  for (const [i, { count, bytes }] of FAN_OUT.entries()) {
    const body = randomBytes(bytes);
    const results: { last: number; first: number; perHeld: number }[] = [];
    for (const bare of [true, false]) {
      const target = bare
        ? await startNode('bare node:http', 'scripts/bench-baseline-server.ts', { BASELINE_SIZES: '1' })
        : await startNode('origin, memory', 'runtime/server.ts', { LIVE_ORIGIN_TOKENS: `${TOKEN}=*`, LOG_LEVEL: 'info' });
      try {
        const event = `fan-${i}`;
        if (!bare) await holdingEvent(target, event);
        await sleep(500);
        const rssBefore = rssBytes(target.pid);
        const { done } = await holdMany(`${target.url}/live/${event}/v/seg_0.m4s`, count);
        for (let t = 0; t < 600 && (await heldNow(target, bare)) < count; t++) await sleep(100);
        await sleep(500);
        const perHeld = (rssBytes(target.pid) - rssBefore) / count;
        const put = await request(bare ? `${target.url}/live/${event}/v/seg_0.m4s` : `${target.url}/ingest/${event}/a/v/seg_0.m4s`, {
          method: 'PUT',
          headers: { ...AUTH, 'content-type': 'video/iso.segment' },
          body,
        });
        const ack = performance.now();
        if (put.status !== 201) throw new Error(`fan-out PUT answered ${put.status}`);
        const answers = await done;
        const bad = answers.filter((a) => a.status !== 200 || a.bytes !== bytes).length;
        if (bad > 0) throw new Error(`${target.name}: ${bad} of ${count} held answers were not the object`);
        const times = answers.map((a) => a.at - ack);
        const result = { first: Math.min(...times), last: Math.max(...times), perHeld };
        results.push(result);
        say(`| ${count} x ${kib(bytes)} | ${target.name} | ${fixed(result.first, 1)} | ${fixed(result.last, 0)} | ${fixed(perHeld / KIB, 1)} | | |`);
      } finally {
        await stop(target.child);
      }
    }
    const [bareResult, origin] = results as [(typeof results)[0], (typeof results)[0]];
    say(`| ${count} x ${kib(bytes)} | ratio | | | | ${fixed(origin.last / bareResult.last)} | ${fixed(origin.perHeld / bareResult.perHeld)} |`);
  }
  say();
}

/** One streamed round: when the first and the last chunk were written, and the packager's answer. */
interface StreamedPut {
  readonly firstAt: number;
  readonly lastAt: number;
  readonly status: number;
}

/**
 * One chunked PUT of `chunks`, `gapMs` apart, as a packager streams a segment while encoding it.
 * The headers go first and the clock starts at the first chunk, so the connection's setup is not
 * counted. `each` runs after every chunk is written (the memory samples).
 */
async function streamPut(url: string, chunks: readonly Buffer[], gapMs: number, each: () => void): Promise<StreamedPut> {
  const req = http.request(url, { method: 'PUT', headers: { ...AUTH, 'content-type': 'video/iso.segment' }, agent: false });
  const status = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
  });
  req.flushHeaders();
  await new Promise((resolve) => req.once('socket', (socket) => socket.once('connect', resolve)));
  // Time for the server to take the request (an empty in-progress PUT) before the first byte.
  await sleep(STREAM.chunkGapMs);
  let firstAt = Number.NaN;
  let lastAt = Number.NaN;
  for (const [n, chunk] of chunks.entries()) {
    if (n > 0) await sleep(gapMs);
    lastAt = performance.now();
    if (n === 0) firstAt = lastAt;
    // The last chunk and the end of the body go together: the readers' answers end with them.
    if (n === chunks.length - 1) req.end(chunk);
    else req.write(chunk);
    each();
  }
  return { firstAt, lastAt, status: await status };
}

interface StreamRound {
  readonly firstP50: number;
  readonly firstP99: number;
  readonly last: number;
  /** Peak RSS during the stream less RSS before the readers came, per reader. */
  readonly perReader: number;
}

/** `readers` GETs held, then one streamed PUT: each reader's first byte after the first chunk, the last byte after the last chunk. */
async function streamRound(target: Target, bare: boolean, event: string, readers: number, chunks: readonly Buffer[]): Promise<StreamRound> {
  const [getUrl, putUrl] = bare
    ? [`${target.url}/relay/${event}/seg_0.m4s`, `${target.url}/relay/${event}/seg_0.m4s`]
    : [`${target.url}/live/${event}/v/seg_0.m4s`, `${target.url}/ingest/${event}/a/v/seg_0.m4s`];
  if (!bare) await holdingEvent(target, event);
  await sleep(500);
  const rssBefore = rssBytes(target.pid);
  const { done } = await holdMany(getUrl, readers);
  for (let t = 0; t < 600 && (await heldNow(target, bare)) < readers; t++) await sleep(100);
  let peak = rssBytes(target.pid);
  const put = await streamPut(putUrl, chunks, STREAM.chunkGapMs, () => (peak = Math.max(peak, rssBytes(target.pid))));
  if (put.status !== 201) throw new Error(`${target.name}: streamed PUT answered ${put.status}`);
  const answers = await done;
  peak = Math.max(peak, rssBytes(target.pid));
  const bytes = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const bad = answers.filter((a) => a.status !== 200 || a.bytes !== bytes).length;
  if (bad > 0) throw new Error(`${target.name}: ${bad} of ${readers} streaming readers did not get the whole segment`);
  const first = answers.map((a) => a.firstByteAt - put.firstAt);
  return {
    firstP50: percentile(first, 50),
    firstP99: percentile(first, 99),
    last: Math.max(...answers.map((a) => a.at)) - put.lastAt,
    perReader: (peak - rssBefore) / readers,
  };
}

/** Serving while ingesting: streaming readers of one chunked PUT, the origin beside a bare relay, medians of ROUNDS. */
async function streaming(): Promise<void> {
  const { readers: counts, chunks: count, chunkBytes, chunkGapMs } = STREAM;
  let pinned = false;
  say(
    `### Serving while ingesting: streaming readers (a ${kib(count * chunkBytes)} segment PUT as ${count} chunks of ${kib(chunkBytes)}, ${chunkGapMs} ms apart, to GETs held before its first chunk; memory store vs bare node:http relay; median of ${ROUNDS})`,
  );
  say();
  say("| readers | target | first chunk to first byte p50 ms | p99 ms | last chunk to last reader's last byte ms | peak RSS per reader KiB |");
  say('|---|---|---|---|---|---|');
  for (const readers of counts) {
    const chunks = Array.from({ length: count }, () => randomBytes(chunkBytes));
    const relay = await startNode('bare node:http relay', 'scripts/bench-baseline-server.ts', { BASELINE_SIZES: '1' });
    const origin = await startNode('origin, memory', 'runtime/server.ts', { LIVE_ORIGIN_TOKENS: `${TOKEN}=*`, LOG_LEVEL: 'info' });
    const rounds = new Map<Target, StreamRound[]>([
      [relay, []],
      [origin, []],
    ]);
    // The servers on CPU 0, this process (every reader and the packager) on CPU 1: at 1,000
    // readers the readers' own work is as large as the server's, and sharing a core turned both
    // servers' times into the generator's.
    pinned = pinToCpus(relay.pid, '0') && pinToCpus(origin.pid, '0') && pinToCpus(process.pid, '1');
    try {
      for (let round = 0; round < ROUNDS; round++) {
        for (const target of [relay, origin])
          rounds.get(target)!.push(await streamRound(target, target === relay, `stream-${readers}-${round}`, readers, chunks));
      }
    } finally {
      pinToCpus(process.pid, ALL_CPUS);
      await stop(relay.child);
      await stop(origin.child);
    }
    const m = (target: Target, key: keyof StreamRound) => median(rounds.get(target)!.map((r) => r[key]));
    for (const target of [relay, origin]) {
      say(
        `| ${readers} | ${target.name} | ${fixed(m(target, 'firstP50'))} | ${fixed(m(target, 'firstP99'))} | ${fixed(m(target, 'last'), 1)} | ${fixed(m(target, 'perReader') / KIB, 1)} |`,
      );
    }
    const ratio = (key: keyof StreamRound) => fixed(m(origin, key) / m(relay, key));
    say(`| ${readers} | origin / relay | ${ratio('firstP50')} | ${ratio('firstP99')} | ${ratio('last')} | ${ratio('perReader')} |`);
  }
  say();
  say(
    pinned
      ? 'Each server pinned to CPU 0 and the readers with the packager (this process) to CPU 1 (taskset), so neither waits for the other.'
      : 'Not pinned (one CPU, or no taskset): the readers and the servers shared the cores.',
  );
  say();
}

/**
 * wrk's Lua for the PUT rate: the body from `bodyFile`, each request to a new path (the URL's
 * path with a counter and `.m4s` appended), so every PUT creates a segment.
 */
function putScript(bodyFile: string): string {
  return [
    `local file = io.open(${JSON.stringify(bodyFile)}, "rb")`,
    'local body = file:read("*all")',
    'file:close()',
    'local n = 0',
    'wrk.method = "PUT"',
    'wrk.body = body',
    `wrk.headers["Authorization"] = "Bearer ${TOKEN}"`,
    'wrk.headers["Content-Type"] = "video/iso.segment"',
    'request = function()',
    '  n = n + 1',
    '  return wrk.format(nil, wrk.path .. n .. ".m4s")',
    'end',
    '',
  ].join('\n');
}

/**
 * 2 MiB PUT ack latency (sequential, Node's client) and 64 KiB PUTs/s (wrk, INGEST_CONCURRENCY
 * connections): wrk, not a Node client in this process, so the load generator's own CPU leaves
 * the server most of a core, as in the hot GET stage.
 */
async function ingest(): Promise<void> {
  say(
    `### Ingest: 2 MiB PUT ack (sequential, ${INGEST_2M_PUTS} PUTs) and 64 KiB PUTs/s (wrk, ${INGEST_CONCURRENCY} connections, ${INGEST_64K_SECONDS} s, a new path per PUT)`,
  );
  say();
  say('| target | 2 MiB ack p50 ms | 2 MiB ack p99 ms | 64 KiB PUTs/s | CPU per 64 KiB PUT us |');
  say('|---|---|---|---|---|');
  const env = { LIVE_ORIGIN_TOKENS: `${TOKEN}=*`, LOG_LEVEL: 'info' };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'live-origin-bench-ingest-'));
  const bodyFile = path.join(dir, 'body');
  writeFileSync(bodyFile, randomBytes(64 * KIB));
  const script = path.join(dir, 'put.lua');
  writeFileSync(script, putScript(bodyFile));
  // The floor: bare node:http reading the whole body into one Buffer and answering 201 (no hash, no store).
  const targets = [
    ['bare node:http (floor)', 'scripts/bench-baseline-server.ts'],
    ['origin, memory', 'runtime/server.ts'],
    ['origin, aws (local), 1 worker', 'scripts/start-aws-local.ts'],
  ] as const;
  try {
    for (const [name, entry] of targets) {
      const target = await startNode(name, entry, env);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const big = randomBytes(2 * MIB);
        const acks: number[] = [];
        for (let n = 0; n < INGEST_2M_PUTS; n++) {
          const res = await request(`${target.url}/ingest/ing/a/big/seg_${n}.m4s`, { method: 'PUT', headers: AUTH, body: big, agent });
          if (res.status !== 201) throw new Error(`${name}: 2 MiB PUT answered ${res.status}`);
          acks.push(res.ms);
        }
        const rate = wrk(`${target.url}/ingest/ing/a/small/seg_`, INGEST_64K_SECONDS, INGEST_CONCURRENCY, target.child.pid, script);
        if (rate.requests === 0 || rate.errors > 0) throw new Error(`${name}: 64 KiB PUTs: ${rate.requests} answered, ${rate.errors} not 2xx`);
        say(
          `| ${name} | ${fixed(percentile(acks, 50))} | ${fixed(percentile(acks, 99))} | ${Math.round(rate.rps)} | ${fixed(rate.cpuUsPerRequest ?? NaN, 0)} |`,
        );
      } finally {
        agent.destroy();
        await stop(target.child);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  say();
}

/** Read units of one feed poll, before (per watched object and pipeline) and after (one Query per event), on dynalite. */
async function feedCost(): Promise<void> {
  const local = await startLocalAws({ tablePrefix: 'bench-feed-' });
  const client = new DynamoDBClient({ region: local.region });
  try {
    const metadata = new DynamoDbMetadataStore({ client, tablePrefix: local.tablePrefix, observer: new OriginMetrics().storeObserver() });
    const event = 'cost';
    const pipelines = Array.from({ length: FEED.pipelines }, (_, i) => String.fromCharCode(97 + i));
    await metadata.putEventConfig(event, { pipelines }, Date.now());
    // Every rendition's record holds its recent first publishes (16 to 31 numbers between trims).
    for (let n = 0; n < FEED.publishesPerRendition; n++) {
      const at = Date.now();
      for (let r = 0; r < FEED.renditions; r += 20) {
        await Promise.all(
          Array.from({ length: Math.min(20, FEED.renditions - r) }, (_, k) =>
            Promise.all(
              pipelines.map((pipeline) =>
                metadata.recordPublish(event, { pipeline, at, number: 1_000_000 + n, rendition: `video/r${r + k}/seg_{n}.m4s`, width: 0, defective: false }),
              ),
            ),
          ),
        );
      }
    }
    const events = `${local.tablePrefix}${TABLE_SUFFIXES.events}`;
    const candidates = `${local.tablePrefix}${TABLE_SUFFIXES.candidates}`;
    const query = async (consistent: boolean) => {
      const res = await client.send(
        new QueryCommand({
          TableName: events,
          KeyConditionExpression: '#pk = :pk AND #sk >= :from',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':pk': { S: event }, ':from': { S: PIPELINE_PREFIX } },
          ConsistentRead: consistent,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      return { units: res.ConsumedCapacity?.CapacityUnits ?? NaN, items: res.Count ?? 0, more: res.LastEvaluatedKey !== undefined };
    };
    const strong = await query(true);
    const eventual = await query(false);
    // The old poll: one consistent BatchGetItem key per watched object and pipeline.
    const path = 'video/r0/seg_1000000.m4s';
    for (const pipeline of pipelines) {
      const item = candidateItem(
        {
          event,
          pipeline,
          path,
          kind: 'segment',
          number: 1_000_000,
          rendition: 'video/r0/seg_{n}.m4s',
          etag: `"${'0'.repeat(32)}"`,
          size: 2 * MIB,
          contentType: 'video/iso.segment',
          defects: [],
          publishedAt: Date.now(),
        },
        Math.floor(Date.now() / 1000) + 3600,
      );
      await client.send(new PutItemCommand({ TableName: candidates, Item: item }));
    }
    const batch = await client.send(
      new BatchGetItemCommand({
        RequestItems: {
          [candidates]: { ConsistentRead: true, Keys: pipelines.map((pipeline) => ({ [PK]: { S: objectPartition(event, path) }, [SK]: { S: pipeline } })) },
        },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    const perObject = batch.ConsumedCapacity?.[0]?.CapacityUnits ?? NaN;
    const pollsPerSecond = 1000 / FEED_POLL_MS;
    // One held object per rendition at any time (the next segment); LL-HLS parts double it.
    const beforePerInstance = FEED.renditions * perObject * pollsPerSecond;
    const afterPerInstance = strong.units * pollsPerSecond;
    const monthly = (perSecond: number) => (perSecond * FEED.instances * SECONDS_PER_MONTH * USD_PER_MILLION_RRU) / 1e6;
    say(`### Cross-instance feed: DynamoDB reads for ${FEED.renditions} renditions x ${FEED.pipelines} pipelines x ${FEED.instances} instances`);
    say();
    say(
      `Measured on dynalite (ReturnConsumedCapacity): one poll of the event's records (${strong.items} items${strong.more ? ', first page' : ''}) = ${strong.units} RRU strongly consistent (${eventual.units} eventually consistent); the old per-object poll = ${perObject} RRU per watched object (${FEED.pipelines} candidate keys, each rounded up to 4 KB). Polls: ${pollsPerSecond}/s (every ${FEED_POLL_MS} ms) while anything is held; one held object per rendition (the next segment). Price: USD ${USD_PER_MILLION_RRU} per million RRU (on-demand, standard table class, us-east-1); a strongly consistent read of up to 4 KB is 1 RRU, an eventually consistent one 0.5.`,
    );
    say();
    say('| feed | RRU/s per instance | RRU/s fleet | USD per month (fleet) |');
    say('|---|---|---|---|');
    say(
      `| before: each watched object per pipeline | ${Math.round(beforePerInstance)} | ${Math.round(beforePerInstance * FEED.instances)} | ${Math.round(monthly(beforePerInstance))} |`,
    );
    say(
      `| after: each watched event, one Query | ${Math.round(afterPerInstance)} | ${Math.round(afterPerInstance * FEED.instances)} | ${Math.round(monthly(afterPerInstance))} |`,
    );
    say();
  } finally {
    client.destroy();
    await local.stop();
  }
}

/**
 * The wait for a better copy: one held GET per segment, then pipeline a's PUT and, QUALITY.gapMs
 * after its ack, pipeline b's clean one (two healthy encoders a moment apart). Cases: a's copy
 * clean with the wait configured and with betterWaitMs 0 (the wait must add nothing), and a's
 * copy scored 40 (the GET must go out with b's copy: the gap plus at most 5 ms after a's ack).
 * Segments follow a template timeline, one round per segment, so each GET is held in its window
 * and both pipelines are live at the edge.
 */
async function qualityWait(): Promise<void> {
  const { rounds, segmentMs, betterWaitMs, gapMs } = QUALITY;
  const cases = [
    { name: 'a clean, betterWaitMs 0 (no wait: the plain release)', waitMs: 0, quality: undefined },
    { name: `a clean, betterWaitMs ${betterWaitMs}`, waitMs: betterWaitMs, quality: undefined },
    { name: `a scored 40, b clean ${gapMs} ms later, betterWaitMs ${betterWaitMs}`, waitMs: betterWaitMs, quality: 40 },
  ];
  say(`### Quality: release latency the wait for a better copy adds (${rounds} held GETs per case, ${segmentMs} ms segments)`);
  say();
  say("| case | served | answer after a's ack p50 ms | p99 ms | answer after b's ack p50 ms | p99 ms |");
  say('|---|---|---|---|---|---|');
  const target = await startNode('origin, memory', 'runtime/server.ts', { LIVE_ORIGIN_TOKENS: `${TOKEN}=*`, LOG_LEVEL: 'info' });
  try {
    for (const [i, { name, waitMs, quality }] of cases.entries()) {
      const event = `quality-${i}`;
      // Segment n's hold window opens at AST + n x D: round n runs a moment into it.
      const ast = Date.now() + segmentMs;
      const config = {
        pipelines: ['a', 'b'],
        segmentDurationMs: segmentMs,
        availabilityStartTime: new Date(ast).toISOString(),
        startNumber: 0,
        betterWaitMs: waitMs,
      };
      const res = await request(`${target.url}/admin/events/${event}`, {
        method: 'PUT',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify(config)),
      });
      if (res.status >= 300) throw new Error(`event config answered ${res.status} ${res.text}`);
      const put = async (pipeline: string, n: number, score: number | undefined) => {
        const headers: Record<string, string> = { ...AUTH, 'content-type': 'video/iso.segment' };
        if (score !== undefined) headers['live-quality'] = String(score);
        const answer = await request(`${target.url}/ingest/${event}/${pipeline}/v/seg_${n}.m4s`, { method: 'PUT', headers, body: randomBytes(16 * KIB) });
        if (answer.status !== 201) throw new Error(`PUT ${pipeline} seg_${n} answered ${answer.status} ${answer.text}`);
        return performance.now();
      };
      const afterA: number[] = [];
      const afterB: number[] = [];
      const served = new Map<string, number>();
      // Segment 0 from both pipelines: both are then live at the edge; measured from segment 1 on.
      for (let n = 0; n <= rounds; n++) {
        await sleep(Math.max(0, ast + n * segmentMs + segmentMs / 5 - Date.now()));
        const held = new Promise<{ at: number; pipeline: string }>((resolve, reject) => {
          http
            .get(`${target.url}/live/${event}/v/seg_${n}.m4s`, { agent: false }, (answer) => {
              answer.resume();
              answer.on('end', () => resolve({ at: performance.now(), pipeline: `${answer.statusCode} ${answer.headers['live-pipeline']}` }));
            })
            .on('error', reject);
        });
        // Let the origin take the GET (it is then held) before the first PUT.
        await sleep(20);
        const ackA = await put('a', n, n === 0 ? undefined : quality);
        await sleep(Math.max(0, ackA + gapMs - performance.now()));
        const ackB = await put('b', n, undefined);
        const { at, pipeline } = await held;
        if (n === 0) continue;
        served.set(pipeline, (served.get(pipeline) ?? 0) + 1);
        afterA.push(at - ackA);
        afterB.push(at - ackB);
      }
      const servedCell = [...served].map(([what, count]) => `${what} x${count}`).join(', ');
      const cells = [percentile(afterA, 50), percentile(afterA, 99), percentile(afterB, 50), percentile(afterB, 99)].map((v) => fixed(v, 1));
      say(`| ${name} | ${servedCell} | ${cells.join(' | ')} |`);
    }
  } finally {
    await stop(target.child);
  }
  say();
  say(
    `Negative "after b's ack" figures: the GET was answered before b's PUT was (a's copy served at once). Goals: a clean first copy adds nothing against betterWaitMs 0; a degraded one is answered with b's copy within the gap (${gapMs} ms) plus 5 ms of a's ack.`,
  );
  say();
}

function writeDoc(): void {
  const doc = readFileSync(DOC, 'utf8');
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  const block = `${BEGIN}\n${out.join('\n')}\n${END}`;
  const next = begin >= 0 && end > begin ? doc.slice(0, begin) + block + doc.slice(end + END.length) : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(DOC, next);
}

async function main(): Promise<void> {
  need('nginx', 'nginx-light');
  need('wrk', 'wrk');
  const started = new Date();
  const header = [
    `Run ${started.toISOString().slice(0, 16)} UTC, \`npm run bench\`, on ${os.cpus().length} x ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.version}; load average at start ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}.`,
  ].join('\n');
  say(header);
  say();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'live-origin-bench-'));
  try {
    const stages: [(typeof STAGES)[number], () => Promise<void>][] = [
      ['throughput', () => throughput(dir)],
      ['fanout', fanOut],
      ['streaming', streaming],
      ['ingest', ingest],
      ['feed', feedCost],
      ['quality', qualityWait],
    ];
    for (const [stage, run] of stages) {
      if (!runs(stage)) continue;
      try {
        await run();
      } catch (error) {
        // One stage failing (a local store timing out on a loaded machine) keeps the others.
        say(`Stage ${stage} failed: ${(error as Error).message}`);
        say();
        process.exitCode = 1;
      }
      if (!QUICK && !ONLY) writeDoc();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  say(
    `Load average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}.`,
  );
  if (!QUICK && !ONLY) writeDoc();
}

await main();
