import { describe, expect, it } from 'vitest';
import { createMemoryStores } from '../../runtime/adapters/memory-stores.js';
import { NO_OBSERVER } from '../../runtime/ports/store-observer.js';
import type { Stores } from '../../runtime/ports/stores.js';
import { AUTH, eventually, put, startOrigin } from '../support/origin.js';

/**
 * The memory store with a switch that makes its writes and pings fail, standing in for an
 * unreachable store (the AWS suites stop real servers instead).
 */
function switchableStores(): { stores: Stores; setDown(down: boolean): void } {
  const inner = createMemoryStores({ memoryBytes: 1 << 20, observer: NO_OBSERVER });
  let down = false;
  const fail = () => {
    if (down) throw new Error('store down');
  };
  const metadata = Object.create(inner.metadata) as Stores['metadata'];
  metadata.putCandidate = async (c) => {
    fail();
    return inner.metadata.putCandidate(c);
  };
  metadata.ping = async () => fail();
  const segments = Object.create(inner.segments) as Stores['segments'];
  segments.ping = async () => fail();
  return { stores: { ...inner, metadata, segments }, setDown: (value) => (down = value) };
}

describe('store faults', () => {
  it('answers 503 with Retry-After when the durable write fails, and leaves nothing visible', async () => {
    const { stores, setDown } = switchableStores();
    const origin = await startOrigin({ stores });
    try {
      setDown(true);
      const res = await put(origin, 'sf-1', 'a', 'v/seg_1.m4s', 'lost');
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect((await res.json()).message).not.toMatch(/store down/);
      setDown(false);
      expect((await fetch(`${origin.url}/ingest/sf-1/a/v/seg_1.m4s`, { headers: AUTH })).status).toBe(404);
      expect((await fetch(`${origin.url}/live/sf-1/v/seg_1.m4s`)).status).toBe(404);
      expect((await put(origin, 'sf-1', 'a', 'v/seg_1.m4s', 'kept')).status).toBe(201);
    } finally {
      await origin.close();
    }
  });

  it('keeps serving the old version when a replacing PUT is refused after its bytes were written', async () => {
    const { stores, setDown } = switchableStores();
    const origin = await startOrigin({ stores });
    try {
      const first = await put(origin, 'sf-2', 'a', 'v/seg_1.m4s', 'old version');
      setDown(true);
      expect((await put(origin, 'sf-2', 'a', 'v/seg_1.m4s', 'refused version')).status).toBe(503);
      setDown(false);
      const served = await fetch(`${origin.url}/live/sf-2/v/seg_1.m4s`);
      expect(await served.text()).toBe('old version');
      expect(served.headers.get('etag')).toBe(first.headers.get('etag'));
    } finally {
      await origin.close();
    }
  });

  it('turns /readyz to 503 within a second of the store going down, and back on recovery', async () => {
    const { stores, setDown } = switchableStores();
    const origin = await startOrigin({ stores });
    try {
      expect((await fetch(`${origin.url}/readyz`)).status).toBe(200);
      setDown(true);
      const downAt = Date.now();
      await eventually(async () => expect((await fetch(`${origin.url}/readyz`)).status).toBe(503), 1000);
      expect(Date.now() - downAt).toBeLessThanOrEqual(1000);
      setDown(false);
      await eventually(async () => expect((await fetch(`${origin.url}/readyz`)).status).toBe(200), 1000);
    } finally {
      await origin.close();
    }
  });
});
