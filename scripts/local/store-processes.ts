import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalAws, LocalAwsOptions, LocalS3 } from './local-aws.js';
import { useLocalServers } from './local-aws.js';

/**
 * Local store servers in processes of their own. A busy process (a test publishing and reading
 * at a steady rate, the demo) delays whatever else runs on its event loop: on a small host the
 * stores' answers then came late enough for the origins' store timeouts to fire, and a store
 * that is up was judged down.
 */

/** A child process started by spawnReporting: what it printed first, commands, and how to end it. */
export interface ReportingChild<T> {
  readonly report: T;
  /** Sends a command over the IPC channel and resolves with the child's answer once it has carried it out. */
  command(name: string): Promise<number>;
  stop(): Promise<void>;
}

interface CommandAnswer {
  readonly id: number;
  /** What the command resolved with (run-local-server.ts: when it took effect). */
  readonly at?: number;
  readonly error?: string;
}

/**
 * Runs a TypeScript entry of this folder in a child process and resolves with the first JSON
 * line it prints (how run-local-server.ts and run-local-regions.ts say where they listen);
 * rejects, with the child stopped, if it exits first or says nothing within `timeoutMs`.
 */
export async function spawnReporting<T>(entryFile: string, args: readonly string[], what: string, timeoutMs: number): Promise<ReportingChild<T>> {
  const entry = new URL(entryFile, import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const waiting = new Map<number, { resolve(at: number): void; reject(error: Error): void }>();
  let nextId = 0;
  child.on('message', (answer: CommandAnswer) => {
    const waiter = waiting.get(answer.id);
    waiting.delete(answer.id);
    if (answer.error === undefined) waiter?.resolve(answer.at ?? Number.NaN);
    else waiter?.reject(new Error(`${what}: ${answer.error}`));
  });
  void exited.then(() => {
    for (const waiter of waiting.values()) waiter.reject(new Error(`${what} exited: ${stderr}`));
    waiting.clear();
  });
  const command = (name: string) =>
    new Promise<number>((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error(`${what} has exited: ${stderr}`));
        return;
      }
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      child.send({ command: name, id });
    });
  try {
    const report = await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what} did not start: ${stderr}`)), timeoutMs);
      child.stdout!.on('data', (chunk) => {
        stdout += chunk;
        const line = stdout.split('\n').find((candidate) => candidate.startsWith('{'));
        if (line && stdout.includes('\n')) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as T);
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${what} exited: ${stderr}`));
      });
    });
    return { report, command, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * One store server (run-local-server.ts) in a process of its own. `stop` and `start` are an
 * outage and the return from it, as with a server in this process (same port, same data);
 * `end` ends the process.
 */
export interface StoreServerProcess extends LocalS3 {
  end(): Promise<void>;
}

export async function spawnStoreServer(kind: 's3' | 'dynamodb', directory: string, timeoutMs: number): Promise<StoreServerProcess> {
  const child = await spawnReporting<{ endpoint: string }>('./run-local-server.ts', [kind, directory], `local ${kind} server`, timeoutMs);
  let changedAt = Date.now();
  const command = async (name: 'stop' | 'start') => {
    changedAt = await child.command(name);
  };
  return {
    endpoint: child.report.endpoint,
    get changedAt() {
      return changedAt;
    },
    stop: () => command('stop'),
    start: () => command('start'),
    end: child.stop,
  };
}

/** startLocalAws with the S3 and the DynamoDB server each in a process of its own. */
export async function startLocalAwsInProcesses(options: LocalAwsOptions = {}, timeoutMs = 60_000): Promise<LocalAws> {
  const directory = await mkdtemp(join(tmpdir(), 'live-origin-aws-'));
  const started = await Promise.allSettled([
    spawnStoreServer('s3', join(directory, 's3'), timeoutMs),
    spawnStoreServer('dynamodb', join(directory, 'dynamodb'), timeoutMs),
  ]);
  const servers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const end = async () => {
    await Promise.allSettled(servers.map((server) => server.end()));
    await rm(directory, { recursive: true, force: true });
  };
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    await end();
    throw (failed as PromiseRejectedResult).reason;
  }
  const [s3, dynamoDb] = servers as [StoreServerProcess, StoreServerProcess];
  return useLocalServers(s3, dynamoDb, options, end);
}
