import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { judgeRange, noneMatch } from '../../domain/conditional.js';
import { notificationHeaders } from '../../domain/notifications.js';
import { parseObjectPath } from '../../domain/object-path.js';
import { ttlHeaders } from '../../domain/ttl.js';
import type { Delivery } from '../../service/delivery-service.js';
import type { EventObjectParams } from '../schemas.js';
import { eventObjectParams } from '../schemas.js';

/** Seconds a shed client is told to wait; matches the 503's cache lifetime. */
const OVERLOAD_RETRY_AFTER_SECONDS = 5;

const MISS_MESSAGES: Readonly<Record<string, string>> = {
  unknown_event: 'unknown event',
  absent: 'no such object',
  no_timeline: 'no such object (the event has no template or cadence yet)',
  future: 'segment not due yet',
  hold_timeout: 'segment was not published by its deadline',
  gone: 'segment was never produced',
  masked: 'segment was invalidated',
  overload: 'overloaded, retry later',
  drain: 'origin is shutting down',
};

/** `GET|HEAD /live/{event}/{path}`: what the CDN pulls. */
export async function deliveryRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Params: EventObjectParams }>('/live/:event/*', { schema: { params: eventObjectParams } }, async (request, reply) => {
    const object = parseObjectPath(request.params['*']);
    app.authorizeCdn(request);

    let leaving: AbortController | undefined;
    const onClose = () => {
      if (!reply.sent) leaving?.abort();
    };
    const signal = () => {
      if (!leaving) {
        leaving = new AbortController();
        reply.raw.once('close', onClose);
      }
      return leaving.signal;
    };
    const result = await app.origin.delivery.deliver(request.params.event, object, signal);
    if (leaving) reply.raw.off('close', onClose);
    return send(request, reply, result);
  });
}

function send(request: FastifyRequest, reply: FastifyReply, result: Delivery) {
  if (result.kind === 'aborted') {
    reply.hijack();
    reply.raw.destroy();
    return;
  }
  if (result.state) void reply.headers(notificationHeaders(result.state.notifications));
  void reply.headers(ttlHeaders(result.ttlMs, result.kind === 'object' && result.immutable));
  if (result.kind === 'miss') {
    if (result.status === 503) void reply.header('Retry-After', String(OVERLOAD_RETRY_AFTER_SECONDS));
    void reply.code(result.status);
    return { error: result.status === 503 ? 'overloaded' : result.status === 410 ? 'gone' : 'not_found', message: MISS_MESSAGES[result.reason] };
  }

  const { candidate, bytes, selection } = result;
  // The stored bytes' own tag: it differs from the candidate's only while a replacing PUT is
  // between its byte write and its metadata write, and must describe the body actually sent.
  const etag = bytes.etag;
  void reply.headers({
    ETag: etag,
    'Last-Modified': new Date(candidate.publishedAt).toUTCString(),
    'Live-Pipeline': candidate.pipeline,
    'Accept-Ranges': 'bytes',
  });
  if (selection.defectPairs.length > 0) void reply.header('Live-Defect', selection.defectPairs.join(', '));
  if (noneMatch(header(request, 'if-none-match'), etag)) {
    void reply.code(304);
    return reply.send();
  }
  void reply.header('Content-Type', bytes.contentType);
  const range = judgeRange(header(request, 'range'), bytes.body.length, header(request, 'if-range'), etag);
  if (range.kind === 'unsatisfiable') {
    void reply.code(416).header('Content-Range', `bytes */${bytes.body.length}`).header('Content-Type', 'application/json');
    return { error: 'range_not_satisfiable', message: `object has ${bytes.body.length} bytes` };
  }
  if (range.kind === 'partial') {
    void reply.code(206).header('Content-Range', `bytes ${range.start}-${range.end}/${bytes.body.length}`);
    return bytes.body.subarray(range.start, range.end + 1);
  }
  return bytes.body;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
