import { describe, expect, it } from 'vitest';
import { checkAccess, parseTokenGrants } from '../../runtime/domain/tokens.js';

const badRequest = expect.objectContaining({ name: 'OriginError', code: 'bad_request' });

const NEWS = 'news-token-0123456789';
const ALL = 'all-events-token-0123';
const grants = parseTokenGrants(`${NEWS}=news-*, ${ALL}=*`);

describe('parseTokenGrants', () => {
  it('parses each token=glob entry', () => {
    expect([...grants.keys()]).toEqual([NEWS, ALL]);
  });

  it('collects the globs of a token given twice', () => {
    expect(parseTokenGrants(`${NEWS}=news-*,${NEWS}=sport-*`).get(NEWS)).toHaveLength(2);
  });

  it('accepts a token of exactly 16 characters', () => {
    expect(parseTokenGrants('0123456789abcdef=*').has('0123456789abcdef')).toBe(true);
  });

  it('rejects a token of 15 characters', () => {
    expect(() => parseTokenGrants('0123456789abcde=*')).toThrow(badRequest);
  });

  it('rejects an entry without a glob', () => {
    expect(() => parseTokenGrants(`${NEWS}=`)).toThrow(badRequest);
  });

  it('rejects an entry without =', () => {
    expect(() => parseTokenGrants(NEWS)).toThrow(badRequest);
  });

  it('rejects an empty spec', () => {
    expect(() => parseTokenGrants(' , ')).toThrow(badRequest);
  });
});

describe('checkAccess', () => {
  it('grants an event that matches the glob', () => {
    expect(checkAccess(grants, `Bearer ${NEWS}`, 'news-1')).toBe('granted');
  });

  it('forbids a valid token for an event its glob does not match (403)', () => {
    expect(checkAccess(grants, `Bearer ${NEWS}`, 'sport-1')).toBe('forbidden');
  });

  it('anchors the glob at both ends', () => {
    expect(checkAccess(grants, `Bearer ${NEWS}`, 'old-news-1')).toBe('forbidden');
  });

  it('grants every event to *', () => {
    expect(checkAccess(grants, `Bearer ${ALL}`, 'anything.at_all')).toBe('granted');
  });

  it('treats a dot in a glob literally', () => {
    const dotted = parseTokenGrants(`${NEWS}=news.1`);
    expect(checkAccess(dotted, `Bearer ${NEWS}`, 'newsx1')).toBe('forbidden');
  });

  it('matches one character with ?', () => {
    const single = parseTokenGrants(`${NEWS}=ch?`);
    expect([checkAccess(single, `Bearer ${NEWS}`, 'ch1'), checkAccess(single, `Bearer ${NEWS}`, 'ch12')]).toEqual(['granted', 'forbidden']);
  });

  it('grants a route without an event to any valid token', () => {
    expect(checkAccess(grants, `Bearer ${NEWS}`, undefined)).toBe('granted');
  });

  it('refuses a missing header as unauthenticated (401)', () => {
    expect(checkAccess(grants, undefined, 'news-1')).toBe('unauthenticated');
  });

  it('refuses an unknown token as unauthenticated (401), whatever the event', () => {
    expect(checkAccess(grants, 'Bearer not-a-configured-token', 'news-1')).toBe('unauthenticated');
  });

  it('refuses an unknown token as unauthenticated on a route without an event', () => {
    expect(checkAccess(grants, 'Bearer not-a-configured-token', undefined)).toBe('unauthenticated');
  });

  it('refuses another scheme as unauthenticated', () => {
    expect(checkAccess(grants, `Basic ${NEWS}`, 'news-1')).toBe('unauthenticated');
  });

  it('refuses a bare token without the scheme', () => {
    expect(checkAccess(grants, NEWS, 'news-1')).toBe('unauthenticated');
  });

  it('accepts the scheme in any case', () => {
    expect(checkAccess(grants, `bearer ${NEWS}`, 'news-1')).toBe('granted');
  });

  it('refuses a prefix of a valid token', () => {
    expect(checkAccess(grants, `Bearer ${NEWS.slice(0, -1)}`, 'news-1')).toBe('unauthenticated');
  });
});
