/**
 * Event windows as Auto Scaling schedules: each region's minimum goes up at a window's start and
 * back at its end, so the standby region already runs the whole event's capacity when a failover
 * lands on it (a cold standby would take alarm periods, launches and warm-up, minutes, at peak).
 */
import type { EventWindow } from './config.js';
import type { ScheduledCapacity } from './constructs/origin-fleet-props.js';

export interface RegionCapacity {
  /** The group's minimum as deployed now: raised when a window is under way. */
  readonly minCapacity: number;
  /** One-time changes still to come. */
  readonly scheduled: readonly ScheduledCapacity[];
}

/** The minimum and the schedule of one region whose minimum outside windows is `baseMin`. */
export function regionCapacity(windows: readonly EventWindow[], baseMin: number, now: number): RegionCapacity {
  let minCapacity = baseMin;
  const scheduled: ScheduledCapacity[] = [];
  for (const window of windows) {
    const peak = Math.max(baseMin, window.minCapacity);
    if (Date.parse(window.end) <= now) continue;
    // Under way at deploy time: the template's minimum is the window's; only its end is scheduled.
    if (Date.parse(window.start) <= now) minCapacity = peak;
    else scheduled.push({ at: window.start, minCapacity: peak });
    scheduled.push({ at: window.end, minCapacity: baseMin });
  }
  return { minCapacity, scheduled };
}
