import type { FastifyInstance, FastifyRequest } from 'fastify';
import { corsResponseHeaders } from '../../domain/cors.js';

/** `/metrics`, `/healthz`, `/readyz`, `/time`. */
export async function opsRoutes(app: FastifyInstance): Promise<void> {
  // The origin's clock for players and packagers (DASH UTCTiming `http-iso`/`http-xsdate`, ffmpeg's
  // -utc_timing_url): ISO 8601 UTC with milliseconds, never cached, readable by any page as delivery is.
  app.get('/time', async (request: FastifyRequest, reply) => {
    const origin = request.headers.origin;
    void reply.headers({
      ...corsResponseHeaders(app.corsPolicy, Array.isArray(origin) ? origin[0] : origin),
      'Cache-Control': 'no-store',
      'Content-Type': 'text/plain; charset=utf-8',
    });
    return new Date(app.origin.clock.now()).toISOString();
  });

  app.get('/healthz', async () => ({ status: 'alive' }));

  app.get('/readyz', async (_request, reply) => {
    const { readiness } = app.origin;
    void reply.code(readiness.ready ? 200 : 503);
    return { status: readiness.reason };
  });

  app.get('/metrics', async (_request, reply) => {
    await app.origin.control.refreshHealth();
    const { registry } = app.origin.metrics;
    void reply.header('Content-Type', registry.contentType);
    return registry.metrics();
  });
}
