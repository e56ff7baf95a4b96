import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { IngestProxy } from '../../scripts/demo-ingest-proxy.js';
import { DEMO_QUALITY, startIngestProxy } from '../../scripts/demo-ingest-proxy.js';

/**
 * The demo's ingest pass-through between its packagers and the origins, over real sockets: an
 * origin stand-in records what reaches it.
 */

interface Received {
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  /** Resolves when the request ends: whether its body came whole, and the bytes that did. */
  readonly ended: Promise<{ complete: boolean; body: string }>;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function origin(): Promise<{ url: string; received: Received[]; next: () => Promise<Received> }> {
  const received: Received[] = [];
  const waiting: ((request: Received) => void)[] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    const ended = new Promise<{ complete: boolean; body: string }>((resolve) => request.on('close', () => resolve({ complete: request.complete, body })));
    request.on('end', () => response.writeHead(201).end());
    const entry = { url: request.url!, headers: request.headers, ended };
    received.push(entry);
    waiting.shift()?.(entry);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const next = () => new Promise<Received>((resolve) => (received.length > waiting.length ? resolve(received[waiting.length]!) : waiting.push(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, next };
}

async function proxyTo(target: string, faults: { defective?: boolean; quality?: number } = {}): Promise<IngestProxy> {
  const proxy = await startIngestProxy({ target: () => target, defective: () => faults.defective ?? false, quality: () => faults.quality });
  closers.push(() => proxy.close());
  return proxy;
}

describe("the demo's ingest proxy", () => {
  it('breaks the PUT to the origin when the packager dies mid-body, so the origin drops the unfinished copy', async () => {
    const upstream = await origin();
    const proxy = await proxyTo(upstream.url);
    const { port } = new URL(proxy.url);
    const packager = net.connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => packager.once('connect', resolve));
    packager.write('PUT /ingest/demo/a/d/chunk-stream0-00001.m4s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n');
    const put = await upstream.next();
    // The packager is killed: its socket goes away without the last chunk.
    packager.destroy();
    expect(await put.ended).toEqual({ complete: false, body: 'first' });
  });

  it('passes a whole PUT on, with the fault headers on media segments only', async () => {
    const upstream = await origin();
    const proxy = await proxyTo(upstream.url, { defective: true, quality: DEMO_QUALITY });
    const segment = await fetch(`${proxy.url}/ingest/demo/a/v/seg_1.m4s`, { method: 'PUT', body: 'bytes' });
    expect(segment.status).toBe(201);
    const playlist = await fetch(`${proxy.url}/ingest/demo/a/v/index.m3u8`, { method: 'PUT', body: '#EXTM3U' });
    expect(playlist.status).toBe(201);
    const [media, list] = upstream.received;
    expect(await media!.ended).toEqual({ complete: true, body: 'bytes' });
    expect([media!.headers['live-defect'], media!.headers['live-quality']]).toEqual(['corrupt', String(DEMO_QUALITY)]);
    expect([list!.headers['live-defect'], list!.headers['live-quality']]).toEqual([undefined, undefined]);
  });
});
