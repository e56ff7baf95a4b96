/**
 * DeliveryService on the memory stores and fake time: every verdict is judged at an exact
 * moment of the clock, so holds, deadlines and 404/410 timing are checked to the millisecond
 * without a server or a sleep.
 */
import { describe, expect, it } from 'vitest';
import { TTL_DEFAULTS } from '../../runtime/domain/ttl.js';
import type { Delivery } from '../../runtime/service/delivery-service.js';
import { services, settled } from './harness.js';

const D = 2_000;

/** The object's body, or what came instead. */
function outcome(delivery: Delivery): string {
  if (delivery.kind === 'object') return `object ${delivery.candidate.pipeline} ${delivery.bytes.body.toString()}`;
  if (delivery.kind === 'miss') return `miss ${delivery.reason}`;
  return delivery.kind;
}

describe('DeliveryService: objects and pins', () => {
  it('answers unknown_event, without event state, for an event nobody published or configured', async () => {
    const s = services();
    const answer = await s.get('nobody', 'v/seg_1.m4s');
    expect(answer).toEqual({ kind: 'miss', reason: 'unknown_event' });
  });

  it('serves a published segment with an immutable lifetime, and counts the selection', async () => {
    const s = services();
    await s.publish('ev', 'a', 'v/seg_1.m4s', 'one');
    const answer = await s.get('ev', 'v/seg_1.m4s');
    expect(outcome(answer)).toBe('object a one');
    expect(answer.kind === 'object' && [answer.ttlMs, answer.immutable, answer.heldMs]).toEqual([TTL_DEFAULTS.immutableMs, true, undefined]);
    expect(s.metrics.selections).toEqual(['clean']);
  });

  it('prefers a clean candidate to a defective one, then keeps serving the pinned one when the other heals', async () => {
    const s = services();
    await s.control.putConfig('ev', { pipelines: ['a', 'b'] });
    await s.publish('ev', 'a', 'v/seg_1.m4s', 'a bad', { defects: ['short'] });
    await s.publish('ev', 'b', 'v/seg_1.m4s', 'b good');
    expect(outcome(await s.get('ev', 'v/seg_1.m4s'))).toBe('object b b good');
    expect((await s.stores.metadata.getObject('ev', 'v/seg_1.m4s')).pinned).toBe('b');
    await s.publish('ev', 'a', 'v/seg_1.m4s', 'a healed');
    expect(outcome(await s.get('ev', 'v/seg_1.m4s'))).toBe('object b b good');
    // The status page's log has the one pin, not every GET.
    expect(s.activity.recent(() => true).selections.map((entry) => [entry.pipeline, entry.at])).toEqual([['b', s.clock.now()]]);
  });

  it('serves every candidate defective as the first in order, for one segment duration', async () => {
    const s = services();
    await s.liveEvent('ev', 10, D, { pipelines: ['b', 'a'] });
    await s.publish('ev', 'a', 'v/seg_5.m4s', 'a bad', { defects: ['tfdt'] });
    await s.publish('ev', 'b', 'v/seg_5.m4s', 'b bad', { defects: ['short'] });
    const answer = await s.get('ev', 'v/seg_5.m4s');
    expect(outcome(answer)).toBe('object b b bad');
    expect(answer.kind === 'object' && [answer.ttlMs, answer.immutable, answer.selection.defectPairs]).toEqual([D, false, ['b=short', 'a=tfdt']]);
  });

  it('answers masked (410) once every candidate is invalidated, and absent (404) for a static object nobody published', async () => {
    const s = services();
    await s.publish('ev', 'a', 'v/seg_7.m4s', 'seven');
    await s.control.invalidate('ev', { kind: 'mask', mask: { from: 7, to: 7 } });
    expect(outcome(await s.get('ev', 'v/seg_7.m4s'))).toBe('miss masked');
    expect(outcome(await s.get('ev', 'v/init.mp4'))).toBe('miss absent');
  });
});

describe('DeliveryService: timing on the clock', () => {
  it('holds a segment in its hold window and serves it when published, saying how long it held', async () => {
    const s = services();
    await s.liveEvent('ev', 10, D);
    const pending = s.get('ev', 'v/seg_10.m4s');
    await s.clock.advance(750);
    expect(await settled(pending)).toBe(false);
    expect(s.holds.held).toBe(1);
    await s.publish('ev', 'a', 'v/seg_10.m4s', 'ten');
    const answer = await pending;
    expect(outcome(answer)).toBe('object a ten');
    expect(answer.kind === 'object' && answer.heldMs).toBe(750);
    expect(s.holds.held).toBe(0);
  });

  it('answers hold_timeout at the deadline (due + one D), not a millisecond before, leaving the lifetime to the reason', async () => {
    const s = services();
    await s.liveEvent('ev', 10, D);
    const pending = s.get('ev', 'v/seg_10.m4s');
    // Due one D from now; the default grace is one more D.
    await s.clock.advance(2 * D - 1);
    expect(await settled(pending)).toBe(false);
    await s.clock.advance(1);
    const answer = await pending;
    expect(answer).toMatchObject({ kind: 'miss', reason: 'hold_timeout', heldMs: 2 * D, durationMs: D });
    expect(answer.kind === 'miss' && answer.ttlMs).toBeUndefined();
    expect(s.metrics.holdTimeouts).toBe(1);
  });

  it('answers future for a segment ahead of its hold window, with the lifetime until the window opens', async () => {
    const s = services();
    await s.liveEvent('ev', 10, D);
    await s.clock.advance(123);
    const answer = await s.get('ev', 'v/seg_13.m4s');
    // Segment 13 is due 4 D after the configuration, so its window opens at 3 D.
    expect(answer).toMatchObject({ kind: 'miss', reason: 'future', ttlMs: 3 * D - 123, availableAt: s.clock.now() + 3 * D - 123 });
  });

  it('holds the same segment once its window opens', async () => {
    const s = services();
    await s.liveEvent('ev', 10, D);
    await s.clock.advance(3 * D - 1);
    expect(outcome(await s.get('ev', 'v/seg_13.m4s'))).toBe('miss future');
    await s.clock.advance(1);
    const held = s.get('ev', 'v/seg_13.m4s');
    expect(await settled(held)).toBe(false);
    await s.publish('ev', 'a', 'v/seg_13.m4s', 'thirteen');
    expect(outcome(await held)).toBe('object a thirteen');
  });

  it('answers gone (410) for a segment past its deadline that no pipeline produced, and a late publish is served after all', async () => {
    const s = services();
    await s.liveEvent('ev', 10, D);
    // Segment 9 was due now; its deadline is one D from now.
    await s.clock.advance(D);
    const atDeadline = s.get('ev', 'v/seg_9.m4s');
    expect(await settled(atDeadline)).toBe(false);
    await s.clock.advance(1);
    expect(outcome(await atDeadline)).toBe('miss hold_timeout');
    expect(await s.get('ev', 'v/seg_9.m4s')).toMatchObject({ kind: 'miss', reason: 'gone', durationMs: D });
    await s.publish('ev', 'a', 'v/seg_9.m4s', 'late');
    expect(outcome(await s.get('ev', 'v/seg_9.m4s'))).toBe('object a late');
  });

  it('sheds a hold beyond the held cap at once (overload), and marks the origin under duress', async () => {
    const s = services({ maxHeld: 1 });
    await s.liveEvent('ev', 10, D);
    const first = s.get('ev', 'v/seg_10.m4s');
    expect(await settled(first)).toBe(false);
    expect(s.delivery.underDuress()).toBe(false);
    expect(outcome(await s.get('ev', 'v/seg_10.m4s'))).toBe('miss overload');
    expect(s.metrics.shed).toEqual(['held_cap']);
    expect(s.delivery.underDuress()).toBe(true);
    s.holds.drain();
    expect(outcome(await first)).toBe('miss drain');
  });

  it('sheds an event over its rate budget, requests behind the live edge first, and refills on the clock', async () => {
    const s = services({ eventRps: 10 });
    await s.publish('ev', 'a', 'v/seg_1.m4s', 'old');
    await s.publish('ev', 'a', 'v/seg_10.m4s', 'live');
    const burst = async (path: string, count: number) => {
      const answers: string[] = [];
      for (let i = 0; i < count; i++) answers.push(outcome(await s.get('ev', path)));
      return answers.filter((answer) => answer !== 'miss overload').length;
    };
    // A second's worth of tokens (10); the last fifth is kept for the live edge (segments 7 to 10).
    expect(await burst('v/seg_1.m4s', 10)).toBe(8);
    expect(await burst('v/seg_10.m4s', 10)).toBe(2);
    expect(s.metrics.shed).toEqual(Array(10).fill('event_rate'));
    await s.clock.advance(100);
    expect(await burst('v/seg_10.m4s', 2)).toBe(1);
  });

  it('holds the next LL-HLS part of an event without a timeline only while its preceding part exists', async () => {
    const s = services();
    await s.publish('ev', 'a', 'v/filePart2.0.mp4', 'part 2.0');
    expect(outcome(await s.get('ev', 'v/filePart2.5.mp4'))).toBe('miss no_timeline');
    const next = s.get('ev', 'v/filePart2.1.mp4');
    await s.clock.advance(2_999);
    expect(await settled(next)).toBe(false);
    await s.clock.advance(1);
    expect(await next).toMatchObject({ kind: 'miss', reason: 'hold_timeout', heldMs: 3_000 });
  });
});

describe('DeliveryService: segments still being ingested', () => {
  it('wakes a held request when the PUT starts and streams it; a failed PUT gives the pin up', async () => {
    const s = services();
    await s.liveEvent('ev', 10, D);
    const pending = s.get('ev', 'v/seg_10.m4s');
    expect(await settled(pending)).toBe(false);
    const stream = s.ingest.begin({
      event: 'ev',
      pipeline: 'a',
      object: { path: 'v/seg_10.m4s', kind: 'segment', number: 10 },
      contentType: 'video/mp4',
      defects: [],
    })!;
    const answer = await pending;
    expect(answer.kind).toBe('stream');
    expect(answer.kind === 'stream' && answer.stream).toBe(stream);
    expect((await s.stores.metadata.getObject('ev', 'v/seg_10.m4s')).pinned).toBe('a');
    s.ingest.abandon(stream);
    await s.clock.advance(0);
    expect((await s.stores.metadata.getObject('ev', 'v/seg_10.m4s')).pinned).toBeUndefined();
    expect(s.metrics.streams).toEqual(['failed']);
    // The next request waits again for a candidate.
    expect(await settled(s.get('ev', 'v/seg_10.m4s'))).toBe(false);
  });

  it('prefers a complete clean candidate to one still arriving', async () => {
    const s = services();
    await s.control.putConfig('ev', { pipelines: ['a', 'b'] });
    s.ingest.begin({ event: 'ev', pipeline: 'a', object: { path: 'v/seg_3.m4s', kind: 'segment', number: 3 }, contentType: 'video/mp4', defects: [] });
    await s.publish('ev', 'b', 'v/seg_3.m4s', 'b whole');
    expect(outcome(await s.get('ev', 'v/seg_3.m4s'))).toBe('object b b whole');
  });
});

describe('DeliveryService: blocking playlist reload', () => {
  const playlist = (last: number) =>
    [
      '#EXTM3U',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES',
      `#EXT-X-MEDIA-SEQUENCE:${last - 1}`,
      ...[last - 1, last].flatMap((n) => ['#EXTINF:2.0,', `fileSequence${n}.mp4`]),
      '',
    ].join('\n');

  it('answers at once when the playlist has the segment, and holds until a publish brings it', async () => {
    const s = services();
    await s.publish('ev', 'a', 'v/index.m3u8', playlist(272));
    expect(outcome(await s.get('ev', 'v/index.m3u8', { msn: 272 }))).toContain('object a');
    const held = s.get('ev', 'v/index.m3u8', { msn: 273 });
    await s.clock.advance(1_500);
    expect(await settled(held)).toBe(false);
    await s.publish('ev', 'a', 'v/index.m3u8', playlist(273));
    const answer = await held;
    expect(answer.kind === 'object' && [answer.heldMs, answer.ttlMs, answer.bytes.body.toString().includes('fileSequence273')]).toEqual([
      1_500,
      6 * 2_000,
      true,
    ]);
  });

  it('gives up after three target durations (block_timeout), exactly', async () => {
    const s = services();
    await s.publish('ev', 'a', 'v/index.m3u8', playlist(272));
    const held = s.get('ev', 'v/index.m3u8', { msn: 273 });
    await s.clock.advance(3 * 2_000 - 1);
    expect(await settled(held)).toBe(false);
    await s.clock.advance(1);
    expect(await held).toMatchObject({ kind: 'miss', reason: 'block_timeout', heldMs: 6_000 });
    expect(s.metrics.holdTimeouts).toBe(1);
  });

  it('answers reload_drain when the origin drains, and refuses a request too far ahead', async () => {
    const s = services();
    await s.publish('ev', 'a', 'v/index.m3u8', playlist(272));
    await expect(s.get('ev', 'v/index.m3u8', { msn: 275 })).rejects.toMatchObject({ code: 'bad_request' });
    const held = s.get('ev', 'v/index.m3u8', { msn: 274 });
    await s.clock.advance(10);
    s.holds.drain();
    expect(await held).toMatchObject({ kind: 'miss', reason: 'reload_drain', heldMs: 10 });
  });
});
