import { describe, expect, it } from 'vitest';
import { judgeMissingPart, partTtlMs, precedingPartPath } from '../../runtime/domain/ll-hls-parts.js';
import { parseObjectPath } from '../../runtime/domain/object-path.js';
import type { Timeline } from '../../runtime/domain/timing.js';
import { dueMs, judgeMissing } from '../../runtime/domain/timing.js';

const D = 2000;
const timeline: Timeline = { anchorMs: 1_000_000, anchorNumber: 0, durationMs: D, holdGraceMs: D, source: 'template' };

describe('judgeMissingPart', () => {
  const n = 10;
  const due = dueMs(timeline, n);

  it('holds a part of segment n while segment n - 1 is being cut, when the segment itself is still future', () => {
    const now = due - D - 100;
    expect(judgeMissing(timeline, n, now).kind).toBe('future');
    expect(judgeMissingPart(timeline, n, now)).toEqual({ kind: 'hold', deadlineMs: due + D });
  });

  it('answers 404 until one segment before that, cacheable until the part window opens', () => {
    expect(judgeMissingPart(timeline, n, due - 2 * D - 300)).toEqual({ kind: 'future', ttlMs: 300 });
  });

  it('follows its segment inside the segment window and after the deadline', () => {
    expect(judgeMissingPart(timeline, n, due - 10)).toEqual(judgeMissing(timeline, n, due - 10));
    expect(judgeMissingPart(timeline, n, due + D + 1)).toEqual({ kind: 'gone' });
  });
});

describe('partTtlMs', () => {
  it('keeps a part three segment durations, as long as it stays in a playlist', () => {
    expect(partTtlMs(2000)).toBe(6000);
  });
});

describe('precedingPartPath', () => {
  it('names the part before, or part 0 of the previous segment, keeping the padding', () => {
    expect(precedingPartPath(parseObjectPath('v/filePart273.4.mp4'))).toBe('v/filePart273.3.mp4');
    expect(precedingPartPath(parseObjectPath('v/filePart273.0.mp4'))).toBe('v/filePart272.0.mp4');
    expect(precedingPartPath(parseObjectPath('v/filePart0273.0.mp4'))).toBe('v/filePart0272.0.mp4');
    expect(precedingPartPath(parseObjectPath('v/p10.010.mp4'))).toBe('v/p10.009.mp4');
  });

  it('has nothing before part 0 of segment 0, nor for parts numbered by headers or whole segments', () => {
    expect(precedingPartPath(parseObjectPath('v/filePart0.0.mp4'))).toBeUndefined();
    expect(precedingPartPath(parseObjectPath('v/chunk_7.m4s', { segment: 7, part: 2 }))).toBeUndefined();
    expect(precedingPartPath(parseObjectPath('v/seg_7.m4s'))).toBeUndefined();
  });
});
