import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { DashEpochLock } from '../../scripts/dash-epoch-lock.js';

/**
 * Stands between live packagers and the origin's ingest, for what ffmpeg cannot do itself: a
 * packager whose own media inspection flags or scores its segments (adds `Live-Defect` or
 * `Live-Quality` to a pipeline's media segments while asked to), the region each pipeline
 * publishes to, retrying a write the origin refused (503) as a packager would, and, when asked,
 * holding one pipeline's segments until another's copy of the same segment was acknowledged (two
 * redundant encoders a fixed moment apart, whichever of the two ffmpeg processes runs ahead).
 *
 * It also epoch-locks DASH packagers (scripts/dash-epoch-lock.ts), as redundant encoders are.
 */

const INGEST = /^\/ingest\/([^/]+)\/([^/]+)\/(.+)$/;
/** Media segments: `.m4s` files that are not init segments. Playlists and init segments are never flagged. */
const MEDIA_SEGMENT = /(^|\/)(?!init)[^/]+\.m4s$/;

export interface IngestProxyOptions {
  /**
   * Pass object bodies on as they arrive (a chunked PUT per segment, flushed per fragment, as
   * ffmpeg's LL-DASH output sends them), instead of keeping each body whole so a refused PUT can
   * be retried. A packager that dies mid-body cuts the PUT to the origin too. Manifests are
   * still kept whole (they are epoch-locked).
   */
  readonly stream?: boolean;
  /** Told of every chunk of a streamed body when it arrives from the packager (per-hop timing). */
  readonly onChunk?: (pipeline: string, path: string, bytes: number, at: number) => void;
}

export interface IngestProxy {
  readonly url: string;
  /** `{event}/{path}` of every media segment PUT with `Live-Defect`, per pipeline. */
  readonly flagged: Map<string, Set<string>>;
  /** `{event}/{path}` of every media segment PUT with a `Live-Quality` below 100, per pipeline. */
  readonly scored: Map<string, Set<string>>;
  /** Epoch ms when each pipeline's media segment PUTs were acknowledged (2xx), by `{event}/{path}`. */
  readonly acked: Map<string, Map<string, number>>;
  /** Flags `pipeline`'s media segments with `defect` from now on (undefined: stop). */
  flag(pipeline: string, defect: string | undefined): void;
  /** Scores `pipeline`'s media segments `quality` (0-100) from now on (undefined: stop). */
  score(pipeline: string, quality: number | undefined): void;
  /**
   * From now on, forwards `follower`'s media segment PUTs only `lagMs` after `leader`'s PUT of
   * the same segment was acknowledged (at most FOLLOW_MAX_MS after it came, if the leader's never does).
   */
  follow(follower: string, leader: string, lagMs: number): void;
  close(): Promise<void>;
}

/** A follower's segment waits at most this long for its leader's copy (a leader that died). */
const FOLLOW_MAX_MS = 5_000;

/** A live packager retries a refused write within 2 s (docs/contract.md); so does this proxy, for ffmpeg. */
const ATTEMPTS = 5;
const RETRY_DELAY_MS = 200;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function forward(url: URL, method: string, headers: http.OutgoingHttpHeaders, body: Buffer) {
  let last = { status: 502, answerHeaders: {} as http.IncomingHttpHeaders, answer: Buffer.alloc(0) };
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    last = await new Promise((resolve) => {
      const upstream = http.request(url, { method, headers }, (answer) => {
        const parts: Buffer[] = [];
        answer.on('data', (part: Buffer) => parts.push(part));
        answer.on('end', () => resolve({ status: answer.statusCode ?? 502, answerHeaders: answer.headers, answer: Buffer.concat(parts) }));
        answer.on('error', () => resolve({ status: 502, answerHeaders: {}, answer: Buffer.alloc(0) }));
      });
      upstream.on('error', () => resolve({ status: 502, answerHeaders: {}, answer: Buffer.alloc(0) }));
      upstream.end(body);
    });
    if (last.status < 500) return last;
    await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
  }
  return last;
}

/** Passes one request body to the origin as it arrives; a body cut by the packager is cut there too. */
function pipeThrough(request: http.IncomingMessage, response: http.ServerResponse, url: URL, headers: http.OutgoingHttpHeaders): void {
  const upstream = http.request(url, { method: request.method, headers }, (answer) => {
    response.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(response);
  });
  upstream.on('error', () => {
    if (!response.headersSent) response.writeHead(502);
    response.end();
  });
  request.on('close', () => {
    if (!request.complete) upstream.destroy();
  });
  request.pipe(upstream);
}

export async function startIngestProxy(targets: Readonly<Record<string, string>>, options: IngestProxyOptions = {}): Promise<IngestProxy> {
  const defects = new Map<string, string>();
  const epochs = new DashEpochLock();
  const flagged = new Map<string, Set<string>>();
  const scores = new Map<string, number>();
  const scored = new Map<string, Set<string>>();
  const acked = new Map<string, Map<string, number>>();
  const followers = new Map<string, { leader: string; lagMs: number }>();
  /** Leaders' acknowledgements that followers wait on, by `{pipeline}/{event}/{path}`. */
  const ackWaits = new Map<string, { done: Promise<void>; resolve: () => void }>();
  const ackWait = (key: string) => {
    let wait = ackWaits.get(key);
    if (!wait) {
      let resolve!: () => void;
      const done = new Promise<void>((r) => {
        resolve = r;
      });
      wait = { done, resolve };
      ackWaits.set(key, wait);
    }
    return wait;
  };
  const record = (map: Map<string, Set<string>>, pipeline: string, id: string) => {
    if (!map.has(pipeline)) map.set(pipeline, new Set());
    map.get(pipeline)!.add(id);
  };
  const server = http.createServer((request, response) => {
    const match = INGEST.exec(request.url ?? '');
    const target = match && targets[match[2]!];
    if (!match || !target) {
      response.writeHead(404).end();
      return;
    }
    const [, event, pipeline, path] = match as unknown as [string, string, string, string];
    const headers = { ...request.headers };
    delete headers.host;
    const media = request.method === 'PUT' && MEDIA_SEGMENT.test(path);
    const id = `${event}/${path}`;
    const defect = defects.get(pipeline);
    if (defect && media) {
      headers['live-defect'] = defect;
      record(flagged, pipeline, id);
    }
    const quality = scores.get(pipeline);
    if (quality !== undefined && media) {
      headers['live-quality'] = String(quality);
      if (quality < 100) record(scored, pipeline, id);
    }
    if (options.stream && !(request.method === 'PUT' && path.endsWith('.mpd'))) {
      if (options.onChunk) request.on('data', (chunk: Buffer) => options.onChunk!(pipeline, path, chunk.length, performance.now()));
      pipeThrough(request, response, new URL(request.url!, target), headers);
      return;
    }
    const following = media ? followers.get(pipeline) : undefined;
    // Bodies are one segment or playlist: kept, so a refused PUT can be sent again.
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const sent = Buffer.concat(chunks);
      const body = request.method === 'PUT' && path.endsWith('.mpd') ? epochs.lock(event, sent) : sent;
      delete headers['transfer-encoding'];
      headers['content-length'] = String(body.length);
      const gate = following
        ? Promise.race([ackWait(`${following.leader}/${id}`).done, sleep(FOLLOW_MAX_MS)]).then(() => sleep(following.lagMs))
        : Promise.resolve();
      void gate
        .then(() => forward(new URL(request.url!, target), request.method!, headers, body))
        .then(({ status, answerHeaders, answer }) => {
          if (media && status < 300) {
            if (!acked.has(pipeline)) acked.set(pipeline, new Map());
            acked.get(pipeline)!.set(id, Date.now());
            ackWait(`${pipeline}/${id}`).resolve();
          }
          response.writeHead(status, answerHeaders);
          response.end(answer);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    flagged,
    scored,
    acked,
    flag(pipeline, defect) {
      if (defect === undefined) defects.delete(pipeline);
      else defects.set(pipeline, defect);
    },
    score(pipeline, quality) {
      if (quality === undefined) scores.delete(pipeline);
      else scores.set(pipeline, quality);
    },
    follow(follower, leader, lagMs) {
      followers.set(follower, { leader, lagMs });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
