// Over 400 lines on purpose: one GET's decision (select, hold, wait for a better candidate, answer)
// as one class whose private steps share the wait state; its pure rules already live in domain/.
import type { Arrival } from '../domain/better-wait.js';
import { betterWaitMsOf, betterWaitUntil, firstArrival, firstSelectionOutcome, recordMayLackCopy } from '../domain/better-wait.js';
import type { ReloadDirectives } from '../domain/blocking-reload.js';
import { blockingAnswerTtlMs, blockTimeoutMs, judgeReload, playlistStallsAt } from '../domain/blocking-reload.js';
import { DuressWindow } from '../domain/cmsd.js';
import { badRequest } from '../domain/errors.js';
import { judgeMissingPart, PART_HOLD_WITHOUT_TIMELINE_MS, partTtlMs, precedingPartPath } from '../domain/ll-hls-parts.js';
import { readMediaPlaylist } from '../domain/ll-hls-playlist.js';
import type { Candidate, EventState, InProgressCandidate } from '../domain/model.js';
import type { ObjectPath } from '../domain/object-path.js';
import { listsObject } from '../domain/playlist-listing.js';
import { FULL_QUALITY, qualityOf } from '../domain/quality.js';
import { isAtLiveEdge, RateBudget } from '../domain/rate-budget.js';
import type { Selection } from '../domain/selection.js';
import { isMasked } from '../domain/selection.js';
import type { MissingVerdict, Timeline } from '../domain/timing.js';
import { judgeMissing, timelineFor } from '../domain/timing.js';
import { servedTtlMs, TTL_DEFAULTS } from '../domain/ttl.js';
import type { ArrivingElsewhere } from '../ports/publish-feed.js';
import type { StoredBytes } from '../ports/segment-store.js';
import type { ServiceContext } from './context.js';
import type { HoldRegistry, LeaveWatch } from './hold-registry.js';
import type { IngestStream } from './ingest-stream.js';
import { currentSelection, eventTimeline, liveEdge, stalePipelines } from './object-view.js';
import { servedListing } from './served-listing.js';
import { storeCall } from './store-call.js';

/**
 * A pin may be contested by other instances, and chosen bytes may have been evicted: retry this
 * often (one round more for a first selection's fresh read).
 */
const MAX_SELECTION_ROUNDS = 5;
const FRESH_READ = { fresh: true } as const;

/**
 * Why delivery has no object to answer with. The HTTP layer's table (http/answers.ts) turns each
 * into a status, a body, a lifetime and a Retry-After.
 */
export type MissReason =
  | 'unknown_event'
  | 'absent'
  | 'no_timeline'
  | 'future'
  | 'hold_timeout'
  | 'gone'
  | 'masked'
  | 'overload'
  /** A held request for a segment, answered because the origin drains. */
  | 'drain'
  /** A blocking playlist reload, answered because the origin drains. */
  | 'reload_drain'
  /** A blocking playlist reload the served playlist did not satisfy within three target durations. */
  | 'block_timeout';

/** What a miss carries besides its reason: a computed lifetime, and what CMSD reports. */
interface MissDetails {
  /** The lifetime when the timing rules compute it (`future`: until the hold window); else the reason's own. */
  readonly ttlMs?: number;
  /** Segment duration of the object's timeline, when known (CMSD `d`). */
  readonly durationMs?: number;
  /** When the origin can answer with the object (CMSD `at` on a 404 for one not yet due). */
  readonly availableAt?: number;
  /** How long this request was held before the answer (CMSD `ht`). */
  readonly heldMs?: number;
}

export type Delivery =
  | {
      readonly kind: 'object';
      readonly state: EventState;
      readonly candidate: Candidate;
      readonly bytes: StoredBytes;
      readonly selection: Selection<Candidate | InProgressCandidate>;
      readonly ttlMs: number;
      readonly immutable: boolean;
      /** Segment duration of the object's timeline, when known (CMSD `d`). */
      readonly durationMs?: number;
      /** How long this request was held before the answer (CMSD `ht`). */
      readonly heldMs?: number;
    }
  | (MissDetails & {
      readonly kind: 'miss';
      readonly reason: MissReason;
      /** Undefined for an unknown event (no notifications to carry). */
      readonly state?: EventState;
    })
  | {
      /** An object still being ingested: streamed from its first byte (contract v3). */
      readonly kind: 'stream';
      readonly state: EventState;
      readonly stream: IngestStream;
      readonly selection: Selection<Candidate | InProgressCandidate>;
      readonly ttlMs: number;
      readonly immutable: boolean;
      readonly durationMs?: number;
      readonly heldMs?: number;
    }
  | { readonly kind: 'aborted' };

type Found =
  | { readonly candidate: Candidate; readonly bytes: StoredBytes; readonly selection: Selection<Candidate | InProgressCandidate> }
  | { readonly stream: IngestStream; readonly selection: Selection<Candidate | InProgressCandidate> };
/** Not yet: the path's first release waits for a better candidate until then (epoch ms). */
type BetterWait = { readonly waitUntil: number };
type FindResult = Found | { allMasked: boolean } | BetterWait | undefined;

/**
 * One request's part in its path's wait for a better candidate: whether it waited, and whether
 * the window has run out (it then takes the best present). A find without one never waits.
 */
interface WaitState {
  waited: boolean;
  timedOut: boolean;
}

/**
 * Delivery: deterministic selection with pinning, then, for a segment that does not exist
 * yet, the timing verdict: hold, 404 until the hold window, or 410.
 */
export class DeliveryService {
  private readonly budget: RateBudget;
  private readonly duress = new DuressWindow();
  /** Store reads after a publish under way, by event and path, shared by the requests it woke. */
  private readonly looks = new Map<string, Promise<{ state: EventState; found: FindResult }>>();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly holds: HoldRegistry,
    /** Requests per second per event before shedding; 0 (no budget) skips the budget on the hot path. */
    private readonly eventRps: number,
  ) {
    this.budget = new RateBudget(eventRps);
  }

  /** Whether the origin sheds load now, or did a moment ago (CMSD-Dynamic `du`). */
  underDuress(): boolean {
    return this.duress.active(this.ctx.clock.now());
  }

  /**
   * `leaving` watches for the client going away; it is called only when a request is about to
   * be held, so the common path sets nothing up. `directives` are a
   * playlist request's LL-HLS blocking-reload parameters.
   */
  async deliver(event: string, object: ObjectPath, leaving?: LeaveWatch, directives?: ReloadDirectives): Promise<Delivery> {
    const { metadata } = this.ctx.stores;
    const state = await storeCall('delivery', () => metadata.getEvent(event));
    if (!state) return this.miss('unknown_event');
    const timeline = object.rendition ? timelineFor(state.config, state.renditions[object.rendition]) : timelineFor(state.config, undefined);

    if (this.eventRps > 0 && !this.budget.take(event, isAtLiveEdge(object.number, liveEdge(state)), this.ctx.clock.now())) {
      this.ctx.metrics.shedRequest('event_rate');
      this.duress.mark(this.ctx.clock.now());
      return this.miss('overload', state);
    }
    if (directives && object.kind === 'mutable') return this.reload(state, object, directives, timeline, leaving);

    const startedAt = this.ctx.clock.now();
    let heldMs: number | undefined;
    /** Without a timeline, the hold deadline of the next part (fixed at the first look). */
    let nextPartDeadline: number | undefined;
    const better: WaitState = { waited: false, timedOut: false };
    /** A look made on the way (after a publish), used instead of looking again. */
    let known: { found: FindResult } | undefined;
    for (let current = state; ; ) {
      const found = known ? known.found : await this.find(current, object, undefined, true, better);
      known = undefined;
      if (isFound(found)) return this.found(current, object, found, timeline, heldMs);
      if (isBetterWait(found)) {
        // The path's first candidate is not the best a live pipeline may bring: wait for it, or for the window's end.
        const outcome = await this.holds.wait({ event, path: object.path }, found.waitUntil, leaving);
        heldMs = this.ctx.clock.now() - startedAt;
        better.waited = true;
        if (outcome === 'aborted') return { kind: 'aborted' };
        if (outcome === 'published') {
          const look = await this.lookAfterPublish(event, object, current, better);
          if (isFound(look.found)) {
            this.ctx.metrics.selectionCounted(look.found.selection.outcome);
            return this.found(look.state, object, look.found, timeline, heldMs);
          }
          current = look.state;
          known = { found: look.found };
        } else {
          // The window ran out, or this request cannot be kept (drain, too many held): the best present now.
          better.timedOut = true;
        }
        continue;
      }
      if (found && 'allMasked' in found && found.allMasked) return this.miss('masked', current);
      if (object.kind !== 'segment' || object.number === undefined) return this.miss('absent', current);

      const now = this.ctx.clock.now();
      let verdict: MissingVerdict;
      if (timeline) {
        // A part belongs to its segment's window, opened one segment earlier for the preload hint.
        verdict = object.part === undefined ? judgeMissing(timeline, object.number, now) : judgeMissingPart(timeline, object.number, now);
      } else {
        // No timeline yet (no template, too few segments for the cadence): the next part, the one
        // the playlist's preload hint names, is still held, known by the part before it.
        nextPartDeadline ??= await this.nextPartDeadline(current, object, now);
        if (nextPartDeadline === undefined) return this.miss('no_timeline', current);
        verdict = { kind: 'hold', deadlineMs: nextPartDeadline };
      }
      if (verdict.kind === 'gone' && (await this.listedByServedPlaylist(current, object))) {
        // Late, but named by the playlist players read: it may still come, so a 404 (and a
        // hold of one more D), never a 410 that caches keep for a day.
        verdict = { kind: 'hold', deadlineMs: now + timeline!.durationMs };
      }
      if (verdict.kind === 'future') {
        return this.miss('future', current, { ttlMs: verdict.ttlMs, durationMs: timeline?.durationMs, availableAt: now + verdict.ttlMs });
      }
      if (verdict.kind === 'gone') return this.miss('gone', current, { durationMs: timeline?.durationMs });

      const outcome = await this.holds.wait({ event, path: object.path }, verdict.deadlineMs, leaving);
      heldMs = this.ctx.clock.now() - startedAt;
      if (outcome === 'published') {
        const look = await this.lookAfterPublish(event, object, current, better);
        if (isFound(look.found)) {
          this.ctx.metrics.selectionCounted(look.found.selection.outcome);
          return this.found(look.state, object, look.found, timeline, heldMs);
        }
        if (isBetterWait(look.found)) {
          current = look.state;
          known = { found: look.found };
          continue;
        }
        current = (await storeCall('delivery', () => metadata.getEvent(event))) ?? current;
        continue;
      }
      if (outcome === 'aborted') return { kind: 'aborted' };
      if (outcome === 'shed') return this.shedHeld(current);
      // Timeout or drain: one last look, since a publish may have raced the deadline.
      const last = await this.find(current, object, undefined, true, outcome === 'drain' ? undefined : better);
      if (isFound(last)) return this.found(current, object, last, timeline, heldMs);
      if (isBetterWait(last)) {
        known = { found: last };
        continue;
      }
      if (outcome === 'timeout') this.ctx.metrics.holdTimeout();
      return this.miss(outcome === 'timeout' ? 'hold_timeout' : 'drain', current, { durationMs: timeline?.durationMs, heldMs });
    }
  }

  /**
   * LL-HLS blocking playlist reload: answers once the served pipeline's playlist holds the
   * segment (and part) asked for, waking on every publish of the playlist; 400 when asked too
   * far ahead, 503 after three target durations. A playlist that does not offer blocking
   * reloads (no CAN-BLOCK-RELOAD=YES) is served as to an ordinary request. When the served
   * playlist stalls (no change for two part targets), the request is judged on the next pipeline
   * in order, whose pin it takes: the player never waits out a dead encoder.
   */
  private async reload(
    state: EventState,
    object: ObjectPath,
    directives: ReloadDirectives,
    timeline: Timeline | undefined,
    leaving?: LeaveWatch,
  ): Promise<Delivery> {
    const startedAt = this.ctx.clock.now();
    let deadlineMs: number | undefined;
    let waited = false;
    const passedOver = new Set<string>();
    for (let current = state; ; ) {
      const found = await this.find(current, object, passedOver);
      if (!found || !('candidate' in found)) {
        return this.miss(found && 'allMasked' in found && found.allMasked ? 'masked' : 'absent', current);
      }
      const playlist = readMediaPlaylist(found.bytes.body.toString('utf8'));
      const targetMs = playlist.targetDurationMs;
      if (!playlist.canBlockReload || targetMs === undefined) return this.found(current, object, found, timeline);
      const verdict = judgeReload(playlist, directives);
      if (verdict.kind === 'too_far') throw badRequest(verdict.reason);
      const now = this.ctx.clock.now();
      const heldMs = waited ? now - startedAt : undefined;
      if (verdict.kind === 'satisfied') {
        const answer = this.found(current, object, found, timeline, heldMs);
        // Its URL names what it holds, so the answer cannot go stale.
        return { ...answer, ttlMs: blockingAnswerTtlMs(targetMs), immutable: false } as Delivery;
      }
      deadlineMs ??= startedAt + blockTimeoutMs(targetMs);
      if (now >= deadlineMs) {
        this.ctx.metrics.holdTimeout();
        return this.miss('block_timeout', current, { heldMs });
      }
      const served = found.candidate;
      const stallsAt = playlistStallsAt(served.publishedAt, playlist.partTargetMs);
      if (stallsAt !== undefined && now > stallsAt && !passedOver.has(served.pipeline)) {
        passedOver.add(served.pipeline);
        continue;
      }
      // Wake at the stall point too: a dead pipeline publishes nothing that would wake us.
      const wakeAt = stallsAt !== undefined && stallsAt >= now && !passedOver.has(served.pipeline) ? Math.min(deadlineMs, stallsAt + 1) : deadlineMs;
      const outcome = await this.holds.wait({ event: state.event, path: object.path }, wakeAt, leaving);
      waited = true;
      if (outcome === 'aborted') return { kind: 'aborted' };
      if (outcome === 'shed') return this.shedHeld(current);
      if (outcome === 'drain') return this.miss('reload_drain', current, { heldMs: this.ctx.clock.now() - startedAt });
      // Published, or timed out (judged once more, since a publish may have raced the deadline).
      current = (await storeCall('delivery', () => this.ctx.stores.metadata.getEvent(state.event))) ?? current;
    }
  }

  /**
   * When there is no timeline: the deadline for holding a missing LL-HLS part whose preceding
   * part (ll-hls-parts.ts) is published, so it is the next one; undefined for any other part.
   */
  private async nextPartDeadline(state: EventState, object: ObjectPath, now: number): Promise<number | undefined> {
    const preceding = precedingPartPath(object);
    if (preceding === undefined) return undefined;
    const record = await storeCall('delivery', () => this.ctx.stores.metadata.getObject(state.event, preceding));
    return record.candidates.length > 0 ? now + PART_HOLD_WITHOUT_TIMELINE_MS : undefined;
  }

  /**
   * Whether the playlist or manifest served for the object's rendition lists or hints it, or
   * names it next (contract v3: such an object is never answered 410).
   */
  private async listedByServedPlaylist(state: EventState, object: ObjectPath): Promise<boolean> {
    if (object.rendition === undefined) return false;
    const listing = await servedListing(this.ctx, state, object.rendition, 'delivery');
    return listing !== undefined && listsObject(listing, object);
  }

  private shedHeld(state: EventState): Delivery {
    this.ctx.metrics.shedRequest('held_cap');
    this.duress.mark(this.ctx.clock.now());
    return this.miss('overload', state);
  }

  /**
   * Selects and reads the object. The pin is set with compare-and-set, so concurrent
   * instances agree on one pipeline; a candidate whose bytes are gone is passed over.
   */
  /**
   * The store read after a publish, made once for every held request of the object that wakes
   * while it is under way (the hold registry wakes them in batches), instead of once per request.
   * Only a found candidate is shared: a waiter that gets none looks again on its own.
   */
  private lookAfterPublish(event: string, object: ObjectPath, fallback: EventState, better: WaitState): Promise<{ state: EventState; found: FindResult }> {
    const key = `${event}\n${object.path}`;
    let look = this.looks.get(key);
    if (!look) {
      const started = (async () => {
        const state = (await storeCall('delivery', () => this.ctx.stores.metadata.getEvent(event))) ?? fallback;
        return { state, found: await this.find(state, object, undefined, false, better) };
      })();
      const forget = (): void => {
        if (this.looks.get(key) === started) this.looks.delete(key);
      };
      started.then(forget, forget);
      this.looks.set(key, started);
      look = started;
    }
    return look;
  }

  /**
   * `better`: this request's part in the path's wait for a better candidate; without it (playlist
   * reloads, a draining origin) the path's first selection is taken at once.
   */
  private async find(state: EventState, object: ObjectPath, passedOver?: ReadonlySet<string>, count = true, better?: WaitState): Promise<FindResult> {
    const { metadata, segments } = this.ctx.stores;
    const { path } = object;
    const stale = object.kind === 'mutable' ? stalePipelines(state, this.ctx.clock.now()) : undefined;
    for (const pipeline of passedOver ?? []) stale?.add(pipeline);
    const gone = new Set<string>();
    let readFresh = false;
    for (let round = 0; round < MAX_SELECTION_ROUNDS; round++) {
      const record = await storeCall('delivery', () => metadata.getObject(state.event, path, readFresh ? FRESH_READ : undefined));
      const streams = this.ctx.streams.of(state.event, path);
      const elsewhere = this.arrivingElsewhere(state.event, path, streams, gone);
      const complete = gone.size === 0 ? record.candidates : record.candidates.filter((c) => !gone.has(c.pipeline));
      const candidates: readonly (Candidate | InProgressCandidate)[] =
        streams.length === 0 && elsewhere.length === 0 ? complete : [...complete, ...streams.map((s) => s.candidate), ...elsewhere.map((a) => a.candidate)];
      const selection = currentSelection(state, { candidates, pinned: record.pinned }, stale);
      const chosen = selection.chosen;
      if (!chosen) return candidates.length > 0 || gone.size > 0 ? { allMasked: selection.allMasked } : undefined;
      let stream: IngestStream | undefined;
      if ('inProgress' in chosen) {
        // Arriving here, or on another instance (a copy relayed from it, opened before the pin is taken).
        stream = streams.find((s) => s.candidate === chosen) ?? (await this.ctx.remoteStreams.copyOf(elsewhere.find((a) => a.candidate === chosen)!));
        if (!stream || stream.state === 'failed') {
          gone.add(chosen.pipeline);
          continue;
        }
      }
      if (record.pinned !== chosen.pipeline) {
        const first = record.pinned === undefined && object.kind === 'segment' && object.number !== undefined;
        if (first && better && !better.timedOut) {
          const waitUntil = this.betterWaitUntil(state, object, candidates, chosen);
          if (waitUntil !== undefined) return { waitUntil };
        }
        // The pin is for good: a record read from this instance's cache may not show another
        // instance's copy yet (recordMayLackCopy). Read once, just before pinning.
        if (first && !readFresh && this.recordMayLackCopy(state, object, candidates, chosen)) {
          readFresh = true;
          continue;
        }
        const winner = await storeCall('delivery', () => metadata.swapPin(state.event, path, record.pinned, chosen.pipeline));
        if (winner !== chosen.pipeline) continue;
        // Only pin changes reach the status page's log: a GET served by the pin in force costs nothing.
        this.ctx.activity.selected(state.event, path, chosen.pipeline, selection.outcome, record.pinned);
        if (first) this.countFirstSelection(state, candidates, chosen, better);
      }
      if (stream) {
        // The pin was taken for its first byte: a failure before the ack gives it up (IngestService.abandon).
        stream.served = true;
        if (count) this.ctx.metrics.selectionCounted(selection.outcome);
        return { stream, selection };
      }
      if ('inProgress' in chosen) continue; // (narrows the type: a PUT still arriving returned above)
      const bytes = await storeCall('delivery', () => segments.get({ event: state.event, pipeline: chosen.pipeline, path }, chosen.etag));
      if (!bytes) {
        gone.add(chosen.pipeline);
        continue;
      }
      if (count) this.ctx.metrics.selectionCounted(selection.outcome);
      return { candidate: chosen, bytes, selection };
    }
    return undefined;
  }

  /**
   * PUTs of the object other instances are receiving (as the feed last polled them), for
   * pipelines with no PUT arriving here; none on an instance alone.
   */
  private arrivingElsewhere(event: string, path: string, local: readonly IngestStream[], gone: ReadonlySet<string>): readonly ArrivingElsewhere[] {
    const arriving = this.ctx.stores.feed.arriving({ event, path });
    if (arriving.length === 0) return arriving;
    return arriving.filter(
      (a) => !this.ctx.streams.isOwn(a.relay) && !gone.has(a.candidate.pipeline) && !local.some((s) => s.candidate.pipeline === a.candidate.pipeline),
    );
  }

  private recordMayLackCopy(state: EventState, object: ObjectPath, candidates: readonly Arrival[], chosen: Arrival): boolean {
    return recordMayLackCopy({
      chosen,
      candidates,
      pipelines: state.pipelines,
      masks: state.masks,
      minQuality: state.config.minQuality ?? 0,
      path: object.path,
      number: object.number!,
    });
  }

  /** Until when the path's first release waits for a better candidate (better-wait.ts), or undefined. */
  private betterWaitUntil(state: EventState, object: ObjectPath, candidates: readonly Arrival[], chosen: Arrival): number | undefined {
    const timeline = timelineFor(state.config, object.rendition ? state.renditions[object.rendition] : undefined) ?? eventTimeline(state);
    return betterWaitUntil({
      chosen,
      candidates,
      masks: state.masks,
      minQuality: state.config.minQuality ?? 0,
      path: object.path,
      number: object.number!,
      pipelines: state.pipelines,
      timeline,
      waitMs: betterWaitMsOf(state.config, timeline?.durationMs),
      nowMs: this.ctx.clock.now(),
    });
  }

  private countFirstSelection(state: EventState, candidates: readonly Arrival[], chosen: Arrival, better: WaitState | undefined): void {
    const first = firstArrival(state.masks.length === 0 ? candidates : candidates.filter((c) => !isMasked(c, state.masks)));
    const outcome = firstSelectionOutcome({
      chosen,
      first,
      minQuality: state.config.minQuality ?? 0,
      waited: better?.waited ?? false,
      timedOut: better?.timedOut ?? false,
    });
    this.ctx.metrics.firstSelection(outcome);
  }

  private found(state: EventState, object: ObjectPath, found: Found, timeline: Timeline | undefined, heldMs?: number): Delivery {
    // Forwarded defects name the chosen one's own when it is defective (a score below minQuality included).
    // A copy scoring below 100 lives like a defective one, one D, so a better copy replaces it soon.
    const defective = found.selection.defectPairs.length > 0 || qualityOf(found.selection.chosen!) < FULL_QUALITY;
    const durationMs = timeline?.durationMs;
    // A clean LL-HLS part lives as long as playlists list it; a defective one like a segment.
    const ttlMs =
      object.part !== undefined && !defective
        ? partTtlMs(durationMs ?? TTL_DEFAULTS.fallbackSegmentMs)
        : servedTtlMs({ kind: object.kind, defective }, durationMs);
    const immutable = object.kind !== 'mutable' && !defective;
    if ('stream' in found) return { kind: 'stream', state, stream: found.stream, selection: found.selection, ttlMs, immutable, durationMs, heldMs };
    return { kind: 'object', state, ...found, ttlMs, immutable, durationMs, heldMs };
  }

  /** A miss says why; the HTTP layer's table says what that is as an answer. */
  private miss(reason: MissReason, state?: EventState, details: MissDetails = {}): Delivery {
    if (!state) return { kind: 'miss', reason };
    return { kind: 'miss', reason, state, ...details };
  }
}

function isFound(result: FindResult): result is Found {
  return result !== undefined && 'selection' in result;
}

function isBetterWait(result: FindResult): result is BetterWait {
  return result !== undefined && 'waitUntil' in result;
}
