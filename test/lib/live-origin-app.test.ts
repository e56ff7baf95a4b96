import { App, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { addLiveOriginStacks } from '../../lib/live-origin-app.js';
import { STACK_NAMES } from '../../lib/naming.js';
import { bootVariablesOf, cdkJsonContext, FIXTURE_ENTRY, joinedText, newApp, resourcesOf, template, twoRegionConfig } from './helpers.js';

/** Two regions with DNS, synthesized once for the whole file. */
const app = newApp();
const stacks = addLiveOriginStacks(app, twoRegionConfig(), { runtimeEntry: FIXTURE_ENTRY });
const [east, west] = ['us-east-1', 'eu-west-1'] as const;
const tpl: { data: Record<string, Template>; origin: Record<string, Template> } = {
  data: { [east]: template(stacks.data[east]!), [west]: template(stacks.data[west]!) },
  origin: { [east]: template(stacks.origins[east]!), [west]: template(stacks.origins[west]!) },
};

function userData(region: string): string {
  const [[, props]] = resourcesOf(tpl.origin[region]!, 'AWS::EC2::LaunchTemplate') as [[string, { LaunchTemplateData: { UserData: unknown } }]];
  return joinedText(props.LaunchTemplateData.UserData);
}

function bucketNameOf(region: string): string {
  const names = resourcesOf(tpl.data[region]!, 'AWS::S3::Bucket')
    .map(([, props]) => props.BucketName)
    .filter((name) => name !== undefined);
  expect(names).toHaveLength(1);
  return joinedText(names[0]);
}

describe('two regions with DNS failover', () => {
  it('creates a data and an origin stack per region, and nothing global', () => {
    const stackIds = app.node.children.filter((child) => child instanceof Stack).map((child) => child.node.id);
    expect(stackIds.sort()).toEqual([STACK_NAMES.data(east), STACK_NAMES.data(west), STACK_NAMES.origin(east), STACK_NAMES.origin(west)].sort());
  });

  it('keeps the global tables in the home region, with a replica in the other', () => {
    for (const [, props] of resourcesOf(tpl.data[east]!, 'AWS::DynamoDB::GlobalTable')) {
      expect((props.Replicas as { Region: string }[]).map((replica) => replica.Region).sort()).toEqual([west, east].sort());
    }
    tpl.data[east]!.resourceCountIs('AWS::DynamoDB::GlobalTable', 2);
    tpl.data[west]!.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
  });

  it('protects every stack from deletion (origin stacks hold the load balancers CDNs and records name)', () => {
    expect(stacks.data[east]!.terminationProtection).toBe(true);
    expect(stacks.data[west]!.terminationProtection).toBe(true);
    expect(stacks.origins[east]!.terminationProtection).toBe(true);
  });

  it('gives each region its own segment bucket', () => {
    expect(bucketNameOf(east)).toContain(`-${east}`);
    expect(bucketNameOf(west)).toContain(`-${west}`);
  });

  it("points each fleet at its own bucket and the other region's as peer", () => {
    expect(bootVariablesOf(userData(east))).toMatchObject({ BUCKET: bucketNameOf(east), PEER_BUCKETS: `${west}=${bucketNameOf(west)}` });
    expect(bootVariablesOf(userData(west))).toMatchObject({ BUCKET: bucketNameOf(west), PEER_BUCKETS: `${east}=${bucketNameOf(east)}` });
  });

  it.each([
    [east, 'PRIMARY'],
    [west, 'SECONDARY'],
  ])("puts %s's %s record in its own origin stack, aimed at its own load balancer", (region, role) => {
    const records = resourcesOf(tpl.origin[region]!, 'AWS::Route53::RecordSet');
    expect(records).toHaveLength(1);
    const [[, record]] = records;
    const [[loadBalancerId]] = resourcesOf(tpl.origin[region]!, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    expect(record).toMatchObject({ Name: 'origin.example.com.', Failover: role, SetIdentifier: `${region}-${role.toLowerCase()}` });
    expect(JSON.stringify(record!.AliasTarget)).toContain(`"Fn::GetAtt":["${loadBalancerId}","DNSName"]`);
  });

  it('says in the description of each alarm Route 53 follows that it moves DNS', () => {
    const followed = resourcesOf(tpl.origin[west]!, 'AWS::Route53::HealthCheck')
      .map(([, props]) => (props.HealthCheckConfig as { AlarmIdentifier?: { Name: string } }).AlarmIdentifier?.Name)
      .filter(Boolean);
    const alarms = resourcesOf(tpl.origin[west]!, 'AWS::CloudWatch::Alarm');
    expect(followed).toHaveLength(3);
    for (const [, alarm] of alarms) {
      expect(String(alarm.AlarmDescription).includes('Route 53 moves the failover name away'), String(alarm.AlarmName)).toBe(
        followed.includes(alarm.AlarmName as string),
      );
    }
  });

  it('passes no value between regions: no cross-region writer or reader, imports only from its own region', () => {
    for (const stack of [...Object.values(stacks.origins), ...Object.values(stacks.data)]) {
      const json = JSON.stringify(template(stack).toJSON());
      expect(json.match(/CrossRegionExport|ExportsReader|ExportsWriter/g), stack.stackName).toBeNull();
      const imports = [...json.matchAll(/"Fn::ImportValue":"([^"]+)"/g)].map((match) => match[1]!);
      for (const imported of imports) expect(imported.split(':')[0]!.endsWith(`-${stack.region}`), imported).toBe(true);
    }
  });

  it('serves HTTPS for the domain in every region', () => {
    for (const region of [east, west]) {
      tpl.origin[region]!.hasResourceProperties('AWS::CertificateManager::Certificate', { DomainName: 'origin.example.com' });
      tpl.origin[region]!.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443, Protocol: 'HTTPS' });
    }
  });

  it('deploys data before origins, and the two origin stacks independently', () => {
    for (const region of [east, west]) {
      const dependencies = stacks.origins[region]!.dependencies.map((stack) => stack.stackName).sort();
      expect(dependencies).toEqual([STACK_NAMES.data(east), STACK_NAMES.data(west)].sort());
    }
  });

  it('pages the e-mail addresses from context in every region, and uses an existing topic where one is named', () => {
    const paged = addLiveOriginStacks(
      newApp(),
      twoRegionConfig({ alarmEmails: 'oncall@example.com', alarmTopicArns: 'eu-west-1=arn:aws:sns:eu-west-1:123456789012:oncall' }),
      { runtimeEntry: FIXTURE_ENTRY },
    );
    const eastTpl = template(paged.origins[east]!);
    eastTpl.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    const westTpl = template(paged.origins[west]!);
    westTpl.resourceCountIs('AWS::SNS::Topic', 0);
    westTpl.resourceCountIs('AWS::SNS::Subscription', 0);
    const [[, composite]] = resourcesOf(westTpl, 'AWS::CloudWatch::CompositeAlarm');
    expect(composite!.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:oncall']);
  });
});

describe('event windows', () => {
  const now = Date.parse('2026-07-01T12:00:00Z');
  const windows = [
    { start: '2026-07-01T10:00:00Z', end: '2026-07-01T14:00:00Z', minCapacity: 5 },
    { start: '2026-07-02T18:00:00Z', end: '2026-07-02T23:00:00Z', minCapacity: 8 },
  ];
  const built = addLiveOriginStacks(newApp(), twoRegionConfig({ eventWindows: windows, maxCapacity: 10, minCapacity: 'us-east-1=3,eu-west-1=2' }, now), {
    runtimeEntry: FIXTURE_ENTRY,
    now,
  });

  it.each([
    [east, 3],
    [west, 2],
  ])('give %s, standby included, the peak minimum during each window and its own minimum after', (region, base) => {
    const tpl = template(built.origins[region]!);
    // The window under way is already in the group's minimum; the rest are schedules.
    tpl.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '5' });
    const schedules = resourcesOf(tpl, 'AWS::AutoScaling::ScheduledAction').map(([, props]) => [props.StartTime, props.MinSize]);
    expect(schedules).toEqual([
      ['2026-07-01T14:00:00.000Z', base],
      ['2026-07-02T18:00:00.000Z', 8],
      ['2026-07-02T23:00:00.000Z', base],
    ]);
  });
});

describe('without a domain', () => {
  const plain = addLiveOriginStacks(newApp(), twoRegionConfig({ domainName: '', hostedZoneId: '' }), { runtimeEntry: FIXTURE_ENTRY });

  it('adds no record or health check and serves plain HTTP', () => {
    template(plain.origins[east]!).resourceCountIs('AWS::Route53::RecordSet', 0);
    template(plain.origins[east]!).resourceCountIs('AWS::Route53::HealthCheck', 0);
    const listeners = resourcesOf(template(plain.origins[east]!), 'AWS::ElasticLoadBalancingV2::Listener');
    expect(listeners.map(([, props]) => props.Port)).toEqual([80]);
  });
});

describe('with an account', () => {
  // What `cdk synth` with credentials writes to cdk.context.json once; committed, synth stays offline.
  const committedZones = {
    'availability-zones:account=123456789012:region=us-east-1': ['us-east-1a', 'us-east-1b', 'us-east-1c'],
    'availability-zones:account=123456789012:region=eu-west-1': ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
  };
  const withAccount = new App({ context: { ...cdkJsonContext(), ...committedZones } });
  const built = addLiveOriginStacks(withAccount, twoRegionConfig({ account: '123456789012' }), { runtimeEntry: FIXTURE_ENTRY });

  it('looks nothing up when the zones are committed', () => {
    expect(withAccount.synth().manifest.missing).toBeUndefined();
    const zones = resourcesOf(template(built.origins[west]!), 'AWS::EC2::Subnet').map(([, props]) => props.AvailabilityZone);
    expect(new Set(zones)).toEqual(new Set(['eu-west-1a', 'eu-west-1b']));
  });

  it('names buckets with the literal account', () => {
    template(built.data[east]!).hasResourceProperties('AWS::S3::Bucket', { BucketName: 'live-origin-segments-123456789012-us-east-1' });
  });
});
