import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { OriginAlarms, type OriginAlarmsProps } from '../../../lib/constructs/origin-alarms.js';
import { alarmNames, FAILOVER_ALARM_KEYS } from '../../../lib/naming.js';
import { METRIC_NAMES, METRIC_NAMESPACE, METRIC_REGION_DIMENSION } from '../../../runtime/aws-contract.js';
import { importedVpc, logicalId, regionalStack, resourcesOf, template } from '../helpers.js';

function build(props: Partial<OriginAlarmsProps> = {}) {
  const stack = regionalStack(undefined, 'eu-west-1');
  const vpc = importedVpc(stack);
  const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'Lb', { vpc });
  const targetGroup = (id: string) => new elbv2.ApplicationTargetGroup(stack, id, { vpc, port: 8080, targetType: elbv2.TargetType.INSTANCE });
  const delivery = targetGroup('Delivery');
  const ingest = targetGroup('Ingest');
  loadBalancer.addListener('Http', { port: 80, defaultTargetGroups: [delivery] }).addTargetGroups('Ingest', {
    priority: 1,
    conditions: [elbv2.ListenerCondition.pathPatterns(['/ingest/*'])],
    targetGroups: [ingest],
  });
  const alarms = new OriginAlarms(stack, 'Alarms', {
    loadBalancer,
    deliveryTargetGroup: delivery,
    ingestTargetGroup: ingest,
    compositeAlarmName: 'live-origin-eu-west-1-region-health',
    alarmNames: alarmNames('eu-west-1'),
    alarmTopic: new sns.Topic(stack, 'Pager'),
    dashboardName: 'live-origin-eu-west-1',
    ...props,
  });
  return { stack, alarms, tpl: template(stack) };
}

describe('OriginAlarms', () => {
  const { alarms, tpl } = build();

  it('gives the composite alarm its fixed name', () => {
    tpl.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', { AlarmName: 'live-origin-eu-west-1-region-health' });
  });

  it('puts the region in ALARM when any of its alarms is', () => {
    const [[, composite]] = resourcesOf(tpl, 'AWS::CloudWatch::CompositeAlarm');
    const rule = JSON.stringify(composite!.AlarmRule);
    for (const alarm of Object.values(alarms.alarms)) expect(rule).toContain(logicalId(alarm));
    expect(rule).toContain(' OR ');
    expect(Object.keys(alarms.alarms)).toHaveLength(14);
  });

  it('gives every alarm its fixed name from lib/naming.ts', () => {
    const names = resourcesOf(tpl, 'AWS::CloudWatch::Alarm').map(([, props]) => props.AlarmName);
    expect(names.sort()).toEqual(Object.values(alarmNames('eu-west-1')).sort());
  });

  it('notifies the topic on ALARM and on OK, from every alarm and the composite', () => {
    const alarmsAndComposite = [...resourcesOf(tpl, 'AWS::CloudWatch::Alarm'), ...resourcesOf(tpl, 'AWS::CloudWatch::CompositeAlarm')];
    expect(alarmsAndComposite).toHaveLength(15);
    for (const [id, props] of alarmsAndComposite) {
      expect(props.AlarmActions, id).toEqual([{ Ref: expect.stringMatching(/^Pager/) }]);
      expect(props.OKActions, id).toEqual([{ Ref: expect.stringMatching(/^Pager/) }]);
    }
  });

  it('hands Route 53 only alarms on one metric, with a basic statistic and one-minute periods', () => {
    expect(Object.keys(alarms.failoverAlarms).sort()).toEqual([...FAILOVER_ALARM_KEYS].sort());
    for (const alarm of Object.values(alarms.failoverAlarms)) {
      const [, props] = resourcesOf(tpl, 'AWS::CloudWatch::Alarm').find(([id]) => id === logicalId(alarm))!;
      expect(props.Metrics).toBeUndefined();
      expect(props.ExtendedStatistic).toBeUndefined();
      expect(['Average', 'Minimum', 'Maximum', 'Sum', 'SampleCount']).toContain(props.Statistic);
      expect(props.Period).toBe(60);
    }
  });

  it.each([
    ['HTTPCode_Target_5XX_Count', 'target-5xx-count'],
    ['HTTPCode_ELB_5XX_Count', 'elb-5xx-count'],
  ])('counts %s per minute (Sum) as a single-metric alarm', (metricName, suffix) => {
    tpl.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `live-origin-eu-west-1-${suffix}`,
      MetricName: metricName,
      Statistic: 'Sum',
      Period: 60,
      Threshold: 120,
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on the 5xx share of all requests, target and load balancer errors together', () => {
    tpl.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 5,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: '100 * (FILL(target5xx, 0) + FILL(lb5xx, 0)) / FILL(requests, 1)' }),
        Match.objectLike({ Id: 'target5xx', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'HTTPCode_Target_5XX_Count' }) }) }),
        Match.objectLike({ Id: 'lb5xx', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'HTTPCode_ELB_5XX_Count' }) }) }),
      ]),
    });
  });

  it('alarms on p99 target response time', () => {
    tpl.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'TargetResponseTime', ExtendedStatistic: 'p99', Threshold: 6 });
  });

  it('alarms on unhealthy targets in each target group, and on none healthy', () => {
    const names = resourcesOf(tpl, 'AWS::CloudWatch::Alarm').map(([, props]) => props.MetricName);
    expect(names.filter((name) => name === 'UnHealthyHostCount')).toHaveLength(2);
    tpl.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'HealthyHostCount',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
  });

  it.each([
    [METRIC_NAMES.unhealthyPipelines, 'Maximum', 2],
    [METRIC_NAMES.defects, 'Sum', 30],
    [METRIC_NAMES.holdTimeouts, 'Sum', 60],
    [METRIC_NAMES.storeFaults, 'Sum', 1],
    [METRIC_NAMES.unservedPercent, 'Average', 10],
    [METRIC_NAMES.peerCopyFailures, 'Sum', 1],
    [METRIC_NAMES.peerCopyBacklog, 'Maximum', 500],
  ])('alarms on the runtime signal %s of this region', (metricName, statistic, threshold) => {
    tpl.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRIC_NAMESPACE,
      MetricName: metricName,
      Dimensions: [{ Name: METRIC_REGION_DIMENSION, Value: 'eu-west-1' }],
      Statistic: statistic,
      Threshold: threshold,
      Period: 60,
      TreatMissingData: 'notBreaching',
    });
  });

  it('builds a dashboard of the same signals', () => {
    const [[, dashboard]] = resourcesOf(tpl, 'AWS::CloudWatch::Dashboard');
    expect(dashboard!.DashboardName).toBe('live-origin-eu-west-1');
    const body = JSON.stringify(dashboard!.DashboardBody);
    expect(body).toContain(METRIC_NAMES.peerCopyLagMs);
    expect(body).toContain(METRIC_NAMES.peerCopyBacklog);
    expect(body).toContain(METRIC_NAMES.unservedPercent);
    expect(body).toContain('TargetResponseTime');
  });

  it('takes thresholds from props', () => {
    build({ thresholds: { p99ResponseTime: Duration.millis(2500), evaluationMinutes: 5 } }).tpl.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ExtendedStatistic: 'p99',
      Threshold: 2.5,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
    });
  });

  it('hands Route 53 the unserved ratio, never the target 5xx count (deliberate 503s) or store faults (latency tails)', () => {
    expect(FAILOVER_ALARM_KEYS).toContain('unservedRatio');
    expect(FAILOVER_ALARM_KEYS).not.toContain('target5xxCount');
    expect(FAILOVER_ALARM_KEYS).not.toContain('storeFaults');
  });

  it('refuses an impossible threshold', () => {
    expect(() => build({ thresholds: { http5xxPercent: 0 } })).toThrow(/http5xxPercent/);
  });
});
