import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LINGER_MAX_BYTES, LINGER_MAX_MS } from '../../runtime/http/plugins/lingering-close.js';
import type { TestOrigin } from '../support/origin.js';
import { AUTH, NEWS_TOKEN, startOrigin, TOKEN } from '../support/origin.js';

/**
 * A PUT refused while its body is still arriving (413 over the limit, 401/403, 400) lets the
 * packager read the status, as nginx's lingering close does, and then the connection closes
 * within the bounds. Over real sockets: Node's fetch (undici), and a raw client that writes its
 * whole body before reading (as ffmpeg's HTTP output does), which without lingering close
 * sees a reset instead of the answer.
 */

const LIMIT = 1024 * 1024;
const CHUNK = 64 * 1024;

let origin: TestOrigin;

beforeAll(async () => {
  origin = await startOrigin({ maxObjectBytes: LIMIT });
});

afterAll(async () => {
  await origin.close();
});

interface RawOutcome {
  /** The status line the client read, or undefined if it read nothing. */
  readonly status?: number;
  readonly head: string;
  readonly error?: string;
  readonly bytesSent: number;
  /** Milliseconds from the last byte the client could send to the server letting go of the connection. */
  readonly closedAfterMs: number;
}

/**
 * Writes headers and `total` body bytes (chunked or with Content-Length), reading nothing until
 * every byte is written or the socket refuses more; then waits for the close. `trickleMs` sends
 * one chunk per period after the first `total` bytes until the server closes (a client that
 * never stops).
 */
async function writeThenRead(
  headers: Record<string, string>,
  total: number,
  options: { chunked?: boolean; trickleMs?: number; path?: string } = {},
): Promise<RawOutcome> {
  const chunked = options.chunked ?? true;
  const { port } = new URL(origin.url);
  // Half-open: the server's FIN (its answer is complete) does not end this client's sending.
  const socket = net.connect({ port: Number(port), host: '127.0.0.1', allowHalfOpen: true });
  const received: Buffer[] = [];
  let error: string | undefined;
  socket.on('data', (data) => received.push(data));
  socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())));
  const before = await serverConnections();
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.pause();
  const lines = [`PUT ${options.path ?? '/ingest/ev/a/v/seg_1.m4s'} HTTP/1.1`, 'Host: origin', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  lines.push(chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${total}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  const frame = (bytes: Buffer) => (chunked ? Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]) : bytes);
  const payload = Buffer.alloc(CHUNK, 7);
  let sent = 0;
  const stillOpen = () => !socket.destroyed && socket.writable;
  while (sent < total && stillOpen()) {
    const ok = socket.write(frame(payload.subarray(0, Math.min(CHUNK, total - sent))));
    sent += Math.min(CHUNK, total - sent);
    if (!ok) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed]);
  }
  if (options.trickleMs === undefined) {
    if (stillOpen() && chunked) socket.write('0\r\n\r\n');
  } else {
    // This client reads while it trickles: it sees the answer, then the close the bound imposes.
    socket.resume();
    while (stillOpen()) {
      socket.write(frame(payload.subarray(0, 1024)));
      sent += 1024;
      await Promise.race([new Promise((resolve) => setTimeout(resolve, options.trickleMs)), closed]);
    }
  }
  const doneSending = performance.now();
  socket.resume();
  // The server's own count: this client never closes its side, so only the server can end it.
  let closedAt = Infinity;
  while (performance.now() - doneSending < LINGER_MAX_MS * 2) {
    if ((await serverConnections()) <= before) {
      closedAt = performance.now();
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  socket.destroy();
  const head = Buffer.concat(received).toString('latin1').split('\r\n\r\n')[0] ?? '';
  const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1];
  return { status: status === undefined ? undefined : Number(status), head, error, bytesSent: sent, closedAfterMs: Math.max(0, closedAt - doneSending) };
}

function serverConnections(): Promise<number> {
  return new Promise((resolve, reject) => origin.app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

async function storedCandidates(event: string, path: string): Promise<number> {
  return (await origin.stores.metadata.getObject(event, path)).candidates.length;
}

describe('refused uploads: a client that writes its whole body before reading', () => {
  const cases: [string, Record<string, string>, number, number][] = [
    ['over the size limit (chunked)', AUTH, 8 * LIMIT, 413],
    ['without a token', {}, 4 * LIMIT, 401],
    ['with a token that does not grant the event', { authorization: `Bearer ${NEWS_TOKEN}` }, 4 * LIMIT, 403],
    ['with a bad Live-Segment header', { ...AUTH, 'live-segment': 'twelve' }, 4 * LIMIT, 400],
  ];
  for (const [name, headers, total, expected] of cases) {
    it(`reads ${expected} ${name}, then the connection closes`, async () => {
      const outcome = await writeThenRead(headers, total);
      console.log(
        `refused upload ${name}: status ${outcome.status}, ${outcome.bytesSent} bytes sent, closed ${outcome.closedAfterMs.toFixed(0)} ms after the last byte${outcome.error ? `, ${outcome.error}` : ''}`,
      );
      expect(outcome.status).toBe(expected);
      expect(outcome.head.toLowerCase()).toContain('connection: close');
      expect(outcome.bytesSent).toBe(total);
      expect(outcome.closedAfterMs).toBeLessThan(1_000);
      expect(await storedCandidates('ev', 'v/seg_1.m4s')).toBe(0);
    });
  }

  it('reads 413 when Content-Length already says the object is too large', async () => {
    const outcome = await writeThenRead(AUTH, 6 * LIMIT, { chunked: false });
    expect(outcome.status).toBe(413);
    expect(outcome.bytesSent).toBe(6 * LIMIT);
    expect(outcome.closedAfterMs).toBeLessThan(1_000);
    expect(await storedCandidates('ev', 'v/seg_1.m4s')).toBe(0);
  });
});

describe('refused uploads: the lingering is bounded', () => {
  it(`closes a client that never stops sending after ${LINGER_MAX_MS} ms`, async () => {
    const started = performance.now();
    const outcome = await writeThenRead({}, 2 * CHUNK, { trickleMs: 50 });
    const lingered = performance.now() - started;
    console.log(`refused upload that never ends: status ${outcome.status}, connection closed after ${lingered.toFixed(0)} ms (bound ${LINGER_MAX_MS} ms)`);
    expect(outcome.status).toBe(401);
    expect(lingered).toBeGreaterThan(LINGER_MAX_MS - 200);
    expect(lingered).toBeLessThan(LINGER_MAX_MS + 1_000);
  }, 15_000);

  it(`closes a client that sends more than ${LINGER_MAX_BYTES / 1024 / 1024} MiB after the answer, well before the time bound`, async () => {
    const started = performance.now();
    const outcome = await writeThenRead(AUTH, LINGER_MAX_BYTES + 16 * LIMIT);
    const lingered = performance.now() - started;
    console.log(`refused upload over the byte bound: ${outcome.bytesSent} bytes sent before the close, ${lingered.toFixed(0)} ms`);
    expect(outcome.bytesSent).toBeLessThan(LINGER_MAX_BYTES + 16 * LIMIT);
    expect(lingered).toBeLessThan(LINGER_MAX_MS);
  }, 15_000);
});

/** A body that keeps arriving in 64 KiB chunks, as a packager streams a segment. */
function streamedBody(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      controller.enqueue(new Uint8Array(CHUNK));
      sent += CHUNK;
    },
  });
}

describe('refused uploads: Node fetch (undici) with a streamed body', () => {
  const cases: [string, Record<string, string>, number][] = [
    ['over the size limit', AUTH, 413],
    ['without a token', {}, 401],
    ['with a token that does not grant the event', { authorization: `Bearer ${NEWS_TOKEN}` }, 403],
  ];
  for (const [name, headers, expected] of cases) {
    it(`reads ${expected} ${name}, every time (20 uploads, 4 at once)`, async () => {
      const statuses: (number | string)[] = [];
      for (let round = 0; round < 5; round++) {
        statuses.push(
          ...(await Promise.all(
            Array.from({ length: 4 }, async (_, i) => {
              try {
                const response = await fetch(`${origin.url}/ingest/ev/a/v/seg_${round * 4 + i}.m4s`, {
                  method: 'PUT',
                  headers,
                  body: streamedBody(8 * LIMIT),
                  duplex: 'half',
                } as RequestInit);
                await response.arrayBuffer();
                return response.status;
              } catch (error) {
                return `${(error as Error).message}: ${((error as Error).cause as Error | undefined)?.message}`;
              }
            }),
          )),
        );
      }
      expect(statuses).toEqual(Array(20).fill(expected));
      for (let n = 0; n < 20; n++) expect(await storedCandidates('ev', `v/seg_${n}.m4s`)).toBe(0);
    });
  }

  it('still takes a good upload on a fresh connection right after', async () => {
    const response = await fetch(`${origin.url}/ingest/ev/a/v/seg_99.m4s`, {
      method: 'PUT',
      headers: { ...AUTH, authorization: `Bearer ${TOKEN}` },
      body: streamedBody(LIMIT / 2),
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(201);
    expect(await storedCandidates('ev', 'v/seg_99.m4s')).toBe(1);
  });
});
