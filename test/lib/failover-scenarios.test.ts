/**
 * The failover path replayed: metric series of the situations go through the alarm and
 * health check definitions of the synthesized primary-region template (alarm-harness.ts models
 * CloudWatch and Route 53). A region outage must move DNS within the 90 s timeline; a surge with
 * shedding, a stalled pipeline, a store latency tail and a 20 s store brownout must not (they may
 * page people).
 */
import { describe, expect, it } from 'vitest';
import { ELB_ALIAS_TTL_SECONDS, FAILOVER_TARGET_SECONDS } from '../../lib/failover-timeline.js';
import { addLiveOriginStacks } from '../../lib/live-origin-app.js';
import {
  type AlarmDefinition,
  alarmDefinition,
  calculatedHealth,
  type InsufficientDataHealthStatus,
  metricCheckHealth,
  replayAlarm,
  replayEndpoint,
} from './alarm-harness.js';
import { FIXTURE_ENTRY, newApp, resourcesOf, template, twoRegionConfig } from './helpers.js';

const stacks = addLiveOriginStacks(newApp(), twoRegionConfig(), { runtimeEntry: FIXTURE_ENTRY });
const primary = template(stacks.origins['us-east-1']!);

const alarms = resourcesOf(primary, 'AWS::CloudWatch::Alarm')
  .filter(([, props]) => props.Metrics === undefined && props.ExtendedStatistic === undefined)
  .map(([, props]) => alarmDefinition(props));
const checks = new Map(resourcesOf(primary, 'AWS::Route53::HealthCheck').map(([id, props]) => [id, props.HealthCheckConfig as Record<string, unknown>]));
const [, targetGroup] = resourcesOf(primary, 'AWS::ElasticLoadBalancingV2::TargetGroup')[0]!;
const TG = {
  interval: Number(targetGroup.HealthCheckIntervalSeconds),
  unhealthy: Number(targetGroup.UnhealthyThresholdCount),
  healthy: Number(targetGroup.HealthyThresholdCount),
};

const MINUTES = 15;
const FAILURE_AT = 120;
const SECONDS = MINUTES * 60;
/** A datapoint is visible to its alarm a minute after its period ends (load balancer metrics' delay). */
const METRIC_DELAY_SECONDS = 60;

/** One situation: what /readyz answers, whether the load balancer is reachable, and per-minute statistics. */
interface Scenario {
  /** Whether the instances report ready at time t (they share the store, so they agree). */
  readonly ready: (t: number) => boolean;
  /** Whether the load balancer answers at all at time t. */
  readonly reachable: (t: number) => boolean;
  /** The value of `metricName` (with the alarm's statistic) in minute m; undefined: no datum. */
  readonly statistic: (metricName: string, minute: number) => number | undefined;
}

/** HealthyHostCount (Minimum) of a minute, from readiness through the target group's own check. */
function healthyHostMinimum(scenario: Scenario, hosts: number): (minute: number) => number | undefined {
  const healthy: boolean[] = [];
  let state = true;
  let streak = 0;
  for (let t = 0; t < SECONDS; t++) {
    if (t % TG.interval === 0) {
      const ok = scenario.ready(t);
      if (ok === state) streak = 0;
      else if (++streak >= (state ? TG.unhealthy : TG.healthy)) {
        state = ok;
        streak = 0;
      }
    }
    healthy.push(state);
  }
  return (minute) => {
    if (!scenario.reachable(minute * 60)) return undefined;
    return healthy.slice(minute * 60, minute * 60 + 60).every(Boolean) ? hosts : 0;
  };
}

interface Replay {
  /** Seconds after the failure at which Route 53's answer moved to the secondary (undefined: never). */
  readonly failoverAfter?: number;
  /** Alarms that went to ALARM (people are paged). */
  readonly paged: string[];
}

function replay(scenario: Scenario): Replay {
  const hosts = healthyHostMinimum(scenario, 2);
  const series = (alarm: AlarmDefinition) =>
    Array.from({ length: MINUTES }, (_, minute) => (alarm.metricName === 'HealthyHostCount' ? hosts(minute) : scenario.statistic(alarm.metricName, minute)));
  const states = new Map(alarms.map((alarm) => [alarm.name, replayAlarm(alarm, series(alarm))]));
  const bySecond = (perMinute: readonly boolean[]) =>
    Array.from({ length: SECONDS }, (_, t) => {
      const visible = Math.floor((t - METRIC_DELAY_SECONDS) / 60) - 1;
      return visible < 0 ? true : perMinute[Math.min(visible, perMinute.length - 1)]!;
    });

  const [[, region]] = [...checks].filter(([, config]) => config.Type === 'CALCULATED');
  const children = (region!.ChildHealthChecks as { Ref: string }[]).map(({ Ref }) => checks.get(Ref)!);
  const health = children.map((child) => {
    if (child.Type === 'HTTPS' || child.Type === 'HTTP') {
      return replayEndpoint(
        { requestIntervalSeconds: Number(child.RequestInterval), failureThreshold: Number(child.FailureThreshold) },
        (t) => scenario.reachable(t) && scenario.ready(t),
        SECONDS,
      );
    }
    const name = (child.AlarmIdentifier as { Name: string }).Name;
    const alarmStates = states.get(name);
    if (!alarmStates) throw new Error(`Route 53 follows ${name}, which the model could not read`);
    return bySecond(metricCheckHealth(alarmStates, child.InsufficientDataHealthStatus as InsufficientDataHealthStatus));
  });
  const regionHealth = calculatedHealth(health, Number(region!.HealthThreshold));
  const down = regionHealth.indexOf(false);
  return {
    ...(down >= 0 ? { failoverAfter: down - FAILURE_AT } : {}),
    paged: [...states].filter(([, list]) => list.includes('ALARM')).map(([name]) => name.replace('live-origin-us-east-1-', '')),
  };
}

const after = (t: number) => t >= FAILURE_AT;
const minuteOf = (t: number) => Math.floor(t / 60);
/** A normal minute: 6,000 requests, none failed. */
const NORMAL: Record<string, number> = { UnservedPercent: 0, HTTPCode_Target_5XX_Count: 0, HTTPCode_ELB_5XX_Count: 0, StoreFaults: 0, HoldTimeouts: 0 };

function steady(overrides: (metricName: string, minute: number) => number | undefined = () => undefined): Scenario {
  return {
    ready: () => true,
    reachable: () => true,
    statistic: (metricName, minute) => overrides(metricName, minute) ?? NORMAL[metricName],
  };
}

describe('failover replayed through the synthesized alarms and health checks', () => {
  it('follows three alarms and the endpoint check, all needed healthy', () => {
    const [[, region]] = [...checks].filter(([, config]) => config.Type === 'CALCULATED');
    expect(Number(region!.HealthThreshold)).toBe((region!.ChildHealthChecks as unknown[]).length);
  });

  it('moves DNS within the 90 s timeline when the region goes dark', () => {
    const dark: Scenario = {
      ready: (t) => !after(t),
      reachable: (t) => !after(t),
      statistic: (name, minute) => (minute * 60 >= FAILURE_AT ? undefined : NORMAL[name]),
    };
    const { failoverAfter } = replay(dark);
    expect(failoverAfter).toBeDefined();
    expect(failoverAfter! + ELB_ALIAS_TTL_SECONDS).toBeLessThanOrEqual(FAILOVER_TARGET_SECONDS);
  });

  it('moves DNS within the 90 s timeline when the store is gone for good (every instance unready)', () => {
    const storeGone: Scenario = {
      ready: (t) => t < FAILURE_AT + 1,
      reachable: () => true,
      statistic: (name, minute) => (minute * 60 >= FAILURE_AT ? { ...NORMAL, UnservedPercent: 60, StoreFaults: 400 }[name] : NORMAL[name]),
    };
    const { failoverAfter } = replay(storeGone);
    expect(failoverAfter! + ELB_ALIAS_TTL_SECONDS).toBeLessThanOrEqual(FAILOVER_TARGET_SECONDS);
  });

  it('moves DNS when the runtime fails requests for good while /readyz stays 200 (a bug, a broken write path)', () => {
    const failing = steady((name, minute) => (minute * 60 >= FAILURE_AT && name === 'UnservedPercent' ? 40 : undefined));
    const { failoverAfter } = replay(failing);
    expect(failoverAfter).toBeDefined();
    // Alarm path: three one-minute periods and the metric delay, not the 90 s of a dark region.
    expect(failoverAfter!).toBeLessThanOrEqual(5 * 60);
  });

  it('does not move DNS for a 10x surge answered partly with shedding 503s (it pages)', () => {
    const surge = steady((name, minute) => {
      if (minute * 60 < FAILURE_AT) return undefined;
      // 60,000 requests a minute, 30 % shed: deliberate 503s from the targets, none unserved.
      return { HTTPCode_Target_5XX_Count: 18_000 }[name];
    });
    const result = replay(surge);
    expect(result.failoverAfter).toBeUndefined();
    expect(result.paged).toContain('target-5xx-count');
  });

  it('does not move DNS for a stalled pipeline: blocking reloads end in 503, holds in 404 (it pages)', () => {
    const stalled = steady((name, minute) => (minute * 60 < FAILURE_AT ? undefined : { HTTPCode_Target_5XX_Count: 900, HoldTimeouts: 600 }[name]));
    const result = replay(stalled);
    expect(result.failoverAfter).toBeUndefined();
    expect(result.paged).toEqual(expect.arrayContaining(['hold-timeouts', 'target-5xx-count']));
  });

  it('does not move DNS for a store latency tail (p99.9 over 500 ms: slow calls counted as faults, all served; it pages)', () => {
    // 360 PUTs a minute, each with a few store calls: a handful over 500 ms every minute.
    const tail = steady((name, minute) => (minute * 60 < FAILURE_AT ? undefined : { StoreFaults: 3 }[name]));
    const result = replay(tail);
    expect(result.failoverAfter).toBeUndefined();
    expect(result.paged).toContain('store-faults');
  });

  it('does not move DNS for a 20 s store brownout, though every instance is briefly unready', () => {
    const end = FAILURE_AT + 20;
    const brownout: Scenario = {
      // Readiness runs out 0.9 s after the store's last answer and returns with its first.
      ready: (t) => t < FAILURE_AT + 0.9 || t >= end + 0.3,
      reachable: () => true,
      // The brownout's minute: a third of the ingest PUTs failed, a fifth of all requests.
      statistic: (name, minute) => (minute === minuteOf(FAILURE_AT) ? { ...NORMAL, UnservedPercent: 20, StoreFaults: 120 }[name] : NORMAL[name]),
    };
    expect(replay(brownout).failoverAfter).toBeUndefined();
  });

  it('would move DNS for the same brownout lasting 45 s (the endpoint check is what bounds it)', () => {
    const long: Scenario = { ready: (t) => t < FAILURE_AT + 0.9 || t >= FAILURE_AT + 45, reachable: () => true, statistic: (name) => NORMAL[name] };
    expect(replay(long).failoverAfter).toBeDefined();
  });
});
