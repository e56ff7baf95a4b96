import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './varnish.js';

export const NGINX = '/usr/sbin/nginx';

const CONF_DIR = fileURLToPath(new URL('../../docs/cdn/', import.meta.url));
/** The edge logic both top files include. */
const EDGE_FILE = 'nginx-edge.conf';
/** How long nginx gets to listen: it starts in well under a second, but the host is shared. */
const START_TIMEOUT_MS = 15_000;

export function nginxInstalled(): boolean {
  return spawnSync(NGINX, ['-v']).status === 0;
}

export interface Nginx {
  readonly url: string;
  /** What nginx wrote to its error log so far (warnings and errors, upstream failures). */
  log(): string;
  stop(): Promise<void>;
}

export interface NginxOptions {
  /** Sent to the origins as Live-CDN-Auth. @default none */
  readonly cdnSecret?: string;
  /** The edge's port. @default a free one */
  readonly port?: number;
}

/** Starts a real nginx with the shipped one-region configuration (docs/cdn/nginx.conf) in front of the given origin. */
export async function startNginx(originUrl: string, options: NginxOptions = {}): Promise<Nginx> {
  return runNginx('nginx.conf', { ORIGIN: new URL(originUrl).host }, options);
}

/**
 * Starts a real nginx with the two-region configuration (docs/cdn/nginx-two-regions.conf):
 * region 2 as backup, tried on error, timeout and 5xx from region 1.
 */
export async function startTwoRegionNginx(region1Url: string, region2Url: string, options: NginxOptions = {}): Promise<Nginx> {
  return runNginx('nginx-two-regions.conf', { REGION1: new URL(region1Url).host, REGION2: new URL(region2Url).host }, options);
}

/**
 * The shipped files as an operator installs them: in `live-origin/` under nginx's configuration
 * directory (here a temporary one), placeholders filled, the top file included in `http` by a
 * main configuration like Debian's.
 */
async function runNginx(top: string, upstreams: Record<string, string>, options: NginxOptions): Promise<Nginx> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'live-origin-nginx-'));
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  const log = () => output + (existsSync(path.join(dir, 'error.log')) ? readFileSync(path.join(dir, 'error.log'), 'utf8') : '');
  const port = options.port ?? (await freePort());
  try {
    writeConfiguration(dir, top, { ...upstreams, LISTEN: `127.0.0.1:${port}`, CACHE_DIR: path.join(dir, 'cache'), CDN_SECRET: options.cdnSecret ?? '' });
    const started = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'main.conf'), '-e', path.join(dir, 'error.log'), '-g', 'daemon off;'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    started.stdout!.on('data', (chunk) => (output += chunk));
    started.stderr!.on('data', (chunk) => (output += chunk));
    exited = new Promise<void>((resolve) => started.once('exit', () => resolve()));
    await listening(port, started, log);
  } catch (error) {
    // A placeholder without a value, a configuration nginx refuses, a start that hangs: nothing left behind.
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const running = child;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    async stop() {
      // Fast shutdown: held connections are cut, as when an edge node dies.
      running.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function listening(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const until = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${log()}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > until) throw new Error(`nginx did not listen: ${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The shipped files, placeholders filled, under `dir/live-origin/`, and a main configuration that includes the top one. */
function writeConfiguration(dir: string, top: string, values: Record<string, string>): void {
  mkdirSync(path.join(dir, 'live-origin'));
  mkdirSync(path.join(dir, 'cache'));
  mkdirSync(path.join(dir, 'temp'));
  for (const file of [top, EDGE_FILE]) {
    const text = readFileSync(path.join(CONF_DIR, file), 'utf8').replace(/\$\{([A-Z0-9_]+)\}/g, (placeholder, name: string) => {
      const value = values[name];
      if (value === undefined) throw new Error(`${file}: no value for ${placeholder}`);
      return value;
    });
    writeFileSync(path.join(dir, 'live-origin', file), text);
  }
  const temp = path.join(dir, 'temp');
  writeFileSync(
    path.join(dir, 'main.conf'),
    `${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 2;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${temp}/body; proxy_temp_path ${temp}/proxy; fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi; scgi_temp_path ${temp}/scgi;
  include live-origin/${top};
}
`,
  );
}
