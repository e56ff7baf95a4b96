/**
 * The failover path as AWS will judge it, read from the synthesized templates of two regions
 * with DNS: every health check Route 53 must evaluate is one it can evaluate, and the timeline
 * the templates give is the one docs/deploy.md states.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAILOVER_DEFAULTS, failoverTimeline, timelineMarkdown } from '../../lib/failover-timeline.js';
import { addLiveOriginStacks } from '../../lib/live-origin-app.js';
import { FIXTURE_ENTRY, newApp, REPO_ROOT, resourcesOf, template, twoRegionConfig } from './helpers.js';

const stacks = addLiveOriginStacks(newApp(), twoRegionConfig(), { runtimeEntry: FIXTURE_ENTRY });
const regions = Object.keys(stacks.origins);
const templates = Object.fromEntries(regions.map((region) => [region, template(stacks.origins[region]!)]));

interface HealthCheckConfig {
  readonly Type: string;
  readonly AlarmIdentifier?: { readonly Name: unknown; readonly Region: unknown };
  readonly RequestInterval?: number;
  readonly FailureThreshold?: number;
}

/** Every health check of every origin stack, with the region of the stack that holds it. */
const healthChecks = regions.flatMap((region) =>
  resourcesOf(templates[region]!, 'AWS::Route53::HealthCheck').map(([id, props]) => ({
    region,
    id,
    config: props.HealthCheckConfig as HealthCheckConfig,
  })),
);

/** The metric alarm named `name` in the origin stack of `region`, if there is one. */
function alarmNamed(region: string, name: unknown): Record<string, unknown> | undefined {
  const stackTemplate = templates[region];
  if (!stackTemplate || typeof name !== 'string') return undefined;
  return resourcesOf(stackTemplate, 'AWS::CloudWatch::Alarm').find(([, props]) => props.AlarmName === name)?.[1];
}

describe("Route 53's rule for CLOUDWATCH_METRIC health checks", () => {
  const metricChecks = healthChecks.filter((check) => check.config.Type === 'CLOUDWATCH_METRIC');

  it('has such checks to judge', () => {
    expect(metricChecks.length).toBeGreaterThanOrEqual(2 * regions.length);
  });

  // AWS's rule, from the Route 53 API reference, AlarmIdentifier.Name
  // (https://docs.aws.amazon.com/Route53/latest/APIReference/API_AlarmIdentifier.html):
  // "Route 53 supports CloudWatch alarms with the following features: Standard-resolution
  // metrics. High-resolution metrics aren't supported. Statistics: Average, Minimum, Maximum,
  // Sum, and SampleCount. Extended statistics aren't supported." A composite alarm, a
  // metric-math alarm or a percentile alarm is therefore never a valid target.
  it('names, by literal name and region, a metric alarm in the origin stack of that region', () => {
    for (const check of metricChecks) {
      const { Name, Region } = check.config.AlarmIdentifier!;
      expect(typeof Name, `${check.region} ${check.id}`).toBe('string');
      expect(Region, `${check.region} ${check.id}`).toBe(check.region);
      expect(alarmNamed(check.region, Name), `${check.region} ${check.id}: no AWS::CloudWatch::Alarm named ${String(Name)}`).toBeDefined();
    }
  });

  it('names alarms on one metric, with a basic statistic, at standard resolution (period >= 60 s)', () => {
    for (const check of metricChecks) {
      const alarm = alarmNamed(check.region, check.config.AlarmIdentifier!.Name)!;
      const where = `${check.region} ${String(alarm.AlarmName)}`;
      expect(alarm.Metrics, `${where}: metric math or several metrics`).toBeUndefined();
      expect(alarm.ExtendedStatistic, `${where}: percentile`).toBeUndefined();
      expect(alarm.MetricName, where).toEqual(expect.any(String));
      expect(['Average', 'Minimum', 'Maximum', 'Sum', 'SampleCount'], where).toContain(alarm.Statistic);
      expect(alarm.Period as number, where).toBeGreaterThanOrEqual(60);
    }
  });

  it('never names a composite alarm', () => {
    const composites = regions.flatMap((region) => resourcesOf(templates[region]!, 'AWS::CloudWatch::CompositeAlarm').map(([, p]) => p.AlarmName));
    expect(composites).toHaveLength(regions.length);
    for (const check of metricChecks) expect(composites).not.toContain(check.config.AlarmIdentifier!.Name);
  });
});

describe('failover timeline', () => {
  /** The timeline's inputs as the templates of `region` set them. */
  function inputsFrom(region: string) {
    const checks = healthChecks.filter((check) => check.region === region);
    const endpoint = checks.find((check) => check.config.Type === 'HTTPS')!.config;
    const alarms = checks.filter((check) => check.config.Type === 'CLOUDWATCH_METRIC').map((check) => alarmNamed(region, check.config.AlarmIdentifier!.Name)!);
    return {
      endpointRequestIntervalSeconds: endpoint.RequestInterval!,
      endpointFailureThreshold: endpoint.FailureThreshold!,
      // The slowest alarm bounds the partial-failure path.
      alarmPeriodSeconds: Math.max(...alarms.map((alarm) => alarm.Period as number)),
      alarmEvaluationPeriods: Math.max(...alarms.map((alarm) => alarm.EvaluationPeriods as number)),
    };
  }

  it.each(['us-east-1', 'eu-west-1'])('in %s is the default timeline, which meets the 90 s target', (region) => {
    const fromTemplate = failoverTimeline(inputsFrom(region));
    expect(fromTemplate).toEqual(failoverTimeline(FAILOVER_DEFAULTS));
    expect(fromTemplate.meetsTarget).toBe(true);
    expect(fromTemplate.dark.resolverSeconds).toBeLessThanOrEqual(90);
  });

  it('is the table docs/deploy.md shows', () => {
    const docs = readFileSync(join(REPO_ROOT, 'docs', 'deploy.md'), 'utf8');
    const start = '<!-- failover-timeline:start (generated by timelineMarkdown(); test/lib/failover.test.ts keeps it equal) -->\n';
    const end = '\n<!-- failover-timeline:end -->';
    const from = docs.indexOf(start);
    const to = docs.indexOf(end, from);
    expect(from, 'docs/deploy.md lacks the failover-timeline markers').toBeGreaterThan(-1);
    expect(docs.slice(from + start.length, to)).toBe(timelineMarkdown(failoverTimeline(FAILOVER_DEFAULTS)));
  });
});
