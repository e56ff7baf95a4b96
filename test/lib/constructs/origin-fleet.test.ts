import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { OriginFleet, type OriginFleetProps } from '../../../lib/constructs/origin-fleet.js';
import { instanceProgram } from '../../../lib/instance/paths.js';
import { bootVariablesOf, importedVpc, joinedText, logicalId, regionalStack, resourcesOf, template } from '../helpers.js';

const OWN_BUCKET = 'live-origin-segments-111111111111-us-east-1';
const PEER_BUCKET = 'live-origin-segments-111111111111-eu-west-1';

function build(props: Partial<OriginFleetProps> = {}) {
  const stack = regionalStack();
  const fleet = new OriginFleet(stack, 'Fleet', {
    vpc: importedVpc(stack),
    machineImage: ec2.MachineImage.genericLinux({ 'us-east-1': 'ami-0123456789abcdef0' }),
    segmentBucket: s3.Bucket.fromBucketName(stack, 'Segments', OWN_BUCKET),
    peerBuckets: { 'eu-west-1': PEER_BUCKET },
    ...props,
  });
  return { stack, fleet, tpl: template(stack) };
}

/** The instance role's inline statements, by Sid. */
function statements(tpl: Template): Record<string, Record<string, unknown>> {
  const [[, role]] = resourcesOf(tpl, 'AWS::IAM::Role').filter(([, props]) => String(props.Description).startsWith('Live Origin instances')) as [
    [string, { Policies: { PolicyDocument: { Statement: Record<string, unknown>[] } }[] }],
  ];
  return Object.fromEntries(role.Policies[0]!.PolicyDocument.Statement.map((statement) => [statement.Sid as string, statement]));
}

describe('OriginFleet', () => {
  const { stack, fleet, tpl } = build();
  const userData = (): string => {
    const [[, props]] = resourcesOf(tpl, 'AWS::EC2::LaunchTemplate') as [[string, { LaunchTemplateData: { UserData: unknown } }]];
    return joinedText(props.LaunchTemplateData.UserData);
  };
  it('launches Graviton instances from a launch template that requires IMDSv2', () => {
    tpl.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ InstanceType: 'c7g.large', MetadataOptions: { HttpTokens: 'required' } }),
    });
    tpl.resourceCountIs('AWS::AutoScaling::LaunchConfiguration', 0);
  });

  it('encrypts the gp3 root volume', () => {
    tpl.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: Match.objectLike({ Encrypted: true, VolumeType: 'gp3' }) }],
      }),
    });
  });

  it('runs the group in private subnets, replacing an instance on EC2 health only (never because its store is slow)', () => {
    tpl.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '2',
      MaxSize: '6',
      HealthCheckType: 'EC2',
      VPCZoneIdentifier: ['subnet-0bbbbbbbbbbbbbbb1', 'subnet-0bbbbbbbbbbbbbbb2'],
      TargetGroupARNs: Match.arrayWith([{ Ref: logicalId(fleet.deliveryTargetGroup) }, { Ref: logicalId(fleet.ingestTargetGroup) }]),
    });
  });

  it('lets an instance report itself dead (liveness), in its own group only', () => {
    const [[, policy]] = resourcesOf(tpl, 'AWS::IAM::Policy').filter(([id]) => id.includes('SelfReplacement')) as [[string, Record<string, unknown>]];
    const text = JSON.stringify(policy);
    expect(text).toContain('autoscaling:SetInstanceHealth');
    expect(text).toContain(':autoScalingGroupName/');
    expect(text).toContain(JSON.stringify({ Ref: logicalId(fleet.autoScalingGroup) }));
  });

  it('waits for instances to report ready before CloudFormation moves on, keeping scaling on during a roll', () => {
    tpl.hasResource('AWS::AutoScaling::AutoScalingGroup', {
      CreationPolicy: { ResourceSignal: { Count: 2 } },
      UpdatePolicy: Match.objectLike({ AutoScalingRollingUpdate: Match.objectLike({ WaitOnResourceSignals: true, MaxBatchSize: 1 }) }),
    });
    const [[, group]] = Object.entries(tpl.findResources('AWS::AutoScaling::AutoScalingGroup')) as [
      [string, { UpdatePolicy: { AutoScalingRollingUpdate: { SuspendProcesses: string[] } } }],
    ];
    const suspended = group.UpdatePolicy.AutoScalingRollingUpdate.SuspendProcesses;
    expect(suspended).not.toContain('AlarmNotification');
    expect(suspended).not.toContain('ScheduledActions');
  });

  it('signals with the group as resource, after the target groups it belongs to count the instance healthy', () => {
    const variables = bootVariablesOf(userData());
    expect(variables.SIGNAL_RESOURCE).toBe(logicalId(fleet.autoScalingGroup));
    expect(variables.TARGET_GROUPS!.split(' ')).toEqual([
      JSON.stringify({ Ref: logicalId(fleet.deliveryTargetGroup) }),
      JSON.stringify({ Ref: logicalId(fleet.ingestTargetGroup) }),
    ]);
    expect(statements(tpl).BootTargetHealth).toMatchObject({ Action: 'elasticloadbalancing:DescribeTargetHealth' });
  });

  it('health-checks both target groups on /readyz, with slow start', () => {
    const groups = resourcesOf(tpl, 'AWS::ElasticLoadBalancingV2::TargetGroup');
    expect(groups).toHaveLength(2);
    for (const [, props] of groups) {
      expect(props).toMatchObject({ Port: 8080, Protocol: 'HTTP', HealthCheckPath: '/readyz', Matcher: { HttpCode: '200' }, UnhealthyThresholdCount: 2 });
      expect(props.TargetGroupAttributes).toEqual(expect.arrayContaining([{ Key: 'slow_start.duration_seconds', Value: '60' }]));
    }
  });

  it('protects the load balancer from deletion', () => {
    tpl.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'true' }]),
    });
  });

  it('routes /ingest/* and /admin/* to the ingest target group', () => {
    tpl.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/ingest/*', '/admin/*'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: { Ref: logicalId(fleet.ingestTargetGroup) } }],
    });
  });

  it('sends everything else to the delivery target group', () => {
    tpl.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: logicalId(fleet.deliveryTargetGroup) } }],
    });
  });

  it('keeps /metrics off the internet', () => {
    tpl.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/metrics', '/metrics/*'] } }],
      Actions: [Match.objectLike({ Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '404' }) })],
    });
  });

  it('lets only the load balancer reach the instances, on 8080', () => {
    tpl.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 8080,
      ToPort: 8080,
      GroupId: { 'Fn::GetAtt': [logicalId(fleet.instanceSecurityGroup), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [logicalId(fleet.loadBalancerSecurityGroup), 'GroupId'] },
    });
  });

  it("opens the relay ports (8081 + worker) between the fleet's own instances only (serving while ingesting across instances)", () => {
    const group = { 'Fn::GetAtt': [logicalId(fleet.instanceSecurityGroup), 'GroupId'] };
    tpl.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 8081,
      ToPort: 8208,
      GroupId: group,
      SourceSecurityGroupId: group,
    });
    const relayRules = resourcesOf(tpl, 'AWS::EC2::SecurityGroupIngress')
      .map(([, props]) => props as { FromPort: number; SourceSecurityGroupId?: unknown; CidrIp?: string })
      .filter((rule) => rule.FromPort === 8081);
    expect(relayRules.map((rule) => [rule.SourceSecurityGroupId, rule.CidrIp])).toEqual([[group, undefined]]);
  });

  it('scales on CPU (request-count scaling refuses two target groups)', () => {
    tpl.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingConfiguration: { PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' }, TargetValue: 50 },
    });
  });

  describe('instance role', () => {
    const policy = statements(tpl);

    it('reads and writes only its own bucket', () => {
      expect(policy.OwnSegmentObjects!.Resource).toBe(`arn:aws:s3:::${OWN_BUCKET}/*`);
      expect([...(policy.OwnSegmentObjects!.Action as string[])].sort()).toEqual([
        's3:AbortMultipartUpload',
        's3:DeleteObject',
        's3:GetObject',
        's3:PutObject',
      ]);
    });

    it('may copy to and read from peer buckets, but not delete there', () => {
      expect(policy.PeerSegmentObjects!.Resource).toBe(`arn:aws:s3:::${PEER_BUCKET}/*`);
      expect(policy.PeerSegmentObjects!.Action).toContain('s3:PutObject');
      expect(policy.PeerSegmentObjects!.Action).not.toContain('s3:DeleteObject');
    });

    it('uses only the metadata tables of its region', () => {
      const tables = stack.resolve(policy.MetadataTables!.Resource) as unknown[];
      expect(JSON.stringify(tables)).toContain(':dynamodb:us-east-1:');
      expect(JSON.stringify(tables)).toContain('table/live-origin-candidates');
      expect(JSON.stringify(tables)).toContain('table/live-origin-events');
      expect(policy.MetadataTables!.Action).not.toContain('dynamodb:DeleteTable');
    });

    it('publishes metrics only to the runtime namespace', () => {
      expect(policy.RuntimeMetrics).toMatchObject({
        Action: 'cloudwatch:PutMetricData',
        Condition: { StringEquals: { 'cloudwatch:namespace': 'LiveOrigin' } },
      });
    });

    it('reads its one secret', () => {
      expect(JSON.stringify(policy.RuntimeSecret)).toContain(':secret:live-origin/runtime-??????');
    });
  });

  describe('user data', () => {
    it('is boot.sh as written (lib/instance/boot.sh, run by test/lib/instance/boot-script.test.ts) under its variables', () => {
      expect(userData().startsWith('#!/bin/bash\n')).toBe(true);
      expect(userData().endsWith(instanceProgram('boot.sh'))).toBe(true);
    });

    it('gives boot.sh this region, its buckets, tables and secret', () => {
      expect(bootVariablesOf(userData())).toMatchObject({
        REGION: 'us-east-1',
        BUCKET: OWN_BUCKET,
        TABLE_PREFIX: 'live-origin-',
        PEER_BUCKETS: `eu-west-1=${PEER_BUCKET}`,
        SECRET_NAME: 'live-origin/runtime',
        MEMORY_FRACTION: '0.5',
        PORT: '8080',
      });
    });

    it('holds no token or CDN secret: the instance fetches them from Secrets Manager', () => {
      expect(userData()).not.toMatch(/LIVE_ORIGIN_TOKENS=\S/);
      expect(userData()).not.toMatch(/LIVE_ORIGIN_CDN_SECRET=\S/);
    });
  });

  describe('with TLS', () => {
    const tls = (() => {
      const stack2 = regionalStack();
      const zone = route53.HostedZone.fromHostedZoneId(stack2, 'Zone', 'Z0123456789EXAMPLE');
      const built = new OriginFleet(stack2, 'Fleet', {
        vpc: importedVpc(stack2),
        machineImage: ec2.MachineImage.genericLinux({ 'us-east-1': 'ami-0123456789abcdef0' }),
        segmentBucket: s3.Bucket.fromBucketName(stack2, 'Segments', OWN_BUCKET),
        tls: { domainName: 'origin.example.com', hostedZone: zone },
      });
      return { fleet: built, tpl: template(stack2) };
    })();

    it('serves HTTPS with a DNS-validated certificate', () => {
      tls.tpl.hasResourceProperties('AWS::CertificateManager::Certificate', {
        DomainName: 'origin.example.com',
        ValidationMethod: 'DNS',
        DomainValidationOptions: [{ DomainName: 'origin.example.com', HostedZoneId: 'Z0123456789EXAMPLE' }],
      });
      tls.tpl.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443, Protocol: 'HTTPS' });
    });

    it('redirects plain HTTP to HTTPS', () => {
      tls.tpl.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Port: 80,
        DefaultActions: [{ Type: 'redirect', RedirectConfig: Match.objectLike({ Protocol: 'HTTPS', Port: '443' }) }],
      });
    });

    it('attaches the routing rules to the HTTPS listener', () => {
      expect(tls.fleet.listener.port).toBe(443);
    });
  });

  it('ships the runtime log to a log group kept a month, writable by the instances only in that group', () => {
    tpl.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const [[groupId, group]] = resourcesOf(tpl, 'AWS::Logs::LogGroup');
    expect(group!.LogGroupName).toBeUndefined();
    expect(tpl.toJSON().Resources[groupId].DeletionPolicy).toBe('Retain');
    expect(statements(tpl).RuntimeLogs).toMatchObject({
      Action: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
      Resource: { 'Fn::GetAtt': [groupId, 'Arn'] },
    });
    // The group's name is a token, rendered here as its intrinsic.
    expect(bootVariablesOf(userData()).AGENT_CONFIG_JSON).toContain(`"log_group_name":"${JSON.stringify({ Ref: groupId })}"`);
  });

  it('is reachable through SSM Session Manager only: a minimal inline grant, no managed policy, no key pair, no port 22', () => {
    const roles = resourcesOf(tpl, 'AWS::IAM::Role').filter(([, props]) => String(props.Description).startsWith('Live Origin instances'));
    expect(roles[0]![1].ManagedPolicyArns).toBeUndefined();
    expect([...(statements(tpl).SessionManagerChannels!.Action as string[])].sort()).toEqual([
      'ssmmessages:CreateControlChannel',
      'ssmmessages:CreateDataChannel',
      'ssmmessages:OpenControlChannel',
      'ssmmessages:OpenDataChannel',
    ]);
    expect(JSON.stringify(statements(tpl)).includes('ssm:GetParameter')).toBe(false);
    const [[, launchTemplate]] = resourcesOf(tpl, 'AWS::EC2::LaunchTemplate') as [[string, { LaunchTemplateData: Record<string, unknown> }]];
    expect(launchTemplate.LaunchTemplateData.KeyName).toBeUndefined();
    const ingress = [
      ...resourcesOf(tpl, 'AWS::EC2::SecurityGroupIngress').map(([, props]) => props),
      ...resourcesOf(tpl, 'AWS::EC2::SecurityGroup').flatMap(([, props]) => (props.SecurityGroupIngress as Record<string, unknown>[]) ?? []),
    ];
    expect(ingress.length).toBeGreaterThan(0);
    for (const rule of ingress) {
      const from = rule.FromPort as number;
      const to = rule.ToPort as number;
      expect(from <= 22 && 22 <= to, JSON.stringify(rule)).toBe(false);
    }
  });

  it('reserves load balancer capacity when asked (a failover must not wait for the load balancer to scale)', () => {
    build({ loadBalancerCapacityUnits: 100 }).tpl.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      MinimumLoadBalancerCapacity: { CapacityUnits: 100 },
    });
    expect(tpl.toJSON().Resources[logicalId(fleet.loadBalancer)].Properties.MinimumLoadBalancerCapacity).toBeUndefined();
  });

  it('admits ingest and admin only from the source list, four addresses per rule, and refuses the rest', () => {
    const sources = ['203.0.113.0/24', '198.51.100.7/32', '192.0.2.0/28', '192.0.2.64/28', '2001:db8::/32'];
    const limited = build({ ingestSources: sources }).tpl;
    const rules = resourcesOf(limited, 'AWS::ElasticLoadBalancingV2::ListenerRule').map(
      ([, props]) => props as { Priority: number; Conditions: Record<string, unknown>[]; Actions: { Type: string }[] },
    );
    const forwarding = rules.filter((rule) => rule.Actions[0]!.Type === 'forward' && JSON.stringify(rule.Conditions).includes('source-ip'));
    for (const path of ['/ingest/*', '/admin/*']) {
      const admitted = forwarding
        .filter((rule) => JSON.stringify(rule.Conditions).includes(`"${path}"`))
        .flatMap((rule) => (rule.Conditions.find((condition) => condition.Field === 'source-ip')!.SourceIpConfig as { Values: string[] }).Values);
      expect(admitted.sort()).toEqual([...sources].sort());
    }
    const refused = rules.find((rule) => rule.Actions[0]!.Type === 'fixed-response' && JSON.stringify(rule.Conditions).includes('/ingest/*'))!;
    expect(refused.Priority).toBeGreaterThan(Math.max(...forwarding.map((rule) => rule.Priority)));
    expect(JSON.stringify(refused.Actions)).toContain('"StatusCode":"403"');
  });

  it('rate-limits ingest and admin per address with AWS WAF when a limit is given', () => {
    const limited = build({ ingestRateLimit: 3000 });
    limited.tpl.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({
          Action: { Block: { CustomResponse: { ResponseCode: 429 } } },
          Statement: { RateBasedStatement: Match.objectLike({ Limit: 3000, AggregateKeyType: 'IP' }) },
        }),
      ],
    });
    limited.tpl.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { ResourceArn: { Ref: logicalId(limited.fleet.loadBalancer) } });
    tpl.resourceCountIs('AWS::WAFv2::WebACL', 0);
  });

  it('schedules the one-time minimum changes of event windows', () => {
    build({ maxCapacity: 10, scheduledCapacity: [{ at: '2099-07-01T18:00:00Z', minCapacity: 8 }] }).tpl.hasResourceProperties(
      'AWS::AutoScaling::ScheduledAction',
      {
        StartTime: '2099-07-01T18:00:00.000Z',
        MinSize: 8,
      },
    );
  });

  it('refuses an x86 instance type', () => {
    expect(() => build({ instanceType: 'm7i.large' })).toThrow(/Graviton/);
  });

  it('refuses its own region as a peer', () => {
    expect(() => build({ peerBuckets: { 'us-east-1': OWN_BUCKET } })).toThrow(/must not include this region/);
  });
});
