import { describe, expect, it } from 'vitest';
import { checkersVerdict, type DrillClock, type DrillRoute53, type FailoverRecord, regionOfAnswer, runDrill } from '../../../scripts/drill/failover-drill.js';

const ZONE = 'Z0123456789EXAMPLE';
const NAME = 'origin.example.com';
const RECORDS: FailoverRecord[] = [
  { region: 'us-east-1', role: 'PRIMARY', aliasDnsName: 'dualstack.east.elb.amazonaws.com' },
  { region: 'eu-west-1', role: 'SECONDARY', aliasDnsName: 'dualstack.west.elb.amazonaws.com' },
];
const ADDRESSES: Record<string, string[]> = {
  'dualstack.east.elb.amazonaws.com': ['198.51.100.1', '198.51.100.2'],
  'dualstack.west.elb.amazonaws.com': ['203.0.113.7'],
};

/** Time that passes only when the drill sleeps. */
class FakeClock implements DrillClock {
  t = 1_000_000;
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.t += ms;
  }
}

/**
 * Route 53 as the drill sees it: after an inversion, the checkers report the inverted status
 * `statusDelayMs` later and the name servers answer by the inverted status `answerDelayMs`
 * later (the CALCULATED check and record following the endpoint check).
 */
class FakeRoute53 implements DrillRoute53 {
  readonly inverted = new Map<string, { value: boolean; at: number }>();
  readonly updates: [string, boolean][] = [];
  constructor(
    private readonly clock: FakeClock,
    private readonly delays: { statusMs: number; answerMs: number; reportsInversion?: boolean },
    private readonly checks: Record<string, string> = { 'live-origin-us-east-1-endpoint': 'hc-east', 'live-origin-eu-west-1-endpoint': 'hc-west' },
  ) {}
  async findHealthCheckId(name: string) {
    return this.checks[name];
  }
  async setInverted(id: string, value: boolean) {
    this.updates.push([id, value]);
    this.inverted.set(id, { value, at: this.clock.now() });
  }
  private effective(id: string, delayMs: number): boolean {
    const state = this.inverted.get(id);
    if (!state) return false;
    return this.clock.now() - state.at >= delayMs ? state.value : !state.value;
  }
  async checkerStatuses(id: string) {
    const down = this.delays.reportsInversion === false ? false : this.effective(id, this.delays.statusMs);
    return Array.from({ length: 16 }, (_, i) => (down || i === 0 ? 'Failure: Connection timed out' : 'Success: HTTP Status Code 200, OK'));
  }
  async failoverRecords(zone: string, name: string) {
    return zone === ZONE && name === NAME ? RECORDS : [];
  }
  async answer() {
    const eastDown = this.effective('hc-east', this.delays.answerMs);
    const westDown = this.effective('hc-west', this.delays.answerMs);
    // Failover routing: the primary while healthy (or when both are down), else the secondary.
    return eastDown && !westDown ? ['203.0.113.7'] : ['198.51.100.2', '198.51.100.1'];
  }
}

const resolve = async (hostname: string) => ADDRESSES[hostname] ?? [];

function drill(route53: FakeRoute53, clock: FakeClock, action: 'fail' | 'restore', region = 'us-east-1', lines: string[] = []) {
  return runDrill(route53, resolve, clock, { action, region, hostedZoneId: ZONE, recordName: NAME, log: (line) => lines.push(line) });
}

describe('runDrill', () => {
  it('fails the primary: inverts its endpoint check, and reports when checkers and DNS show it', async () => {
    const clock = new FakeClock();
    const route53 = new FakeRoute53(clock, { statusMs: 20_000, answerMs: 35_000 });
    const lines: string[] = [];
    const result = await drill(route53, clock, 'fail', 'us-east-1', lines);
    expect(route53.updates).toEqual([['hc-east', true]]);
    expect(result).toMatchObject({ ok: true, healthCheckId: 'hc-east', answeredBy: 'eu-west-1', statusAfterMs: 20_000, answerAfterMs: 35_000 });
    expect(result.summary).toBe('fail us-east-1: DNS answered eu-west-1 after 35.0 s; checkers reported unhealthy after 20.0 s.');
    expect(lines.some((line) => line.includes('answers us-east-1'))).toBe(true);
  });

  it('restores the primary: DNS answers it again once Route 53 sees it healthy', async () => {
    const clock = new FakeClock();
    const route53 = new FakeRoute53(clock, { statusMs: 10_000, answerMs: 15_000 });
    await drill(route53, clock, 'fail');
    const result = await drill(route53, clock, 'restore');
    expect(route53.updates).toEqual([
      ['hc-east', true],
      ['hc-east', false],
    ]);
    expect(result).toMatchObject({ ok: true, answeredBy: 'us-east-1', statusAfterMs: 10_000, answerAfterMs: 15_000 });
  });

  it('fails the secondary without moving DNS: the primary keeps answering', async () => {
    const clock = new FakeClock();
    const route53 = new FakeRoute53(clock, { statusMs: 20_000, answerMs: 20_000 });
    const result = await drill(route53, clock, 'fail', 'eu-west-1');
    expect(route53.updates).toEqual([['hc-west', true]]);
    expect(result).toMatchObject({ ok: true, answeredBy: 'us-east-1', answerAfterMs: 0, statusAfterMs: 20_000 });
  });

  it('gives up after the timeout when DNS never moves, saying so', async () => {
    const clock = new FakeClock();
    const route53 = new FakeRoute53(clock, { statusMs: 10_000, answerMs: 10 * 60_000 });
    const result = await runDrill(route53, resolve, clock, { action: 'fail', region: 'us-east-1', hostedZoneId: ZONE, recordName: NAME, timeoutMs: 60_000 });
    expect(result.ok).toBe(false);
    expect(result.answeredBy).toBe('us-east-1');
    expect(result.summary).toContain('DNS still answered us-east-1 after 60.0 s');
    expect(clock.t - 1_000_000).toBe(60_000);
  });

  it('still succeeds when DNS moves but checkers report raw results for the inverted check', async () => {
    const clock = new FakeClock();
    const route53 = new FakeRoute53(clock, { statusMs: 0, answerMs: 30_000, reportsInversion: false });
    const result = await runDrill(route53, resolve, clock, { action: 'fail', region: 'us-east-1', hostedZoneId: ZONE, recordName: NAME, timeoutMs: 90_000 });
    expect(result).toMatchObject({ ok: true, answerAfterMs: 30_000, statusAfterMs: undefined });
    expect(result.summary).toContain('checkers never reported unhealthy');
  });

  it('refuses a region with no failover record, touching nothing', async () => {
    const clock = new FakeClock();
    const route53 = new FakeRoute53(clock, { statusMs: 0, answerMs: 0 });
    await expect(drill(route53, clock, 'fail', 'ap-south-1')).rejects.toThrow(/no failover record of origin.example.com for ap-south-1/);
    expect(route53.updates).toEqual([]);
  });

  it('refuses when the endpoint check cannot be found', async () => {
    const clock = new FakeClock();
    const route53 = new FakeRoute53(clock, { statusMs: 0, answerMs: 0 }, {});
    await expect(drill(route53, clock, 'fail')).rejects.toThrow(/Name=live-origin-us-east-1-endpoint/);
  });
});

describe('checkersVerdict', () => {
  const reports = (healthy: number, total: number) =>
    Array.from({ length: total }, (_, i) => (i < healthy ? 'Success: HTTP Status Code 200, OK' : 'Failure: HTTP Status Code 503'));

  it('follows the 18 % rule: healthy while more than 18 % of checkers say so', () => {
    expect(checkersVerdict(reports(4, 16))).toBe('healthy');
    expect(checkersVerdict(reports(2, 16))).toBe('unhealthy');
    expect(checkersVerdict(reports(3, 16))).toBe('healthy');
  });

  it('knows nothing without reports', () => {
    expect(checkersVerdict([])).toBe('unknown');
  });
});

describe('regionOfAnswer', () => {
  const byRegion = new Map(Object.entries({ 'us-east-1': ['198.51.100.1'], 'eu-west-1': ['203.0.113.7'] }));

  it('names the region whose load balancer addresses were answered', () => {
    expect(regionOfAnswer(['203.0.113.7'], byRegion)).toBe('eu-west-1');
  });

  it('names none for unknown addresses', () => {
    expect(regionOfAnswer(['192.0.2.1'], byRegion)).toBeUndefined();
  });
});
