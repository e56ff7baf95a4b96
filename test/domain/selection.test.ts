import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Candidate, InProgressCandidate, Mask } from '../../runtime/domain/model.js';
import { isMasked, pipelineOrder, type Selection, selectCandidate, servedChanged } from '../../runtime/domain/selection.js';

function candidate(pipeline: string, defects: string[] = [], overrides: Partial<Candidate> = {}): Candidate {
  return {
    event: 'news',
    pipeline,
    path: 'video/seg_10.m4s',
    kind: 'segment',
    number: 10,
    rendition: 'video/seg_{n}.m4s',
    etag: `"${pipeline}"`,
    size: 100,
    contentType: 'video/mp4',
    defects,
    publishedAt: 0,
    ...overrides,
  };
}

describe('pipelineOrder', () => {
  it('sorts pipelines by id without a configured order', () => {
    expect(pipelineOrder(undefined, ['c', 'a', 'b'])).toEqual(['a', 'b', 'c']);
  });

  it('puts configured pipelines first, in their order', () => {
    expect(pipelineOrder(['b', 'a'], ['a', 'b'])).toEqual(['b', 'a']);
  });

  it('appends unlisted pipelines sorted by id', () => {
    expect(pipelineOrder(['z'], ['y', 'z', 'x'])).toEqual(['z', 'x', 'y']);
  });

  it('keeps configured pipelines that are not present', () => {
    expect(pipelineOrder(['b', 'a'], ['c'])).toEqual(['b', 'a', 'c']);
  });

  it('lists a repeated present pipeline once', () => {
    expect(pipelineOrder(undefined, ['a', 'a', 'b'])).toEqual(['a', 'b']);
  });
});

describe('isMasked', () => {
  const seg = { pipeline: 'a', path: 'video/seg_10.m4s', number: 10 };

  it('is false without masks', () => {
    expect(isMasked(seg, [])).toBe(false);
  });

  it('masks a number inside the range', () => {
    expect(isMasked(seg, [{ from: 5, to: 15, createdAt: 0 }])).toBe(true);
  });

  it('masks the range bounds inclusively', () => {
    expect([isMasked(seg, [{ from: 10, to: 12, createdAt: 0 }]), isMasked(seg, [{ from: 8, to: 10, createdAt: 0 }])]).toEqual([true, true]);
  });

  it('does not mask a number outside the range', () => {
    expect(isMasked(seg, [{ from: 11, to: 20, createdAt: 0 }])).toBe(false);
  });

  it('does not mask an unnumbered object by range', () => {
    expect(isMasked({ pipeline: 'a', path: 'init.mp4' }, [{ from: 0, to: 100, createdAt: 0 }])).toBe(false);
  });

  it('masks a listed path', () => {
    expect(isMasked({ pipeline: 'a', path: 'init.mp4' }, [{ paths: ['init.mp4'], createdAt: 0 }])).toBe(true);
  });

  it('does not mask an unlisted path', () => {
    expect(isMasked(seg, [{ paths: ['video/seg_11.m4s'], createdAt: 0 }])).toBe(false);
  });

  it('masks only the named pipeline', () => {
    const masks: Mask[] = [{ from: 0, to: 100, pipeline: 'b', createdAt: 0 }];
    expect([isMasked(seg, masks), isMasked({ ...seg, pipeline: 'b' }, masks)]).toEqual([false, true]);
  });

  it('masks when any one mask matches', () => {
    expect(
      isMasked(seg, [
        { from: 0, to: 1, createdAt: 0 },
        { paths: [seg.path], createdAt: 0 },
      ]),
    ).toBe(true);
  });
});

describe('selectCandidate', () => {
  it('picks the first clean candidate in configured order', () => {
    const selection = selectCandidate({ candidates: [candidate('a'), candidate('b')], order: ['b', 'a'], masks: [] });
    expect([selection.chosen?.pipeline, selection.outcome]).toEqual(['b', 'clean']);
  });

  it('picks by sorted id without a configured order', () => {
    const selection = selectCandidate({ candidates: [candidate('b'), candidate('a')], order: undefined, masks: [] });
    expect(selection.chosen?.pipeline).toBe('a');
  });

  it('orders unlisted pipelines after configured ones', () => {
    const selection = selectCandidate({ candidates: [candidate('a'), candidate('z')], order: ['z'], masks: [] });
    expect(selection.chosen?.pipeline).toBe('z');
  });

  it('skips a defective candidate for a later clean one', () => {
    const selection = selectCandidate({ candidates: [candidate('a', ['short']), candidate('b')], order: undefined, masks: [] });
    expect([selection.chosen?.pipeline, selection.outcome, selection.defectPairs]).toEqual(['b', 'clean', []]);
  });

  it('skips a masked candidate', () => {
    const selection = selectCandidate({
      candidates: [candidate('a'), candidate('b')],
      order: undefined,
      masks: [{ from: 10, to: 10, pipeline: 'a', createdAt: 0 }],
    });
    expect(selection.chosen?.pipeline).toBe('b');
  });

  it('serves the first present candidate in order when all are defective', () => {
    const selection = selectCandidate({
      candidates: [candidate('a', ['tfdt']), candidate('b', ['short'])],
      order: ['b', 'a'],
      masks: [],
    });
    expect([selection.chosen?.pipeline, selection.outcome]).toEqual(['b', 'defective']);
  });

  it('forwards every pipeline=kind pair in selection order when all are defective', () => {
    const selection = selectCandidate({
      candidates: [candidate('a', ['short']), candidate('b', ['tfdt', 'corrupt']), candidate('c', ['missing'])],
      order: ['c', 'a', 'b'],
      masks: [],
    });
    expect(selection.defectPairs).toEqual(['c=missing', 'a=short', 'b=tfdt', 'b=corrupt']);
  });

  it('leaves masked candidates out of the defect pairs', () => {
    const selection = selectCandidate({
      candidates: [candidate('a', ['short']), candidate('b', ['tfdt'])],
      order: undefined,
      masks: [{ paths: ['video/seg_10.m4s'], pipeline: 'a', createdAt: 0 }],
    });
    expect(selection.defectPairs).toEqual(['b=tfdt']);
  });

  it('keeps a clean pinned candidate even when an earlier one in order is clean', () => {
    const selection = selectCandidate({ candidates: [candidate('a'), candidate('b')], order: undefined, masks: [], pinned: 'b' });
    expect([selection.chosen?.pipeline, selection.outcome]).toEqual(['b', 'pinned']);
  });

  it('leaves a masked pin for the first clean candidate', () => {
    const selection = selectCandidate({
      candidates: [candidate('a'), candidate('b')],
      order: undefined,
      masks: [{ from: 0, to: 20, pipeline: 'a', createdAt: 0 }],
      pinned: 'a',
    });
    expect([selection.chosen?.pipeline, selection.outcome]).toEqual(['b', 'clean']);
  });

  it('leaves a pin reported defective when a clean candidate exists', () => {
    const selection = selectCandidate({
      candidates: [candidate('a', ['corrupt']), candidate('b')],
      order: undefined,
      masks: [],
      pinned: 'a',
    });
    expect([selection.chosen?.pipeline, selection.outcome, selection.defectPairs]).toEqual(['b', 'clean', []]);
  });

  it('keeps a defective pin when no clean candidate exists, forwarding every pair', () => {
    const selection = selectCandidate({
      candidates: [candidate('a', ['short']), candidate('b', ['tfdt'])],
      order: undefined,
      masks: [],
      pinned: 'b',
    });
    expect([selection.chosen?.pipeline, selection.outcome, selection.defectPairs]).toEqual(['b', 'defective', ['a=short', 'b=tfdt']]);
  });

  it('ignores a pin whose candidate is absent', () => {
    const selection = selectCandidate({ candidates: [candidate('b'), candidate('c')], order: undefined, masks: [], pinned: 'a' });
    expect([selection.chosen?.pipeline, selection.outcome]).toEqual(['b', 'clean']);
  });

  it('reports none and not allMasked without candidates', () => {
    expect(selectCandidate({ candidates: [], order: undefined, masks: [] })).toEqual({ outcome: 'none', defectPairs: [], allMasked: false });
  });

  it('reports allMasked when every candidate is masked', () => {
    const selection = selectCandidate({
      candidates: [candidate('a'), candidate('b', ['short'])],
      order: undefined,
      masks: [{ from: 10, to: 10, createdAt: 0 }],
    });
    expect([selection.chosen, selection.outcome, selection.allMasked]).toEqual([undefined, 'none', true]);
  });

  it('reports allMasked false when one candidate is usable', () => {
    const selection = selectCandidate({
      candidates: [candidate('a'), candidate('b')],
      order: undefined,
      masks: [{ from: 10, to: 10, pipeline: 'a', createdAt: 0 }],
    });
    expect(selection.allMasked).toBe(false);
  });
});

describe('servedChanged', () => {
  const clean = (pipeline: string, etag = `"${pipeline}"`): Selection => ({
    chosen: candidate(pipeline, [], { etag }),
    outcome: 'clean',
    defectPairs: [],
    allMasked: false,
  });

  it('is false for the same candidate and defects', () => {
    expect(servedChanged(clean('a'), clean('a'))).toBe(false);
  });

  it('is true when another pipeline is served', () => {
    expect(servedChanged(clean('a'), clean('b'))).toBe(true);
  });

  it('is true when the same pipeline serves other bytes', () => {
    expect(servedChanged(clean('a', '"1"'), clean('a', '"2"'))).toBe(true);
  });

  it('is true when the forwarded defects change', () => {
    const before: Selection = { ...clean('a'), outcome: 'defective', defectPairs: ['a=short'] };
    const after: Selection = { ...clean('a'), outcome: 'defective', defectPairs: ['a=short', 'b=tfdt'] };
    expect(servedChanged(before, after)).toBe(true);
  });

  it('is true when nothing is served any more', () => {
    expect(servedChanged(clean('a'), { outcome: 'none', defectPairs: [], allMasked: true })).toBe(true);
  });

  it('is false when nothing was and nothing is served', () => {
    const none: Selection = { outcome: 'none', defectPairs: [], allMasked: false };
    expect(servedChanged(none, none)).toBe(false);
  });
});

describe('selectCandidate over any input (fast-check)', () => {
  /** The rule as written before the allocation-free version: pipelineOrder, then the first of each. */
  function reference(input: Parameters<typeof selectCandidate>[0]): Candidate[] {
    const order = pipelineOrder(
      input.order,
      input.candidates.map((c) => c.pipeline),
    );
    const byPipeline = new Map(input.candidates.map((c) => [c.pipeline, c]));
    return order.map((p) => byPipeline.get(p)).filter((c): c is Candidate => c !== undefined && !isMasked(c, input.masks));
  }

  it('takes candidates in pipelineOrder, for each pipeline its last candidate, masked ones left out', () => {
    const pipeline = fc.constantFrom('a', 'b', 'c', 'B', 'a2');
    const input = fc.record({
      candidates: fc.array(fc.record({ pipeline, defects: fc.subarray(['short', 'tfdt']), number: fc.integer({ min: 8, max: 12 }) }), { maxLength: 6 }),
      order: fc.option(fc.array(pipeline, { maxLength: 4 }), { nil: undefined }),
      masks: fc.array(fc.record({ pipeline: fc.option(pipeline, { nil: undefined }), from: fc.constant(9), to: fc.constant(10), createdAt: fc.constant(0) }), {
        maxLength: 2,
      }),
      pinned: fc.option(pipeline, { nil: undefined }),
    });
    fc.assert(
      fc.property(input, (drawn) => {
        const candidates = drawn.candidates.map((c, i) => candidate(c.pipeline, c.defects, { number: c.number, etag: `"${i}"` }));
        const selectionInput = { candidates, order: drawn.order, masks: drawn.masks as Mask[], pinned: drawn.pinned };
        const usable = reference(selectionInput);
        const selection = selectCandidate(selectionInput);
        if (usable.length === 0) {
          expect(selection.chosen).toBeUndefined();
          return;
        }
        expect(usable).toContain(selection.chosen);
        const firstClean = usable.find((c) => c.defects.length === 0);
        const pinned = usable.find((c) => c.pipeline === drawn.pinned);
        const expected = pinned && (pinned.defects.length === 0 || !firstClean) ? pinned : (firstClean ?? usable[0]);
        expect(selection.chosen).toBe(expected);
        if (selection.chosen!.defects.length > 0)
          expect(selection.defectPairs).toEqual(usable.flatMap((c) => c.defects.map((kind) => `${c.pipeline}=${kind}`)));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('selectCandidate with PUTs still arriving (contract v3)', () => {
  const arriving = (pipeline: string, defects: string[] = []): InProgressCandidate => ({
    event: 'news',
    pipeline,
    path: 'video/seg_10.m4s',
    kind: 'segment',
    number: 10,
    rendition: 'video/seg_{n}.m4s',
    contentType: 'video/mp4',
    defects,
    startedAt: 0,
    inProgress: true,
  });
  const select = (candidates: (Candidate | InProgressCandidate)[], pinned?: string) =>
    selectCandidate({ candidates, order: ['a', 'b', 'c'], masks: [], pinned });

  it('a complete clean candidate beats one still arriving, whatever the order', () => {
    expect(select([arriving('a'), candidate('b')]).chosen?.pipeline).toBe('b');
  });

  it('among candidates still arriving, the first clean one in pipeline order', () => {
    expect(select([arriving('b'), arriving('c'), arriving('a', ['short'])]).chosen?.pipeline).toBe('b');
  });

  it('a clean candidate still arriving beats complete defective ones', () => {
    const selection = select([candidate('a', ['tfdt']), arriving('b')]);
    expect([selection.chosen?.pipeline, selection.outcome, selection.defectPairs]).toEqual(['b', 'clean', []]);
  });

  it('when everything is defective, a complete candidate is served before one still arriving', () => {
    const selection = select([arriving('a', ['short']), candidate('b', ['tfdt'])]);
    expect([selection.chosen?.pipeline, selection.defectPairs]).toEqual(['b', ['a=short', 'b=tfdt']]);
  });

  it('keeps a pinned clean candidate still arriving over a complete clean one (every fill gets the same bytes)', () => {
    expect(select([arriving('b'), candidate('a')], 'b').chosen?.pipeline).toBe('b');
  });

  it('judges a pipeline by its complete version, not by a replacement still arriving', () => {
    const complete = candidate('a', ['corrupt']);
    const selection = select([complete, arriving('a'), candidate('b')]);
    expect(selection.chosen?.pipeline).toBe('b');
    expect(select([complete, arriving('a')]).chosen).toBe(complete);
  });

  it('a candidate served while it arrived and its completion are the same answer (no purge); another pipeline is not', () => {
    const streamed = select([arriving('a')], 'a');
    expect(servedChanged(streamed, select([candidate('a')], 'a'))).toBe(false);
    expect(servedChanged(streamed, select([candidate('b')], 'b'))).toBe(true);
  });

  it('property: with PUTs still arriving, the choice does not depend on arrival order', () => {
    const pipelines = ['a', 'b', 'c'];
    const entry = fc.record({
      pipeline: fc.constantFrom(...pipelines),
      complete: fc.boolean(),
      defective: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.uniqueArray(entry, { selector: (e) => `${e.pipeline}${e.complete}`, maxLength: 6 }), fc.nat(), (entries, seed) => {
        const make = (e: (typeof entries)[number]) =>
          e.complete ? candidate(e.pipeline, e.defective ? ['short'] : []) : arriving(e.pipeline, e.defective ? ['short'] : []);
        const forward = entries.map(make);
        const shuffled = [...forward].sort((x, y) => ((x.pipeline.charCodeAt(0) * 31 + seed) % 7) - ((y.pipeline.charCodeAt(0) * 31 + seed) % 7));
        const one = select(forward).chosen;
        const two = select(shuffled).chosen;
        expect([one?.pipeline, one && 'inProgress' in one]).toEqual([two?.pipeline, two && 'inProgress' in two]);
      }),
    );
  });
});

describe('selectCandidate with quality scores (contract v3)', () => {
  const scored = (pipeline: string, quality: number | undefined, defects: string[] = []) => candidate(pipeline, defects, { quality });
  const arriving = (pipeline: string, quality: number, defects: string[] = []): InProgressCandidate => ({
    event: 'news',
    pipeline,
    path: 'video/seg_10.m4s',
    kind: 'segment',
    number: 10,
    rendition: 'video/seg_{n}.m4s',
    contentType: 'video/mp4',
    defects,
    quality,
    startedAt: 0,
    inProgress: true,
  });
  const select = (candidates: (Candidate | InProgressCandidate)[], extra: { pinned?: string; minQuality?: number } = {}) =>
    selectCandidate({ candidates, order: ['a', 'b', 'c'], masks: [], ...extra });

  it('serves the highest score among clean candidates, whatever the pipeline order', () => {
    const selection = select([scored('a', 40), scored('b', 90), scored('c', 70)]);
    expect([selection.chosen?.pipeline, selection.outcome, selection.defectPairs]).toEqual(['b', 'clean', []]);
  });

  it('breaks equal scores by pipeline order; a candidate without a score counts as 100', () => {
    expect(select([scored('c', 80), scored('b', 80)]).chosen?.pipeline).toBe('b');
    expect(select([scored('b', undefined), scored('a', 100)]).chosen?.pipeline).toBe('a');
    expect(select([scored('a', 99), scored('b', undefined)]).chosen?.pipeline).toBe('b');
  });

  it('prefers any clean candidate to a defective one of a higher score', () => {
    expect(select([scored('a', 100, ['corrupt']), scored('b', 10)]).chosen?.pipeline).toBe('b');
  });

  it('counts a candidate below minQuality as defective (low-quality), forwarded in the defect pairs', () => {
    expect(select([scored('a', 50), scored('b', 30)], { minQuality: 40 }).chosen?.pipeline).toBe('a');
    const all = select([scored('a', 30), scored('b', 20, ['short'])], { minQuality: 40 });
    expect([all.chosen?.pipeline, all.outcome, all.defectPairs]).toEqual(['a', 'defective', ['a=low-quality', 'b=short', 'b=low-quality']]);
    expect(select([scored('a', 40)], { minQuality: 40 }).outcome).toBe('clean');
  });

  it('moves a clean pin to a clean candidate of a higher score, and keeps it against equal or lower ones', () => {
    expect(select([scored('a', 40), scored('b', 100)], { pinned: 'a' })).toMatchObject({ chosen: { pipeline: 'b' }, outcome: 'clean' });
    expect(select([scored('a', 80), scored('b', 80)], { pinned: 'b' })).toMatchObject({ chosen: { pipeline: 'b' }, outcome: 'pinned' });
    expect(select([scored('a', 90), scored('b', 60, ['short'])], { pinned: 'a' }).chosen?.pipeline).toBe('a');
  });

  it('keeps a pin below minQuality while nothing clean exists, and leaves it for a clean one', () => {
    expect(select([scored('a', 10), scored('b', 5)], { pinned: 'b', minQuality: 20 })).toMatchObject({ chosen: { pipeline: 'b' }, outcome: 'defective' });
    expect(select([scored('a', 30), scored('b', 5)], { pinned: 'b', minQuality: 20 })).toMatchObject({ chosen: { pipeline: 'a' }, outcome: 'clean' });
  });

  it('ranks clean candidates by score first: one still arriving at 100 beats a complete one at 40', () => {
    expect(select([scored('a', 40), arriving('b', 100)]).chosen).toMatchObject({ pipeline: 'b', inProgress: true });
  });

  it('at equal scores, a complete candidate beats one still arriving, whatever the order', () => {
    expect(select([arriving('a', 70), scored('b', 70)]).chosen?.pipeline).toBe('b');
  });

  it('a changed score of the served candidate is a change for the CDN (Live-Quality, lifetime)', () => {
    expect(servedChanged(select([scored('a', 100)]), select([scored('a', 40)]))).toBe(true);
    expect(servedChanged(select([scored('a', 40)]), select([scored('a', 40)]))).toBe(false);
  });

  describe('properties (fast-check)', () => {
    const entry = fc.record({
      pipeline: fc.constantFrom('a', 'b', 'c', 'd'),
      complete: fc.boolean(),
      defective: fc.boolean(),
      quality: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
    });
    const entries = fc.uniqueArray(entry, { selector: (e) => `${e.pipeline}${e.complete}`, maxLength: 8 });
    /** The same candidates, and the same again in another order (as they might have arrived). */
    const twoOrders = entries.chain((drawn) => fc.tuple(fc.constant(drawn), fc.shuffledSubarray(drawn, { minLength: drawn.length, maxLength: drawn.length })));
    const make = (e: { pipeline: string; complete: boolean; defective: boolean; quality?: number }) =>
      e.complete
        ? candidate(e.pipeline, e.defective ? ['short'] : [], { quality: e.quality })
        : arriving(e.pipeline, e.quality ?? 100, e.defective ? ['tfdt'] : []);
    const minQuality = fc.integer({ min: 0, max: 100 });

    it('once every candidate is present, the choice and the forwarded defects do not depend on the order they arrived in', () => {
      fc.assert(
        fc.property(twoOrders, minQuality, fc.option(fc.constantFrom('a', 'b', 'c', 'd'), { nil: undefined }), ([drawn, shuffled], min, pinned) => {
          const made = new Map(drawn.map((e) => [e, make(e)]));
          const one = selectCandidate({ candidates: drawn.map((e) => made.get(e)!), order: ['c', 'a'], masks: [], pinned, minQuality: min });
          const two = selectCandidate({ candidates: shuffled.map((e) => made.get(e)!), order: ['c', 'a'], masks: [], pinned, minQuality: min });
          expect(two.chosen).toBe(one.chosen);
          expect([two.outcome, two.defectPairs]).toEqual([one.outcome, one.defectPairs]);
        }),
        { numRuns: 2000 },
      );
    });

    it('never serves a lower score than a clean candidate present (a pin included), nor a defective one while a clean one is there', () => {
      fc.assert(
        fc.property(entries, minQuality, fc.option(fc.constantFrom('a', 'b', 'c', 'd'), { nil: undefined }), (drawn, min, pinned) => {
          const candidates = drawn.map(make);
          const selection = selectCandidate({ candidates, order: undefined, masks: [], pinned, minQuality: min });
          // Each pipeline is judged by its complete version when it has one (selection.ts).
          const judged = candidates.filter((c) => !('inProgress' in c) || !candidates.some((o) => o.pipeline === c.pipeline && !('inProgress' in o)));
          const clean = judged.filter((c) => c.defects.length === 0 && (c.quality ?? 100) >= min);
          if (clean.length === 0) return;
          const chosen = selection.chosen!;
          expect(chosen.defects).toEqual([]);
          expect(chosen.quality ?? 100).toBe(Math.max(...clean.map((c) => c.quality ?? 100)));
          expect(selection.defectPairs).toEqual([]);
        }),
        { numRuns: 2000 },
      );
    });
  });
});
