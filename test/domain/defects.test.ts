import { describe, expect, it } from 'vitest';
import { isKnownDefect, KNOWN_DEFECTS, parseDefects } from '../../runtime/domain/defects.js';

const badRequest = expect.objectContaining({ name: 'OriginError', code: 'bad_request' });

describe('parseDefects', () => {
  it('treats an absent header as clean', () => {
    expect(parseDefects(undefined)).toEqual([]);
  });

  it('treats an empty header as clean', () => {
    expect(parseDefects('  ')).toEqual([]);
  });

  it.each(['none', 'None', ' NONE '])('treats %j as clean', (value) => {
    expect(parseDefects(value)).toEqual([]);
  });

  it('splits a comma-separated list and trims each kind', () => {
    expect(parseDefects('short ,  tfdt')).toEqual(['short', 'tfdt']);
  });

  it('lower-cases kinds', () => {
    expect(parseDefects('AV-Sync')).toEqual(['av-sync']);
  });

  it('drops duplicates, keeping first-seen order', () => {
    expect(parseDefects('tfdt, short, TFDT')).toEqual(['tfdt', 'short']);
  });

  it('keeps unknown kinds', () => {
    expect(parseDefects('scte35-gap')).toEqual(['scte35-gap']);
  });

  it.each(['short,,tfdt', 'short;tfdt', 'bad kind', '-short', 'a'.repeat(33), 'short,'])('rejects %j with bad_request', (value) => {
    expect(() => parseDefects(value)).toThrow(badRequest);
  });

  it('accepts 16 distinct kinds', () => {
    const kinds = Array.from({ length: 16 }, (_, i) => `k${i}`);
    expect(parseDefects(kinds.join(','))).toHaveLength(16);
  });

  it('rejects 17 distinct kinds', () => {
    const kinds = Array.from({ length: 17 }, (_, i) => `k${i}`);
    expect(() => parseDefects(kinds.join(','))).toThrow(badRequest);
  });
});

describe('isKnownDefect', () => {
  it.each([...KNOWN_DEFECTS])('knows %s', (kind) => {
    expect(isKnownDefect(kind)).toBe(true);
  });

  it('does not know an unlisted kind', () => {
    expect(isKnownDefect('scte35-gap')).toBe(false);
  });

  it('lists exactly the kinds of the contract', () => {
    expect([...KNOWN_DEFECTS].sort()).toEqual(['av-sync', 'corrupt', 'discontinuity', 'missing', 'short', 'tfdt']);
  });
});
