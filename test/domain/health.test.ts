import { describe, expect, it } from 'vitest';
import { pipelineHealth, UNHEALTHY_AFTER_SEGMENTS } from '../../runtime/domain/health.js';
import type { PipelineState } from '../../runtime/domain/model.js';
import { timelineFor } from '../../runtime/domain/timing.js';

const AST = 1_000_000;
const D = 2_000;
const timeline = timelineFor({ availabilityStartTime: AST, segmentDurationMs: D }, undefined)!;

function state(edge: number | undefined, lastIngestAt = AST): PipelineState {
  return { pipeline: 'a', lastIngestAt, edge, ingests: 1, defective: 0 };
}

describe('pipelineHealth with a timeline', () => {
  // With S = 1, segment n is due at AST + n x D; after edge 5, segment 6 is due at AST + 12000.
  it('is healthy and not late before the next segment is due', () => {
    expect(pipelineHealth(state(5), timeline, 4_000, AST + 11_000)).toEqual({ healthy: true, latenessMs: 0 });
  });

  it('measures lateness from the due time of the segment after the edge', () => {
    expect(pipelineHealth(state(5), timeline, 4_000, AST + 12_500).latenessMs).toBe(500);
  });

  it('stays healthy just under three D late', () => {
    expect(pipelineHealth(state(5), timeline, 4_000, AST + 12_000 + UNHEALTHY_AFTER_SEGMENTS * D - 1).healthy).toBe(true);
  });

  it('turns unhealthy at three D late', () => {
    expect(pipelineHealth(state(5), timeline, 4_000, AST + 12_000 + UNHEALTHY_AFTER_SEGMENTS * D)).toEqual({
      healthy: false,
      latenessMs: 6_000,
    });
  });

  it('uses the timeline D, not the fallback', () => {
    expect(pipelineHealth(state(5), timeline, 60_000, AST + 12_000 + 3 * D).healthy).toBe(false);
  });

  it('falls back to the last ingest time when the pipeline has no numbered segment yet', () => {
    expect(pipelineHealth(state(undefined, AST), timeline, 4_000, AST + D + 100).latenessMs).toBe(100);
  });
});

describe('pipelineHealth without a timeline', () => {
  it('expects the next segment one fallback D after the last ingest', () => {
    expect(pipelineHealth(state(5, 50_000), undefined, 4_000, 55_000)).toEqual({ healthy: true, latenessMs: 1_000 });
  });

  it('turns unhealthy three fallback D late', () => {
    expect(pipelineHealth(state(5, 50_000), undefined, 4_000, 54_000 + 3 * 4_000).healthy).toBe(false);
  });

  it('is not late right after an ingest', () => {
    expect(pipelineHealth(state(5, 50_000), undefined, 4_000, 50_000).latenessMs).toBe(0);
  });
});
