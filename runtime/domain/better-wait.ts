import { pipelineHealth } from './health.js';
import type { Candidate, EventConfig, InProgressCandidate, Mask, PipelineState } from './model.js';
import { FULL_QUALITY, isDefective, qualityOf } from './quality.js';
import { isMasked } from './selection.js';
import type { Timeline } from './timing.js';
import { TTL_DEFAULTS } from './ttl.js';

/**
 * Waiting briefly for a better candidate (contract v3). Redundant encoders publish the same
 * segment a few tens of milliseconds apart; when the first copy of a path is defective or
 * scores below 100 and another pipeline is live, the path's first release waits a moment for
 * the better copy instead of pinning the worse one for every CDN fill. Later fills follow the
 * pin, so this decides a path once.
 */

/** The default wait's ceiling: well above the gap between two healthy encoders, well below a segment. */
export const DEFAULT_BETTER_WAIT_CAP_MS = 250;
/** The default wait is at most this fraction of a segment duration (D/8). */
const BETTER_WAIT_SEGMENT_FRACTION = 1 / 8;
/** The longest wait an event may configure (`betterWaitMs`). */
export const MAX_BETTER_WAIT_MS = 10_000;

/** The default `betterWaitMs`: the smaller of 250 ms and D/8 (D: 2 s until one is known). */
export function defaultBetterWaitMs(durationMs: number | undefined): number {
  return Math.min(DEFAULT_BETTER_WAIT_CAP_MS, Math.floor((durationMs ?? TTL_DEFAULTS.fallbackSegmentMs) * BETTER_WAIT_SEGMENT_FRACTION));
}

/** The event's wait: its `betterWaitMs`, else the default for its segment duration. */
export function betterWaitMsOf(config: EventConfig, durationMs: number | undefined): number {
  return config.betterWaitMs ?? defaultBetterWaitMs(durationMs);
}

export type Arrival = Candidate | InProgressCandidate;

/** When a candidate arrived: an arriving one when its PUT's headers were accepted, a complete one at its ack. */
export function arrivedAt(candidate: Arrival): number {
  return 'inProgress' in candidate ? candidate.startedAt : candidate.publishedAt;
}

/** The candidate that arrived first (the first of equals, in the order given). */
export function firstArrival<C extends Arrival>(candidates: readonly C[]): C | undefined {
  let first: C | undefined;
  for (const candidate of candidates) if (!first || arrivedAt(candidate) < arrivedAt(first)) first = candidate;
  return first;
}

/**
 * How far behind segment n a pipeline's newest acknowledged segment may be while it still counts
 * as at the edge for n. A segment streamed while it is made is acknowledged after its last byte
 * (and the store's writes): as segment n starts, a healthy pipeline is still finishing n - 1, so
 * its newest acknowledged one is n - 2 for a moment. Requests for n come then (a low-latency
 * player asks for a segment as it starts).
 */
const EDGE_LAG_SEGMENTS = 2;

/** Whether the pipeline has acknowledged segment `number - EDGE_LAG_SEGMENTS` or a later one. */
function atTheEdge(state: PipelineState, number: number): boolean {
  return state.edge !== undefined && state.edge >= number - EDGE_LAG_SEGMENTS;
}

/**
 * Whether a pipeline may still bring a copy of segment `number` soon: it is at the edge (it has
 * acknowledged one of the two segments before, or a later one) and not late (healthy, as pipeline
 * health judges it).
 */
export function mayStillArrive(state: PipelineState, number: number, timeline: Timeline | undefined, nowMs: number): boolean {
  if (!atTheEdge(state, number)) return false;
  return pipelineHealth(state, timeline, TTL_DEFAULTS.fallbackSegmentMs, nowMs).healthy;
}

/**
 * Whether a path's first selection should read its record again from the store before pinning:
 * it would serve a copy that is defective or scores below 100, and a pipeline at the edge (as
 * mayStillArrive judges it, health aside), not masked for the path, has no copy in the
 * record. Reads may come from a cache up to a second stale across instances (another instance's
 * copy shows once this one's entry expires), while the first selection pins the path for good.
 * Costs one store read per pin so taken, none while the first copy is a clean 100.
 */
export function recordMayLackCopy(input: {
  readonly chosen: Arrival;
  readonly candidates: readonly Arrival[];
  readonly pipelines: Readonly<Record<string, PipelineState>>;
  readonly masks: readonly Mask[];
  readonly minQuality: number;
  readonly path: string;
  readonly number: number;
}): boolean {
  if (!isDefective(input.chosen, input.minQuality) && qualityOf(input.chosen) >= FULL_QUALITY) return false;
  for (const state of Object.values(input.pipelines)) {
    if (!atTheEdge(state, input.number)) continue;
    if (input.candidates.some((c) => c.pipeline === state.pipeline)) continue;
    if (!isMasked({ pipeline: state.pipeline, path: input.path, number: input.number }, input.masks)) return true;
  }
  return false;
}

export interface BetterWaitInput {
  /** What the path's first selection would serve now. */
  readonly chosen: Arrival;
  /** Every candidate of the path present now, complete and arriving, masked ones included. */
  readonly candidates: readonly Arrival[];
  readonly masks: readonly Mask[];
  readonly minQuality: number;
  readonly path: string;
  /** The path's segment number. */
  readonly number: number;
  /** The event's pipelines as the origin knows them (edge, last ingest). */
  readonly pipelines: Readonly<Record<string, PipelineState>>;
  readonly timeline: Timeline | undefined;
  /** The event's `betterWaitMs`. */
  readonly waitMs: number;
  readonly nowMs: number;
}

/**
 * Until when (epoch ms) the path's first release waits for a better candidate, or undefined to
 * release now: a clean candidate of score 100 is there, or the window (`waitMs` from the first
 * unmasked arrival) has passed, or no other pipeline could bring a copy (each either has one
 * here already, is masked for the path, or is not live). The window belongs to the path, not to
 * a request: a request arriving during it waits for its end too.
 */
export function betterWaitUntil(input: BetterWaitInput): number | undefined {
  const { chosen, minQuality } = input;
  if (input.waitMs <= 0 || (!isDefective(chosen, minQuality) && qualityOf(chosen) >= FULL_QUALITY)) return undefined;
  const first = firstArrival(input.candidates.filter((c) => !isMasked(c, input.masks)));
  if (!first) return undefined;
  const until = arrivedAt(first) + input.waitMs;
  if (input.nowMs >= until) return undefined;
  for (const state of Object.values(input.pipelines)) {
    if (input.candidates.some((c) => c.pipeline === state.pipeline)) continue;
    if (isMasked({ pipeline: state.pipeline, path: input.path, number: input.number }, input.masks)) continue;
    if (mayStillArrive(state, input.number, input.timeline, input.nowMs)) return until;
  }
  return undefined;
}

/**
 * How a path's first selection went, for the metrics:
 * - `better_after_wait`: the request waited, and serves a better copy than the first to arrive;
 * - `wait_timed_out`: it waited out the whole window, and nothing better came;
 * - `clean`: a clean copy of score 100, at once;
 * - `degraded`: a defective copy or one below 100, because no other pipeline could bring a better
 *   one (or the ones that came were no better).
 */
export type FirstSelection = 'clean' | 'better_after_wait' | 'wait_timed_out' | 'degraded';

export function firstSelectionOutcome(input: {
  readonly chosen: Arrival;
  /** The first unmasked candidate to arrive. */
  readonly first: Arrival | undefined;
  readonly minQuality: number;
  readonly waited: boolean;
  readonly timedOut: boolean;
}): FirstSelection {
  const { chosen, first, minQuality } = input;
  const chosenClean = !isDefective(chosen, minQuality);
  if (input.waited && first && first.pipeline !== chosen.pipeline && chosenClean) {
    if (isDefective(first, minQuality) || qualityOf(chosen) > qualityOf(first)) return 'better_after_wait';
  }
  if (input.waited && input.timedOut) return 'wait_timed_out';
  return chosenClean && qualityOf(chosen) >= FULL_QUALITY ? 'clean' : 'degraded';
}
