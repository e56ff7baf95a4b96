import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../runtime/config.js';

describe('LIVE_ORIGIN_CLOUDFRONT_DISTRIBUTION_ID', () => {
  it('is off when unset or blank', () => {
    expect(loadConfig({}).cloudFrontDistributionId).toBeUndefined();
    expect(loadConfig({ LIVE_ORIGIN_CLOUDFRONT_DISTRIBUTION_ID: ' ' }).cloudFrontDistributionId).toBeUndefined();
  });

  it('takes a distribution id', () => {
    expect(loadConfig({ LIVE_ORIGIN_CLOUDFRONT_DISTRIBUTION_ID: 'E2QWRUHEXAMPLE' }).cloudFrontDistributionId).toBe('E2QWRUHEXAMPLE');
  });

  it('refuses an ARN or a domain name at start-up, saying what it wants', () => {
    for (const value of ['arn:aws:cloudfront::123456789012:distribution/E2QWRUHEXAMPLE', 'd111111abcdef8.cloudfront.net']) {
      expect(() => loadConfig({ LIVE_ORIGIN_CLOUDFRONT_DISTRIBUTION_ID: value })).toThrow(ConfigError);
      expect(() => loadConfig({ LIVE_ORIGIN_CLOUDFRONT_DISTRIBUTION_ID: value })).toThrow(/like E2QWRUHEXAMPLE/);
    }
  });
});
