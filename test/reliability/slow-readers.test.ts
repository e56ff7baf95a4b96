import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerProcess } from '../support/server-process.js';
import { startServerProcess } from '../support/server-process.js';

/**
 * 200 slow readers of 2 MiB segments: each asks for a segment and then stops reading for a
 * while, as a congested CDN connection does. The origin must not keep a copy of the response
 * per reader: its memory stays within the window's bytes plus a bound, whatever the number of
 * readers (Node keeps a reference to the stored Buffer in each socket's write queue, no copy).
 */

const TOKEN = 'readers-token-0123456789';
const EVENT = 'readers';
const SEGMENT_BYTES = 2 * 1024 * 1024;
const SEGMENTS = 10;
const READERS = 200;
const STALL_MS = 3_000;
/** Beyond the window's bytes: the runtime, the readers' sockets and parsers, GC slack. */
const RSS_BOUND_OVER_WINDOW_MIB = 120;

let origin: ServerProcess;

beforeAll(async () => {
  origin = await startServerProcess({ LIVE_ORIGIN_TOKENS: `${TOKEN}=*`, LIVE_ORIGIN_MEMORY_BYTES: String(64 * 1024 * 1024) });
}, 60_000);

afterAll(async () => {
  await origin?.stop();
});

async function rssMiB(): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${origin.child.pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rss: Math.round(kib('VmRSS') / 1024), peak: Math.round(kib('VmHWM') / 1024) };
}

describe('200 slow readers of 2 MiB segments', () => {
  it('keeps the origin within the window bytes plus a bound, and every reader gets every byte', async () => {
    const bodies = Array.from({ length: SEGMENTS }, () => randomBytes(SEGMENT_BYTES));
    for (let n = 0; n < SEGMENTS; n++) {
      const response = await fetch(`${origin.url}/ingest/${EVENT}/a/v/seg_${n}.m4s`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: bodies[n],
      });
      expect(response.status).toBe(201);
    }
    const before = await rssMiB();
    const port = Number(new URL(origin.url).port);

    const readers = Array.from({ length: READERS }, (_, i) => {
      const n = i % SEGMENTS;
      const socket = net.connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      const done = new Promise<Buffer>((resolve, reject) => {
        socket.on('end', () => resolve(Buffer.concat(chunks)));
        socket.on('error', reject);
      });
      socket.write(`GET /live/${EVENT}/v/seg_${n}.m4s HTTP/1.1\r\nHost: origin\r\nConnection: close\r\n\r\n`);
      socket.pause();
      return { n, socket, done };
    });
    // Every reader has asked and reads nothing: what the kernel's socket buffers do not take
    // (a few hundred KiB per loopback socket) waits in the origin's write queues.
    await new Promise((resolve) => setTimeout(resolve, STALL_MS));
    const stalled = await rssMiB();
    for (const reader of readers) reader.socket.resume();
    const received = await Promise.all(readers.map((reader) => reader.done));
    const after = await rssMiB();

    let complete = 0;
    received.forEach((raw, i) => {
      const split = raw.indexOf('\r\n\r\n');
      const body = raw.subarray(split + 4);
      if (raw.subarray(0, 12).toString() === 'HTTP/1.1 200' && body.equals(bodies[readers[i]!.n]!)) complete++;
    });
    const windowMiB = (SEGMENTS * SEGMENT_BYTES) / 1024 / 1024;
    const figures = {
      readers: READERS,
      windowMiB,
      rssMiB: { before: before.rss, stalled: stalled.rss, after: after.rss, peak: after.peak },
      unsentIfCopiedMiB: (READERS * SEGMENT_BYTES) / 1024 / 1024,
      complete,
    };
    console.log(`slow readers: ${JSON.stringify(figures)}`);
    expect(complete).toBe(READERS);
    // The window is already in `before`; 200 stalled readers add far less than one copy each.
    expect(after.peak - before.rss).toBeLessThan(RSS_BOUND_OVER_WINDOW_MIB);
    expect(after.peak).toBeLessThan(before.rss + RSS_BOUND_OVER_WINDOW_MIB);
  }, 60_000);
});
