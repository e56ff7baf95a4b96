import { spawnSync } from 'node:child_process';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { bootScript, CLOUDWATCH_AGENT_CONFIG, OriginFleet, type OriginFleetProps } from '../../../lib/constructs/origin-fleet.js';
import { RUNTIME_LOG_FILE } from '../../../lib/constructs/origin-image.js';
import { importedVpc, joinedText, logicalId, regionalStack, resourcesOf, template } from '../helpers.js';

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

  it('runs the group in private subnets, replacing instances the load balancer finds unhealthy', () => {
    tpl.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '2',
      MaxSize: '6',
      HealthCheckType: 'ELB',
      VPCZoneIdentifier: ['subnet-0bbbbbbbbbbbbbbb1', 'subnet-0bbbbbbbbbbbbbbb2'],
    });
  });

  it('waits for instances to report ready before CloudFormation moves on', () => {
    tpl.hasResource('AWS::AutoScaling::AutoScalingGroup', {
      CreationPolicy: { ResourceSignal: { Count: 2 } },
      UpdatePolicy: Match.objectLike({ AutoScalingRollingUpdate: Match.objectLike({ WaitOnResourceSignals: true, MaxBatchSize: 1 }) }),
    });
    expect(userData()).toContain('cfn-signal');
    expect(userData()).toContain('http://127.0.0.1:8080/readyz');
  });

  it('health-checks both target groups on /readyz', () => {
    const groups = resourcesOf(tpl, 'AWS::ElasticLoadBalancingV2::TargetGroup');
    expect(groups).toHaveLength(2);
    for (const [, props] of groups) {
      expect(props).toMatchObject({ Port: 8080, Protocol: 'HTTP', HealthCheckPath: '/readyz', Matcher: { HttpCode: '200' } });
    }
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

  describe('boot environment', () => {
    it('writes the runtime configuration for AWS mode', () => {
      for (const line of [
        'PORT=8080',
        'HOST=0.0.0.0',
        'LIVE_ORIGIN_STORE=aws',
        `LIVE_ORIGIN_BUCKET=${OWN_BUCKET}`,
        'LIVE_ORIGIN_TABLE_PREFIX=live-origin-',
        `LIVE_ORIGIN_PEER_BUCKETS=eu-west-1=${PEER_BUCKET}`,
        'AWS_REGION=us-east-1',
        'LIVE_ORIGIN_MEMORY_BYTES=',
        'LIVE_ORIGIN_WORKERS=$(nproc)',
      ]) {
        expect(userData()).toContain(line);
      }
    });

    it('fetches tokens and the CDN secret from Secrets Manager at boot, never from the template', () => {
      expect(userData()).toContain('aws secretsmanager get-secret-value --region "$REGION" --secret-id \'live-origin/runtime\'');
      expect(userData()).not.toMatch(/LIVE_ORIGIN_TOKENS=\S/);
      expect(userData()).not.toMatch(/LIVE_ORIGIN_CDN_SECRET=\S/);
    });

    it('starts the unit only after the environment file is complete', () => {
      const script = userData();
      expect(script.indexOf('mv /etc/live-origin/env.new /etc/live-origin/env')).toBeLessThan(script.indexOf('systemctl enable --now live-origin.service'));
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
    expect(userData()).toContain(`"log_group_name":"{"Ref":"${groupId}"}"`);
  });

  it('is reachable through SSM Session Manager only: managed core policy, no key pair, no port 22', () => {
    const roles = resourcesOf(tpl, 'AWS::IAM::Role').filter(([, props]) => String(props.Description).startsWith('Live Origin instances'));
    expect(JSON.stringify(roles[0]![1].ManagedPolicyArns)).toContain(':iam::aws:policy/AmazonSSMManagedInstanceCore');
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

  it('refuses an x86 instance type', () => {
    expect(() => build({ instanceType: 'm7i.large' })).toThrow(/Graviton/);
  });

  it('refuses its own region as a peer', () => {
    expect(() => build({ peerBuckets: { 'us-east-1': OWN_BUCKET } })).toThrow(/must not include this region/);
  });
});

describe('bootScript', () => {
  const lines = bootScript({
    region: 'us-east-1',
    bucketName: 'b',
    tablePrefix: 'p-',
    peerBuckets: '',
    secretName: 's',
    hotCacheMemoryFraction: 0.5,
    stackName: 'S',
    signalResource: 'G',
    logGroupName: 'live-origin-test-logs',
  });
  const script = lines.join('\n');
  /** The Node.js snippet that turns the secret into environment lines, run as the boot script runs it. */
  const secretToEnv = (secret: unknown) =>
    spawnSync(process.execPath, ['-'], {
      input: lines.slice(lines.findIndex((line) => line.includes("<<'JS'")) + 1, lines.lastIndexOf('JS')).join('\n'),
      env: { PATH: process.env.PATH, SECRET_JSON: JSON.stringify(secret) },
      encoding: 'utf8',
    });

  it('is valid bash', () => {
    const check = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('signals failure when any step fails', () => {
    expect(script).toContain("trap 'signal 1' ERR");
    expect(script.startsWith('set -euo pipefail')).toBe(true);
  });

  it('writes the secret as quoted environment lines, escaping quotes and backslashes', () => {
    const run = secretToEnv({ LIVE_ORIGIN_TOKENS: 'tok-1=news-*,tok-2=*', LIVE_ORIGIN_CDN_SECRET: 'a"b\\c', unrelated: 'x' });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('LIVE_ORIGIN_TOKENS="tok-1=news-*,tok-2=*"\nLIVE_ORIGIN_CDN_SECRET="a\\"b\\\\c"\n');
  });

  it('starts the CloudWatch agent on the runtime log file before the runtime, without making it fatal', () => {
    const agentAt = lines.findIndex((line) => line.includes('amazon-cloudwatch-agent-ctl -a fetch-config'));
    const serviceAt = lines.findIndex((line) => line.startsWith('systemctl enable --now live-origin.service'));
    expect(agentAt).toBeGreaterThan(-1);
    expect(agentAt).toBeLessThan(serviceAt);
    expect(lines[agentAt]).toContain(`file:${CLOUDWATCH_AGENT_CONFIG}`);
    expect(lines[agentAt]).toMatch(/\|\| echo /);
    const config = JSON.parse(lines[lines.findIndex((line) => line.includes("<<'AGENT'")) + 1]!) as {
      logs: { logs_collected: { files: { collect_list: { file_path: string; log_group_name: string }[] } } };
    };
    expect(config.logs.logs_collected.files.collect_list).toEqual([
      expect.objectContaining({ file_path: RUNTIME_LOG_FILE, log_group_name: 'live-origin-test-logs' }),
    ]);
  });

  it('refuses a secret without tokens instead of letting the runtime invent one', () => {
    const run = secretToEnv({ LIVE_ORIGIN_CDN_SECRET: 'only-this' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('the secret has no LIVE_ORIGIN_TOKENS');
    expect(run.stdout).toBe('');
  });
});
