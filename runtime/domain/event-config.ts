import { MAX_BETTER_WAIT_MS } from './better-wait.js';
import { badRequest } from './errors.js';
import type { EventConfig } from './model.js';
import { isPipelineId } from './object-path.js';
import { FULL_QUALITY } from './quality.js';

export const DEFAULT_WINDOW_SEGMENTS = 1800;
const MAX_PIPELINES = 16;
const MAX_DURATION_MS = 60_000;
const MAX_WINDOW_SEGMENTS = 1_000_000;
const FIELDS = ['pipelines', 'segmentDurationMs', 'availabilityStartTime', 'startNumber', 'holdGraceMs', 'windowSegments', 'minQuality', 'betterWaitMs'];

function positiveInt(body: Record<string, unknown>, name: string, max: number, min = 1): number | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badRequest(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function isCalendarDay(year: number, month: number, day: number): boolean {
  return day >= 1 && new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day;
}

/** Validates the JSON body of `PUT /admin/events/{event}`. Unknown fields are rejected. */
export function parseEventConfig(body: unknown): EventConfig {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('event config must be a JSON object');
  const input = body as Record<string, unknown>;
  const unknown = Object.keys(input).filter((key) => !FIELDS.includes(key));
  if (unknown.length > 0) throw badRequest(`unknown event config fields: ${unknown.join(', ')}`);

  let pipelines: string[] | undefined;
  if (input.pipelines !== undefined) {
    if (!Array.isArray(input.pipelines) || input.pipelines.length > MAX_PIPELINES || !input.pipelines.every(isPipelineId)) {
      throw badRequest(`pipelines must be an array of at most ${MAX_PIPELINES} pipeline ids`);
    }
    if (new Set(input.pipelines).size !== input.pipelines.length) throw badRequest('pipelines must not repeat');
    pipelines = input.pipelines;
  }
  let availabilityStartTime: number | undefined;
  if (input.availabilityStartTime !== undefined) {
    const value = input.availabilityStartTime;
    const date = typeof value === 'string' ? /^(\d{4})-(\d{2})-(\d{2})T/.exec(value) : null;
    // Date.parse rolls a day the month lacks (2023-02-29) into the next month; that typo must not shift the timeline.
    const parsed = date && isCalendarDay(Number(date[1]), Number(date[2]), Number(date[3])) ? Date.parse(date.input) : NaN;
    if (Number.isNaN(parsed)) throw badRequest('availabilityStartTime must be an ISO 8601 date-time');
    availabilityStartTime = parsed;
  }
  const config: EventConfig = {
    pipelines,
    segmentDurationMs: positiveInt(input, 'segmentDurationMs', MAX_DURATION_MS),
    availabilityStartTime,
    startNumber: positiveInt(input, 'startNumber', Number.MAX_SAFE_INTEGER, 0),
    holdGraceMs: positiveInt(input, 'holdGraceMs', MAX_DURATION_MS, 0),
    windowSegments: positiveInt(input, 'windowSegments', MAX_WINDOW_SEGMENTS),
    minQuality: positiveInt(input, 'minQuality', FULL_QUALITY, 0),
    betterWaitMs: positiveInt(input, 'betterWaitMs', MAX_BETTER_WAIT_MS, 0),
  };
  if ((config.availabilityStartTime === undefined) !== (config.segmentDurationMs === undefined)) {
    throw badRequest('availabilityStartTime and segmentDurationMs go together (they form the template)');
  }
  // A wait as long as a segment would hold every viewer a whole segment behind the live edge.
  if (config.betterWaitMs !== undefined && config.segmentDurationMs !== undefined && config.betterWaitMs >= config.segmentDurationMs) {
    throw badRequest('betterWaitMs must be shorter than segmentDurationMs');
  }
  return Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)) as EventConfig;
}

/**
 * The config as the control plane shows it (dates as ISO 8601, fixed defaults filled in). The
 * default `betterWaitMs` follows the segment duration, so it is left out unless configured: a
 * config read and sent back must not freeze it (the status shows the wait in force).
 */
export function describeEventConfig(config: EventConfig): Record<string, unknown> {
  return {
    ...config,
    availabilityStartTime: config.availabilityStartTime === undefined ? undefined : new Date(config.availabilityStartTime).toISOString(),
    windowSegments: config.windowSegments ?? DEFAULT_WINDOW_SEGMENTS,
    minQuality: config.minQuality ?? 0,
  };
}
