import { describe, expect, it } from 'vitest';
import type { RenditionState } from '../../runtime/domain/model.js';
import { RENDITION_HISTORY } from '../../runtime/domain/model.js';
import { dueMs, inferDurationMs, judgeMissing, keepRecentPublishes, newestPublish, type Timeline, timelineFor } from '../../runtime/domain/timing.js';

const AST = Date.UTC(2024, 0, 1, 12, 0, 0);
const D = 2_000;

function rendition(recent: (readonly [number, number])[]): RenditionState {
  return { rendition: 'video/seg_{n}.m4s', width: 0, recent };
}

const template = (extra: { startNumber?: number; holdGraceMs?: number } = {}): Timeline =>
  timelineFor({ availabilityStartTime: AST, segmentDurationMs: D, ...extra }, undefined)!;

describe('timelineFor: template', () => {
  it('builds a template timeline from AST and D', () => {
    expect(template()).toEqual({ anchorMs: AST, anchorNumber: 0, durationMs: D, holdGraceMs: D, source: 'template' });
  });

  it('makes segment S due at AST + D (end of its media time)', () => {
    expect(dueMs(template({ startNumber: 1 }), 1)).toBe(AST + 2_000);
  });

  it('makes segment S + 9 due at AST + 10 D', () => {
    expect(dueMs(template({ startNumber: 1 }), 10)).toBe(AST + 20_000);
  });

  it('honours a start number other than 1', () => {
    expect(dueMs(template({ startNumber: 100 }), 100)).toBe(AST + 2_000);
  });

  it('honours start number 0', () => {
    expect(dueMs(template({ startNumber: 0 }), 0)).toBe(AST + 2_000);
  });

  it('defaults the hold grace to one D', () => {
    expect(template().holdGraceMs).toBe(D);
  });

  it('takes a configured hold grace', () => {
    expect(template({ holdGraceMs: 500 }).holdGraceMs).toBe(500);
  });

  it('prefers the template over an observed cadence', () => {
    const observed = rendition([
      [1, 10_000],
      [2, 13_000],
      [3, 16_000],
    ]);
    expect(timelineFor({ availabilityStartTime: AST, segmentDurationMs: D }, observed)?.source).toBe('template');
  });
});

describe('timelineFor: cadence', () => {
  it('returns no timeline without a template or a rendition', () => {
    expect(timelineFor({}, undefined)).toBeUndefined();
  });

  it('returns no timeline with D but no AST and too little history', () => {
    expect(timelineFor({ segmentDurationMs: D }, rendition([[1, 0]]))).toBeUndefined();
  });

  it('infers a timeline anchored at the newest segment', () => {
    const timeline = timelineFor(
      {},
      rendition([
        [7, 100_000],
        [8, 102_000],
        [9, 104_000],
      ]),
    );
    expect(timeline).toEqual({ anchorMs: 104_000, anchorNumber: 9, durationMs: 2_000, holdGraceMs: 2_000, source: 'cadence' });
  });

  it('makes the next segment due one D after the newest publish', () => {
    const timeline = timelineFor(
      {},
      rendition([
        [7, 100_000],
        [8, 102_000],
        [9, 104_000],
      ]),
    )!;
    expect(dueMs(timeline, 10)).toBe(106_000);
  });

  it('applies a configured hold grace to an inferred timeline', () => {
    const timeline = timelineFor(
      { holdGraceMs: 300 },
      rendition([
        [1, 0],
        [2, 2_000],
        [3, 4_000],
      ]),
    );
    expect(timeline?.holdGraceMs).toBe(300);
  });

  it('returns no timeline with only two consecutive publishes', () => {
    expect(
      timelineFor(
        {},
        rendition([
          [1, 0],
          [2, 2_000],
        ]),
      ),
    ).toBeUndefined();
  });
});

describe('inferDurationMs', () => {
  it('needs three consecutive publishes (two intervals)', () => {
    expect(
      inferDurationMs([
        [1, 0],
        [2, 2_000],
      ]),
    ).toBeUndefined();
  });

  it('infers D from three consecutive publishes', () => {
    expect(
      inferDurationMs([
        [1, 0],
        [2, 2_000],
        [3, 4_000],
      ]),
    ).toBe(2_000);
  });

  it('takes the median, so one outlier does not move it', () => {
    expect(
      inferDurationMs([
        [1, 0],
        [2, 2_000],
        [3, 4_000],
        [4, 30_000],
      ]),
    ).toBe(2_000);
  });

  it('averages the two middle intervals of an even count', () => {
    expect(
      inferDurationMs([
        [1, 0],
        [2, 1_000],
        [3, 3_000],
        [4, 6_000],
        [5, 10_000],
      ]),
    ).toBe(2_500);
  });

  it('rounds the averaged median to whole ms', () => {
    expect(
      inferDurationMs([
        [1, 0],
        [2, 1_000],
        [3, 2_001],
      ]),
    ).toBe(1_001);
  });

  it('ignores intervals between non-consecutive numbers', () => {
    expect(
      inferDurationMs([
        [1, 0],
        [3, 4_000],
        [5, 8_000],
      ]),
    ).toBeUndefined();
  });

  it('uses only consecutive pairs across a gap', () => {
    expect(
      inferDurationMs([
        [1, 0],
        [2, 2_000],
        [10, 100_000],
        [11, 102_000],
      ]),
    ).toBe(2_000);
  });

  it('ignores a pair published out of order', () => {
    expect(
      inferDurationMs([
        [1, 5_000],
        [2, 4_000],
        [3, 6_000],
      ]),
    ).toBeUndefined();
  });
});

describe('judgeMissing (AST, D = 2000, S = 1, default grace)', () => {
  const timeline = template();

  it('holds segment 1 at the start of its window, AST', () => {
    expect(judgeMissing(timeline, 1, AST)).toEqual({ kind: 'hold', deadlineMs: AST + 4_000 });
  });

  it('holds segment 1 at its due time', () => {
    expect(judgeMissing(timeline, 1, AST + 2_000).kind).toBe('hold');
  });

  it('holds segment 1 at exactly its deadline, AST + 4000', () => {
    expect(judgeMissing(timeline, 1, AST + 4_000)).toEqual({ kind: 'hold', deadlineMs: AST + 4_000 });
  });

  it('calls segment 1 gone one ms past its deadline', () => {
    expect(judgeMissing(timeline, 1, AST + 4_001)).toEqual({ kind: 'gone' });
  });

  it('calls segment 1 future one ms before its window, cacheable for 1 ms', () => {
    expect(judgeMissing(timeline, 1, AST - 1)).toEqual({ kind: 'future', ttlMs: 1 });
  });

  it('gives a far-future segment a TTL that ends exactly when its window starts', () => {
    // Segment 10 is due at AST + 20000; its window starts at AST + 18000.
    expect(judgeMissing(timeline, 10, AST + 5_250)).toEqual({ kind: 'future', ttlMs: 12_750 });
  });

  it('uses a configured hold grace for the deadline', () => {
    expect(judgeMissing(template({ holdGraceMs: 500 }), 1, AST + 2_500)).toEqual({ kind: 'hold', deadlineMs: AST + 2_500 });
  });

  it('calls a segment gone past a configured grace', () => {
    expect(judgeMissing(template({ holdGraceMs: 500 }), 1, AST + 2_501)).toEqual({ kind: 'gone' });
  });

  it('with zero grace holds only up to the due time', () => {
    expect([judgeMissing(template({ holdGraceMs: 0 }), 1, AST + 2_000).kind, judgeMissing(template({ holdGraceMs: 0 }), 1, AST + 2_001).kind]).toEqual([
      'hold',
      'gone',
    ]);
  });
});

describe('timelineFor: what the packager declares (contract v3)', () => {
  /** What the origin saw of a rendition: 100-102 PUT within 2 ms (a catch-up burst, the case). */
  const afterBurst = (declaredMs?: number): RenditionState => ({
    ...rendition([
      [100, 105_000],
      [101, 105_001],
      [102, 105_002],
    ]),
    ...(declaredMs === undefined ? {} : { declaredMs }),
  });

  it('without a declaration, a catch-up burst shrinks the inferred cadence and the next segment looks long gone', () => {
    const timeline = timelineFor({}, afterBurst())!;
    expect(timeline.durationMs).toBeLessThan(1_000);
    expect(judgeMissing(timeline, 103, 105_010).kind).toBe('gone');
  });

  it('never takes a cadence shorter than the declared duration, so the next segment is held after the burst', () => {
    const timeline = timelineFor({}, afterBurst(1_000))!;
    expect(timeline).toMatchObject({ durationMs: 1_000, anchorNumber: 102, anchorMs: 105_002, source: 'declared' });
    expect(judgeMissing(timeline, 103, 105_010)).toEqual({ kind: 'hold', deadlineMs: 105_002 + 2_000 });
  });

  it('keeps an observed cadence longer than the declared duration (a packager slower than real time)', () => {
    const slow = {
      ...rendition([
        [1, 0],
        [2, 2_500],
        [3, 5_000],
      ]),
      declaredMs: 2_000,
    };
    expect(timelineFor({}, slow)).toMatchObject({ durationMs: 2_500, source: 'cadence' });
  });

  it('builds a timeline from the declared duration and one publish, before any cadence can be seen', () => {
    expect(timelineFor({}, { ...rendition([[7, 50_000]]), declaredMs: 2_000 })).toEqual({
      anchorMs: 50_000,
      anchorNumber: 7,
      durationMs: 2_000,
      holdGraceMs: 2_000,
      source: 'declared',
    });
  });

  it('has no timeline from a declaration alone, with nothing published to anchor it', () => {
    expect(timelineFor({}, { ...rendition([]), declaredMs: 2_000 })).toBeUndefined();
  });

  it('lets the event template win over a declaration', () => {
    expect(timelineFor({ availabilityStartTime: AST, segmentDurationMs: D }, afterBurst(1_000))?.source).toBe('template');
  });

  it('after 10 s of silence and a catch-up burst, holds the next segment and calls only the older past ones gone', () => {
    // 1 s segments up to 20, nothing for 10 s, then 21-30 within 9 ms: ten of fifteen intervals are 1 ms.
    const recent: [number, number][] = [];
    for (let n = 15; n <= 20; n++) recent.push([n, n * 1_000]);
    for (let n = 21; n <= 30; n++) recent.push([n, 30_000 + (n - 21)]);
    expect(inferDurationMs(recent)).toBe(1);
    const timeline = timelineFor({}, { ...rendition(recent), declaredMs: 1_000 })!;
    expect(timeline.durationMs).toBe(1_000);
    expect(judgeMissing(timeline, 31, 30_020).kind).toBe('hold');
    expect(judgeMissing(timeline, 33, 30_020).kind).toBe('future');
  });
});

describe('timelineFor: a packager restarted with new numbers', () => {
  it('anchors at the restarted stream when it starts again below the old numbers', () => {
    // The old stream ran to 120 at 2 s; the packager restarts 30 s later at 0.
    const recent: [number, number][] = [];
    for (let n = 110; n <= 120; n++) recent.push([n, n * 2_000]);
    const restartedAt = 120 * 2_000 + 30_000;
    const history = keepRecentPublishes([...recent, [0, restartedAt]]);
    const timeline = timelineFor({}, { ...rendition(history), declaredMs: 2_000 })!;
    expect(timeline).toMatchObject({ anchorNumber: 0, anchorMs: restartedAt, durationMs: 2_000 });
    expect(dueMs(timeline, 1)).toBe(restartedAt + 2_000);
    expect(judgeMissing(timeline, 1, restartedAt + 100).kind).toBe('hold');
  });

  it('anchors at the restarted stream when its numbers jump ahead (epoch-based numbering)', () => {
    const recent: [number, number][] = [
      [10, 20_000],
      [11, 22_000],
      [12, 24_000],
      [900_000, 60_000],
    ];
    const timeline = timelineFor({}, rendition(recent))!;
    expect(timeline).toMatchObject({ anchorNumber: 900_000, anchorMs: 60_000, durationMs: 2_000 });
  });

  it('keeps the most recent first publishes, so the restarted numbers stay while the old ones age out', () => {
    const old: [number, number][] = [];
    for (let n = 200; n < 200 + RENDITION_HISTORY; n++) old.push([n, n]);
    const restarted: [number, number][] = [
      [1, 10_000],
      [2, 10_002],
      [3, 10_004],
    ];
    const kept = keepRecentPublishes([...old, ...restarted]);
    expect(kept).toHaveLength(RENDITION_HISTORY);
    expect(kept.slice(0, 3)).toEqual(restarted);
    expect(kept[3]).toEqual([203, 203]);
    expect(newestPublish(kept)).toEqual([3, 10_004]);
  });
});
