import type { FastifyInstance } from 'fastify';
import { STATUS_PAGE_HTML } from '../status-page.js';

/**
 * What an operator opens in a browser: the status page. The page is public and holds no
 * secret (a browser cannot send a bearer header on navigation); its script sends the token
 * the operator enters to `/status.json`, which answers 401 without a known token and shows
 * only the events the token grants.
 */
export async function statusRoutes(app: FastifyInstance): Promise<void> {
  app.get('/status', async (_request, reply) => {
    void reply
      .header('Content-Type', 'text/html; charset=utf-8')
      .header('Cache-Control', 'no-cache')
      .header('Referrer-Policy', 'no-referrer')
      .header(
        'Content-Security-Policy',
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'",
      );
    return STATUS_PAGE_HTML;
  });

  app.get('/status.json', async (request, reply) => {
    const visible = app.grantedEvents(request);
    void reply.header('Cache-Control', 'no-store');
    return app.origin.status.snapshot(visible);
  });
}
