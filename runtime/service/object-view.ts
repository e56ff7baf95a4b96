import { pipelineHealth } from '../domain/health.js';
import type { Candidate, EventState } from '../domain/model.js';
import type { Selectable, Selection } from '../domain/selection.js';
import { selectCandidate } from '../domain/selection.js';
import type { Timeline } from '../domain/timing.js';
import { timelineFor } from '../domain/timing.js';
import { TTL_DEFAULTS } from '../domain/ttl.js';

/**
 * The event's timeline for pipeline health: its template, else that of its first rendition that
 * has one (a rendition a playlist declared may have no publish yet).
 */
export function eventTimeline(state: EventState): Timeline | undefined {
  const renditions = Object.values(state.renditions);
  if (renditions.length === 0) return timelineFor(state.config, undefined);
  for (const rendition of renditions) {
    const timeline = timelineFor(state.config, rendition);
    if (timeline) return timeline;
  }
  return undefined;
}

/** The event's live edge: the newest segment number any pipeline published; undefined before any. */
export function liveEdge(state: EventState): number | undefined {
  let edge: number | undefined;
  for (const pipeline of Object.values(state.pipelines)) {
    if (pipeline.edge !== undefined && (edge === undefined || pipeline.edge > edge)) edge = pipeline.edge;
  }
  return edge;
}

/** A pipeline this many segments behind the newest edge has a stale playlist (one is ordinary jitter). */
export const STALE_PLAYLIST_SEGMENTS = 2;

/**
 * Pipelines whose playlists are stale: two or more segments behind the pipeline furthest
 * ahead (epoch-locked numbering makes edges comparable), unhealthy (silent too long), or
 * silent for more than one target duration while another pipeline was heard within it
 * (contract v2: an LL-HLS player must not wait out a stopped playlist).
 */
export function stalePipelines(state: EventState, nowMs: number): Set<string> {
  const timeline = eventTimeline(state);
  const durationMs = timeline?.durationMs ?? TTL_DEFAULTS.fallbackSegmentMs;
  // A playlist's target duration (EXT-X-TARGETDURATION) is whole seconds: the segment duration rounded up.
  const targetDurationMs = Math.max(1000, Math.ceil(durationMs / 1000) * 1000);
  const pipelines = Object.values(state.pipelines);
  const newest = liveEdge(state) ?? -Infinity;
  const someoneAdvancing = pipelines.some((p) => nowMs - p.lastIngestAt <= targetDurationMs);
  const stale = new Set<string>();
  for (const stats of pipelines) {
    // Before any pipeline has a numbered segment nobody is behind (playlists alone say nothing).
    const behind = Number.isFinite(newest) && (stats.edge ?? -Infinity) <= newest - STALE_PLAYLIST_SEGMENTS;
    const stopped = someoneAdvancing && nowMs - stats.lastIngestAt > targetDurationMs;
    if (behind || stopped || !pipelineHealth(stats, timeline, TTL_DEFAULTS.fallbackSegmentMs, nowMs).healthy) stale.add(stats.pipeline);
  }
  // When the whole event is late (every pipeline stale), the furthest-ahead playlists are still the best.
  if (stale.size === pipelines.length && Number.isFinite(newest)) {
    for (const stats of pipelines) if (stats.edge === newest) stale.delete(stats.pipeline);
  }
  return stale;
}

/**
 * The selection currently in force for a path, honouring its pin. For playlists and manifests
 * (`stale` given), pipelines that stopped publishing are passed over while another one lives.
 */
export function currentSelection<C extends Selectable = Candidate>(
  state: EventState,
  record: { readonly candidates: readonly C[]; readonly pinned?: string },
  stale?: ReadonlySet<string>,
): Selection<C> {
  return selectCandidate({
    candidates: record.candidates,
    order: state.config.pipelines,
    masks: state.masks,
    pinned: record.pinned,
    demoted: stale,
    minQuality: state.config.minQuality,
  });
}
