import type { Counter } from 'prom-client';

/**
 * Counts kept in plain numbers per label set and added to a prom-client counter when it is
 * collected (scrape, `get()`): prom-client hashes the labels on every `inc`, even through a
 * bound child, which showed in the delivery profile.
 */
export class DeferredCounts {
  private readonly pending = new Map<string, { readonly labels: Record<string, string | number>; count: number }>();

  add(key: string, labels: () => Record<string, string | number>, amount = 1): void {
    const entry = this.pending.get(key);
    if (entry) entry.count += amount;
    else this.pending.set(key, { labels: labels(), count: amount });
  }

  /** The pending count of one label set, to be incremented by its holder. */
  entry(key: string, labels: Record<string, string | number>): { count: number } {
    let entry = this.pending.get(key);
    if (!entry) {
      entry = { labels, count: 0 };
      this.pending.set(key, entry);
    }
    return entry;
  }

  flushInto(counter: Counter<string>): void {
    for (const entry of this.pending.values()) {
      if (entry.count === 0) continue;
      counter.inc(entry.labels, entry.count);
      entry.count = 0;
    }
  }
}
