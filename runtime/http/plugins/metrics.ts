import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { OriginMetrics } from '../../metrics/origin-metrics.js';

/** Counts and times every response, and writes the one log line per request. */
export const metricsPlugin = fp<{ metrics: OriginMetrics }>(
  async (app: FastifyInstance, { metrics }) => {
    app.addHook('onResponse', async (request, reply) => {
      // Delivery records its own (bound once, no hook on its hot path).
      if (request.routeOptions.config.ownMetrics) return;
      const route = request.routeOptions.url ?? 'unmatched';
      const seconds = reply.elapsedTime / 1000;
      metrics.request(route, request.method, reply.statusCode, seconds);
      request.log.info({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    });
  },
  { name: 'live-origin-metrics' },
);
