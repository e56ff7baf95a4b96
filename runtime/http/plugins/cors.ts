import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { CorsPolicy } from '../../domain/cors.js';
import { preflight } from '../../domain/cors.js';
import type { EventObjectParams } from '../schemas.js';
import { eventObjectParams } from '../schemas.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Which pages may read delivery responses; the delivery route adds the headers (domain/cors.ts). */
    corsPolicy: CorsPolicy;
  }
}

export interface CorsOptions {
  readonly policy: CorsPolicy;
}

/**
 * CORS for delivery only: the `OPTIONS /live/...` preflight, and the policy whose headers the
 * delivery route adds to every answer. Ingest and admin get no route here, so their OPTIONS stays 405/404.
 */
export const corsPlugin = fp<CorsOptions>(
  async (app: FastifyInstance, { policy }: CorsOptions) => {
    app.decorate('corsPolicy', { getter: () => policy });

    // No CDN secret is asked for: a preflight reveals nothing, and caches pass OPTIONS through.
    app.options('/time', async (request, reply) => answerPreflight(request, reply));
    app.options<{ Params: EventObjectParams }>('/live/:event/*', { schema: { params: eventObjectParams } }, async (request, reply) =>
      answerPreflight(request, reply),
    );

    async function answerPreflight(request: FastifyRequest, reply: FastifyReply) {
      const answer = preflight(policy, header(request, 'origin'), header(request, 'access-control-request-method'));
      void reply.headers(answer.headers);
      if (answer.kind === 'refused') {
        request.log.info({ reason: answer.reason }, 'preflight refused');
        void reply.code(403);
        return { error: 'forbidden', message: answer.reason };
      }
      void reply.code(204);
      return reply.send();
    }
  },
  { name: 'live-origin-cors' },
);

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
