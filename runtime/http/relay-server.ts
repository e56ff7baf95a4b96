import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RELAY_PATH } from '../service/ingest-stream.js';
import type { OriginServices } from './app.js';
import { streamAnswer } from './stream-answer.js';

export interface RelayServer {
  /** `http://host:port`, as other instances reach it. */
  readonly url: string;
  close(): Promise<void>;
}

export interface RelayServerOptions {
  /** The address other instances reach this one at (the instance's private address). */
  readonly host: string;
  /** Where it listens (the runtime's own listen address; defaults to host). */
  readonly listenHost?: string;
  /** 0: any free port (the URL names it). */
  readonly port: number;
}

/**
 * The relay other instances read this instance's PUTs from while they arrive: `GET
 * /relay/{stream id}` streams the PUT's bytes with a delivery answer's rules (its end only after
 * the ack, cut if the PUT fails). A listener of its own on the private network, never behind the
 * load balancer; the stream id, random and published only in the shared metadata, is what
 * grants the read.
 */
export async function startRelayServer(origin: OriginServices, options: RelayServerOptions): Promise<RelayServer> {
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    const stream = req.method === 'GET' && url.startsWith(RELAY_PATH) ? origin.streams.relayed(url.slice(RELAY_PATH.length)) : undefined;
    // A PUT that failed is never visible: its id answers as if unknown, so the reader's
    // instance looks at the next candidate instead of streaming a cut copy.
    if (!stream || stream.state === 'failed') {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('no such stream\n');
      return;
    }
    // Another instance serves it: a failure before the ack must give up the pin it takes.
    stream.served = true;
    streamAnswer(res, stream, ['Content-Type', stream.candidate.contentType, 'Cache-Control', 'no-store'], {
      headOnly: false,
      clock: origin.clock,
      stallMs: origin.limits.readerStallMs,
      onEnd: (outcome) => origin.metrics.relayedStreams.inc({ outcome }),
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Exclusive: each worker of a host has a relay of its own (a shared cluster handle would hand
    // one worker's relay requests to another, which does not have the stream).
    server.listen({ port: options.port, host: options.listenHost ?? options.host, exclusive: true }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
