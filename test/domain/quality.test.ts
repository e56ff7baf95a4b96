import { describe, expect, it } from 'vitest';
import { defectKinds, FULL_QUALITY, isDefective, LOW_QUALITY_DEFECT, parseQuality, qualityOf } from '../../runtime/domain/quality.js';

const badRequest = expect.objectContaining({ name: 'OriginError', code: 'bad_request', message: 'Live-Quality must be an integer from 0 to 100 (100 best)' });

describe('parseQuality', () => {
  it('gives 100 when the header is absent', () => {
    expect(parseQuality(undefined)).toBe(FULL_QUALITY);
  });

  it.each([
    ['0', 0],
    ['40', 40],
    ['100', 100],
    [' 73 ', 73],
    ['007', 7],
  ])('reads %j as %i', (header, score) => {
    expect(parseQuality(header)).toBe(score);
  });

  it.each(['', ' ', '101', '-1', '+40', '40.0', '4e1', '0x10', 'high', '40, 50', '1000', 'NaN'])('refuses %j with 400 and a reason', (header) => {
    expect(() => parseQuality(header)).toThrow(badRequest);
  });
});

describe('qualityOf, isDefective, defectKinds', () => {
  const clean = { defects: [] as string[] };

  it('counts a candidate without a score (a record from before scores) as 100', () => {
    expect([qualityOf({ quality: undefined }), qualityOf({ quality: 40 })]).toEqual([100, 40]);
  });

  it('calls a candidate defective for a reported defect, or for a score below the minimum', () => {
    expect(isDefective({ ...clean, quality: 59 }, 60)).toBe(true);
    expect(isDefective({ ...clean, quality: 60 }, 60)).toBe(false);
    expect(isDefective({ defects: ['short'], quality: 100 }, 0)).toBe(true);
    expect(isDefective({ ...clean, quality: 0 })).toBe(false);
  });

  it('adds low-quality to the forwarded kinds below the minimum, once', () => {
    expect(defectKinds({ defects: ['short'], quality: 10 }, 50)).toEqual(['short', LOW_QUALITY_DEFECT]);
    expect(defectKinds({ defects: [LOW_QUALITY_DEFECT], quality: 10 }, 50)).toEqual([LOW_QUALITY_DEFECT]);
    expect(defectKinds({ defects: ['short'], quality: 50 }, 50)).toEqual(['short']);
  });
});
