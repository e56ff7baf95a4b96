import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LocalHistogram } from '../../runtime/metrics/local-histogram.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
/** Values on, between, below and above the bounds, and ones a histogram must skip. */
const VALUES = [0, 0.0005, 0.001, 0.002, 0.01, 0.05, 0.1, 0.5, 1, 2, 30];

function sortedLines(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.replace(/\{([^}]*)\}/, (_all, labels: string) => `{${labels.split(',').sort().join(',')}}`))
    .sort();
}

describe('LocalHistogram', () => {
  it('exports the same exposition as prom-client’s histogram for the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const local = new LocalHistogram('x_seconds', 'latency', ['route', 'status'], BUCKETS, ours);
    const reference = new Histogram({ name: 'x_seconds', help: 'latency', labelNames: ['route', 'status'], buckets: BUCKETS, registers: [theirs] });
    const bound = local.labels({ route: '/live', status: 200 });
    for (const value of VALUES) {
      bound.observe(value);
      reference.observe({ route: '/live', status: 200 }, value);
      local.observe({ route: '/ingest', status: 201 }, value * 3);
      reference.observe({ route: '/ingest', status: 201 }, value * 3);
    }
    const exposition = await ours.metrics();
    expect(sortedLines(exposition)).toEqual(sortedLines(await theirs.metrics()));
    expect(exposition).toContain('x_seconds_bucket{route="/live",status="200",le="0.01"} 5');
    expect(exposition).toContain('x_seconds_count{route="/live",status="200"} 11');
  });

  it('skips values that are not finite, and keeps one series per label set', async () => {
    const registry = new Registry();
    const local = new LocalHistogram('y_seconds', 'latency', ['route'], BUCKETS, registry);
    local.observe({ route: 'a' }, Number.NaN);
    local.observe({ route: 'a' }, Number.POSITIVE_INFINITY);
    local.observe({ route: 'a' }, 0.5);
    expect(local.labels({ route: 'a' })).toBe(local.labels({ route: 'a' }));
    const text = await registry.metrics();
    expect(text).toContain('y_seconds_count{route="a"} 1');
    expect(text).toContain('y_seconds_sum{route="a"} 0.5');
    expect(text).toContain('y_seconds_bucket{route="a",le="+Inf"} 1');
    local.reset();
    expect(await registry.metrics()).not.toContain('y_seconds_count');
  });
});
