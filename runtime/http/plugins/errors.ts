import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { OriginError } from '../../domain/errors.js';
import type { AnswerSink } from '../error-writer.js';
import { writeError } from '../error-writer.js';
import { bodyStillArriving, lingerAfterResponse } from './lingering-close.js';

/**
 * Every error a Fastify route throws, and every request no route takes, answered by the one
 * error writer (../error-writer.ts): one status per code, `{ error, message }`, one log line.
 */
export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    // The methods the routes offer, as they are registered: a request no route takes, on a path
    // that some route serves with another method, is 405 with what it may use.
    const methods = new Set<string>();
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) methods.add(method);
    });
    const allowedMethods = (url: string): string[] => {
      const path = url.split('?')[0]!;
      // OPTIONS answers CORS preflights only; it is not offered as a method of the resource.
      return [...methods].filter((method) => method !== 'OPTIONS' && app.findRoute({ method: method as never, url: path }));
    };

    app.setErrorHandler((error: FastifyError | OriginError, request, reply) => {
      refuseBody(request, reply);
      writeError(error, { log: request.log, metrics: app.origin.metrics }, replySink(reply));
    });

    app.setNotFoundHandler((request, reply) => {
      refuseBody(request, reply);
      const allow = allowedMethods(request.url);
      const error =
        allow.length > 0
          ? new OriginError('method_not_allowed', `${request.method} is not allowed here`, { Allow: allow.join(', ') })
          : new OriginError('not_found', 'no such route');
      writeError(error, { log: request.log, metrics: app.origin.metrics }, replySink(reply));
    });
  },
  { name: 'live-origin-errors' },
);

function replySink(reply: FastifyReply): AnswerSink {
  return (status, headers, body) => void reply.code(status).headers(headers).send(body);
}

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
