import type { EventConfig, RenditionState } from './model.js';
import { RENDITION_HISTORY } from './model.js';

/**
 * When a segment is due, and what a request for a segment that does not exist yet gets.
 * A timeline says: segment n is due at anchorMs + (n - anchorNumber) x durationMs.
 */
export interface Timeline {
  readonly anchorMs: number;
  readonly anchorNumber: number;
  readonly durationMs: number;
  readonly holdGraceMs: number;
  /** `declared`: the packager's declared duration, longer than the observed cadence or alone. */
  readonly source: 'template' | 'cadence' | 'declared';
}

export const DEFAULT_START_NUMBER = 1;
/** Intervals needed before a cadence is trusted (two intervals: three segments). */
const MIN_CADENCE_INTERVALS = 2;

/**
 * The event's template timeline (DASH style: segment n is due at the end of its media time,
 * AST + (n - S + 1) x D), else one from the rendition: D is the median interval between first
 * publishes of consecutive numbers, never shorter than the duration its packager declares (so
 * a burst of catch-up PUTs does not make the next segments look late), or the declared
 * duration alone while too few publishes are seen; anchored at the most recent first publish.
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
  const newest = newestPublish(rendition.recent);
  if (!newest) return undefined;
  const inferred = inferDurationMs(rendition.recent);
  const declared = rendition.declaredMs;
  const durationMs = inferred === undefined ? declared : Math.max(inferred, declared ?? 0);
  if (durationMs === undefined) return undefined;
  return {
    anchorMs: newest[1],
    anchorNumber: newest[0],
    durationMs,
    holdGraceMs: config.holdGraceMs ?? durationMs,
    source: durationMs === inferred ? 'cadence' : 'declared',
  };
}

/**
 * The most recent first publish (the higher number on a tie): after a packager restarts at
 * lower numbers its new segments, not the old stream's highest number, anchor the timeline.
 */
export function newestPublish(recent: readonly (readonly [number, number])[]): readonly [number, number] | undefined {
  let newest: readonly [number, number] | undefined;
  for (const entry of recent) {
    if (!newest || entry[1] > newest[1] || (entry[1] === newest[1] && entry[0] > newest[0])) newest = entry;
  }
  return newest;
}

/** The RENDITION_HISTORY most recent first publishes (by time), ascending by number. */
export function keepRecentPublishes(publishes: readonly (readonly [number, number])[]): [number, number][] {
  const byTime = [...publishes].sort((a, b) => b[1] - a[1] || b[0] - a[0]).slice(0, RENDITION_HISTORY);
  return byTime.map(([n, at]): [number, number] => [n, at]).sort((a, b) => a[0] - b[0]);
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
