import { describe, expect, it } from 'vitest';
import { OriginStack } from '../../../lib/stacks/origin-stack.js';
import { FIXTURE_ENTRY, newApp, resourcesOf, template } from '../helpers.js';

const PROPS = {
  env: { region: 'us-east-1' },
  segmentBucketName: 'live-origin-segments-test-us-east-1',
  peerBuckets: { 'eu-west-1': 'live-origin-segments-test-eu-west-1' },
  tablePrefix: 'live-origin-',
  secretName: 'live-origin/runtime',
  instanceType: 'c7g.large',
  minCapacity: 2,
  maxCapacity: 4,
  healthAlarmName: 'live-origin-us-east-1-region-health',
  runtimeEntry: FIXTURE_ENTRY,
  existingVpc: {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    publicSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'],
    privateSubnetIds: ['subnet-0bbbbbbbbbbbbbbb1', 'subnet-0bbbbbbbbbbbbbbb2'],
  },
};
const stack = new OriginStack(newApp(), 'Origin', PROPS);
const tpl = template(stack);

describe('OriginStack', () => {
  it('runs in an existing VPC from committed attributes, creating none', () => {
    tpl.resourceCountIs('AWS::EC2::VPC', 0);
    tpl.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Subnets: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'] });
  });

  it('launches the fleet from the image it bakes', () => {
    const [[, launchTemplate]] = resourcesOf(tpl, 'AWS::EC2::LaunchTemplate') as [[string, { LaunchTemplateData: { ImageId: unknown } }]];
    expect(launchTemplate.LaunchTemplateData.ImageId).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(stack.image.image), 'ImageId'] });
  });

  it('names its composite alarm as told', () => {
    tpl.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', { AlarmName: 'live-origin-us-east-1-region-health' });
  });

  it('serves plain HTTP without TLS settings', () => {
    tpl.resourceCountIs('AWS::CertificateManager::Certificate', 0);
  });

  it('writes no failover record or health check without a domain', () => {
    tpl.resourceCountIs('AWS::Route53::RecordSet', 0);
    tpl.resourceCountIs('AWS::Route53::HealthCheck', 0);
  });

  it('refuses a failover role without the domain to write it in', () => {
    expect(() => new OriginStack(newApp(), 'Origin', { ...PROPS, failoverRole: 'PRIMARY' })).toThrow(/needs tls/);
  });
});
