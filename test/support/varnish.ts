import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { writeEdgeVcl } from '../../scripts/local/edge-vcl.js';

export const VARNISHD = '/usr/sbin/varnishd';

export function varnishInstalled(): boolean {
  return spawnSync(VARNISHD, ['-V']).status === 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface Varnish {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts a real Varnish in the foreground with the project's VCL, in front of the given origin. */
export async function startVarnish(originUrl: string): Promise<Varnish> {
  return runVarnish([new URL(originUrl)]);
}

/**
 * Starts a real Varnish with the two-region VCL (docs/cdn/varnish-two-regions.vcl): a fallback
 * director over both origins, with /readyz probes and one retry on the other region.
 */
export async function startTwoRegionVarnish(region1Url: string, region2Url: string): Promise<Varnish> {
  return runVarnish([new URL(region1Url), new URL(region2Url)]);
}

async function runVarnish(origins: readonly [URL] | readonly [URL, URL]): Promise<Varnish> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'live-origin-varnish-'));
  const vclFile = writeEdgeVcl(dir, origins);
  const port = await freePort();
  const child: ChildProcess = spawn(VARNISHD, ['-F', '-j', 'none', '-n', dir, '-a', `127.0.0.1:${port}`, '-f', vclFile, '-s', 'malloc,64m', '-T', 'none'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const until = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`varnishd exited: ${output}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > until) throw new Error(`varnishd did not listen: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
