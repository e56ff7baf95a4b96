import { Duration } from 'aws-cdk-lib';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { describe, expect, it } from 'vitest';
import { type FailoverRole, RegionalFailover, type RegionalFailoverProps } from '../../../lib/constructs/regional-failover.js';
import { FAILOVER_DEFAULTS } from '../../../lib/failover-timeline.js';
import { alarmName, FAILOVER_ALARM_KEYS, type FailoverAlarmKey } from '../../../lib/naming.js';
import { importedVpc, regionalStack, resourcesOf, template } from '../helpers.js';

const REGION = 'eu-west-1';

function build(props: Partial<RegionalFailoverProps> = {}, role: FailoverRole = 'SECONDARY') {
  const stack = regionalStack(undefined, REGION);
  const loadBalancer = elbv2.ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(stack, 'Lb', {
    loadBalancerArn: `arn:aws:elasticloadbalancing:${REGION}:111111111111:loadbalancer/app/lb/0123456789abcdef`,
    securityGroupId: 'sg-0123456789abcdef0',
    loadBalancerDnsName: `lb.${REGION}.elb.amazonaws.com`,
    loadBalancerCanonicalHostedZoneId: 'ZLB',
    vpc: importedVpc(stack),
  });
  const alarmNames = Object.fromEntries(FAILOVER_ALARM_KEYS.map((key) => [key, alarmName(REGION, key)])) as Record<FailoverAlarmKey, string>;
  const failover = new RegionalFailover(stack, 'Failover', {
    hostedZone: route53.HostedZone.fromHostedZoneId(stack, 'Zone', 'Z0123456789EXAMPLE'),
    domainName: 'origin.example.com',
    role,
    loadBalancer,
    protocol: 'HTTPS',
    readinessPath: '/readyz',
    alarmNames,
    ...props,
  });
  return { stack, failover, tpl: template(stack) };
}

type CheckConfig = Record<string, unknown> & { Type: string };

describe('RegionalFailover', () => {
  const { stack, failover, tpl } = build();
  const checks = Object.fromEntries(resourcesOf(tpl, 'AWS::Route53::HealthCheck').map(([id, props]) => [id, props.HealthCheckConfig as CheckConfig]));
  const idOf = (check: route53.HealthCheck): string => (stack.resolve(check.healthCheckId) as { Ref: string }).Ref;

  it("routes the region's alias record, as its role, to its own load balancer, evaluating target health", () => {
    tpl.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'origin.example.com.',
      Type: 'A',
      Failover: 'SECONDARY',
      SetIdentifier: 'eu-west-1-secondary',
      HostedZoneId: 'Z0123456789EXAMPLE',
      AliasTarget: { DNSName: `dualstack.lb.${REGION}.elb.amazonaws.com`, HostedZoneId: 'ZLB', EvaluateTargetHealth: true },
    });
  });

  it('checks the load balancer readiness over HTTPS with SNI, fast, failing after three misses', () => {
    expect(checks[idOf(failover.endpointCheck)]).toMatchObject({
      Type: 'HTTPS',
      FullyQualifiedDomainName: `lb.${REGION}.elb.amazonaws.com`,
      Port: 443,
      ResourcePath: '/readyz',
      EnableSNI: true,
      RequestInterval: FAILOVER_DEFAULTS.endpointRequestIntervalSeconds,
      FailureThreshold: FAILOVER_DEFAULTS.endpointFailureThreshold,
    });
  });

  it('checks plain HTTP on port 80 when the load balancer has no TLS', () => {
    const plain = build({ protocol: 'HTTP' });
    const [config] = resourcesOf(plain.tpl, 'AWS::Route53::HealthCheck')
      .map(([, props]) => props.HealthCheckConfig as CheckConfig)
      .filter((check) => check.Type === 'HTTP');
    expect(config).toMatchObject({ Port: 80, ResourcePath: '/readyz' });
    expect(config!.EnableSNI).toBeUndefined();
  });

  it.each(FAILOVER_ALARM_KEYS)('follows the %s alarm of its own region by its fixed name', (key) => {
    expect(checks[idOf(failover.alarmChecks[key])]).toMatchObject({
      Type: 'CLOUDWATCH_METRIC',
      AlarmIdentifier: { Name: alarmName(REGION, key), Region: REGION },
      InsufficientDataHealthStatus: 'LastKnownStatus',
    });
  });

  it('combines every check in a CALCULATED check that needs all of them healthy, and the record follows it', () => {
    const calculated = checks[idOf(failover.regionCheck)]!;
    const children = [failover.endpointCheck, ...Object.values(failover.alarmChecks)].map((check) => ({ Ref: idOf(check) }));
    expect(calculated).toMatchObject({ Type: 'CALCULATED', HealthThreshold: children.length });
    expect(calculated.ChildHealthChecks).toEqual(children);
    const [[, record]] = resourcesOf(tpl, 'AWS::Route53::RecordSet');
    expect(record!.HealthCheckId).toEqual({ Ref: idOf(failover.regionCheck) });
  });

  it('names every check so that the console and the drill can find it', () => {
    const names = resourcesOf(tpl, 'AWS::Route53::HealthCheck').map(
      ([, props]) => (props.HealthCheckTags as { Key: string; Value: string }[]).find((tag) => tag.Key === 'Name')?.Value,
    );
    expect(names.sort()).toEqual(
      ['live-origin-eu-west-1-endpoint', 'live-origin-eu-west-1-region', ...FAILOVER_ALARM_KEYS.map((key) => alarmName(REGION, key))].sort(),
    );
  });

  it('takes the PRIMARY role', () => {
    build({}, 'PRIMARY').tpl.hasResourceProperties('AWS::Route53::RecordSet', { Failover: 'PRIMARY', SetIdentifier: 'eu-west-1-primary' });
  });

  it('refuses a request interval Route 53 does not offer', () => {
    expect(() => build({ requestInterval: Duration.seconds(15) })).toThrow(/10 or 30/);
  });

  it('refuses a missing alarm name', () => {
    expect(() => build({ alarmNames: { noHealthyHosts: 'a', elb5xxCount: '', unservedRatio: 'c' } })).toThrow(/elb5xxCount/);
  });
});
