import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELEASE_BATCH } from '../../runtime/service/hold-registry.js';
import type { TestOrigin } from '../support/origin.js';
import { configure, eventually, put, startOrigin } from '../support/origin.js';

let origin: TestOrigin;
beforeAll(async () => {
  origin = await startOrigin();
});
afterAll(async () => origin.close());

const D = 2_000;

async function selections(): Promise<number> {
  const text = await (await fetch(`${origin.url}/metrics`)).text();
  return [...text.matchAll(/^live_origin_selections_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

describe('fan-out of held requests', () => {
  it('answers every request held for one object with its bytes when it is published, and counts each selection', async () => {
    const event = 'fan-1';
    const next = 10;
    await configure(origin, event, {
      segmentDurationMs: D,
      availabilityStartTime: new Date(Date.now() + D - next * D).toISOString(),
      startNumber: 1,
    });
    const before = await selections();
    const count = RELEASE_BATCH * 2 + 7;
    const answers = Array.from({ length: count }, () =>
      fetch(`${origin.url}/live/${event}/v/seg_${next}.m4s`).then(async (res) => [res.status, await res.text()] as const),
    );
    await eventually(() => expect(origin.app.origin.holds.held).toBe(count));
    await put(origin, event, 'a', `v/seg_${next}.m4s`, 'the segment');
    const results = await Promise.all(answers);
    expect(results.filter(([status, body]) => status === 200 && body === 'the segment')).toHaveLength(count);
    expect(origin.app.origin.holds.held).toBe(0);
    expect((await selections()) - before).toBe(count);
  });
});
