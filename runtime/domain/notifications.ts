import { badRequest } from './errors.js';

/**
 * Packager notifications: `Live-Notify-<Name>: <value>` on ingest, kept per event (latest value
 * per name wins) and repeated on every delivery response of that event.
 */

export const NOTIFY_PREFIX = 'live-notify-';
const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** Visible ASCII and spaces/tabs only: no CR/LF or other controls can reach a response header. */
const VALUE = /^[\t\x20-\x7e]*$/;
export const MAX_NOTIFY_VALUE_BYTES = 1024;
export const MAX_NOTIFICATIONS_PER_EVENT = 32;

export type Notifications = Readonly<Record<string, string>>;

/**
 * Extracts notifications from request headers (names lower-cased by Node). An empty value
 * removes that notification from the event.
 */
export function parseNotifications(headers: Readonly<Record<string, string | string[] | undefined>>): Record<string, string> {
  const found: Record<string, string> = {};
  for (const [header, raw] of Object.entries(headers)) {
    if (!header.startsWith(NOTIFY_PREFIX)) continue;
    const name = header.slice(NOTIFY_PREFIX.length);
    if (!NAME.test(name)) throw badRequest(`notification name "${name}" must match ${NAME.source}`);
    if (Array.isArray(raw)) throw badRequest(`notification ${name} is sent more than once`);
    const value = (raw ?? '').trim();
    if (!VALUE.test(value)) throw badRequest(`notification ${name} has control characters`);
    if (Buffer.byteLength(value) > MAX_NOTIFY_VALUE_BYTES) {
      throw badRequest(`notification ${name} is longer than ${MAX_NOTIFY_VALUE_BYTES} bytes`);
    }
    found[name] = value;
  }
  return found;
}

/** Applies an update to an event's notifications: latest value wins, empty value removes. */
export function mergeNotifications(current: Notifications, update: Notifications): Record<string, string> {
  const merged: Record<string, string> = { ...current };
  for (const [name, value] of Object.entries(update)) {
    if (value === '') delete merged[name];
    else merged[name] = value;
  }
  if (Object.keys(merged).length > MAX_NOTIFICATIONS_PER_EVENT) {
    throw badRequest(`an event keeps at most ${MAX_NOTIFICATIONS_PER_EVENT} notifications`);
  }
  return merged;
}

/** Response headers for an event's notifications, with canonical casing (`Live-Notify-Availability-Start`). */
export function notificationHeaders(notifications: Notifications): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(notifications)) {
    const canonical = name
      .split('-')
      .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
      .join('-');
    headers[`Live-Notify-${canonical}`] = value;
  }
  return headers;
}
