import { describe, expect, it } from 'vitest';
import type { Arrival, BetterWaitInput } from '../../runtime/domain/better-wait.js';
import {
  betterWaitUntil,
  defaultBetterWaitMs,
  firstArrival,
  firstSelectionOutcome,
  mayStillArrive,
  recordMayLackCopy,
} from '../../runtime/domain/better-wait.js';
import { UNHEALTHY_AFTER_SEGMENTS } from '../../runtime/domain/health.js';
import type { Candidate, InProgressCandidate, PipelineState } from '../../runtime/domain/model.js';
import { timelineFor } from '../../runtime/domain/timing.js';

const AST = 1_000_000;
const D = 2_000;
const WAIT = 250;
const timeline = timelineFor({ availabilityStartTime: AST, segmentDurationMs: D }, undefined)!;
/** Segment 10 is due at AST + 10 x D (start number 1): its copies arrive about then. */
const DUE_10 = AST + 10 * D;
const PATH = 'v/seg_10.m4s';

function complete(pipeline: string, publishedAt: number, overrides: Partial<Candidate> = {}): Candidate {
  return {
    event: 'news',
    pipeline,
    path: PATH,
    kind: 'segment',
    number: 10,
    rendition: 'v/seg_{n}.m4s',
    etag: `"${pipeline}"`,
    size: 1,
    contentType: 'video/mp4',
    defects: [],
    publishedAt,
    ...overrides,
  };
}

function arriving(pipeline: string, startedAt: number, overrides: Partial<InProgressCandidate> = {}): InProgressCandidate {
  return {
    event: 'news',
    pipeline,
    path: PATH,
    kind: 'segment',
    number: 10,
    rendition: 'v/seg_{n}.m4s',
    contentType: 'video/mp4',
    defects: [],
    startedAt,
    inProgress: true,
    ...overrides,
  };
}

/** A pipeline that published segment `edge` on time. */
function pipeline(id: string, edge: number): PipelineState {
  return { pipeline: id, lastIngestAt: AST + edge * D, edge, ingests: edge, defective: 0 };
}

const LIVE = { a: pipeline('a', 9), b: pipeline('b', 9) };

function input(candidates: Arrival[], overrides: Partial<BetterWaitInput> = {}): BetterWaitInput {
  return {
    chosen: candidates[0]!,
    candidates,
    masks: [],
    minQuality: 0,
    path: PATH,
    number: 10,
    pipelines: LIVE,
    timeline,
    waitMs: WAIT,
    nowMs: DUE_10 + 10,
    ...overrides,
  };
}

describe('defaultBetterWaitMs', () => {
  it('is the smaller of 250 ms and D/8, with D 2 s until one is known', () => {
    expect([2_000, 1_000, 6_000, 100, undefined].map(defaultBetterWaitMs)).toEqual([250, 125, 250, 12, 250]);
  });
});

describe('betterWaitUntil', () => {
  it('does not wait for a clean candidate of score 100', () => {
    expect(betterWaitUntil(input([complete('a', DUE_10)]))).toBeUndefined();
  });

  it('waits until betterWaitMs after the first arrival for a defective one while another pipeline is live', () => {
    expect(betterWaitUntil(input([complete('a', DUE_10, { defects: ['corrupt'] })]))).toBe(DUE_10 + WAIT);
  });

  it('waits for a clean one scoring below 100 too', () => {
    expect(betterWaitUntil(input([complete('a', DUE_10, { quality: 99 })]))).toBe(DUE_10 + WAIT);
  });

  it('measures the window from the first arrival, not from the request (one arriving late waits for the rest of it)', () => {
    const first = complete('a', DUE_10, { quality: 40 });
    expect(betterWaitUntil(input([first], { nowMs: DUE_10 + 200 }))).toBe(DUE_10 + WAIT);
    expect(betterWaitUntil(input([first], { nowMs: DUE_10 + WAIT }))).toBeUndefined();
  });

  it('counts a candidate still arriving from its first byte', () => {
    expect(betterWaitUntil(input([arriving('a', DUE_10 - 1_500, { quality: 40 })], { nowMs: DUE_10 - 1_400 }))).toBe(DUE_10 - 1_500 + WAIT);
  });

  it('does not wait when every other pipeline already has a candidate here', () => {
    const candidates = [complete('b', DUE_10 + 5, { quality: 60 }), complete('a', DUE_10, { quality: 40 })];
    expect(betterWaitUntil(input(candidates))).toBeUndefined();
  });

  it('does not wait for a pipeline that is not at the edge (its last segment is older than the two before)', () => {
    expect(betterWaitUntil(input([complete('a', DUE_10, { quality: 40 })], { pipelines: { a: LIVE.a, b: pipeline('b', 7) } }))).toBeUndefined();
  });

  it('waits for a pipeline still finishing the segment before (its newest acknowledged is two before)', () => {
    expect(
      betterWaitUntil(input([arriving('a', DUE_10 - D, { defects: ['corrupt'] })], { pipelines: { a: LIVE.a, b: pipeline('b', 8) }, nowMs: DUE_10 - D + 10 })),
    ).toBe(DUE_10 - D + WAIT);
  });

  it('waits for a pipeline already ahead of this segment (it has not sent this rendition yet)', () => {
    expect(betterWaitUntil(input([complete('a', DUE_10, { quality: 40 })], { pipelines: { a: LIVE.a, b: pipeline('b', 11) } }))).toBe(DUE_10 + WAIT);
  });

  it('does not wait for a pipeline that is late enough to be unhealthy', () => {
    const late = DUE_10 + UNHEALTHY_AFTER_SEGMENTS * D;
    const first = complete('a', late - 10, { quality: 40 });
    expect(betterWaitUntil(input([first], { nowMs: late }))).toBeUndefined();
    expect(betterWaitUntil(input([first], { nowMs: late - 1 }))).toBe(late - 10 + WAIT);
  });

  it('does not wait without another pipeline, with a wait of 0, or for a pipeline masked for this path', () => {
    const first = complete('a', DUE_10, { quality: 40 });
    expect(betterWaitUntil(input([first], { pipelines: { a: LIVE.a } }))).toBeUndefined();
    expect(betterWaitUntil(input([first], { waitMs: 0 }))).toBeUndefined();
    expect(betterWaitUntil(input([first], { masks: [{ from: 10, to: 10, pipeline: 'b', createdAt: 0 }] }))).toBeUndefined();
  });

  it('starts the window at the first unmasked arrival', () => {
    const masked = complete('c', DUE_10 - 100, { quality: 40 });
    const first = complete('a', DUE_10, { quality: 40 });
    const pipelines = { ...LIVE, c: pipeline('c', 9) };
    expect(betterWaitUntil(input([first, masked], { pipelines, masks: [{ paths: [PATH], pipeline: 'c', createdAt: 0 }] }))).toBe(DUE_10 + WAIT);
  });

  it('judges the chosen candidate below minQuality as defective', () => {
    expect(betterWaitUntil(input([complete('a', DUE_10, { quality: 100 })], { minQuality: 100 }))).toBeUndefined();
  });
});

describe('recordMayLackCopy', () => {
  const read = (chosen: Arrival, candidates: Arrival[], overrides: { pipelines?: Record<string, PipelineState>; masks?: BetterWaitInput['masks'] } = {}) =>
    recordMayLackCopy({ chosen, candidates, pipelines: overrides.pipelines ?? LIVE, masks: overrides.masks ?? [], minQuality: 0, path: PATH, number: 10 });

  it('says so when a degraded or defective copy would be pinned and a pipeline at the edge has none in the record', () => {
    const degraded = complete('a', DUE_10, { quality: 40 });
    expect(read(degraded, [degraded])).toBe(true);
    const defective = complete('a', DUE_10, { defects: ['corrupt'] });
    expect(read(defective, [defective], { pipelines: { a: LIVE.a, b: pipeline('b', 10) } })).toBe(true);
  });

  it('does not for a clean copy of score 100, once every pipeline has a copy, or for a pipeline behind the edge or masked here', () => {
    const clean = complete('a', DUE_10);
    expect(read(clean, [clean])).toBe(false);
    const degraded = complete('a', DUE_10, { quality: 40 });
    expect(read(degraded, [degraded, arriving('b', DUE_10)])).toBe(false);
    expect(read(degraded, [degraded], { pipelines: { a: LIVE.a, b: pipeline('b', 7) } })).toBe(false);
    expect(read(degraded, [degraded], { masks: [{ paths: [PATH], pipeline: 'b', createdAt: 0 }] })).toBe(false);
  });
});

describe('mayStillArrive', () => {
  it('needs an edge at most two before the segment (a streamed segment is acknowledged after its last byte)', () => {
    const edges = [9, 8, 7].map((edge) => mayStillArrive(pipeline('b', edge), 10, timeline, DUE_10));
    expect(edges).toEqual([true, true, false]);
    expect(mayStillArrive({ pipeline: 'b', lastIngestAt: DUE_10, ingests: 1, defective: 0 }, 10, timeline, DUE_10)).toBe(false);
  });
});

describe('firstArrival', () => {
  it('takes the earliest, arriving ones by their first byte, complete ones by their ack', () => {
    const a = complete('a', 200);
    const b = arriving('b', 100);
    expect(firstArrival([a, b])).toBe(b);
    expect(firstArrival([a, complete('c', 200)])).toBe(a);
    expect(firstArrival([])).toBeUndefined();
  });
});

describe('firstSelectionOutcome', () => {
  const degraded = complete('a', 0, { quality: 40 });
  const defective = complete('a', 0, { defects: ['corrupt'] });
  const better = complete('b', 50, { quality: 100 });

  it('says clean for a clean 100 served at once', () => {
    expect(firstSelectionOutcome({ chosen: better, first: better, minQuality: 0, waited: false, timedOut: false })).toBe('clean');
  });

  it('says better_after_wait when the request waited and a better copy than the first came', () => {
    expect(firstSelectionOutcome({ chosen: better, first: degraded, minQuality: 0, waited: true, timedOut: false })).toBe('better_after_wait');
    expect(firstSelectionOutcome({ chosen: complete('b', 50, { quality: 60 }), first: defective, minQuality: 0, waited: true, timedOut: true })).toBe(
      'better_after_wait',
    );
  });

  it('says wait_timed_out when the window ran out with nothing better', () => {
    expect(firstSelectionOutcome({ chosen: degraded, first: degraded, minQuality: 0, waited: true, timedOut: true })).toBe('wait_timed_out');
  });

  it('says degraded when a defective or lower copy went out without a wait, or the copies that came were no better', () => {
    expect(firstSelectionOutcome({ chosen: defective, first: defective, minQuality: 0, waited: false, timedOut: false })).toBe('degraded');
    expect(firstSelectionOutcome({ chosen: degraded, first: degraded, minQuality: 0, waited: true, timedOut: false })).toBe('degraded');
    expect(firstSelectionOutcome({ chosen: complete('a', 0, { quality: 80 }), first: undefined, minQuality: 90, waited: false, timedOut: false })).toBe(
      'degraded',
    );
  });
});
