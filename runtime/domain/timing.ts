import type { EventConfig, RenditionState } from './model.js';

/**
 * When a segment is due, and what a request for a segment that does not exist yet gets.
 * A timeline says: segment n is due at anchorMs + (n - anchorNumber) x durationMs.
 */
export interface Timeline {
  readonly anchorMs: number;
  readonly anchorNumber: number;
  readonly durationMs: number;
  readonly holdGraceMs: number;
  readonly source: 'template' | 'cadence';
}

export const DEFAULT_START_NUMBER = 1;
/** Intervals needed before a cadence is trusted (two intervals: three segments). */
const MIN_CADENCE_INTERVALS = 2;

/**
 * The event's template timeline (DASH style: segment n is due at the end of its media time,
 * AST + (n - S + 1) x D), else one inferred from the rendition's observed cadence: D is the
 * median interval between first publishes of consecutive numbers, anchored at the newest one.
 */
export function timelineFor(config: EventConfig, rendition: RenditionState | undefined): Timeline | undefined {
  const { segmentDurationMs, availabilityStartTime } = config;
  if (segmentDurationMs !== undefined && availabilityStartTime !== undefined) {
    return {
      anchorMs: availabilityStartTime,
      anchorNumber: (config.startNumber ?? DEFAULT_START_NUMBER) - 1,
      durationMs: segmentDurationMs,
      holdGraceMs: config.holdGraceMs ?? segmentDurationMs,
      source: 'template',
    };
  }
  if (!rendition) return undefined;
  const durationMs = inferDurationMs(rendition.recent);
  if (durationMs === undefined) return undefined;
  const [newestNumber, newestAt] = rendition.recent[rendition.recent.length - 1]!;
  return {
    anchorMs: newestAt,
    anchorNumber: newestNumber,
    durationMs,
    holdGraceMs: config.holdGraceMs ?? durationMs,
    source: 'cadence',
  };
}

/** Median interval between first publishes of consecutive segment numbers, if there are enough. */
export function inferDurationMs(recent: readonly (readonly [number, number])[]): number | undefined {
  const intervals: number[] = [];
  for (let i = 1; i < recent.length; i++) {
    const [prevNumber, prevAt] = recent[i - 1]!;
    const [number, at] = recent[i]!;
    if (number === prevNumber + 1 && at > prevAt) intervals.push(at - prevAt);
  }
  if (intervals.length < MIN_CADENCE_INTERVALS) return undefined;
  intervals.sort((a, b) => a - b);
  const mid = intervals.length >> 1;
  return intervals.length % 2 ? intervals[mid]! : Math.round((intervals[mid - 1]! + intervals[mid]!) / 2);
}

export function dueMs(timeline: Timeline, n: number): number {
  return timeline.anchorMs + (n - timeline.anchorNumber) * timeline.durationMs;
}

export type MissingVerdict =
  /** Hold the request until a pipeline publishes it, or until `deadlineMs`. */
  | { readonly kind: 'hold'; readonly deadlineMs: number }
  /** Not yet in the hold window: 404, cacheable for `ttlMs` (until due - D). */
  | { readonly kind: 'future'; readonly ttlMs: number }
  /** Past its deadline and never produced: 410. */
  | { readonly kind: 'gone' };

/** What a request for segment `n`, which no pipeline has (usably) published, gets at `nowMs`. */
export function judgeMissing(timeline: Timeline, n: number, nowMs: number): MissingVerdict {
  const due = dueMs(timeline, n);
  const windowStart = due - timeline.durationMs;
  const deadline = due + timeline.holdGraceMs;
  if (nowMs < windowStart) return { kind: 'future', ttlMs: windowStart - nowMs };
  if (nowMs <= deadline) return { kind: 'hold', deadlineMs: deadline };
  return { kind: 'gone' };
}
