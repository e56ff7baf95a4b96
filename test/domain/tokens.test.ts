import { describe, expect, it } from 'vitest';
import { AUTH_CHALLENGES, checkAccess, parseTokenGrants, presentedToken } from '../../runtime/domain/tokens.js';

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
    expect(checkAccess(grants, `Digest ${NEWS}`, 'news-1')).toBe('unauthenticated');
  });

  it('grants Basic credentials whose password is the token, for its events only', () => {
    expect(checkAccess(grants, basic('pipeline-a', NEWS), 'news-1')).toBe('granted');
    expect(checkAccess(grants, basic('pipeline-a', NEWS), 'sport-1')).toBe('forbidden');
  });

  it('refuses Basic credentials that carry the token as the user name', () => {
    expect(checkAccess(grants, basic(NEWS, 'x'), 'news-1')).toBe('unauthenticated');
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

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

describe('presentedToken', () => {
  it('reads a bearer token', () => {
    expect(presentedToken(`Bearer ${NEWS}`)).toBe(NEWS);
  });

  it('reads the password of Basic credentials, whatever the user name (empty included)', () => {
    expect([presentedToken(basic('a', NEWS)), presentedToken(basic('', NEWS)), presentedToken(basic('encoder 7', NEWS))]).toEqual([NEWS, NEWS, NEWS]);
  });

  it('ends the user name at the first colon, so a token may contain colons', () => {
    expect(presentedToken(basic('a', 'tok:en:with:colons'))).toBe('tok:en:with:colons');
  });

  it('accepts the Basic scheme in any case and unpadded base64', () => {
    const unpadded = Buffer.from(`a:${NEWS}`).toString('base64').replace(/=+$/, '');
    expect([presentedToken(`basic ${unpadded}`), presentedToken(`BASIC ${unpadded}`)]).toEqual([NEWS, NEWS]);
  });

  it('finds no token in Basic credentials without a colon, in bad base64, or with nothing after the scheme', () => {
    expect(presentedToken(`Basic ${Buffer.from(NEWS).toString('base64')}`)).toBeUndefined();
    expect(presentedToken(`Basic ${NEWS}`)).toBeUndefined();
    expect(presentedToken('Basic ')).toBeUndefined();
    expect(presentedToken('Bearer')).toBeUndefined();
  });

  it('finds no token in other schemes or a bare value', () => {
    expect([presentedToken(`Digest ${NEWS}`), presentedToken(NEWS), presentedToken(undefined)]).toEqual([undefined, undefined, undefined]);
  });
});

describe('AUTH_CHALLENGES', () => {
  it('offers Bearer and Basic with the realm, each a challenge of its own', () => {
    expect(AUTH_CHALLENGES).toEqual(['Bearer', 'Basic realm="live-origin"']);
  });
});
