import { describe, expect, it } from 'vitest';
import { ELB_ALIAS_TTL_SECONDS, FAILOVER_DEFAULTS, failoverTimeline, timelineMarkdown } from '../../lib/failover-timeline.js';

describe('failoverTimeline', () => {
  const defaults = failoverTimeline(FAILOVER_DEFAULTS);

  it('detects a dark region in request interval x failure threshold, and resolvers follow one TTL later', () => {
    expect(defaults.dark.route53Seconds).toBe(10 * 3);
    expect(defaults.dark.resolverSeconds).toBe(10 * 3 + ELB_ALIAS_TTL_SECONDS);
    expect(defaults.dark.cdnSeconds).toBe(defaults.dark.resolverSeconds);
  });

  it('meets the 90 s target with the defaults', () => {
    expect(defaults.dark.resolverSeconds).toBe(90);
    expect(defaults.meetsTarget).toBe(true);
  });

  it('detects a partial failure in alarm period x evaluation periods', () => {
    expect(defaults.alarm.route53Seconds).toBe(60 * 3);
    expect(defaults.alarm.resolverSeconds).toBe(180 + 60);
  });

  it('misses the target with the standard 30 s interval', () => {
    const slow = failoverTimeline({ ...FAILOVER_DEFAULTS, endpointRequestIntervalSeconds: 30 });
    expect(slow.dark.resolverSeconds).toBe(150);
    expect(slow.meetsTarget).toBe(false);
  });

  it('adds a CDN that re-resolves more slowly than the TTL', () => {
    expect(failoverTimeline({ ...FAILOVER_DEFAULTS, cdnReResolutionSeconds: 300 }).dark.cdnSeconds).toBe(330);
  });

  it.each([
    [{ endpointRequestIntervalSeconds: 5 }, /10 or 30/],
    [{ endpointFailureThreshold: 11 }, /1 to 10/],
    [{ alarmPeriodSeconds: 10 }, /standard-resolution/],
    [{ alarmEvaluationPeriods: 0 }, /positive integer/],
  ])('refuses settings AWS would refuse: %o', (override, message) => {
    expect(() => failoverTimeline({ ...FAILOVER_DEFAULTS, ...override })).toThrow(message);
  });

  it('renders a table whose numbers are the computed ones', () => {
    const markdown = timelineMarkdown(defaults);
    expect(markdown).toContain(`| ${defaults.dark.route53Seconds} | ${defaults.dark.resolverSeconds} | ${defaults.dark.cdnSeconds} |`);
    expect(markdown).toContain(`| ${defaults.alarm.route53Seconds} | ${defaults.alarm.resolverSeconds} |`);
    expect(markdown).toContain('met (90 s)');
    expect(timelineMarkdown(failoverTimeline({ ...FAILOVER_DEFAULTS, endpointRequestIntervalSeconds: 30 }))).toContain('NOT met (150 s)');
  });
});
