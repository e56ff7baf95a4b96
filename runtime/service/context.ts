import type { FastifyBaseLogger } from 'fastify';
import type { OriginMetrics } from '../metrics/origin-metrics.js';
import type { Purger } from '../ports/purger.js';
import type { Stores } from '../ports/stores.js';

/** What every use case needs: storage, the CDN purger, metrics, a logger and the clock. */
export interface ServiceContext {
  readonly stores: Stores;
  readonly purger: Purger;
  readonly metrics: OriginMetrics;
  readonly log: FastifyBaseLogger;
  readonly now: () => number;
}
