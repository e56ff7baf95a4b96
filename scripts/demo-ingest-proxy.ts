import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DashEpochLock } from './dash-epoch-lock.js';

/**
 * The demo's packagers PUT through this pass-through, which stands in for what a real packager
 * does on its own: flagging its segments defective when its media inspection says so (fault a
 * adds `Live-Defect` to pipeline a's media segments), scoring them (fault d sends pipeline a's
 * with `Live-Quality: 40`, as an encoder filling a lost input would), and publishing to whichever
 * region its ingest name resolves to (after region 1 is killed, pipeline a's PUTs go to
 * region 2, as DNS failover would send them). Bodies pass on as they arrive, so a segment the
 * packager streams (LL-DASH) reaches the origin chunk by chunk; DASH manifests are kept whole and
 * epoch-locked (scripts/dash-epoch-lock.ts), as redundant encoders' are.
 */

/** The kind the demo's fault a reports; the origin then prefers the other pipeline's copy. */
export const DEMO_DEFECT = 'corrupt';
/** The score the demo's fault d gives: a degraded but playable segment (frozen or fill frames). */
export const DEMO_QUALITY = 40;

/** Media segments only: a defective playlist or init segment is not what a packager reports. */
const MEDIA_SEGMENT = /\.m4s$/;
const INGEST_PATH = /^\/ingest\/([^/]+)\/([^/]+)\//;
const MANIFEST = /\.mpd$/;

export interface IngestRouting {
  /** The origin base URL that a pipeline's PUTs go to right now. */
  target(pipeline: string): string;
  /** Whether a pipeline's media segments are flagged defective right now. */
  defective(pipeline: string): boolean;
  /** The quality score a pipeline's media segments carry right now (undefined: none, 100). */
  quality(pipeline: string): number | undefined;
}

export interface IngestProxy {
  readonly url: string;
  /** When each pipeline's copy of each media segment was acknowledged by the origin. */
  readonly arrivals: SegmentArrivals;
  close(): Promise<void>;
}

/**
 * The origin's ack time of each pipeline's copy of each media segment (by path under the
 * pipeline), so the demo can say how far apart its packagers publish the same segment: the
 * origin waits only `betterWaitMs` for a better copy after the first.
 */
export class SegmentArrivals {
  private readonly acks = new Map<string, Map<string, number>>();

  record(path: string, pipeline: string, atMs: number): void {
    const copies = this.acks.get(path) ?? new Map<string, number>();
    copies.set(pipeline, atMs);
    this.acks.set(path, copies);
  }

  /** For every segment both pipelines acked: the ack time of `later` less that of `earlier` (ms). */
  gaps(earlier: string, later: string): number[] {
    const gaps: number[] = [];
    for (const copies of this.acks.values()) {
      const first = copies.get(earlier);
      const second = copies.get(later);
      if (first !== undefined && second !== undefined) gaps.push(second - first);
    }
    return gaps;
  }
}

export async function startIngestProxy(routing: IngestRouting): Promise<IngestProxy> {
  const epochs = new DashEpochLock();
  const arrivals = new SegmentArrivals();
  const server = http.createServer((request, response) => {
    const [, event, pipeline] = INGEST_PATH.exec(request.url ?? '') ?? [];
    if (!event || !pipeline) {
      response.writeHead(404).end();
      return;
    }
    const headers = { ...request.headers };
    delete headers.host;
    if (MEDIA_SEGMENT.test(request.url!)) {
      if (routing.defective(pipeline)) headers['live-defect'] = DEMO_DEFECT;
      const quality = routing.quality(pipeline);
      if (quality !== undefined) headers['live-quality'] = String(quality);
    }
    const upstream = http.request(new URL(request.url!, routing.target(pipeline)), { method: request.method, headers }, (answer) => {
      if (request.method === 'PUT' && MEDIA_SEGMENT.test(request.url!) && (answer.statusCode ?? 500) < 300) {
        arrivals.record(request.url!.replace(INGEST_PATH, ''), pipeline, Date.now());
      }
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => {
      if (!response.headersSent) response.writeHead(502);
      response.end();
    });
    if (request.method === 'PUT' && MANIFEST.test(request.url!)) {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const manifest = epochs.lock(event, Buffer.concat(chunks));
        upstream.removeHeader('transfer-encoding');
        upstream.setHeader('content-length', manifest.length);
        upstream.end(manifest);
      });
      return;
    }
    // A packager that dies mid-PUT (fault b) must break the origin's PUT too: the origin then
    // drops the unfinished copy and its readers move to the other pipeline's, where a PUT left
    // open would hold them until the origin's body timeout.
    request.on('close', () => {
      if (!request.complete) upstream.destroy(new Error('the packager closed its PUT before the end'));
    });
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    arrivals,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
