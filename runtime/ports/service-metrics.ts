import type { FirstSelection } from '../domain/better-wait.js';

/**
 * What the use cases record for the metrics, in their own terms: the services count events and
 * outcomes here and never see the metrics library. `runtime/metrics/origin-metrics.ts` implements
 * it with prom-client; a service test can give a recording one.
 */
export interface ServiceMetrics {
  /** A selection made for a delivery answer (`clean`, `pinned`, `defective`, ...). */
  selectionCounted(outcome: string): void;
  /** A request answered 503 to shed load: too many held (`held_cap`), or its event over its rate budget (`event_rate`). */
  shedRequest(reason: 'held_cap' | 'event_rate'): void;
  /** A held request (or blocking reload) whose deadline passed with nothing to serve. */
  holdTimeout(): void;
  /** An accepted PUT, its bytes and the defects it declared. */
  ingest(pipeline: string, result: 'created' | 'replaced' | 'identical', bytes: number, defects: readonly string[]): void;
  /** A re-PUT of other bytes for a numbered or static object the pipeline had already published. */
  conflictingPut(pipeline: string): void;
  /** Defects newly reported on a candidate (by PATCH, or a re-PUT of the same bytes). */
  defect(pipeline: string, kinds: readonly string[]): void;
  /** How a PUT that delivery could stream ended: acknowledged, or broken off and never visible. */
  streamEnded(outcome: 'complete' | 'failed'): void;
  /** An accepted media segment or part's quality score (Live-Quality, 100 when absent). */
  quality(pipeline: string, score: number): void;
  /** How a path's first release went: the first arrival, a better copy waited for, or the window's end. */
  firstSelection(outcome: FirstSelection): void;
  /** Every tracked pipeline's health, replacing the previous report. */
  setPipelineHealth(entries: readonly PipelineHealthEntry[]): void;
}

export interface PipelineHealthEntry {
  readonly event: string;
  readonly pipeline: string;
  readonly healthy: boolean;
  readonly latenessMs: number;
}
