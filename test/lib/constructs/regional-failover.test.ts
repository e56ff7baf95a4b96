import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { describe, expect, it } from 'vitest';
import { type FailoverRegion, RegionalFailover } from '../../../lib/constructs/regional-failover.js';
import { importedVpc, regionalStack, resourcesOf, template } from '../helpers.js';

function build(regionNames: string[] = ['us-east-1', 'eu-west-1']) {
  const stack = regionalStack();
  const vpc = importedVpc(stack);
  const regions: FailoverRegion[] = regionNames.map((region, index) => ({
    region,
    loadBalancer: elbv2.ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(stack, `Lb${index}`, {
      loadBalancerArn: `arn:aws:elasticloadbalancing:${region}:111111111111:loadbalancer/app/lb${index}/0123456789abcdef`,
      securityGroupId: 'sg-0123456789abcdef0',
      loadBalancerDnsName: `lb${index}.${region}.elb.amazonaws.com`,
      loadBalancerCanonicalHostedZoneId: `ZLB${index}`,
      vpc,
    }),
    alarmName: `live-origin-${region}-region-health`,
  }));
  const failover = new RegionalFailover(stack, 'Failover', {
    hostedZone: route53.HostedZone.fromHostedZoneId(stack, 'Zone', 'Z0123456789EXAMPLE'),
    domainName: 'origin.example.com',
    regions,
  });
  return { failover, tpl: template(stack) };
}

describe('RegionalFailover', () => {
  const { tpl } = build();

  it.each([
    ['us-east-1', 'PRIMARY', 0],
    ['eu-west-1', 'SECONDARY', 1],
  ])('routes %s as %s to its own load balancer, evaluating target health', (region, role, index) => {
    tpl.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'origin.example.com.',
      Type: 'A',
      Failover: role,
      HostedZoneId: 'Z0123456789EXAMPLE',
      AliasTarget: { DNSName: `dualstack.lb${index}.${region}.elb.amazonaws.com`, HostedZoneId: `ZLB${index}`, EvaluateTargetHealth: true },
    });
  });

  it.each(['us-east-1', 'eu-west-1'])('follows the composite alarm of %s with a health check', (region) => {
    tpl.hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: {
        Type: 'CLOUDWATCH_METRIC',
        AlarmIdentifier: { Name: `live-origin-${region}-region-health`, Region: region },
        InsufficientDataHealthStatus: 'LastKnownStatus',
      },
    });
  });

  it("ties each record to its own region's health check", () => {
    const checks = Object.fromEntries(
      resourcesOf(tpl, 'AWS::Route53::HealthCheck').map(([id, props]) => [
        id,
        (props.HealthCheckConfig as { AlarmIdentifier: { Region: string } }).AlarmIdentifier.Region,
      ]),
    );
    for (const [, record] of resourcesOf(tpl, 'AWS::Route53::RecordSet')) {
      const checkRegion = checks[(record.HealthCheckId as { Ref: string }).Ref];
      expect(record.SetIdentifier).toContain(checkRegion);
    }
  });

  it('refuses three regions, naming the limit of failover routing', () => {
    expect(() => build(['us-east-1', 'eu-west-1', 'ap-southeast-2'])).toThrow(/exactly two regions/);
  });

  it('refuses the same region twice', () => {
    expect(() => build(['us-east-1', 'us-east-1'])).toThrow(/must differ/);
  });
});
