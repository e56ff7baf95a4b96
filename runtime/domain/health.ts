import type { PipelineState } from './model.js';
import type { Timeline } from './timing.js';
import { dueMs } from './timing.js';

/** A pipeline this many segment durations late is unhealthy. */
export const UNHEALTHY_AFTER_SEGMENTS = 3;

export interface PipelineHealth {
  readonly healthy: boolean;
  /** How long the pipeline's next segment is overdue (0 when on time). */
  readonly latenessMs: number;
}

/**
 * Judges a pipeline by its next expected segment: with a timeline, the segment after its
 * edge is due at dueMs(edge + 1); without one, one fallback duration after its last ingest.
 */
export function pipelineHealth(state: PipelineState, timeline: Timeline | undefined, fallbackDurationMs: number, nowMs: number): PipelineHealth {
  const durationMs = timeline?.durationMs ?? fallbackDurationMs;
  const expectedAt = timeline && state.edge !== undefined ? dueMs(timeline, state.edge + 1) : state.lastIngestAt + durationMs;
  const latenessMs = Math.max(0, nowMs - expectedAt);
  return { healthy: latenessMs < UNHEALTHY_AFTER_SEGMENTS * durationMs, latenessMs };
}
