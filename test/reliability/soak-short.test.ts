import { describe, expect, it } from 'vitest';
import type { SoakResult } from '../../scripts/soak.js';
import { runSoak, soakProblems } from '../../scripts/soak.js';

/**
 * The time-compressed soak that `npm test` runs (the hour-long one is `npm run soak`): segments
 * every 50 ms from two pipelines for 20 s, the memory store capped at 16 MiB (crossed about a
 * dozen times), readers at the live edge. Nothing acknowledged is lost at the edge, the cap
 * holds through evictions, and the origin's memory stays under a bound.
 */

const MEMORY_BYTES = 16 * 1024 * 1024;
/**
 * The runtime itself (about 100 MiB at start) plus what the run adds on top of the cap: RSS
 * rises through such a run (100 -> about 230 MiB, docs/reliability.md, an open item); this
 * bound catches anything that grows with the bytes ingested (200 MiB here).
 */
const RSS_OVER_CAP_MIB = 300;

describe('soak, time-compressed', () => {
  it('keeps every PUT acknowledged, every live-edge read exact, and memory at its cap for 20 s of 50 ms segments', async () => {
    const result = await runSoak({
      segmentMs: 50,
      durationMs: 20_000,
      segmentBytes: 256 * 1024,
      renditions: 1,
      memoryBytes: MEMORY_BYTES,
      readers: 4,
      store: 'memory',
    });
    console.log(`soak (short): ${JSON.stringify(result)}`);
    expect(result.putsAcked).toBe(result.puts);
    expect(result.reads).toBeGreaterThan(100);
    expect(result.readsOk).toBe(result.reads);
    expect(result.wrongBytes).toBe(0);
    expect(result.evictions).toBeGreaterThan(0);
    expect(result.rssMiB.peak).toBeLessThan(MEMORY_BYTES / 1024 / 1024 + RSS_OVER_CAP_MIB);
  }, 60_000);

  it("judges a run as `npm run soak` does: memory over the cap's headroom or still growing fails it", () => {
    // The hour-long soak recorded in docs/reliability.md, and the same with the faults it guards against.
    const hour: SoakResult = {
      segments: 1800,
      publisherMaxLagMs: 29,
      puts: 10800,
      putsAcked: 10800,
      putP99Ms: 128,
      reads: 28282,
      readsOk: 28282,
      wrongBytes: 0,
      readP99Ms: 59,
      evictions: 10544,
      rssMiB: { first: 106, secondQuarter: 374, lastQuarter: 381, peak: 384 },
      memoryCapMiB: 256,
    };
    expect(soakProblems(hour)).toEqual([]);
    expect(soakProblems({ ...hour, rssMiB: { ...hour.rssMiB, peak: 440 } })).toEqual(['RSS peak 440 MiB over 426 MiB']);
    expect(soakProblems({ ...hour, rssMiB: { ...hour.rssMiB, lastQuarter: 420 } })).toEqual(['RSS grew 46 MiB from the second quarter to the last']);
    expect(soakProblems({ ...hour, putsAcked: 10799, readsOk: 28281, wrongBytes: 1 })).toHaveLength(2);
  });
});
