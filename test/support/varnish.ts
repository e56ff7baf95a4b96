import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const VARNISHD = '/usr/sbin/varnishd';
const VCL_DIR = 'docs/cdn';

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
  const origin = new URL(originUrl);
  return runVarnish('varnish.vcl', { ORIGIN_HOST: origin.hostname, ORIGIN_PORT: origin.port });
}

/**
 * Starts a real Varnish with the two-region VCL (docs/cdn/varnish-two-regions.vcl): a fallback
 * director over both origins, with /readyz probes and one retry on the other region.
 */
export async function startTwoRegionVarnish(region1Url: string, region2Url: string): Promise<Varnish> {
  const [region1, region2] = [new URL(region1Url), new URL(region2Url)];
  return runVarnish('varnish-two-regions.vcl', {
    REGION1_HOST: region1.hostname,
    REGION1_PORT: region1.port,
    REGION2_HOST: region2.hostname,
    REGION2_PORT: region2.port,
  });
}

/** The shipped VCL files, the top one with its backend placeholders filled, in a fresh working directory. */
function renderVcl(dir: string, top: string, values: Readonly<Record<string, string>>): string {
  for (const file of readdirSync(VCL_DIR).filter((name) => name.endsWith('.vcl'))) {
    let vcl = readFileSync(path.join(VCL_DIR, file), 'utf8');
    if (file === top) {
      vcl = vcl.replace(/\$\{([A-Z0-9_]+)\}/g, (placeholder, name: string) => {
        const value = values[name];
        if (value === undefined) throw new Error(`${file}: no value for ${placeholder}`);
        return value;
      });
    }
    writeFileSync(path.join(dir, file), vcl);
  }
  return path.join(dir, top);
}

async function runVarnish(top: string, values: Readonly<Record<string, string>>): Promise<Varnish> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'live-origin-varnish-'));
  const vclFile = renderVcl(dir, top, values);
  const port = await freePort();
  const child: ChildProcess = spawn(
    VARNISHD,
    ['-F', '-j', 'none', '-n', dir, '-a', `127.0.0.1:${port}`, '-f', vclFile, '-s', 'malloc,64m', '-T', 'none'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
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
