import { describe, expect, it } from 'vitest';
import { CONFIG_DEFAULTS, ConfigError, parseConfig, parseList, type RawContext, readContext } from '../../lib/config.js';

function problemsOf(raw: RawContext): string {
  try {
    parseConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('fills every default from an empty context', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      regions: CONFIG_DEFAULTS.regions,
      homeRegion: 'us-east-1',
      primaryRegion: 'us-east-1',
      instanceType: 'c7g.large',
      minCapacity: { 'us-east-1': 2, 'eu-west-1': 2 },
      eventWindows: [],
      loadBalancerCapacityUnits: 0,
      ingestSources: [],
      ingestRateLimit: 0,
      patchEpoch: 'initial',
      maxCapacity: 6,
      windowSegments: 1800,
      segmentDurationMs: 2000,
      tablePrefix: 'live-origin-',
      secretName: 'live-origin/runtime',
      existingVpcs: {},
    });
    expect(config.dns).toBeUndefined();
    expect(config.account).toBeUndefined();
  });

  it('reads regions as comma-separated text, JSON text or a JSON array', () => {
    expect(parseConfig({ regions: 'eu-west-1, ap-southeast-2' }).regions).toEqual(['eu-west-1', 'ap-southeast-2']);
    expect(parseConfig({ regions: '["eu-west-1","us-west-2"]' }).regions).toEqual(['eu-west-1', 'us-west-2']);
    expect(parseConfig({ regions: ['us-east-2'] }).regions).toEqual(['us-east-2']);
  });

  it('puts the home region first, and keeps it apart from the region CloudFront asks first', () => {
    const config = parseConfig({ regions: 'us-east-1,eu-west-1', homeRegion: 'eu-west-1' });
    expect(config.regions).toEqual(['eu-west-1', 'us-east-1']);
    expect(config.primaryRegion).toBe('eu-west-1');
    const failedOver = parseConfig({ regions: 'us-east-1,eu-west-1', primaryRegion: 'eu-west-1' });
    expect([failedOver.homeRegion, failedOver.primaryRegion, failedOver.regions]).toEqual(['us-east-1', 'eu-west-1', ['us-east-1', 'eu-west-1']]);
  });

  it('turns -c strings into numbers', () => {
    const config = parseConfig({ minCapacity: '3', maxCapacity: '9', windowSegments: '900' });
    expect([config.minCapacity, config.maxCapacity, config.windowSegments]).toEqual([{ 'us-east-1': 3, 'eu-west-1': 3 }, 9, 900]);
  });

  it('takes a minimum per region', () => {
    expect(parseConfig({ minCapacity: 'us-east-1=4,eu-west-1=3' }).minCapacity).toEqual({ 'us-east-1': 4, 'eu-west-1': 3 });
    expect(parseConfig({ minCapacity: { 'eu-west-1': 5 }, maxCapacity: 8 }).minCapacity).toEqual({ 'us-east-1': 2, 'eu-west-1': 5 });
    expect(problemsOf({ minCapacity: 'ap-south-1=4' })).toContain('not in regions');
    expect(problemsOf({ minCapacity: 'us-east-1=9', maxCapacity: '6' })).toContain('maxCapacity (6) must be >= minCapacity (9)');
  });

  it('keeps event windows still to come or under way, in order, and refuses overlapping or inverted ones', () => {
    const now = Date.parse('2026-07-01T12:00:00Z');
    const windows = [
      { start: '2026-07-02T18:00:00Z', end: '2026-07-02T23:00:00Z', minCapacity: 6 },
      { start: '2026-06-01T18:00:00Z', end: '2026-06-01T23:00:00Z', minCapacity: 6 },
      { start: '2026-07-01T10:00:00Z', end: '2026-07-01T14:00:00Z', minCapacity: 5 },
    ];
    expect(parseConfig({ eventWindows: JSON.stringify(windows) }, now).eventWindows).toEqual([
      { start: '2026-07-01T10:00:00.000Z', end: '2026-07-01T14:00:00.000Z', minCapacity: 5 },
      { start: '2026-07-02T18:00:00.000Z', end: '2026-07-02T23:00:00.000Z', minCapacity: 6 },
    ]);
    expect(problemsOf({ eventWindows: [{ start: '2026-07-02T18:00:00Z', end: '2026-07-02T17:00:00Z', minCapacity: 4 }] })).toContain('end after start');
    expect(
      problemsOf({
        eventWindows: [
          { start: '2099-01-01T00:00:00Z', end: '2099-01-01T05:00:00Z', minCapacity: 4 },
          { start: '2099-01-01T04:00:00Z', end: '2099-01-01T06:00:00Z', minCapacity: 4 },
        ],
      }),
    ).toContain('overlap');
  });

  it('refuses a bad ingest source, rate limit or patch epoch', () => {
    const message = problemsOf({ ingestSources: '203.0.113.0/24,not-a-cidr', ingestRateLimit: '5', patchEpoch: 'has space', loadBalancerCapacityUnits: '20' });
    expect(message).toContain('loadBalancerCapacityUnits must be 0 (none) or at least 100');
    expect(message).toContain('"not-a-cidr" is not a CIDR');
    expect(message).toContain('ingestRateLimit must be 0');
    expect(message).toContain('patchEpoch');
  });

  it('adds DNS only with both domainName and hostedZoneId', () => {
    const config = parseConfig({ domainName: 'Origin.Example.com.', hostedZoneId: '/hostedzone/Z0123456789EXAMPLE' });
    expect(config.dns).toEqual({ domainName: 'origin.example.com', hostedZoneId: 'Z0123456789EXAMPLE' });
    expect(problemsOf({ domainName: 'origin.example.com' })).toContain('domainName and hostedZoneId go together');
  });

  it('refuses DNS failover with other than two regions, saying why', () => {
    const message = problemsOf({
      regions: 'us-east-1,eu-west-1,ap-southeast-2',
      domainName: 'origin.example.com',
      hostedZoneId: 'Z0123456789EXAMPLE',
    });
    expect(message).toContain('exactly two regions');
    expect(message).toContain('PRIMARY');
  });

  it('reports every problem at once', () => {
    const message = problemsOf({ regions: 'us-east-1,mars-1', instanceType: 'c7i.large', minCapacity: '0', account: '42' });
    expect(message).toContain('"mars-1" is not an AWS region name');
    expect(message).toContain('Graviton');
    expect(message).toContain('minCapacity must be an integer >= 1');
    expect(message).toContain('12-digit');
  });

  it('refuses a primary region that is not deployed', () => {
    expect(problemsOf({ regions: 'us-east-1,eu-west-1', primaryRegion: 'us-west-2' })).toContain('primaryRegion "us-west-2"');
  });

  it('refuses maxCapacity below minCapacity', () => {
    expect(problemsOf({ minCapacity: 4, maxCapacity: 3 })).toContain('maxCapacity (3) must be >= minCapacity (4)');
  });

  it('refuses duplicated regions', () => {
    expect(problemsOf({ regions: 'us-east-1,us-east-1' })).toContain('more than once');
  });

  it('accepts an existing VPC per region with committed attributes', () => {
    const config = parseConfig({
      regions: 'us-east-1,eu-west-1',
      vpcId: 'us-east-1=vpc-0123456789abcdef0',
      vpcAttributes: {
        'vpc-0123456789abcdef0': {
          availabilityZones: ['us-east-1a', 'us-east-1b'],
          publicSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'],
          privateSubnetIds: ['subnet-0bbbbbbbbbbbbbbb1', 'subnet-0bbbbbbbbbbbbbbb2'],
        },
      },
    });
    expect(config.existingVpcs['us-east-1']?.vpcId).toBe('vpc-0123456789abcdef0');
    expect(config.existingVpcs['eu-west-1']).toBeUndefined();
  });

  it('asks for committed attributes instead of looking a VPC up', () => {
    expect(problemsOf({ regions: 'us-east-1', vpcId: 'vpc-0123456789abcdef0' })).toContain('synth never looks VPCs up');
  });

  it('refuses one bare VPC id for several regions', () => {
    expect(problemsOf({ regions: 'us-east-1,eu-west-1', vpcId: 'vpc-0123456789abcdef0' })).toContain('use region=vpc-id pairs');
  });
});

describe('parseConfig alarm notifications', () => {
  it('pages nobody by default', () => {
    expect(parseConfig({}).alarms).toEqual({ emails: [], topicArns: {} });
  });

  it('reads e-mail addresses as a list and topics as region=arn pairs or JSON', () => {
    const config = parseConfig({
      alarmEmails: 'oncall@example.com, lead@example.com',
      alarmTopicArns: 'eu-west-1=arn:aws:sns:eu-west-1:123456789012:oncall',
    });
    expect(config.alarms).toEqual({
      emails: ['oncall@example.com', 'lead@example.com'],
      topicArns: { 'eu-west-1': 'arn:aws:sns:eu-west-1:123456789012:oncall' },
    });
    expect(parseConfig({ alarmTopicArns: '{"us-east-1":"arn:aws:sns:us-east-1:123456789012:a"}' }).alarms.topicArns).toEqual({
      'us-east-1': 'arn:aws:sns:us-east-1:123456789012:a',
    });
  });

  it('refuses a bad address, a topic in another region and a region not deployed, all at once', () => {
    expect(() =>
      parseConfig({
        alarmEmails: 'oncall',
        alarmTopicArns: 'eu-west-1=arn:aws:sns:us-east-1:123456789012:a,ap-south-1=arn:aws:sns:ap-south-1:123456789012:b',
      }),
    ).toThrow(/"oncall" is not an e-mail address[\s\S]*topic is in us-east-1[\s\S]*"ap-south-1", which is not in regions/);
  });
});

describe('parseList', () => {
  it('drops blanks', () => {
    expect(parseList(' a, ,b ')).toEqual(['a', 'b']);
  });
});

describe('readContext', () => {
  it('asks for each key exactly once', () => {
    const asked: string[] = [];
    readContext((key) => {
      asked.push(key);
      return undefined;
    });
    expect(new Set(asked).size).toBe(asked.length);
    expect(asked).toContain('regions');
    expect(asked).toContain('vpcId');
  });
});
