import type { Candidate, EventState } from '../domain/model.js';
import type { ObjectPath } from '../domain/object-path.js';
import { isAtLiveEdge, RateBudget } from '../domain/rate-budget.js';
import type { Selection } from '../domain/selection.js';
import type { Timeline } from '../domain/timing.js';
import { judgeMissing, timelineFor } from '../domain/timing.js';
import { servedTtlMs, TTL_DEFAULTS } from '../domain/ttl.js';
import type { HoldRegistry } from './hold-registry.js';
import type { StoredBytes } from '../ports/segment-store.js';
import type { ServiceContext } from './context.js';
import { currentSelection, stalePipelines } from './object-view.js';
import { storeCall } from './store-call.js';

/** A pin may be contested by other instances, and chosen bytes may have been evicted: retry this often. */
const MAX_SELECTION_ROUNDS = 4;

export type MissReason =
  | 'unknown_event'
  | 'absent'
  | 'no_timeline'
  | 'future'
  | 'hold_timeout'
  | 'gone'
  | 'masked'
  | 'overload'
  | 'drain';

export type Delivery =
  | {
      readonly kind: 'object';
      readonly state: EventState;
      readonly candidate: Candidate;
      readonly bytes: StoredBytes;
      readonly selection: Selection;
      readonly ttlMs: number;
      readonly immutable: boolean;
    }
  | {
      readonly kind: 'miss';
      readonly status: 404 | 410 | 503;
      readonly reason: MissReason;
      readonly ttlMs: number;
      /** Undefined for an unknown event (no notifications to carry). */
      readonly state?: EventState;
    }
  | { readonly kind: 'aborted' };

type Found = { readonly candidate: Candidate; readonly bytes: StoredBytes; readonly selection: Selection };

/**
 * Delivery: deterministic selection with pinning, then, for a segment that does not exist
 * yet, the timing verdict: hold, 404 until the hold window, or 410.
 */
export class DeliveryService {
  private readonly budget: RateBudget;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly holds: HoldRegistry,
    /** Requests per second per event before shedding; 0 (no budget) skips the budget on the hot path. */
    private readonly eventRps: number,
  ) {
    this.budget = new RateBudget(eventRps);
  }

  /**
   * `leaving` gives a signal that fires when the client goes away; it is asked for only when a
   * request is about to be held, so the common path sets nothing up.
   */
  async deliver(event: string, object: ObjectPath, leaving?: () => AbortSignal): Promise<Delivery> {
    const { metadata } = this.ctx.stores;
    const state = await storeCall('delivery', () => metadata.getEvent(event));
    if (!state) return this.miss(404, 'unknown_event', TTL_DEFAULTS.unknownEventMs);
    const timeline = object.rendition ? timelineFor(state.config, state.renditions[object.rendition]) : timelineFor(state.config, undefined);

    if (this.eventRps > 0 && !this.budget.take(event, isAtLiveEdge(object.number, liveEdge(state)), this.ctx.now())) {
      this.ctx.metrics.shed.inc({ reason: 'event_rate' });
      return this.miss(503, 'overload', TTL_DEFAULTS.overloadMs, state);
    }

    for (let current = state; ; ) {
      const found = await this.find(current, object);
      if (found && 'candidate' in found) return this.found(current, object, found, timeline);
      if (found?.allMasked) return this.miss(410, 'masked', TTL_DEFAULTS.goneMs, current);
      if (object.kind !== 'segment' || object.number === undefined) return this.miss(404, 'absent', TTL_DEFAULTS.shortMs, current);
      if (!timeline) return this.miss(404, 'no_timeline', TTL_DEFAULTS.shortMs, current);

      const verdict = judgeMissing(timeline, object.number, this.ctx.now());
      if (verdict.kind === 'future') return this.miss(404, 'future', verdict.ttlMs, current);
      if (verdict.kind === 'gone') return this.miss(410, 'gone', TTL_DEFAULTS.goneMs, current);

      const outcome = await this.holds.wait({ event, path: object.path }, verdict.deadlineMs, leaving?.());
      if (outcome === 'published') {
        current = (await storeCall('delivery', () => metadata.getEvent(event))) ?? current;
        continue;
      }
      if (outcome === 'aborted') return { kind: 'aborted' };
      if (outcome === 'shed') {
        this.ctx.metrics.shed.inc({ reason: 'held_cap' });
        return this.miss(503, 'overload', TTL_DEFAULTS.overloadMs, current);
      }
      // Timeout or drain: one last look, since a publish may have raced the deadline.
      const last = await this.find(current, object);
      if (last && 'candidate' in last) return this.found(current, object, last, timeline);
      if (outcome === 'timeout') this.ctx.metrics.holdTimeout();
      return this.miss(404, outcome === 'timeout' ? 'hold_timeout' : 'drain', TTL_DEFAULTS.shortMs, current);
    }
  }

  /**
   * Selects and reads the object. The pin is set with compare-and-set, so concurrent
   * instances agree on one pipeline; a candidate whose bytes are gone is passed over.
   */
  private async find(state: EventState, object: ObjectPath): Promise<Found | { allMasked: boolean } | undefined> {
    const { metadata, segments } = this.ctx.stores;
    const { path } = object;
    const stale = object.kind === 'mutable' ? stalePipelines(state, this.ctx.now()) : undefined;
    const gone = new Set<string>();
    for (let round = 0; round < MAX_SELECTION_ROUNDS; round++) {
      const record = await storeCall('delivery', () => metadata.getObject(state.event, path));
      const candidates = record.candidates.filter((c) => !gone.has(c.pipeline));
      const selection = currentSelection(state, { candidates, pinned: record.pinned }, stale);
      const chosen = selection.chosen;
      if (!chosen) return candidates.length > 0 || gone.size > 0 ? { allMasked: selection.allMasked } : undefined;
      if (record.pinned !== chosen.pipeline) {
        const winner = await storeCall('delivery', () => metadata.swapPin(state.event, path, record.pinned, chosen.pipeline));
        if (winner !== chosen.pipeline) continue;
        // Only pin changes reach the status page's log: a GET served by the pin in force costs nothing.
        this.ctx.activity.selected(state.event, path, chosen.pipeline, selection.outcome, record.pinned);
      }
      const bytes = await storeCall('delivery', () => segments.get({ event: state.event, pipeline: chosen.pipeline, path }, chosen.etag));
      if (!bytes) {
        gone.add(chosen.pipeline);
        continue;
      }
      this.ctx.metrics.selectionCounted(selection.outcome);
      return { candidate: chosen, bytes, selection };
    }
    return undefined;
  }

  private found(state: EventState, object: ObjectPath, found: Found, timeline: Timeline | undefined): Delivery {
    const defective = found.candidate.defects.length > 0;
    const ttlMs = servedTtlMs({ kind: object.kind, defective }, timeline?.durationMs);
    return { kind: 'object', state, ...found, ttlMs, immutable: object.kind !== 'mutable' && !defective };
  }

  private miss(status: 404 | 410 | 503, reason: MissReason, ttlMs: number, state?: EventState): Delivery {
    this.ctx.metrics.deliveryMisses.inc({ status, reason });
    if (!state) return { kind: 'miss', status, reason, ttlMs };
    return { kind: 'miss', status, reason, ttlMs, state };
  }
}

/** Newest segment number any pipeline published for the event. */
function liveEdge(state: EventState): number | undefined {
  let edge: number | undefined;
  for (const pipeline of Object.values(state.pipelines)) {
    if (pipeline.edge !== undefined && (edge === undefined || pipeline.edge > edge)) edge = pipeline.edge;
  }
  return edge;
}
