import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { TOKEN } from './origin.js';

/**
 * Clients for serving-while-ingesting tests, over real sockets: a PUT whose body the test sends
 * chunk by chunk, and a GET that records every chunk of its answer as it arrives and how the
 * answer ended (complete, or cut before its end).
 */

export interface OpenPut {
  /** Sends one chunk of the body and waits until it is handed to the socket. */
  write(chunk: Buffer | string): Promise<void>;
  /** Ends the body; resolves with the origin's answer. */
  end(): Promise<{ status: number; body: string }>;
  /** Cuts the connection mid-body. */
  destroy(): void;
  /** The origin's answer, whenever it comes (e.g. a 413 mid-body). */
  readonly answer: Promise<{ status: number; body: string }>;
}

/** Starts a PUT to `/ingest/{target}`: chunked unless `contentLength` is given. */
export function openPut(base: string, target: string, headers: Record<string, string> = {}, contentLength?: number): OpenPut {
  const request = http.request(`${base}/ingest/${target}`, {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'video/iso.segment',
      ...(contentLength === undefined ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(contentLength) }),
      ...headers,
    },
  });
  request.flushHeaders();
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    request.once('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.once('end', () => resolve({ status: response.statusCode!, body }));
      response.once('error', reject);
    });
    request.once('error', reject);
  });
  // A cut PUT rejects its answer: nobody need wait for it.
  answer.catch(() => undefined);
  return {
    write: (chunk) =>
      new Promise((resolve, reject) => {
        request.write(chunk, (error) => (error ? reject(error) : resolve()));
      }),
    end: () => {
      request.end();
      return answer;
    },
    destroy: () => request.destroy(),
    answer,
  };
}

export interface ReceivedChunk {
  /** performance.now() when it arrived. */
  readonly at: number;
  readonly bytes: Buffer;
}

export interface OpenGet {
  /** Resolves with the status and headers once they arrive. */
  readonly head: Promise<{ status: number; headers: http.IncomingHttpHeaders; at: number }>;
  readonly chunks: ReceivedChunk[];
  /** Resolves when the answer ended: `complete` false when the connection was cut before its end. */
  readonly done: Promise<{ complete: boolean }>;
  body(): Buffer;
  /** Resolves once at least `bytes` bytes of body have arrived. */
  received(bytes: number): Promise<void>;
  destroy(): void;
}

/** A delivery GET (`/live/{target}`) that records its answer chunk by chunk. */
export function openGet(base: string, target: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET'): OpenGet {
  const chunks: ReceivedChunk[] = [];
  const waiters: { bytes: number; resolve: () => void }[] = [];
  let total = 0;
  const request = http.request(`${base}/live/${target}`, { method, headers, agent: false });
  let resolveDone!: (value: { complete: boolean }) => void;
  const done = new Promise<{ complete: boolean }>((resolve) => {
    resolveDone = resolve;
  });
  const head = new Promise<{ status: number; headers: http.IncomingHttpHeaders; at: number }>((resolve, reject) => {
    request.once('response', (response) => {
      resolve({ status: response.statusCode!, headers: response.headers, at: performance.now() });
      response.on('data', (bytes: Buffer) => {
        chunks.push({ at: performance.now(), bytes });
        total += bytes.length;
        for (const waiter of waiters.filter((w) => total >= w.bytes)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      });
      response.once('end', () => resolveDone({ complete: response.complete }));
      response.once('aborted', () => resolveDone({ complete: false }));
      response.once('error', () => resolveDone({ complete: false }));
      response.once('close', () => resolveDone({ complete: response.complete }));
    });
    request.once('error', (error) => {
      reject(error);
      resolveDone({ complete: false });
    });
  });
  head.catch(() => undefined);
  request.end();
  return {
    head,
    chunks,
    done,
    body: () => Buffer.concat(chunks.map((c) => c.bytes)),
    received: (bytes) => (total >= bytes ? Promise.resolve() : new Promise((resolve) => waiters.push({ bytes, resolve }))),
    destroy: () => request.destroy(),
  };
}
