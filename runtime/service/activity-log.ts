import type { SelectionOutcome } from '../domain/selection.js';
import type { Purger } from '../ports/purger.js';

/**
 * What this instance did lately that an operator wants to see on the status page: selections
 * that pinned or moved a path to a pipeline, and purges sent to the CDN tier. Bounded rings,
 * per instance (each instance reports its own decisions; metadata is shared, activity is not).
 *
 * Only changes are recorded, never a GET that served the pin already in force, so the hot path
 * pays nothing for it.
 */

/** Entries each ring keeps: about a minute of pins for one rendition and its playlist at 2 s segments. */
export const ACTIVITY_LOG_SIZE = 64;

export interface SelectionEntry {
  /** Epoch ms. */
  readonly at: number;
  readonly event: string;
  readonly path: string;
  readonly pipeline: string;
  /** The pipeline pinned before, when this moved an existing pin. */
  readonly previous?: string;
  readonly outcome: SelectionOutcome;
}

export interface PurgeEntry {
  readonly at: number;
  readonly event: string;
  /** `*` flushes the whole event. */
  readonly paths: readonly string[];
}

/** A fixed-size ring: pushes overwrite the oldest entry. */
class Ring<T> {
  private readonly items: T[] = [];
  private next = 0;

  constructor(private readonly size: number) {}

  push(item: T): void {
    if (this.items.length < this.size) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % this.size;
  }

  /** Newest first. */
  newestFirst(): T[] {
    const ordered = this.items.length < this.size ? [...this.items] : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
    return ordered.reverse();
  }
}

export class ActivityLog {
  private readonly selections: Ring<SelectionEntry>;
  private readonly purges: Ring<PurgeEntry>;

  constructor(
    private readonly now: () => number,
    size = ACTIVITY_LOG_SIZE,
  ) {
    this.selections = new Ring(size);
    this.purges = new Ring(size);
  }

  /** A path was pinned to `pipeline` (first serve), or its pin moved from `previous`. */
  selected(event: string, path: string, pipeline: string, outcome: SelectionOutcome, previous?: string): void {
    this.selections.push({ at: this.now(), event, path, pipeline, outcome, ...(previous === undefined ? {} : { previous }) });
  }

  purged(event: string, paths: readonly string[]): void {
    this.purges.push({ at: this.now(), event, paths: [...paths] });
  }

  /** The purger that every service uses, recording each purge on its way out. */
  recording(purger: Purger): Purger {
    return {
      purge: (event, paths) => {
        this.purged(event, paths);
        purger.purge(event, paths);
      },
      flush: () => purger.flush(),
    };
  }

  /** Newest first, only the events `visible` admits. */
  recent(visible: (event: string) => boolean): { selections: SelectionEntry[]; purges: PurgeEntry[] } {
    return {
      selections: this.selections.newestFirst().filter((entry) => visible(entry.event)),
      purges: this.purges.newestFirst().filter((entry) => visible(entry.event)),
    };
  }
}
