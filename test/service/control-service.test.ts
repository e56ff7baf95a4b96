/**
 * ControlService on the memory stores and fake time: configuration, status, invalidations and
 * their purges (a recording purger), and pipeline health as the clock moves.
 */
import { describe, expect, it } from 'vitest';
import { MAX_MASKS_PER_EVENT } from '../../runtime/service/control-service.js';
import { services } from './harness.js';

const D = 2_000;

describe('ControlService: configuration and status', () => {
  it('creates an event with its first configuration (true), then replaces it (false), dated by the clock', async () => {
    const s = services();
    expect(await s.control.putConfig('ev', { pipelines: ['b', 'a'] })).toBe(true);
    await s.clock.advance(5_000);
    expect(await s.control.putConfig('ev', { pipelines: ['a', 'b'], segmentDurationMs: D, availabilityStartTime: s.clock.now() })).toBe(false);
    const status = await s.control.status('ev');
    expect(status).toMatchObject({
      event: 'ev',
      createdAt: new Date(s.clock.now() - 5_000).toISOString(),
      config: { pipelines: ['a', 'b'], segmentDurationMs: D, availabilityStartTime: new Date(s.clock.now()).toISOString() },
    });
  });

  it('answers not_found for the status of an unknown event, and peek answers nothing', async () => {
    const s = services();
    await expect(s.control.status('nobody')).rejects.toMatchObject({ code: 'not_found' });
    expect(await s.control.peek('nobody')).toBeUndefined();
  });

  it('lists events most recently active first; peek does not reorder them', async () => {
    const s = services();
    for (const event of ['one', 'two', 'three']) await s.control.putConfig(event, {});
    await s.control.status('one');
    await s.control.peek('two');
    expect(s.control.activeEvents()).toEqual(['one', 'three', 'two']);
  });

  it('reports each pipeline in order with its live edge, last ingest and defective count', async () => {
    const s = services();
    await s.control.putConfig('ev', { pipelines: ['b', 'a'] });
    await s.publish('ev', 'a', 'v/seg_3.m4s', 'a3', { defects: ['short'] });
    await s.clock.advance(100);
    await s.publish('ev', 'b', 'v/seg_2.m4s', 'b2');
    const { pipelines } = (await s.control.status('ev')) as { pipelines: Record<string, unknown>[] };
    expect(pipelines.map((p) => [p.pipeline, p.liveEdge, p.lastIngestAt, p.defectiveIngests])).toEqual([
      ['b', 2, new Date(s.clock.now()).toISOString(), 0],
      ['a', 3, new Date(s.clock.now() - 100).toISOString(), 1],
    ]);
  });
});

describe('ControlService: invalidations', () => {
  it('masks a number range in every rendition, dated by the clock, and purges each path it covers', async () => {
    const s = services();
    await s.publish('ev', 'a', 'video/seg_0007.m4s', 'v');
    await s.publish('ev', 'a', 'audio/seg_7.m4s', 'a');
    await s.clock.advance(250);
    expect(await s.control.invalidate('ev', { kind: 'mask', mask: { from: 7, to: 8 } })).toEqual({ purged: 4 });
    expect(s.purger.paths('ev').sort()).toEqual(['audio/seg_7.m4s', 'audio/seg_8.m4s', 'video/seg_0007.m4s', 'video/seg_0008.m4s']);
    const state = await s.stores.metadata.getEvent('ev');
    expect(state?.masks).toEqual([{ from: 7, to: 8, createdAt: s.clock.now() }]);
    expect((await s.get('ev', 'video/seg_0007.m4s')).kind === 'miss').toBe(true);
  });

  it('masks listed paths for one pipeline only, and serves the other', async () => {
    const s = services();
    await s.control.putConfig('ev', { pipelines: ['a', 'b'] });
    await s.publish('ev', 'a', 'v/init.mp4', 'a init');
    await s.publish('ev', 'b', 'v/init.mp4', 'b init');
    await s.control.invalidate('ev', { kind: 'mask', mask: { paths: ['v/init.mp4'], pipeline: 'a' } });
    expect(s.purger.paths('ev')).toEqual(['v/init.mp4']);
    const answer = await s.get('ev', 'v/init.mp4');
    expect(answer.kind === 'object' && answer.candidate.pipeline).toBe('b');
  });

  it('flushes a whole event: clears its pins and purges everything under it', async () => {
    const s = services();
    await s.publish('ev', 'a', 'v/seg_1.m4s', 'one');
    await s.get('ev', 'v/seg_1.m4s');
    expect(await s.control.invalidate('ev', { kind: 'flush' })).toEqual({ purged: 1 });
    expect(s.purger.purges).toEqual([{ event: 'ev', paths: ['*'] }]);
    expect((await s.stores.metadata.getObject('ev', 'v/seg_1.m4s')).pinned).toBeUndefined();
  });

  it('refuses a mask past the bound an event keeps', async () => {
    const s = services();
    await s.control.putConfig('ev', {});
    for (let i = 0; i < MAX_MASKS_PER_EVENT; i++) await s.control.invalidate('ev', { kind: 'mask', mask: { from: i, to: i } });
    await expect(s.control.invalidate('ev', { kind: 'mask', mask: { from: 0, to: 0 } })).rejects.toMatchObject({ code: 'bad_request' });
  });
});

describe('ControlService: pipeline health on the clock', () => {
  it('reports a pipeline healthy while it publishes on time, and unhealthy with its lateness once it is overdue', async () => {
    const s = services();
    await s.liveEvent('ev', 10, D);
    await s.publish('ev', 'a', 'v/seg_10.m4s', 'ten');
    await s.control.refreshHealth();
    expect(s.metrics.health).toEqual([{ event: 'ev', pipeline: 'a', healthy: true, latenessMs: 0 }]);
    // Segment 11 is due two D from the configuration; three D late, the pipeline is unhealthy.
    await s.clock.advance(5 * D - 1);
    await s.control.refreshHealth();
    expect(s.metrics.health).toEqual([{ event: 'ev', pipeline: 'a', healthy: true, latenessMs: 3 * D - 1 }]);
    await s.clock.advance(1);
    await s.control.refreshHealth();
    expect(s.metrics.health).toEqual([{ event: 'ev', pipeline: 'a', healthy: false, latenessMs: 3 * D }]);
  });
});
