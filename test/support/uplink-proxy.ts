import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A packager's uplink that drops out and comes back: between a packager and the origin's ingest,
 * it forwards each request as it comes until `stall` is called; from then on it acknowledges
 * every write at once (201, as a buffering uplink does) and keeps it, and `release` sends what
 * it kept to the origin in order, back to back: the catch-up burst of a reconnect.
 */
export interface UplinkProxy {
  readonly url: string;
  /** Paths (after `/ingest/`) of the requests forwarded, in order, with when each was answered. */
  readonly forwarded: { readonly path: string; readonly status: number; readonly at: number }[];
  stall(): void;
  /** Sends what was kept, one after another; resolves once the last is answered. Later requests flow again. */
  release(): Promise<void>;
  close(): Promise<void>;
}

interface Kept {
  readonly method: string;
  readonly url: string;
  readonly headers: http.OutgoingHttpHeaders;
  readonly body: Buffer;
}

function send(target: string, request: Kept): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve) => {
    const upstream = http.request(new URL(request.url, target), { method: request.method, headers: request.headers }, (answer) => {
      const parts: Buffer[] = [];
      answer.on('data', (part: Buffer) => parts.push(part));
      answer.on('end', () => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(parts) }));
      answer.on('error', () => resolve({ status: 502, headers: {}, body: Buffer.alloc(0) }));
    });
    upstream.on('error', () => resolve({ status: 502, headers: {}, body: Buffer.alloc(0) }));
    upstream.end(request.body);
  });
}

export async function startUplinkProxy(target: string): Promise<UplinkProxy> {
  const forwarded: { path: string; status: number; at: number }[] = [];
  let kept: Kept[] | undefined;
  const forward = async (request: Kept) => {
    const answer = await send(target, request);
    forwarded.push({ path: request.url.replace(/^\/ingest\//, ''), status: answer.status, at: Date.now() });
    return answer;
  };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers: http.OutgoingHttpHeaders = { ...request.headers, 'content-length': String(body.length) };
      delete headers.host;
      delete headers['transfer-encoding'];
      delete headers.expect;
      const one: Kept = { method: request.method!, url: request.url!, headers, body };
      if (kept) {
        kept.push(one);
        response.writeHead(request.method === 'PUT' ? 201 : 204).end();
        return;
      }
      void forward(one).then((answer) => response.writeHead(answer.status, answer.headers).end(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwarded,
    stall() {
      kept ??= [];
    },
    async release() {
      const backlog = kept ?? [];
      kept = undefined;
      for (const request of backlog) await forward(request);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
