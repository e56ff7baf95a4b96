import { pipelineHealth } from '../domain/health.js';
import type { EventState } from '../domain/model.js';
import type { Selection } from '../domain/selection.js';
import { selectCandidate } from '../domain/selection.js';
import type { Timeline } from '../domain/timing.js';
import { timelineFor } from '../domain/timing.js';
import { TTL_DEFAULTS } from '../domain/ttl.js';
import type { ObjectRecord } from '../ports/metadata-store.js';

/** The event's timeline for pipeline health: its template, else the cadence of its first rendition. */
export function eventTimeline(state: EventState): Timeline | undefined {
  return timelineFor(state.config, Object.values(state.renditions)[0]);
}

/** Pipelines whose next segment is overdue by too much: their playlists are stale. */
export function stalePipelines(state: EventState, nowMs: number): Set<string> {
  const timeline = eventTimeline(state);
  const stale = new Set<string>();
  for (const stats of Object.values(state.pipelines)) {
    if (!pipelineHealth(stats, timeline, TTL_DEFAULTS.fallbackSegmentMs, nowMs).healthy) stale.add(stats.pipeline);
  }
  return stale;
}

/**
 * The selection currently in force for a path, honouring its pin. For playlists and manifests
 * (`stale` given), pipelines that stopped publishing are passed over while another one lives.
 */
export function currentSelection(state: EventState, record: ObjectRecord, stale?: ReadonlySet<string>): Selection {
  return selectCandidate({
    candidates: record.candidates,
    order: state.config.pipelines,
    masks: state.masks,
    pinned: record.pinned,
    demoted: stale,
  });
}
