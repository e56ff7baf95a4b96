/**
 * `npm run bench`: hot-path delivery throughput, measured in one run against baselines.
 *
 * Serves the same 256 KiB segment from (1) nginx, a static file server (the baseline for what
 * the machine can do), (2) the origin on the memory store, and (3) the origin in aws mode on
 * local S3/DynamoDB servers (npm run start:aws-local). Each gets the same wrk load on loopback
 * (1 thread, 50 connections, 10 s); nginx runs one worker, like the single-threaded origin.
 * BENCH_BYTES, BENCH_SECONDS and BENCH_CONNECTIONS change the segment size and the load.
 * Prints requests/s, latency p50/p99 and the ratios. Needs Debian's nginx and wrk.
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const SEGMENT_BYTES = Number(process.env.BENCH_BYTES ?? 256 * 1024);
const DURATION = process.env.BENCH_SECONDS ?? '10';
const CONNECTIONS = process.env.BENCH_CONNECTIONS ?? '50';
const TOKEN = 'bench-token-0123456789';
const SEGMENT_PATH = 'live/bench/v/seg_1.m4s';

interface Result {
  readonly name: string;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

function need(binary: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${binary} || test -x /usr/sbin/${binary}`]).status !== 0) {
    throw new Error(`${binary} is missing: apt-get install -y ${pkg}`);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}

function toMs(value: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(value.trim());
  if (!match) return NaN;
  const n = Number(match[1]);
  return match[2] === 'us' ? n / 1000 : match[2] === 's' ? n * 1000 : n;
}

function wrk(name: string, url: string): Result {
  const out = execFileSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${DURATION}s`, '--latency', url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p50 = toMs(/ 50%\s+(\S+)/.exec(out)?.[1] ?? '');
  const p99 = toMs(/ 99%\s+(\S+)/.exec(out)?.[1] ?? '');
  const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return { name, rps, p50Ms: p50, p99Ms: p99, errors };
}

async function startNginx(root: string, dir: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off; master_process off; worker_processes 1; error_log ${dir}/error.log; pid ${dir}/nginx.pid;
events { worker_connections 1024; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server { listen 127.0.0.1:${port}; root ${root}; } }\n`,
  );
  const child = spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'ignore' });
  await waitForPort(port);
  return { url: `http://127.0.0.1:${port}`, child };
}

async function startOrigin(entry: string, env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...process.env, PORT: '0', LIVE_ORIGIN_TOKENS: `${TOKEN}=*`, ...env },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code}: ${out}`)));
  });
  // Keep draining stdout (the per-request log lines) so the origin never blocks on a full pipe.
  child.stdout!.resume();
  return { url, child };
}

async function publish(url: string, body: Buffer): Promise<void> {
  const res = await fetch(`${url}/ingest/bench/a/v/seg_1.m4s`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'video/iso.segment' },
    body,
  });
  if (res.status !== 201) throw new Error(`publish to ${url} answered ${res.status}`);
  const check = await fetch(`${url}/${SEGMENT_PATH}`);
  if (!Buffer.from(await check.arrayBuffer()).equals(body)) throw new Error(`${url} served other bytes`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function main(): Promise<void> {
  need('nginx', 'nginx-light');
  need('wrk', 'wrk');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'live-origin-bench-'));
  const body = randomBytes(SEGMENT_BYTES);
  mkdirSync(path.join(dir, 'www', 'live/bench/v'), { recursive: true });
  writeFileSync(path.join(dir, 'www', SEGMENT_PATH), body);
  const children: ChildProcess[] = [];
  try {
    const results: Result[] = [];
    const nginx = await startNginx(path.join(dir, 'www'), dir);
    children.push(nginx.child);
    results.push(wrk('nginx (static file, baseline)', `${nginx.url}/${SEGMENT_PATH}`));
    await stop(nginx.child);

    const memory = await startOrigin('runtime/server.ts', {});
    children.push(memory.child);
    await publish(memory.url, body);
    results.push(wrk('origin, memory store', `${memory.url}/${SEGMENT_PATH}`));
    await stop(memory.child);

    const aws = await startOrigin('scripts/start-aws-local.ts', {});
    children.push(aws.child);
    await publish(aws.url, body);
    results.push(wrk('origin, aws mode (local S3 + DynamoDB)', `${aws.url}/${SEGMENT_PATH}`));
    await stop(aws.child);

    const [base, mem, awsMode] = results as [Result, Result, Result];
    const rows = results.map(
      (r) => `| ${r.name} | ${Math.round(r.rps)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} |`,
    );
    process.stdout.write(
      [
        `GET of one ${SEGMENT_BYTES / 1024} KiB segment, wrk -t1 -c${CONNECTIONS} -d${DURATION}s on loopback, ${os.cpus().length} cores, node ${process.version}`,
        '',
        '| target | requests/s | p50 ms | p99 ms | non-2xx |',
        '|---|---|---|---|---|',
        ...rows,
        '',
        `memory store / nginx: ${(mem.rps / base.rps).toFixed(2)}`,
        `aws mode / memory store: ${(awsMode.rps / mem.rps).toFixed(2)}`,
        '',
      ].join('\n'),
    );
  } finally {
    for (const child of children) await stop(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
