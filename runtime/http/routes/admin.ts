import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseEventConfig } from '../../domain/event-config.js';
import { parseInvalidation } from '../../domain/invalidation.js';
import type { EventParams } from '../schemas.js';
import { eventParams } from '../schemas.js';

/** Control plane: event config and status, invalidations. Same tokens as ingest. */
export async function adminRoutes(app: FastifyInstance): Promise<void> {
  // Config is JSON only: anything else is 415, not a string to misread.
  app.removeContentTypeParser('text/plain');
  const checks = {
    schema: { params: eventParams },
    preHandler: async (request: FastifyRequest<{ Params: EventParams }>) => app.authorize(request, request.params.event),
  };

  app.put<{ Params: EventParams }>('/admin/events/:event', checks, async (request, reply) => {
    const config = parseEventConfig(request.body);
    const created = await app.origin.control.putConfig(request.params.event, config);
    void reply.code(created ? 201 : 200);
    return app.origin.control.status(request.params.event);
  });

  app.get<{ Params: EventParams }>('/admin/events/:event', checks, async (request) => app.origin.control.status(request.params.event));

  app.post<{ Params: EventParams }>('/admin/events/:event/invalidations', checks, async (request, reply) => {
    const invalidation = parseInvalidation(request.body);
    const result = await app.origin.control.invalidate(request.params.event, invalidation);
    void reply.code(202);
    return result;
  });
}
