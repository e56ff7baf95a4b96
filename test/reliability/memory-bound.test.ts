import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { put, startOrigin } from '../support/origin.js';

/**
 * The memory store's byte cap bounds the bytes the whole process keeps, not only the store's
 * own map: after 150 published and served 256 KiB segments (37.5 MiB per pipeline) with a
 * 16 MiB cap, the process holds about 16 MiB of buffers once garbage is collected. The soak
 * found delivery's header cache keeping every served body for as long as its candidate
 * (a window of 1800 segments), past the cap; this keeps it from coming back.
 */

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const CAP = 16 * 1024 * 1024;
const SEGMENT = 256 * 1024;
/** Request and response buffers not yet reused, the JSON of the last answers. */
const SLACK = 4 * 1024 * 1024;

function buffersAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().arrayBuffers;
}

describe('memory bound of the memory store', () => {
  it('keeps the process buffers at the cap after publishing and serving 2.3 x the cap', async () => {
    const origin = await startOrigin({ memoryBytes: CAP });
    try {
      const before = buffersAfterGc();
      for (let n = 0; n < 150; n++) {
        for (const pipeline of ['a', 'b']) {
          const response = await put(origin, 'bound', pipeline, `v/seg_${n}.m4s`, Buffer.alloc(SEGMENT, n % 256));
          expect(response.ok).toBe(true);
        }
        const served = await fetch(`${origin.url}/live/bound/v/seg_${n}.m4s`);
        expect((await served.arrayBuffer()).byteLength).toBe(SEGMENT);
      }
      const after = buffersAfterGc();
      console.log(
        `memory bound: buffers ${(before / 1048576).toFixed(1)} -> ${(after / 1048576).toFixed(1)} MiB after 300 PUTs and 150 GETs of 256 KiB, cap ${CAP / 1048576} MiB`,
      );
      expect(after - before).toBeLessThan(CAP + SLACK);
    } finally {
      await origin.close();
    }
  }, 60_000);
});
