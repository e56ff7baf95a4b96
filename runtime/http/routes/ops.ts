import type { FastifyInstance } from 'fastify';

/** `/metrics`, `/healthz`, `/readyz`. */
export async function opsRoutes(app: FastifyInstance): Promise<void> {
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
