import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';

/**
 * The demo's child processes: each in its own process group, so a stop (or a fault) takes the
 * whole tree with it, and each keeping the tail of its output to explain a failure.
 */

/** Output kept per child, enough for the error that stopped it. */
const OUTPUT_TAIL_CHARS = 4_000;
/** How long a child may take to exit on SIGTERM before it is killed. */
const STOP_GRACE_MS = 3_000;

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<void>;
  /** True once the process has exited. */
  done(): boolean;
  /** The last few thousand characters it printed. */
  output(): string;
  /** Signals the whole process group. */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after a grace period; resolves once it has exited. */
  stop(): Promise<void>;
}

export function startChild(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): Child {
  const child: ChildProcess = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let finished = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      finished = true;
      resolve();
    });
    child.once('error', (error) => {
      tail += `\n${error.message}`;
      finished = true;
      resolve();
    });
  });
  const signal = (sig: NodeJS.Signals) => {
    if (finished || child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      // Already gone.
    }
  };
  return {
    name,
    pid: child.pid ?? -1,
    exited,
    done: () => finished,
    output: () => tail,
    signal,
    async stop() {
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
      // Whatever the leader left in its group (a grandchild) goes too.
      signal('SIGKILL');
    },
  };
}

/** Resolves with the first match of `pattern` in the child's output, or rejects when it exits or times out. */
export async function waitForOutput(child: Child, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(child.output());
    if (match) return match;
    if (child.done()) throw new Error(`${child.name} exited:\n${child.output()}`);
    if (Date.now() > until) throw new Error(`${child.name} did not start within ${timeoutMs} ms:\n${child.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface Tool {
  readonly name: string;
  /** Candidates in order: a bare name searched on PATH, then absolute paths (varnishd is in sbin). */
  readonly commands: readonly string[];
  readonly versionArgs: readonly string[];
  /** The Debian package that provides it. */
  readonly debianPackage: string;
}

/** The first candidate command that runs, or undefined when the tool is missing. */
export function findTool(tool: Tool): string | undefined {
  return tool.commands.find((command) => spawnSync(command, tool.versionArgs, { stdio: 'ignore' }).status === 0);
}
