import { type SpawnOptions, spawn } from 'node:child_process';

export interface CommandRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr as they came, interleaved. */
  readonly output: string;
}

/**
 * Runs a command to completion without blocking the worker's event loop. `killAfterMs`: a
 * command that should have stopped by itself but runs on is killed, and the test then fails on
 * its status and what it printed.
 */
export function runAsync(command: string, args: string[], options: SpawnOptions & { readonly killAfterMs?: number } = {}): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const { killAfterMs, ...spawnOptions } = options;
    const child = spawn(command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      output += chunk.toString();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      output += chunk.toString();
    });
    const guard = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(guard);
      resolve({ status, stdout, stderr, output });
    });
  });
}
