import { betterWaitMsOf } from '../domain/better-wait.js';
import { badRequest, OriginError } from '../domain/errors.js';
import { describeEventConfig } from '../domain/event-config.js';
import { pipelineHealth } from '../domain/health.js';
import type { Invalidation } from '../domain/invalidation.js';
import type { EventConfig, EventState } from '../domain/model.js';
import { renditionPath } from '../domain/object-path.js';
import { pipelineOrder } from '../domain/selection.js';
import { TTL_DEFAULTS } from '../domain/ttl.js';
import type { ServiceContext } from './context.js';
import { eventTimeline } from './object-view.js';
import { storeCall } from './store-call.js';

/** Masks an event keeps; beyond that an operator should flush or reconfigure. */
export const MAX_MASKS_PER_EVENT = 1_000;
/** Events whose pipeline health this instance reports in /metrics (most recently active). */
const MAX_TRACKED_EVENTS = 1_000;

/** Event configuration, status, invalidations, and pipeline health for metrics. */
export class ControlService {
  private readonly active = new Set<string>();

  constructor(private readonly ctx: ServiceContext) {}

  /** Remembers an event as active on this instance (bounded, most recent kept). */
  touch(event: string): void {
    if (this.active.has(event)) {
      this.active.delete(event);
    } else if (this.active.size >= MAX_TRACKED_EVENTS) {
      this.active.delete(this.active.values().next().value!);
    }
    this.active.add(event);
  }

  /** Events active on this instance, most recent first. */
  activeEvents(): string[] {
    return [...this.active].reverse();
  }

  async putConfig(event: string, config: EventConfig): Promise<boolean> {
    this.touch(event);
    return storeCall('config', () => this.ctx.stores.metadata.putEventConfig(event, config, this.ctx.clock.now()));
  }

  async status(event: string): Promise<Record<string, unknown>> {
    return this.describe(await this.mustEvent(event));
  }

  /** The same status, without marking the event active: a status page polling must not reorder them. */
  async peek(event: string): Promise<Record<string, unknown> | undefined> {
    const state = await storeCall('control', () => this.ctx.stores.metadata.getEvent(event));
    return state && this.describe(state);
  }

  private describe(state: EventState): Record<string, unknown> {
    const { event } = state;
    const now = this.ctx.clock.now();
    const pipelines = pipelineOrder(state.config.pipelines, Object.keys(state.pipelines)).map((id) => {
      const stats = state.pipelines[id];
      if (!stats) return { pipeline: id, healthy: false, ingests: 0 };
      const health = pipelineHealth(stats, eventTimeline(state), TTL_DEFAULTS.fallbackSegmentMs, now);
      return {
        pipeline: id,
        liveEdge: stats.edge,
        lastIngestAt: new Date(stats.lastIngestAt).toISOString(),
        ingests: stats.ingests,
        defectiveIngests: stats.defective,
        // The scores of its latest segments and parts, oldest first (the status page shows them).
        recentQuality: stats.recentQuality ?? [],
        healthy: health.healthy,
        latenessMs: health.latenessMs,
        masks: state.masks.filter((m) => m.pipeline === undefined || m.pipeline === id).length,
      };
    });
    return {
      event,
      createdAt: new Date(state.createdAt).toISOString(),
      config: describeEventConfig(state.config),
      // The wait for a better candidate in force: the config's, else the default for the event's D.
      betterWaitMs: betterWaitMsOf(state.config, eventTimeline(state)?.durationMs),
      pipelines,
      notifications: state.notifications,
      masks: state.masks.map((m) => ({ ...m, createdAt: new Date(m.createdAt).toISOString() })),
      renditions: Object.values(state.renditions).map((r) => ({ rendition: r.rendition, newest: r.recent.at(-1)?.[0] })),
    };
  }

  /** Masks a range and/or paths and purges what the CDN may hold; or flushes the whole event. */
  async invalidate(event: string, invalidation: Invalidation): Promise<{ purged: number }> {
    const state = await this.mustEvent(event);
    const { metadata } = this.ctx.stores;
    if (invalidation.kind === 'flush') {
      await storeCall('invalidate', () => metadata.clearPins(event));
      this.ctx.purger.purge(event, ['*']);
      return { purged: 1 };
    }
    if (state.masks.length >= MAX_MASKS_PER_EVENT) throw badRequest(`an event keeps at most ${MAX_MASKS_PER_EVENT} masks`);
    const mask = { ...invalidation.mask, createdAt: this.ctx.clock.now() };
    await storeCall('invalidate', () => metadata.addMask(event, mask));
    const paths = new Set(mask.paths ?? []);
    if (mask.from !== undefined && mask.to !== undefined) {
      for (const rendition of Object.values(state.renditions)) {
        for (let n = mask.from; n <= mask.to; n++) paths.add(renditionPath(rendition.rendition, n, rendition.width));
      }
    }
    this.ctx.purger.purge(event, [...paths]);
    return { purged: paths.size };
  }

  /** Recomputes the pipeline health gauges of recently active events (on /metrics scrape). */
  async refreshHealth(): Promise<void> {
    const now = this.ctx.clock.now();
    const entries: { event: string; pipeline: string; healthy: boolean; latenessMs: number }[] = [];
    for (const event of this.active) {
      const state = await this.ctx.stores.metadata.getEvent(event).catch(() => undefined);
      if (!state) continue;
      for (const stats of Object.values(state.pipelines)) {
        const health = pipelineHealth(stats, eventTimeline(state), TTL_DEFAULTS.fallbackSegmentMs, now);
        entries.push({ event, pipeline: stats.pipeline, ...health });
      }
    }
    this.ctx.metrics.setPipelineHealth(entries);
  }

  private async mustEvent(event: string): Promise<EventState> {
    const state = await storeCall('control', () => this.ctx.stores.metadata.getEvent(event));
    if (!state) throw new OriginError('not_found', `unknown event ${event}`);
    this.touch(event);
    return state;
  }
}
