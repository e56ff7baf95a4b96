import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ErrorCode } from '../../domain/errors.js';
import { OriginError } from '../../domain/errors.js';
import { bodyStillArriving, lingerAfterResponse } from './lingering-close.js';

/** The one mapping from error code to HTTP status. */
export const STATUS_OF: Readonly<Record<ErrorCode, number>> = {
  invalid_identifier: 400,
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  range_not_satisfiable: 416,
  overloaded: 503,
  store_unavailable: 503,
  draining: 503,
  internal: 500,
};

const CODE_OF_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  416: 'range_not_satisfiable',
  503: 'overloaded',
};

/** Turns anything thrown into `{ error, message }` with one status; 5xx never shows internals. */
export function toOriginError(error: FastifyError | OriginError | Error): OriginError {
  if (error instanceof OriginError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const code = fastifyError.validationContext === 'params' ? 'invalid_identifier' : 'bad_request';
    return new OriginError(code, `${fastifyError.validationContext ?? 'request'} ${fastifyError.validation[0]?.message ?? 'invalid'}`);
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new OriginError(CODE_OF_STATUS[status] ?? 'bad_request', fastifyError.message);
  }
  return new OriginError('internal', 'internal error');
}

export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError | OriginError, request, reply) => {
      const origin = toOriginError(error);
      const status = STATUS_OF[origin.code];
      app.origin.metrics.errorAnswered(origin.code);
      // pino's error serializer appends the cause's message (the store's own error) to the line.
      if (status >= 500) request.log.error({ err: error, code: origin.code }, 'request failed');
      else request.log.info({ code: origin.code, reason: origin.message }, 'request rejected');
      refuseBody(request, reply);
      void reply.code(status).headers(origin.headers).send({ error: origin.code, message: origin.message });
    });

    app.setNotFoundHandler((request, reply) => {
      refuseBody(request, reply);
      const allow = allowedMethods(request.url);
      if (allow) {
        void reply
          .code(405)
          .header('Allow', allow)
          .send({ error: 'method_not_allowed', message: `${request.method} is not allowed here` });
        return;
      }
      void reply.code(404).send({ error: 'not_found', message: 'no such route' });
    });
  },
  { name: 'live-origin-errors' },
);

/**
 * An answer given while the request body is still arriving (413, 401/403 on an upload, 400):
 * the connection closes after it, lingering so the client reads the status, never a reset.
 * Without the close, Node would drain the rest of the body with no bound to keep the
 * connection alive.
 */
function refuseBody(request: FastifyRequest, reply: FastifyReply): void {
  if (!bodyStillArriving(request.raw)) return;
  void reply.header('Connection', 'close');
  lingerAfterResponse(request.raw, request.server.origin.clock);
}

const METHODS_BY_PREFIX: readonly (readonly [RegExp, string])[] = [
  [/^\/ingest\/[^/]+\/[^/]+\/.+/, 'PUT, PATCH, GET, HEAD, DELETE'],
  [/^\/live\/[^/]+\/.+/, 'GET, HEAD'],
  [/^\/admin\/events\/[^/]+\/invalidations\/?$/, 'POST'],
  [/^\/admin\/events\/[^/]+\/?$/, 'PUT, GET, HEAD'],
  [/^\/(metrics|healthz|readyz|time)$/, 'GET, HEAD'],
];

function allowedMethods(url: string): string | undefined {
  const path = url.split('?')[0]!;
  return METHODS_BY_PREFIX.find(([pattern]) => pattern.test(path))?.[1];
}
