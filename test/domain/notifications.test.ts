import { describe, expect, it } from 'vitest';
import {
  MAX_NOTIFICATIONS_PER_EVENT,
  MAX_NOTIFY_VALUE_BYTES,
  mergeNotifications,
  notificationHeaders,
  parseNotifications,
} from '../../runtime/domain/notifications.js';

const badRequest = expect.objectContaining({ name: 'OriginError', code: 'bad_request' });

function manyNotifications(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`n${i}`, String(i)]));
}

describe('parseNotifications', () => {
  it('takes Live-Notify-* headers by their lower-cased name', () => {
    expect(parseNotifications({ 'live-notify-alert': 'ad-break', 'live-notify-availability-start': '2024-01-01' })).toEqual({
      alert: 'ad-break',
      'availability-start': '2024-01-01',
    });
  });

  it('ignores other headers', () => {
    expect(parseNotifications({ 'content-type': 'video/mp4', 'live-defect': 'short' })).toEqual({});
  });

  it('trims the value', () => {
    expect(parseNotifications({ 'live-notify-alert': '  on air  ' })).toEqual({ alert: 'on air' });
  });

  it('keeps an empty value, which asks for removal', () => {
    expect(parseNotifications({ 'live-notify-alert': '' })).toEqual({ alert: '' });
  });

  it('allows a tab inside the value', () => {
    expect(parseNotifications({ 'live-notify-alert': 'a\tb' })).toEqual({ alert: 'a\tb' });
  });

  it.each(['a\r\nX-Injected: 1', 'a\nb', 'a\rb', 'a\u0000b', 'a\u001bb', 'a\u007fb'])('rejects the control character in %j', (value) => {
    expect(() => parseNotifications({ 'live-notify-alert': value })).toThrow(badRequest);
  });

  it('rejects a non-ASCII value', () => {
    expect(() => parseNotifications({ 'live-notify-alert': 'café' })).toThrow(badRequest);
  });

  it('accepts a value of exactly 1024 bytes', () => {
    const value = 'x'.repeat(MAX_NOTIFY_VALUE_BYTES);
    expect(parseNotifications({ 'live-notify-alert': value }).alert).toBe(value);
  });

  it('rejects a value of 1025 bytes', () => {
    expect(() => parseNotifications({ 'live-notify-alert': 'x'.repeat(MAX_NOTIFY_VALUE_BYTES + 1) })).toThrow(badRequest);
  });

  it('rejects a header sent more than once (array value)', () => {
    expect(() => parseNotifications({ 'live-notify-alert': ['a', 'b'] })).toThrow(badRequest);
  });

  it('rejects a name with characters outside the set', () => {
    expect(() => parseNotifications({ 'live-notify-al_ert': 'x' })).toThrow(badRequest);
  });

  it('rejects an empty name', () => {
    expect(() => parseNotifications({ 'live-notify-': 'x' })).toThrow(badRequest);
  });
});

describe('mergeNotifications', () => {
  it('lets the latest value of a name win', () => {
    expect(mergeNotifications({ alert: 'old' }, { alert: 'new' })).toEqual({ alert: 'new' });
  });

  it('keeps names the update does not mention', () => {
    expect(mergeNotifications({ alert: 'a', other: 'b' }, { alert: 'c' })).toEqual({ alert: 'c', other: 'b' });
  });

  it('removes a name on an empty value', () => {
    expect(mergeNotifications({ alert: 'a', other: 'b' }, { alert: '' })).toEqual({ other: 'b' });
  });

  it('does not modify the current notifications', () => {
    const current = { alert: 'a' };
    mergeNotifications(current, { alert: 'b' });
    expect(current).toEqual({ alert: 'a' });
  });

  it('accepts exactly 32 notifications', () => {
    expect(Object.keys(mergeNotifications(manyNotifications(31), { last: 'x' }))).toHaveLength(MAX_NOTIFICATIONS_PER_EVENT);
  });

  it('rejects a 33rd notification', () => {
    expect(() => mergeNotifications(manyNotifications(32), { last: 'x' })).toThrow(badRequest);
  });

  it('counts removals before the cap', () => {
    expect(Object.keys(mergeNotifications(manyNotifications(32), { n0: '', last: 'x' }))).toHaveLength(32);
  });
});

describe('notificationHeaders', () => {
  it('uses canonical casing for every word of the name', () => {
    expect(notificationHeaders({ 'availability-start': '2024-01-01T00:00:00Z' })).toEqual({
      'Live-Notify-Availability-Start': '2024-01-01T00:00:00Z',
    });
  });

  it('emits one header per notification', () => {
    expect(notificationHeaders({ alert: 'a', 'ad-break': 'b' })).toEqual({ 'Live-Notify-Alert': 'a', 'Live-Notify-Ad-Break': 'b' });
  });

  it('emits nothing for no notifications', () => {
    expect(notificationHeaders({})).toEqual({});
  });
});
