import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../ports/clock.js';
import type { Purger } from '../ports/purger.js';
import type { ServiceMetrics } from '../ports/service-metrics.js';
import type { Stores } from '../ports/stores.js';
import type { ActivityLog } from './activity-log.js';
import type { StreamRegistry } from './ingest-stream.js';
import type { RemoteStreams } from './remote-streams.js';

/** What every use case needs: storage, the CDN purger, metrics, a logger, the clock (time and timers), and the status page's activity log. */
export interface ServiceContext {
  readonly stores: Stores;
  readonly purger: Purger;
  readonly metrics: ServiceMetrics;
  readonly log: FastifyBaseLogger;
  readonly clock: Clock;
  readonly activity: ActivityLog;
  /** PUTs whose bytes are arriving on this instance (served while ingesting). */
  readonly streams: StreamRegistry;
  /** PUTs arriving on other instances, relayed here while they arrive. */
  readonly remoteStreams: RemoteStreams;
}
