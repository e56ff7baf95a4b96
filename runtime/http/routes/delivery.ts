/**
 * `GET|HEAD /live/{event}/{path}`: what the CDN pulls, on the origin's hot path.
 *
 * How a delivery answer is made (read this before adding headers):
 * - `deliveryDispatcher` takes every GET/HEAD under `/live/{event}/` straight from the Node
 *   server (app.ts installs it in front of Fastify), so the hot GET pays for no router, schema,
 *   hooks or reply object. The Fastify route below serves the same requests through the same
 *   `serve` when they arrive another way (`app.inject`, or while the app closes: Fastify then
 *   answers 503 itself). Both record metrics and the access log here, once.
 * - `serve` validates (domain `parseEventId`/`parseObjectPath`, the CDN secret), asks
 *   `DeliveryService.deliver` (every rule: selection, pins, masks, timing, TTLs), and writes
 *   one `writeHead` with a raw header list.
 * - Headers come from `DeliveryHeaders` (../delivery-headers.ts). A served object's headers
 *   are a `HeaderBlock` built once per candidate and reused while its `BlockInputs` are the
 *   same; misses get `forMiss`. To add a header:
 *   * the same on every delivery response for the configuration (CORS with `*`): put it in
 *     the `fixed` list given to `new DeliveryHeaders(...)` in `serveFor` (from config);
 *   * depending only on the served object or event (CMSD-Static `ot`, `st`, `sf`, `d`, `nor`;
 *     `Access-Control-Expose-Headers` naming the event's `Live-Notify-*`): build it in
 *     `DeliveryHeaders.forObject`/`forMiss`, and add whatever it is computed from to
 *     `BlockInputs` (and `sameInputs`) so a change rebuilds the block;
 *   * depending on the request or the moment (CORS origin echo + `Vary: Origin` with a list,
 *     CMSD `ht` on a released hold, `at` on a 404, CMSD-Dynamic `du` while shedding, LL-HLS
 *     blocking-reload answers): append it in `serve` with `withExtra(...)`, which copies the
 *     cached list only when there is something to add. Keep the common 200 free of per-request work.
 * - Query strings are split off before the path is parsed and ignored by selection (contract
 *   v2); `serve` gets the raw `query` (a blocking reload reads `_HLS_msn`/`_HLS_part` there).
 * - Only GET and HEAD come through here: `OPTIONS /live/...` (CORS preflight) and every other
 *   method stay Fastify routes (not hot). A miss's status, body, lifetime and Retry-After come
 *   from the answers table (../answers.ts) by its reason; errors go through the one error writer
 *   (../error-writer.ts), as on every Fastify route. Request metrics and the access log are
 *   written once per answer at the end of `serve`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { parseReloadQuery } from '../../domain/blocking-reload.js';
import { CMSD_DYNAMIC_HEADER, CMSD_STATIC_HEADER, cmsdDynamic, cmsdStatic } from '../../domain/cmsd.js';
import { judgeRange, noneMatch } from '../../domain/conditional.js';
import type { CorsPolicy } from '../../domain/cors.js';
import { corsFixedHeaders, corsOriginHeader } from '../../domain/cors.js';
import type { ObjectPath } from '../../domain/object-path.js';
import { parseEventId, parseObjectPath } from '../../domain/object-path.js';
import type { Delivery } from '../../service/delivery-service.js';
import type { LeaveWatch } from '../../service/hold-registry.js';
import { ANSWERS } from '../answers.js';
import type { OriginServices } from '../app.js';
import type { HeaderBlock, RawHeaders } from '../delivery-headers.js';
import { DeliveryHeaders, JSON_CONTENT_TYPE } from '../delivery-headers.js';
import type { AnswerSink, ErrorContext } from '../error-writer.js';
import { writeError } from '../error-writer.js';
import type { EventObjectParams } from '../schemas.js';
import { eventObjectParams } from '../schemas.js';
import { streamAnswer } from '../stream-answer.js';

/** The delivery route as metrics label it. */
export const DELIVERY_ROUTE = '/live/:event/*';
const PREFIX = '/live/';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route records its own request metrics and access log (the metrics plugin skips it). */
    readonly ownMetrics?: boolean;
  }
}

/**
 * Serves one delivery request; shared by the dispatcher and the Fastify route. `query` is the
 * raw query string without `?` ('' when none).
 */
type Serve = (req: IncomingMessage, res: ServerResponse, event: string, rawPath: string, query: string) => Promise<void>;

/** One per app (its services), however many plugin contexts ask. */
const serveOf = new WeakMap<object, Serve>();

/** The Fastify route: the same answers for requests that reach Fastify (`inject`, or closing). */
export async function deliveryRoutes(app: FastifyInstance): Promise<void> {
  const serve = serveFor(app);
  app.get<{ Params: EventObjectParams }>(DELIVERY_ROUTE, { schema: { params: eventObjectParams }, config: { ownMetrics: true } }, async (request, reply) => {
    reply.hijack();
    const url = request.raw.url!;
    const mark = url.indexOf('?');
    await serve(request.raw, reply.raw, request.params.event, request.params['*'], mark < 0 ? '' : url.slice(mark + 1));
  });
}

/**
 * Takes GET/HEAD `/live/{event}/...` from the Node server before Fastify; returns false for
 * anything else (and while the app closes, so Fastify's own 503 answers).
 */
export function deliveryDispatcher(app: FastifyInstance): { handle(req: IncomingMessage, res: ServerResponse): boolean; close(): void } {
  let closing = false;
  let serve: Serve | undefined;
  return {
    handle(req, res) {
      if (closing || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
      const url = req.url!;
      if (!url.startsWith(PREFIX)) return false;
      const slash = url.indexOf('/', PREFIX.length);
      if (slash <= PREFIX.length) return false;
      const query = url.indexOf('?', slash);
      let event = url.slice(PREFIX.length, slash);
      let rawPath = query < 0 ? url.slice(slash + 1) : url.slice(slash + 1, query);
      if (event.includes('?')) return false;
      if (url.includes('%')) {
        // Percent-decoding as the router does; the decoded names are validated like any other.
        try {
          event = decodeURIComponent(event);
          rawPath = decodeURIComponent(rawPath);
        } catch {
          return false;
        }
      }
      serve ??= serveFor(app);
      void serve(req, res, event, rawPath, query < 0 ? '' : url.slice(query + 1));
      return true;
    },
    close() {
      closing = true;
    },
  };
}

function serveFor(app: FastifyInstance): Serve {
  const existing = serveOf.get(app.origin);
  if (existing) return existing;
  const policy = app.corsPolicy;
  const headers = new DeliveryHeaders(Object.entries(corsFixedHeaders(policy)).flat());
  const record = app.origin.metrics.requestRecorder(DELIVERY_ROUTE);
  const log = app.log;
  const errors: ErrorContext = { log, metrics: app.origin.metrics };
  const clock = app.origin.clock;
  const serve: Serve = async (req, res, event, rawPath, query) => {
    const started = clock.monotonic();
    let status: number;
    const cors = corsOrigin(policy, req);
    try {
      parseEventId(event);
      const object = parsedPath(rawPath);
      app.authorizeCdn(req);
      // Only a playlist's `_HLS_*` directives mean anything; every other parameter is ignored.
      const directives = object.kind === 'mutable' ? parseReloadQuery(query) : undefined;
      const result = await app.origin.delivery.deliver(event, object, leaveWatch(res), directives);
      status =
        result.kind === 'stream' ? sendStream(req, res, result, headers, object, app.origin, cors) : send(req, res, result, headers, object, app.origin, cors);
    } catch (error) {
      status = writeError(error as Error, errors, rawSink(res, withExtra(headers.forError(), cors)));
    }
    const ms = clock.monotonic() - started;
    if (status === 0) return;
    record(req.method!, status, ms / 1000);
    accessLog(log, req, status, ms);
  };
  serveOf.set(app.origin, serve);
  return serve;
}

/** Paths already parsed (valid ones only): a CDN asks for the same few thousand names over and over. */
const parsedPaths = new Map<string, ObjectPath>();
/** Bounds the parse cache; it starts afresh when full (a live window is far smaller). */
const MAX_PARSED_PATHS = 50_000;

function parsedPath(rawPath: string): ObjectPath {
  let object = parsedPaths.get(rawPath);
  if (!object) {
    object = parseObjectPath(rawPath);
    if (parsedPaths.size >= MAX_PARSED_PATHS) parsedPaths.clear();
    parsedPaths.set(rawPath, object);
  }
  return object;
}

/**
 * Watches for the client leaving, set up only when the service asks (held requests): one 'close'
 * listener, removed by the hold registry when the wait ends. A held request is bounded by its
 * hold deadline, so the connection's idle timeout (which would cut a hold longer than it) is
 * lifted; Node sets the keep-alive one after the answer.
 */
function leaveWatch(res: ServerResponse): LeaveWatch {
  return (onLeave) => {
    const socket = res.socket;
    if (!socket || socket.destroyed) return undefined;
    socket.setTimeout(0);
    const onClose = (): void => {
      if (!res.writableEnded) onLeave();
    };
    res.once('close', onClose);
    return () => res.off('close', onClose);
  };
}

/** CORS under a list of pages: the asking page's origin when allowed (nothing to add under `*`, where it is fixed). */
function corsOrigin(policy: CorsPolicy, req: IncomingMessage): readonly string[] {
  if (policy.kind === 'any') return NOTHING;
  const origin = corsOriginHeader(policy, header(req, 'origin'));
  return origin === undefined ? NOTHING : ['Access-Control-Allow-Origin', origin];
}
const NOTHING: readonly string[] = [];

/**
 * Writes the answer; returns its status (0 when the client left and nothing was sent). `cors`:
 * this request's CORS headers (none under `*`).
 */
function send(
  req: IncomingMessage,
  res: ServerResponse,
  result: Exclude<Delivery, { kind: 'stream' }>,
  headers: DeliveryHeaders,
  object: ObjectPath,
  origin: OriginServices,
  cors: readonly string[],
): number {
  if (result.kind === 'aborted') {
    res.destroy();
    return 0;
  }
  const duress = origin.delivery.underDuress();
  if (result.kind === 'miss') return sendMiss(res, result, headers, object, origin, duress, cors);

  const { candidate, bytes, selection } = result;
  // The stored bytes' own tag (in the block): it differs from the candidate's only while a
  // replacing PUT is between its byte write and its metadata write, and must describe the body sent.
  let block = headers.forObject(candidate, {
    bytes,
    notifications: result.state.notifications,
    ttlMs: result.ttlMs,
    immutable: result.immutable,
    defects: selection.defectPairs.length > 0 ? selection.defectPairs.join(', ') : '',
    object,
    durationMs: result.durationMs,
  });
  // Per-request CMSD (a held answer's `ht`, duress): a copy of the block; the common answer pays nothing.
  if ((result.heldMs !== undefined && result.heldMs > 0) || duress) block = withCmsd(block, candidate.publishedAt, object, result, duress);
  if (noneMatch(header(req, 'if-none-match'), bytes.etag)) {
    res.writeHead(304, withExtra(block.common, cors));
    res.end();
    return 304;
  }
  const size = bytes.body.length;
  const rangeHeader = header(req, 'range');
  if (rangeHeader !== undefined) {
    const range = judgeRange(rangeHeader, size, header(req, 'if-range'), bytes.etag);
    if (range.kind === 'unsatisfiable') {
      return json(
        res,
        416,
        withExtra(block.common, [...cors, 'Content-Range', `bytes */${size}`]),
        {
          error: 'range_not_satisfiable',
          message: `object has ${size} bytes`,
        },
        'application/json',
      );
    }
    if (range.kind === 'partial') {
      const part = bytes.body.subarray(range.start, range.end + 1);
      res.writeHead(206, partialHeaders(block, cors, bytes.contentType, `bytes ${range.start}-${range.end}/${size}`, part.length));
      res.end(part);
      return 206;
    }
  }
  res.writeHead(200, withExtra(block.full, cors));
  res.end(bytes.body);
  return 200;
}

/**
 * An answer without the object: its reason's status, body, lifetime and Retry-After from the
 * answers table (a computed lifetime from the miss), the event's notifications and CMSD.
 */
function sendMiss(
  res: ServerResponse,
  result: Delivery & { kind: 'miss' },
  headers: DeliveryHeaders,
  object: ObjectPath,
  origin: OriginServices,
  duress: boolean,
  cors: readonly string[],
): number {
  const rule = ANSWERS[result.reason];
  origin.metrics.deliveryMiss(rule.status, result.reason);
  const cmsd = cmsdStatic({ object, segmentDurationMs: result.durationMs, availableAt: result.availableAt, heldMs: result.heldMs });
  const raw = headers.forMiss(result.state?.notifications, result.ttlMs ?? rule.ttlMs ?? 0, cmsd);
  raw.push(...cors);
  if (duress) raw.push(CMSD_DYNAMIC_HEADER, cmsdDynamic(true)!);
  if (rule.retryAfterSeconds !== undefined) raw.push('Retry-After', String(rule.retryAfterSeconds));
  return json(res, rule.status, raw, { error: rule.code, message: rule.message ?? result.reason });
}

/** A 200 streaming an object still being ingested (contract v3), with this answer's CMSD. */
function sendStream(
  req: IncomingMessage,
  res: ServerResponse,
  result: Delivery & { kind: 'stream' },
  headers: DeliveryHeaders,
  object: ObjectPath,
  origin: OriginServices,
  cors: readonly string[],
): number {
  const { candidate } = result.stream;
  const { selection } = result;
  const cmsd = cmsdStatic({ object, segmentDurationMs: result.durationMs, availableAt: candidate.startedAt, heldMs: result.heldMs });
  const raw = headers.forStream(
    candidate,
    {
      notifications: result.state.notifications,
      ttlMs: result.ttlMs,
      immutable: result.immutable,
      defects: selection.defectPairs.length > 0 ? selection.defectPairs.join(', ') : '',
      object,
      durationMs: result.durationMs,
    },
    cmsd,
  );
  raw.push(...cors);
  if (origin.delivery.underDuress()) raw.push(CMSD_DYNAMIC_HEADER, cmsdDynamic(true)!);
  streamAnswer(res, result.stream, raw, {
    headOnly: req.method === 'HEAD',
    clock: origin.clock,
    stallMs: origin.limits.readerStallMs,
    onEnd: (outcome) => origin.metrics.streamedAnswers.inc({ outcome }),
  });
  return 200;
}

/** The block with this answer's CMSD-Static (`ht`) and CMSD-Dynamic (`du`). */
function withCmsd(block: HeaderBlock, publishedAt: number, object: ObjectPath, result: Delivery & { kind: 'object' }, duress: boolean): HeaderBlock {
  const value = cmsdStatic({ object, segmentDurationMs: result.durationMs, availableAt: publishedAt, heldMs: result.heldMs });
  const extra = duress ? [CMSD_DYNAMIC_HEADER, cmsdDynamic(true)!] : [];
  const replace = (list: RawHeaders): string[] => {
    const copy = [...list, ...extra];
    const at = copy.indexOf(CMSD_STATIC_HEADER);
    if (at >= 0) copy[at + 1] = value;
    return copy;
  };
  return { inputs: block.inputs, common: replace(block.common), full: replace(block.full) };
}

function partialHeaders(block: HeaderBlock, cors: readonly string[], contentType: string, contentRange: string, length: number): string[] {
  return withExtra(block.common, [...cors, 'Content-Type', contentType, 'Content-Range', contentRange, 'Content-Length', String(length)]);
}

/** A cached header list plus per-request headers, copied only when there is something to add. */
export function withExtra(base: RawHeaders, extra: readonly string[]): string[] {
  return extra.length === 0 ? (base as string[]) : [...base, ...extra];
}

function json(res: ServerResponse, status: number, raw: string[], body: object, contentType = JSON_CONTENT_TYPE): number {
  const payload = Buffer.from(JSON.stringify(body));
  raw.push('Content-Type', contentType, 'Content-Length', String(payload.length));
  res.writeHead(status, raw);
  res.end(payload);
  return status;
}

/**
 * Where the error writer sends an answer on this path: after `raw`, the headers every delivery
 * answer carries (CORS). An answer already under way (a stream) is cut instead.
 */
function rawSink(res: ServerResponse, raw: string[]): AnswerSink {
  return (status, headers, body) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    for (const name in headers) for (const value of [headers[name]!].flat()) raw.push(name, value);
    json(res, status, raw, body);
  };
}

/**
 * One line per answer that is not a success, at info (5xx also get the error line above);
 * successes at debug, where a disabled level costs one check: at production settings the
 * hot GET writes no log line (requests, statuses and latency are in the metrics).
 */
function accessLog(log: FastifyBaseLogger, req: IncomingMessage, status: number, ms: number): void {
  if (status >= 400) log.info({ method: req.method, url: req.url, status, ms: Math.round(ms) }, 'request');
  else if (log.level === 'debug' || log.level === 'trace') log.debug({ method: req.method, url: req.url, status, ms: Math.round(ms) }, 'request');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
