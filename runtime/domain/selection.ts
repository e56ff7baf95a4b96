import type { Candidate, InProgressCandidate as InProgress, Mask } from './model.js';
import { defectKinds, isDefective, qualityOf } from './quality.js';

/** What selection reads of a candidate, complete or still arriving (`inProgress`). */
export type Selectable = Pick<Candidate, 'pipeline' | 'path' | 'number' | 'defects' | 'quality'> & { readonly inProgress?: boolean };

/**
 * Deterministic candidate selection: the rules every instance applies, so every CDN fill of a
 * path gets the same bytes.
 */

/**
 * Selection order: configured pipelines first (in their order; config validation keeps them
 * unique), then any others sorted by id.
 */
export function pipelineOrder(configured: readonly string[] | undefined, present: Iterable<string>): string[] {
  return [...new Set([...(configured ?? []), ...present])].sort(byPipelineOrder(configured));
}

/** The selection order as a comparison of pipeline ids (pipelineOrder's rule, for sorting in place). */
function byPipelineOrder(configured: readonly string[] | undefined): (a: string, b: string) => number {
  return (a, b) => {
    const rankA = configured?.indexOf(a) ?? -1;
    const rankB = configured?.indexOf(b) ?? -1;
    if (rankA >= 0 || rankB >= 0) return rankA < 0 ? 1 : rankB < 0 ? -1 : rankA - rankB;
    return a < b ? -1 : a > b ? 1 : 0;
  };
}

export function isMasked(candidate: Pick<Candidate, 'pipeline' | 'path' | 'number'>, masks: readonly Mask[]): boolean {
  return masks.some((mask) => {
    if (mask.pipeline !== undefined && mask.pipeline !== candidate.pipeline) return false;
    if (mask.paths?.includes(candidate.path)) return true;
    return mask.from !== undefined && mask.to !== undefined && candidate.number !== undefined && candidate.number >= mask.from && candidate.number <= mask.to;
  });
}

export type SelectionOutcome = 'clean' | 'pinned' | 'defective' | 'none';

export interface Selection<C extends Selectable = Candidate> {
  readonly chosen?: C;
  readonly outcome: SelectionOutcome;
  /** `pipeline=kind` pairs of every usable defective candidate in order, when the chosen one is defective. */
  readonly defectPairs: readonly string[];
  /** True when at least one candidate exists but every one is masked. */
  readonly allMasked: boolean;
}

export interface SelectionInput<C extends Selectable = Candidate> {
  /** Complete candidates and in-progress ones (`inProgress`), in any order. */
  readonly candidates: readonly C[];
  readonly order: readonly string[] | undefined;
  readonly masks: readonly Mask[];
  /** Pipeline served first for this path (pinned selection), if any. */
  readonly pinned?: string;
  /**
   * Pipelines to use only when no other candidate is usable, pin or not: for playlists, the
   * pipelines that stopped publishing (their playlist is stale, however clean).
   */
  readonly demoted?: ReadonlySet<string>;
  /** Candidates scoring below this count as defective (`low-quality`): the event's `minQuality`, default 0. */
  readonly minQuality?: number;
}

/**
 * Picks the candidate to serve. Among clean candidates (no defect, score not below
 * `minQuality`) the highest score wins; at equal scores a complete one beats one still arriving
 * (its bytes are all there and durable), then pipeline order decides. A pinned candidate keeps
 * being served while it is present, unmasked, and no clean candidate scores higher (a defective
 * pin: while no clean one exists), so every fill of a path gets the same bytes until a better
 * copy heals it. When every candidate is defective, the first present one in order (complete
 * before arriving) is served, with every usable candidate's defects forwarded. A pipeline whose
 * object is complete is judged by that version, not by a replacement still arriving.
 */
export function selectCandidate<C extends Selectable>(input: SelectionInput<C>): Selection<C> {
  const usable = usableInOrder(input.candidates, input.order, input.masks);
  if (usable.length === 0) {
    return { outcome: 'none', defectPairs: [], allMasked: input.candidates.length > 0 };
  }
  const minQuality = input.minQuality ?? 0;
  const preferred = input.demoted ? usable.filter((c) => !input.demoted!.has(c.pipeline)) : usable;
  const pool = preferred.length > 0 ? preferred : usable;
  const best = bestClean(pool, minQuality);
  const pinned = pool.find((c) => c.pipeline === input.pinned);
  let chosen: C;
  let outcome: SelectionOutcome;
  if (pinned && keepsPin(pinned, best, minQuality)) {
    chosen = pinned;
    outcome = isDefective(pinned, minQuality) ? 'defective' : 'pinned';
  } else if (best) {
    chosen = best;
    outcome = 'clean';
  } else {
    chosen = pool.find((c) => !c.inProgress) ?? pool[0]!;
    outcome = 'defective';
  }
  const defectPairs = isDefective(chosen, minQuality) ? usable.flatMap((c) => defectKinds(c, minQuality).map((kind) => `${c.pipeline}=${kind}`)) : [];
  return { chosen, outcome, defectPairs, allMasked: false };
}

/**
 * Whether `a` serves viewers better than `b`: clean before defective, then the higher score,
 * then complete before still arriving. Equal: neither (pipeline order decides).
 */
export function ranksAbove(a: Selectable, b: Selectable, minQuality = 0): boolean {
  const aDefective = isDefective(a, minQuality);
  if (aDefective !== isDefective(b, minQuality)) return !aDefective;
  if (aDefective) return false;
  const qa = qualityOf(a);
  const qb = qualityOf(b);
  if (qa !== qb) return qa > qb;
  return !a.inProgress && b.inProgress === true;
}

/** The best clean candidate of the pool (in pipeline order, so the first of equals wins). */
function bestClean<C extends Selectable>(pool: readonly C[], minQuality: number): C | undefined {
  let best: C | undefined;
  for (const candidate of pool) {
    if (isDefective(candidate, minQuality)) continue;
    if (!best || ranksAbove(candidate, best, minQuality)) best = candidate;
  }
  return best;
}

/** A clean pin yields only to a clean candidate of a higher score; a defective one to any clean one. */
function keepsPin(pinned: Selectable, best: Selectable | undefined, minQuality: number): boolean {
  if (!best) return true;
  if (isDefective(pinned, minQuality)) return false;
  return qualityOf(best) <= qualityOf(pinned);
}

/**
 * Whether what the CDN may hold for a path is now wrong: the served candidate changed (other
 * pipeline or other bytes), its score changed, or its forwarded defects changed. A candidate served while it arrived
 * and its own completion are the same bytes.
 */
export function servedChanged(before: Selection<Candidate | InProgress>, after: Selection<Candidate | InProgress>): boolean {
  const was = before.chosen;
  const is = after.chosen;
  if (was?.pipeline !== is?.pipeline) return true;
  const sameBytes = (was && 'inProgress' in was) || (is && 'inProgress' in is) ? true : was?.etag === is?.etag;
  if (!sameBytes) return true;
  // Live-Quality, and the lifetime of a copy below 100, are part of what the CDN holds.
  if (was && is && qualityOf(was) !== qualityOf(is)) return true;
  return before.defectPairs.join(',') !== after.defectPairs.join(',');
}

/**
 * The unmasked candidates in pipelineOrder's order, one per pipeline (its last complete one, else
 * its last one still arriving), sorted in place: this runs on every delivery GET, usually over
 * one or two candidates.
 */
function usableInOrder<C extends Selectable>(candidates: readonly C[], configured: readonly string[] | undefined, masks: readonly Mask[]): C[] {
  const usable = candidates.filter((c) => representative(candidates, c.pipeline) === c && (masks.length === 0 || !isMasked(c, masks)));
  if (usable.length > 1) {
    const compare = byPipelineOrder(configured);
    usable.sort((a, b) => compare(a.pipeline, b.pipeline));
  }
  return usable;
}

function representative<C extends Selectable>(candidates: readonly C[], pipeline: string): C | undefined {
  let last: C | undefined;
  for (let i = candidates.length - 1; i >= 0; i--) {
    const candidate = candidates[i]!;
    if (candidate.pipeline !== pipeline) continue;
    if (!candidate.inProgress) return candidate;
    last ??= candidate;
  }
  return last;
}
