/**
 * IngestService on the memory stores and fake time: what a publish stores and counts, and
 * which purges it asks the CDN for (a recording purger), decided at exact moments of the clock.
 */
import { describe, expect, it } from 'vitest';
import { services } from './harness.js';

const D = 2_000;

describe('IngestService: publishing', () => {
  it('creates the event on its first publish, at the clock time, and answers 201 then 200 for the same bytes', async () => {
    const s = services();
    await s.clock.advance(42);
    const first = await s.publish('ev', 'a', 'v/seg_1.m4s', 'one');
    const again = await s.publish('ev', 'a', 'v/seg_1.m4s', 'one');
    expect([first.status, again.status, again.etag]).toEqual([201, 200, first.etag]);
    const state = await s.stores.metadata.getEvent('ev');
    expect(state?.createdAt).toBe(s.clock.now());
    expect(state?.pipelines.a).toMatchObject({ lastIngestAt: s.clock.now(), edge: 1, ingests: 1 });
    expect(s.metrics.ingests.map((i) => i.result)).toEqual(['created', 'identical']);
    expect(s.metrics.conflicts).toEqual([]);
  });

  it('counts other bytes for a published segment as a conflicting PUT, but not a playlist update', async () => {
    const s = services();
    await s.publish('ev', 'a', 'v/seg_1.m4s', 'one');
    expect((await s.publish('ev', 'a', 'v/seg_1.m4s', 'one, again')).status).toBe(200);
    await s.publish('ev', 'a', 'v/index.m3u8', '#EXTM3U\n#1');
    await s.publish('ev', 'a', 'v/index.m3u8', '#EXTM3U\n#2');
    expect(s.metrics.conflicts).toEqual(['a']);
    expect(s.metrics.ingests.map((i) => i.result)).toEqual(['created', 'replaced', 'created', 'replaced']);
  });

  it('releases the requests held for the object', async () => {
    const s = services();
    await s.liveEvent('ev', 10, D);
    const held = s.get('ev', 'v/seg_10.m4s');
    await s.clock.advance(10);
    await s.publish('ev', 'a', 'v/seg_10.m4s', 'ten');
    expect((await held).kind).toBe('object');
  });

  it('lets an operator read one pipeline candidate as stored, and answers not_found for another', async () => {
    const s = services();
    await s.publish('ev', 'a', 'v/seg_1.m4s', 'one', { defects: ['short'] });
    const { candidate, bytes } = await s.ingest.inspect('ev', 'a', 'v/seg_1.m4s');
    expect([candidate.defects, candidate.publishedAt, bytes.body.toString()]).toEqual([['short'], s.clock.now(), 'one']);
    await expect(s.ingest.inspect('ev', 'b', 'v/seg_1.m4s')).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('IngestService: purges', () => {
  it('purges a served path when its candidate is replaced by other bytes, and not an unserved one', async () => {
    const s = services();
    await s.publish('ev', 'a', 'v/seg_1.m4s', 'one');
    await s.publish('ev', 'a', 'v/seg_2.m4s', 'two');
    await s.get('ev', 'v/seg_1.m4s');
    await s.publish('ev', 'a', 'v/seg_1.m4s', 'one, fixed');
    await s.publish('ev', 'a', 'v/seg_2.m4s', 'two, fixed');
    expect(s.purger.purges).toEqual([{ event: 'ev', paths: ['v/seg_1.m4s'] }]);
  });

  it('purges a served path when a defect is reported on it (PATCH), and re-selects', async () => {
    const s = services();
    await s.control.putConfig('ev', { pipelines: ['a', 'b'] });
    await s.publish('ev', 'a', 'v/seg_1.m4s', 'a');
    await s.publish('ev', 'b', 'v/seg_1.m4s', 'b');
    await s.get('ev', 'v/seg_1.m4s');
    const updated = await s.ingest.patchDefects('ev', 'a', 'v/seg_1.m4s', 'corrupt');
    expect(updated.defects).toEqual(['corrupt']);
    expect(s.purger.paths('ev')).toEqual(['v/seg_1.m4s']);
    expect(s.metrics.defects).toEqual([{ pipeline: 'a', kinds: ['corrupt'] }]);
    const answer = await s.get('ev', 'v/seg_1.m4s');
    expect(answer.kind === 'object' && answer.candidate.pipeline).toBe('b');
  });

  it('purges a segment published after its deadline, when a 410 may be cached, but not one published in time', async () => {
    const s = services();
    await s.liveEvent('ev', 10, D);
    await s.publish('ev', 'a', 'v/seg_10.m4s', 'in time');
    // Segment 9's deadline (due now, plus one D of grace) passes.
    await s.clock.advance(D + 1);
    await s.publish('ev', 'a', 'v/seg_9.m4s', 'late');
    expect(s.purger.purges).toEqual([{ event: 'ev', paths: ['v/seg_9.m4s'] }]);
  });

  it('never purges a playlist for an update, however often it changes', async () => {
    const s = services();
    await s.publish('ev', 'a', 'v/index.m3u8', '#EXTM3U\n#1');
    await s.get('ev', 'v/index.m3u8');
    await s.publish('ev', 'a', 'v/index.m3u8', '#EXTM3U\n#2');
    expect(s.purger.purges).toEqual([]);
  });

  it('purges a served path when its candidate is deleted, and answers not_found for one that is not there', async () => {
    const s = services();
    await s.publish('ev', 'a', 'v/seg_1.m4s', 'one');
    await s.get('ev', 'v/seg_1.m4s');
    await s.ingest.delete('ev', 'a', 'v/seg_1.m4s');
    expect(s.purger.paths('ev')).toEqual(['v/seg_1.m4s']);
    await expect(s.ingest.delete('ev', 'a', 'v/seg_1.m4s')).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('IngestService: streams', () => {
  const start = { event: 'ev', pipeline: 'a', object: { path: 'v/seg_4.m4s', kind: 'segment' as const, number: 4 }, contentType: 'video/mp4', defects: [] };

  it('does not stream a playlist: a partial one is no playlist', () => {
    const s = services();
    expect(s.ingest.begin({ ...start, object: { path: 'v/index.m3u8', kind: 'mutable' } })).toBeUndefined();
  });

  it('completes a stream on the ack, and refuses a PATCH while its PUT still arrives (conflict)', async () => {
    const s = services();
    const stream = s.ingest.begin(start)!;
    expect(stream.candidate.startedAt).toBe(s.clock.now());
    await expect(s.ingest.patchDefects('ev', 'a', 'v/seg_4.m4s', 'short')).rejects.toMatchObject({ code: 'conflict' });
    stream.append(Buffer.from('four'));
    await s.publish('ev', 'a', 'v/seg_4.m4s', 'four', { stream });
    expect([stream.state, s.metrics.streams]).toEqual(['complete', ['complete']]);
    expect((await s.ingest.patchDefects('ev', 'a', 'v/seg_4.m4s', 'short')).defects).toEqual(['short']);
  });

  it('keeps the pin of a failed stream when its pipeline has a complete version of the object', async () => {
    const s = services();
    await s.publish('ev', 'a', 'v/seg_4.m4s', 'four');
    await s.get('ev', 'v/seg_4.m4s');
    const stream = s.ingest.begin(start)!;
    stream.served = true;
    s.ingest.abandon(stream);
    await s.clock.advance(0);
    expect((await s.stores.metadata.getObject('ev', 'v/seg_4.m4s')).pinned).toBe('a');
    expect(s.metrics.streams).toEqual(['failed']);
  });
});
