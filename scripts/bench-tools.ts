/**
 * What `npm run bench` measures with: processes it starts and stops, wrk runs, and a Node HTTP
 * client for the held-request (fan-out), ingest and memory stages.
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Target {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  /** The process whose memory is measured (the worker when there is one). */
  readonly pid: number;
}

export function need(binary: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${binary} || test -x /usr/sbin/${binary}`]).status !== 0) {
    throw new Error(`${binary} is missing: apt-get install -y ${pkg}`);
  }
}

/** The machine's CPUs (not availableParallelism(): that follows this process's own pinning). */
const CPUS = os.cpus().length;
/** Every CPU of this machine, as taskset writes a list (`0-1`). */
export const ALL_CPUS = `0-${CPUS - 1}`;

/**
 * Pins a process and all its threads to the given CPUs (`taskset -a -cp`), so a server and the
 * load generator in this process stop taking turns on the same core. Returns false, changing
 * nothing, where that cannot be done: fewer than two CPUs, or no taskset (util-linux).
 */
export function pinToCpus(pid: number, cpus: string): boolean {
  if (CPUS < 2) return false;
  return spawnSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' }).status === 0;
}

export async function freePort(): Promise<number> {
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
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on ${port}`);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a TypeScript entry with tsx and waits for `listening on <url>` (`lines` times: one per worker). */
export async function startNode(name: string, entry: string, env: Record<string, string>, lines = 1): Promise<Target> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...process.env, PORT: '0', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${out}`)), 60_000);
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const matches = [...out.matchAll(/listening on (http:\/\/[\d.:]+)/g)];
      if (matches.length >= lines) {
        clearTimeout(timer);
        resolve(matches[0]![1]!);
      }
    });
    child.stderr!.on('data', (chunk) => (out += chunk));
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${out}`)));
  });
  // Keep draining both pipes so the process never blocks on a full one.
  child.stdout!.resume();
  child.stderr!.resume();
  return { name, url, child, pid: serverPid(child.pid!) };
}

/** The pid that serves: the process itself, or its runtime/server.ts descendant (start-aws-local, cluster worker). */
function serverPid(pid: number): number {
  try {
    const found = execFileSync('pgrep', ['-f', 'runtime/server.ts'], { encoding: 'utf8' }).trim().split('\n').map(Number);
    const descendants = found.filter((candidate) => isDescendant(candidate, pid));
    return descendants.at(-1) ?? pid;
  } catch {
    return pid;
  }
}

function isDescendant(pid: number, ancestor: number): boolean {
  for (let current = pid, i = 0; current > 1 && i < 10; i++) {
    if (current === ancestor) return true;
    current = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${current}/status`, 'utf8'))?.[1] ?? 0);
  }
  return false;
}

export async function startNginx(root: string, dir: string): Promise<Target> {
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off; master_process off; worker_processes 1; error_log ${dir}/error.log; pid ${dir}/nginx.pid;
events { worker_connections 20000; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server { listen 127.0.0.1:${port}; root ${root}; } }\n`,
  );
  const child = spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'ignore' });
  await waitForPort(port);
  return { name: 'nginx', url: `http://127.0.0.1:${port}`, child, pid: child.pid! };
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function toMs(value: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(value.trim());
  if (!match) return NaN;
  const n = Number(match[1]);
  return match[2] === 'us' ? n / 1000 : match[2] === 's' ? n * 1000 : n;
}

export interface WrkResult {
  readonly rps: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** Requests completed. */
  readonly requests: number;
  /**
   * CPU (user + system) the serving process tree spent per request, in microseconds, when
   * `cpuOf` was given: what an answer costs the server, whatever share of the cores the load
   * generator and anything else on the machine took meanwhile.
   */
  readonly cpuUsPerRequest?: number;
}

/** `cpuOf`: the root pid of the server's process tree (workers included); `script`: a wrk Lua script. */
export function wrk(url: string, seconds: number, connections: number, cpuOf?: number, script?: string): WrkResult {
  const before = cpuOf === undefined ? 0 : treeCpuTicks(cpuOf);
  const out = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...(script ? ['-s', script] : []), url], { encoding: 'utf8' });
  const ticks = cpuOf === undefined ? 0 : treeCpuTicks(cpuOf) - before;
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  return {
    requests,
    cpuUsPerRequest: cpuOf === undefined || requests === 0 ? undefined : (ticks * 1e6) / CLOCK_TICKS_PER_SECOND / requests,
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    p99Ms: toMs(/ 99%\s+(\S+)/.exec(out)?.[1] ?? ''),
    errors: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) + Number(/Socket errors: connect (\d+)/.exec(out)?.[1] ?? 0),
  };
}

/** USER_HZ: the unit of utime and stime in /proc/<pid>/stat (100 on Linux). */
const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime + stime, in clock ticks, of `root` and every process descending from it (threads included). */
export function treeCpuTicks(root: number): number {
  const stats = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => {
      try {
        // The command name (field 2) may hold spaces; the fields after its closing ')' do not.
        const fields = readFileSync(`/proc/${name}/stat`, 'utf8')
          .replace(/^.*\) /s, '')
          .split(' ');
        return { pid: Number(name), ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
      } catch {
        return undefined; // exited meanwhile
      }
    })
    .filter((stat) => stat !== undefined);
  const children = new Map<number, number[]>();
  for (const stat of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat.pid]);
  const ticksOf = new Map(stats.map((stat) => [stat.pid, stat.ticks]));
  let total = 0;
  for (const queue = [root]; queue.length > 0; ) {
    const pid = queue.pop()!;
    total += ticksOf.get(pid) ?? 0;
    queue.push(...(children.get(pid) ?? []));
  }
  return total;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function rssBytes(pid: number): number {
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
}

/** One HTTP request on a keep-alive agent; resolves with status and elapsed ms once the body is read (and dropped). */
export function request(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer; agent?: http.Agent | false } = {},
): Promise<{ status: number; ms: number; bytes: number; text: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent }, (res) => {
      let bytes = 0;
      let text = '';
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (text.length < 256) text += chunk.toString('latin1', 0, Math.min(chunk.length, 256));
      });
      res.on('end', () => resolve({ status: res.statusCode!, ms: performance.now() - started, bytes, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A held GET's answer: when its first body byte and its end came (performance.now()), its status and size. */
export interface HeldAnswer {
  readonly firstByteAt: number;
  readonly at: number;
  readonly status: number;
  readonly bytes: number;
}

/**
 * Opens `count` GETs of `url`, each on its own connection, in batches (the listen backlog), and
 * resolves once every request is written. `done` resolves with each answer's first byte and completion times.
 */
export async function holdMany(url: string, count: number): Promise<{ done: Promise<HeldAnswer[]> }> {
  const answers: Promise<HeldAnswer>[] = [];
  const BATCH = 250;
  for (let i = 0; i < count; i += BATCH) {
    const written: Promise<void>[] = [];
    for (let j = i; j < Math.min(count, i + BATCH); j++) {
      let markWritten!: () => void;
      written.push(new Promise((resolve) => (markWritten = resolve)));
      answers.push(
        new Promise((resolve, reject) => {
          const req = http.get(url, { agent: false }, (res) => {
            let bytes = 0;
            let firstByteAt = Number.NaN;
            res.on('data', (chunk: Buffer) => {
              if (bytes === 0) firstByteAt = performance.now();
              bytes += chunk.length;
            });
            res.on('end', () => resolve({ firstByteAt, at: performance.now(), status: res.statusCode!, bytes }));
          });
          req.on('socket', (socket) => socket.once('connect', () => setImmediate(markWritten)));
          req.on('error', reject);
        }),
      );
    }
    await Promise.all(written);
  }
  return { done: Promise.all(answers) };
}
