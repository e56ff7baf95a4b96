import { describe, expect, it } from 'vitest';
import type { RenditionState } from '../../runtime/domain/model.js';
import { dueMs, inferDurationMs, judgeMissing, type Timeline, timelineFor } from '../../runtime/domain/timing.js';

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
