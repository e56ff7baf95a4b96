import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../runtime/config.js';

const TOKENS = { LIVE_ORIGIN_TOKENS: 'config-token-0123456789=*' };

function refusal(env: Record<string, string>): string {
  try {
    loadConfig({ ...TOKENS, ...env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('loadConfig: log settings and the port', () => {
  it('takes LOG_LEVEL, LOG_FORMAT and NO_COLOR; leaves the format to the server when unset', () => {
    expect(loadConfig({ ...TOKENS, LOG_LEVEL: 'debug', LOG_FORMAT: 'pretty', NO_COLOR: '1' })).toMatchObject({
      logLevel: 'debug',
      logFormat: 'pretty',
      logColors: false,
    });
    const defaults = loadConfig(TOKENS);
    expect([defaults.logLevel, defaults.logFormat, defaults.logColors]).toEqual(['info', undefined, true]);
  });

  it('refuses an unknown LOG_LEVEL or LOG_FORMAT, naming the ones it takes', () => {
    expect(refusal({ LOG_LEVEL: 'loud' })).toBe('LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"');
    expect(refusal({ LOG_FORMAT: 'xml' })).toBe('LOG_FORMAT must be one of json, pretty, got "xml"');
  });

  it('refuses a PORT outside 0 to 65535', () => {
    expect(refusal({ PORT: '65536' })).toBe('PORT must be an integer from 0 to 65535, got "65536"');
    expect(refusal({ PORT: '-1' })).toBe('PORT must be an integer from 0 to 65535, got "-1"');
    expect(loadConfig({ ...TOKENS, PORT: '65535' }).port).toBe(65_535);
  });

  it('refuses a malformed LIVE_ORIGIN_TOKENS in one line that shows no token', () => {
    const message = refusal({ LIVE_ORIGIN_TOKENS: 'short-secret=*' });
    expect(message).toMatch(/^LIVE_ORIGIN_TOKENS: /);
    expect(message).not.toContain('short-secret');
    expect(message).not.toContain('\n');
  });
});
