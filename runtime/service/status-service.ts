import type { ActivityLog, PurgeEntry, SelectionEntry } from './activity-log.js';
import type { ControlService } from './control-service.js';

/**
 * Events one status view shows: the most recently active ones. Each costs one metadata read
 * per refresh (the page polls every second), so the view stays cheap however many events run.
 */
export const MAX_STATUS_EVENTS = 50;

export interface StatusSnapshot {
  /** ISO 8601 time of this snapshot. */
  readonly at: string;
  /** `ready`, `draining` or why the store is unreachable. */
  readonly readiness: string;
  /** Requests this instance holds open right now, across all events. */
  readonly held: number;
  /** Active events this token may see, beyond the ones listed. */
  readonly moreEvents: number;
  readonly events: readonly Record<string, unknown>[];
  readonly selections: readonly SelectionEntry[];
  readonly purges: readonly PurgeEntry[];
}

export interface StatusSources {
  readonly control: ControlService;
  readonly activity: ActivityLog;
  readonly held: () => number;
  readonly readiness: () => string;
  readonly now: () => number;
}

/** What the status page shows: every active event's pipelines, holds, and recent activity. */
export class StatusService {
  constructor(private readonly sources: StatusSources) {}

  /** The instance's state, limited to the events `visible` admits (the token's grants). */
  async snapshot(visible: (event: string) => boolean): Promise<StatusSnapshot> {
    const { control, activity } = this.sources;
    const names = control.activeEvents().filter(visible);
    const shown = names.slice(0, MAX_STATUS_EVENTS).sort();
    // An event whose read fails is left out of this refresh, not the whole page.
    const statuses = await Promise.all(shown.map((event) => control.peek(event).catch(() => undefined)));
    return {
      at: new Date(this.sources.now()).toISOString(),
      readiness: this.sources.readiness(),
      held: this.sources.held(),
      moreEvents: names.length - shown.length,
      events: statuses.filter((status) => status !== undefined),
      ...activity.recent(visible),
    };
  }
}
