import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from './support/origin.js';
import type { CommandRun } from './support/run-command.js';
import { runAsync } from './support/run-command.js';
import type { ServerProcess } from './support/server-process.js';
import { startServerProcess } from './support/server-process.js';

let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = undefined;
});

describe('server entry (as npm start runs it)', () => {
  it('prints where it listens and the ingest token it generated, and that token works', async () => {
    server = await startServerProcess({ LIVE_ORIGIN_TOKENS: '' });
    const token = /Ingest token \(generated, grants every event\): (\S+)/.exec(server.output())?.[1];
    expect(token).toBeTruthy();
    const res = await fetch(`${server.url}/ingest/demo/a/video/seg_1.m4s`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}` },
      body: 'x',
    });
    expect(res.status).toBe(201);
  });

  it('refuses to start on bad configuration, with a clear message and exit code 2', async () => {
    const start = startServerProcess({ LIVE_ORIGIN_MAX_HELD: 'lots' });
    await expect(start).rejects.toThrow(/exited with 2/);
    await expect(start).rejects.toThrow(/LIVE_ORIGIN_MAX_HELD must be an integer/);
  });

  it('drains on SIGTERM: readiness goes 503, held requests are answered, then it exits 0', async () => {
    const token = 'drain-token-0123456789';
    server = await startServerProcess({ LIVE_ORIGIN_TOKENS: `${token}=*`, LIVE_ORIGIN_DRAIN_DELAY_MS: String(DRAIN_DELAY_MS) });
    const auth = { authorization: `Bearer ${token}` };
    // seg_1 is due a minute from now: its hold deadline lies beyond the test's time limit, so an
    // answer to the held request can only come from the drain, however slow the host.
    await fetch(`${server.url}/admin/events/drain`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ segmentDurationMs: 60_000, availabilityStartTime: new Date(Date.now()).toISOString() }),
    });
    let exited = false;
    const held = fetch(`${server.url}/live/drain/v/seg_1.m4s`).then((res) => ({ res, exitedBefore: exited }));
    // SIGTERM only once the origin holds the request (not merely once it was sent).
    await eventually(async () => expect(await heldRequests(server!.url)).toBe(1), 10_000);
    const code = server.stop('SIGTERM');
    void code.then(() => (exited = true));
    const { res, exitedBefore } = await held;
    expect(res.status).toBe(404);
    expect(exitedBefore).toBe(false);
    // Still listening through the drain delay, saying it is draining.
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'draining' });
    expect(await code).toBe(0);
  });
});

/**
 * The drain delay of the drain test: the readiness check after the held answer must land within
 * it. Generous, as a busy 2-core host can pause the test for a second or more; the test waits
 * it out once.
 */
const DRAIN_DELAY_MS = 3_000;

/** The origin's gauge of requests it holds now, from its /metrics. */
async function heldRequests(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('live_origin_held_requests '));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** Runs the server entry to its end (for starts that must fail), with stdout and stderr apart. */
function runServer(args: string[], env: Record<string, string>): Promise<CommandRun> {
  return runAsync(process.execPath, ['--import', 'tsx', 'runtime/server.ts', ...args], {
    env: { ...process.env, PORT: '0', LIVE_ORIGIN_TOKENS: '', ...env },
    // A start that should have failed but listens instead is stopped, and the test then fails on its status.
    killAfterMs: 60_000,
  });
}

/** One line on stderr, no stack trace, and nothing on stdout: the server never started. */
function expectOneLineRefusal(result: { stdout: string; stderr: string }, pattern: RegExp): void {
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^live-origin: [^\n]+\n$/);
  expect(result.stderr).toMatch(pattern);
}

describe('server entry: command line, bad settings, log format', () => {
  it('answers --help with its usage and exit 0, without starting', async () => {
    const result = await runServer(['--help'], {});
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^usage: npm start/);
    expect(result.stdout).toContain('LOG_FORMAT=json|pretty');
    expect(result.stdout).not.toContain('listening');
    expect(result.stderr).toBe('');
  });

  it('refuses a flag (settings come from the environment) in one line, exit 2', async () => {
    const result = await runServer(['--port', '9000'], {});
    expect(result.status).toBe(2);
    expectOneLineRefusal(result, /unknown option '--port'/);
  });

  it('refuses a malformed LIVE_ORIGIN_TOKENS and an unknown LOG_LEVEL in one line, exit 2', async () => {
    const [tokens, level] = await Promise.all([runServer([], { LIVE_ORIGIN_TOKENS: 'too-short=*' }), runServer([], { LOG_LEVEL: 'loud' })]);
    expect([tokens.status, level.status]).toEqual([2, 2]);
    expectOneLineRefusal(tokens, /LIVE_ORIGIN_TOKENS: each token entry must be token=glob/);
    expectOneLineRefusal(level, /LOG_LEVEL must be one of/);
  });

  it('says in one line that the port is in use, exit 1', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    try {
      const result = await runServer([], { PORT: String(port) });
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(`live-origin: port ${port} on 127.0.0.1 is in use; stop what holds it or set PORT to another\n`);
      expect(result.stdout).not.toContain('listening on');
    } finally {
      holder.close();
    }
  });

  it('logs JSON lines when stdout is not a terminal, and readable lines with LOG_FORMAT=pretty', async () => {
    server = await startServerProcess({ LOG_LEVEL: 'info' });
    await eventually(() => expect(server!.output()).toMatch(/"msg":"live origin listening"/), 10_000);
    const json = server
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'));
    expect(json.map((line) => JSON.parse(line).msg)).toContain('live origin listening');
    await server.stop('SIGKILL');

    server = await startServerProcess({ LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' });
    await eventually(() => expect(server!.output()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}live origin listening {2}address=http/m), 10_000);
    expect(server.output()).not.toContain('{"level"');
  });

  it('logs readable lines on a terminal, and JSON there too with LOG_FORMAT=json', async () => {
    const onTerminal = async (env: Record<string, string>): Promise<string> => {
      // script(1) gives the server a pseudo-terminal as its stdout, as a person's shell does.
      const child = spawn('script', ['-qec', `exec ${process.execPath} --import tsx runtime/server.ts`, '/dev/null'], {
        env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      try {
        await eventually(() => expect(output).toMatch(/live origin listening/), 60_000);
        return output;
      } finally {
        // The group holds only what this test started: script and the server under it.
        process.kill(-child.pid!, 'SIGKILL');
      }
    };
    const pretty = await onTerminal({});
    expect(pretty).toMatch(/^\d\d:\d\d:\d\d\.\d{3} \S+INFO \S+ live origin listening {2}address=http/m);
    expect(pretty).toContain('\u001b[32mINFO \u001b[0m live origin listening');
    expect(pretty).not.toContain('{"level"');
    const plain = await onTerminal({ NO_COLOR: '1' });
    expect(plain).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}live origin listening/m);
    const json = await onTerminal({ LOG_FORMAT: 'json' });
    expect(json).toMatch(/^\{"level":30,.*"msg":"live origin listening"\}/m);
  }, 120_000);
});
