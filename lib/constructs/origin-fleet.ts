import { ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { METRIC_NAMESPACE } from '../../runtime/aws-contract.js';
import { isGravitonInstanceType, isRegionName } from '../aws-names.js';
import { withDefaults } from '../defaults.js';
import { tableNames } from '../naming.js';
import { ENV_FILE, RUNTIME_LOG_FILE, SERVICE_NAME } from './origin-image.js';

/** The port the runtime listens on (its own default). */
export const ORIGIN_PORT = 8080;
/** The load balancer and Auto Scaling health check: 503 while draining or when the store is down. */
export const READINESS_PATH = '/readyz';
/** Paths served by the ingest target group; everything else is delivery. */
export const INGEST_PATH_PATTERNS = ['/ingest/*', '/admin/*'] as const;
/** AWS managed policy that lets the SSM agent register and carry Session Manager sessions. */
const SSM_MANAGED_POLICY = 'AmazonSSMManagedInstanceCore';
/** Paths the load balancer never forwards: metrics are for scrapers inside the VPC. */
export const PRIVATE_PATH_PATTERNS = ['/metrics', '/metrics/*'] as const;

/** HTTPS for the origin's own name, with a certificate validated through Route 53. */
export interface OriginTls {
  /** The name clients use (the failover record's name). */
  readonly domainName: string;
  /** Zone that holds `domainName`, where the validation record is written. */
  readonly hostedZone: route53.IHostedZone;
}

export interface OriginFleetProps {
  /** Network of the load balancer (public subnets) and the instances (private subnets with egress). */
  readonly vpc: ec2.IVpc;
  /** The baked origin AMI (arm64). */
  readonly machineImage: ec2.IMachineImage;
  /** This region's segment bucket: the instances read and write it. */
  readonly segmentBucket: s3.IBucket;
  /**
   * Segment buckets of the other regions, by region: the instances copy each acked segment
   * there, and read from them a key whose copy has not reached this region yet.
   * @default {} (no peers)
   */
  readonly peerBuckets?: Readonly<Record<string, string>>;
  /**
   * Prefix of the metadata tables (their replicas in this region are used).
   * @default 'live-origin-'
   */
  readonly tablePrefix?: string;
  /**
   * Secrets Manager secret in this region with `LIVE_ORIGIN_TOKENS` (required) and optionally
   * `LIVE_ORIGIN_CDN_SECRET`, `LIVE_ORIGIN_PURGE_URLS` and `LIVE_ORIGIN_CLOUDFRONT_DISTRIBUTION_ID`, as JSON keys.
   * @default 'live-origin/runtime'
   */
  readonly secretName?: string;
  /**
   * Graviton instance type.
   * @default 'c7g.large'
   */
  readonly instanceType?: string;
  /**
   * Fewest instances.
   * @default 2
   */
  readonly minCapacity?: number;
  /**
   * Most instances.
   * @default 6
   */
  readonly maxCapacity?: number;
  /**
   * Average CPU the group scales to keep.
   * @default 50
   */
  readonly cpuTargetPercent?: number;
  /**
   * Share of instance memory given to the runtime's hot cache (`LIVE_ORIGIN_MEMORY_BYTES`).
   * @default 0.5
   */
  readonly hotCacheMemoryFraction?: number;
  /**
   * Root volume size in GiB.
   * @default 16
   */
  readonly rootVolumeGiB?: number;
  /**
   * Time the load balancer lets in-flight and held requests finish on a deregistering instance.
   * @default Duration.seconds(30)
   */
  readonly deregistrationDelay?: Duration;
  /**
   * HTTPS on 443 (HTTP redirects to it); without it the origin listens on plain HTTP 80.
   * @default - HTTP only, for trials without a domain
   */
  readonly tls?: OriginTls;
  /**
   * Bucket for the load balancer's access logs.
   * @default - no access logs
   */
  readonly accessLogsBucket?: s3.IBucket;
  /**
   * How long the runtime's log (shipped by the CloudWatch agent) is kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

type ResolvedProps = Required<Omit<OriginFleetProps, 'tls' | 'accessLogsBucket'>> & Pick<OriginFleetProps, 'tls' | 'accessLogsBucket'>;

/** Defaults merged under the caller's props. */
export function originFleetDefaults(props: OriginFleetProps): ResolvedProps {
  return withDefaults(
    {
      peerBuckets: {},
      tablePrefix: 'live-origin-',
      secretName: 'live-origin/runtime',
      instanceType: 'c7g.large',
      minCapacity: 2,
      maxCapacity: 6,
      cpuTargetPercent: 50,
      hotCacheMemoryFraction: 0.5,
      rootVolumeGiB: 16,
      deregistrationDelay: Duration.seconds(30),
      logRetention: logs.RetentionDays.ONE_MONTH,
    },
    props,
  );
}

/** Where the CloudWatch agent's configuration is written at boot. */
export const CLOUDWATCH_AGENT_CONFIG = '/opt/aws/amazon-cloudwatch-agent/etc/live-origin.json';
const CLOUDWATCH_AGENT_CTL = '/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl';

/**
 * The CloudWatch agent's configuration: ship the runtime's log file (pino JSON lines, one
 * stream per instance) to `logGroupName`. Retention is the log group's, set by CDK.
 */
export function cloudWatchAgentConfig(logGroupName: string): string {
  return JSON.stringify({
    agent: { run_as_user: 'root' },
    logs: {
      logs_collected: {
        files: {
          collect_list: [{ file_path: RUNTIME_LOG_FILE, log_group_name: logGroupName, log_stream_name: '{instance_id}' }],
        },
      },
    },
  });
}

/** What the boot script needs to know; all values are resolved by CloudFormation. */
export interface BootScriptOptions {
  readonly region: string;
  readonly bucketName: string;
  readonly tablePrefix: string;
  /** `region=bucket,...` of the other regions. */
  readonly peerBuckets: string;
  readonly secretName: string;
  readonly hotCacheMemoryFraction: number;
  /** Where the readiness signal goes (the Auto Scaling group's creation and update policies). */
  readonly stackName: string;
  readonly signalResource: string;
  /** The log group the CloudWatch agent ships the runtime's log to. */
  readonly logGroupName: string;
}

/**
 * Turns the secret's JSON into environment lines, refusing to go on without tokens (the runtime
 * would otherwise invent one per instance and every ingest would be refused).
 */
const SECRET_TO_ENV = [
  "const secret = JSON.parse(process.env.SECRET_JSON || '{}');",
  "if (typeof secret.LIVE_ORIGIN_TOKENS !== 'string' || secret.LIVE_ORIGIN_TOKENS.trim() === '') {",
  "  console.error('live-origin: the secret has no LIVE_ORIGIN_TOKENS');",
  '  process.exit(1);',
  '}',
  "for (const key of ['LIVE_ORIGIN_TOKENS', 'LIVE_ORIGIN_CDN_SECRET', 'LIVE_ORIGIN_PURGE_URLS', 'LIVE_ORIGIN_CLOUDFRONT_DISTRIBUTION_ID']) {",
  '  const value = secret[key];',
  "  if (value === undefined || value === '') continue;",
  "  if (typeof value !== 'string' || /[\\r\\n]/.test(value)) {",
  "    console.error('live-origin: ' + key + ' must be a one-line string');",
  '    process.exit(1);',
  '  }',
  "  process.stdout.write(key + '=\"' + value.replace(/[\\\\\"]/g, (c) => '\\\\' + c) + '\"\\n');",
  '}',
];

/**
 * User data: fetch the secret, write the environment file, start the unit, and tell
 * CloudFormation once `/readyz` answers (or that it never did).
 */
export function bootScript(options: BootScriptOptions): string[] {
  const newFile = `${ENV_FILE}.new`;
  return [
    'set -euo pipefail',
    `REGION='${options.region}'`,
    'signal() {',
    '  "$(command -v cfn-signal || echo /opt/aws/bin/cfn-signal)" \\',
    `    --region "$REGION" --stack '${options.stackName}' --resource '${options.signalResource}' --exit-code "$1" || true`,
    '}',
    "trap 'signal 1' ERR",
    'fetch_secret() {',
    '  for attempt in 1 2 3 4 5 6 7 8 9 10; do',
    `    aws secretsmanager get-secret-value --region "$REGION" --secret-id '${options.secretName}' --query SecretString --output text && return 0`,
    '    sleep $((attempt * 3))',
    '  done',
    '  return 1',
    '}',
    'secret_json=$(fetch_secret)',
    `memory_bytes=$(awk '/^MemTotal:/ { printf "%d", $2 * 1024 * ${options.hotCacheMemoryFraction} }' /proc/meminfo)`,
    'umask 077',
    `install -d -m 0755 ${ENV_FILE.slice(0, ENV_FILE.lastIndexOf('/'))}`,
    `cat > ${newFile} <<'ENV'`,
    `PORT=${ORIGIN_PORT}`,
    'HOST=0.0.0.0',
    'LIVE_ORIGIN_STORE=aws',
    `LIVE_ORIGIN_BUCKET=${options.bucketName}`,
    `LIVE_ORIGIN_TABLE_PREFIX=${options.tablePrefix}`,
    `LIVE_ORIGIN_PEER_BUCKETS=${options.peerBuckets}`,
    `AWS_REGION=${options.region}`,
    'ENV',
    `echo "LIVE_ORIGIN_MEMORY_BYTES=$memory_bytes" >> ${newFile}`,
    // One worker process per vCPU: the primary forks them on one port and splits the memory cap.
    `echo "LIVE_ORIGIN_WORKERS=$(nproc)" >> ${newFile}`,
    `SECRET_JSON="$secret_json" node - >> ${newFile} <<'JS'`,
    ...SECRET_TO_ENV,
    'JS',
    `mv ${newFile} ${ENV_FILE}`,
    // Logs leave the instance before the runtime starts; an agent that fails to start costs the
    // logs, not the region's capacity, so it is reported and boot goes on.
    `cat > ${CLOUDWATCH_AGENT_CONFIG} <<'AGENT'`,
    cloudWatchAgentConfig(options.logGroupName),
    'AGENT',
    `${CLOUDWATCH_AGENT_CTL} -a fetch-config -m ec2 -s -c file:${CLOUDWATCH_AGENT_CONFIG} || echo 'live-origin: the CloudWatch agent did not start' >&2`,
    `systemctl enable --now ${SERVICE_NAME}`,
    'for attempt in $(seq 1 60); do',
    `  if curl -fsS -o /dev/null http://127.0.0.1:${ORIGIN_PORT}${READINESS_PATH}; then signal 0; exit 0; fi`,
    '  sleep 5',
    'done',
    "echo 'live-origin: not ready after 5 minutes' >&2",
    'signal 1',
    'exit 1',
  ];
}

/**
 * The regional fleet: an internet-facing load balancer with separate ingest and delivery target
 * groups in front of an Auto Scaling group of the baked AMI, scaling on CPU, with a
 * least-privilege instance role, the runtime's log shipped to a log group, and shell access
 * through SSM Session Manager only (no key pair, no port 22).
 */
export class OriginFleet extends Construct {
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  /** The listener that routes (443 with TLS, else 80). */
  public readonly listener: elbv2.ApplicationListener;
  /** Port 80 redirecting to HTTPS (only with TLS). */
  public readonly redirectListener?: elbv2.ApplicationListener;
  public readonly certificate?: acm.Certificate;
  /** Receives `/ingest/*` and `/admin/*`. */
  public readonly ingestTargetGroup: elbv2.ApplicationTargetGroup;
  /** Receives everything else (CDN fills). */
  public readonly deliveryTargetGroup: elbv2.ApplicationTargetGroup;
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  public readonly launchTemplate: ec2.LaunchTemplate;
  public readonly instanceRole: iam.Role;
  public readonly instanceSecurityGroup: ec2.SecurityGroup;
  public readonly userData: ec2.UserData;
  /** The runtime's log, one stream per instance. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: OriginFleetProps) {
    super(scope, id);
    const resolved = originFleetDefaults(props);
    validate(resolved);
    const stack = Stack.of(this);
    const { vpc } = resolved;

    // No fixed name: a retained group cannot collide with the one a redeploy creates.
    this.logGroup = new logs.LogGroup(this, 'RuntimeLogs', {
      retention: resolved.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.instanceRole = this.createRole(resolved, this.logGroup);

    this.instanceSecurityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc,
      description: `Live Origin instances: ${ORIGIN_PORT} from the load balancer only`,
      allowAllOutbound: true,
    });

    this.userData = ec2.UserData.forLinux();
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      instanceType: new ec2.InstanceType(resolved.instanceType),
      machineImage: resolved.machineImage,
      userData: this.userData,
      role: this.instanceRole,
      securityGroup: this.instanceSecurityGroup,
      requireImdsv2: true,
      detailedMonitoring: true,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(resolved.rootVolumeGiB, {
            encrypted: true,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
    });

    const signalTimeout = Duration.minutes(20);
    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Group', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate: this.launchTemplate,
      minCapacity: resolved.minCapacity,
      maxCapacity: resolved.maxCapacity,
      healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
        additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
        gracePeriod: Duration.minutes(5),
      }),
      cooldown: Duration.minutes(3),
      defaultInstanceWarmup: Duration.minutes(2),
      groupMetrics: [autoscaling.GroupMetrics.all()],
      signals: autoscaling.Signals.waitForMinCapacity({ timeout: signalTimeout }),
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({
        maxBatchSize: 1,
        minInstancesInService: Math.min(resolved.minCapacity, resolved.maxCapacity - 1),
      }),
    });
    Validations.of(this.autoScalingGroup).acknowledge({
      id: 'AwsSolutions-AS3',
      reason:
        'Launch and termination events are in the group activity history and EventBridge; paging is driven by the ' +
        'region health composite alarm, which is what decides failover, not by per-instance notifications.',
    });

    const groupLogicalId = stack.getLogicalId(this.autoScalingGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup);
    this.userData.addCommands(
      ...bootScript({
        region: stack.region,
        bucketName: resolved.segmentBucket.bucketName,
        tablePrefix: resolved.tablePrefix,
        peerBuckets: Object.entries(resolved.peerBuckets)
          .map(([region, bucket]) => `${region}=${bucket}`)
          .join(','),
        secretName: resolved.secretName,
        hotCacheMemoryFraction: resolved.hotCacheMemoryFraction,
        stackName: stack.stackName,
        signalResource: groupLogicalId,
        logGroupName: this.logGroup.logGroupName,
      }),
    );

    this.loadBalancerSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc,
      description: 'Live Origin load balancer: HTTP(S) from CDNs and packagers anywhere',
      allowAllOutbound: false,
    });
    for (const port of resolved.tls ? [80, 443] : [80]) {
      this.loadBalancerSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), `HTTP${port === 443 ? 'S' : ''} from anywhere`);
    }
    Validations.of(this.loadBalancerSecurityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        'The origin is public by design: CDN edges and packagers connect from addresses we do not control; ' +
        'requests are authenticated by bearer tokens (ingest) and the CDN secret header (delivery).',
    });

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      internetFacing: true,
      securityGroup: this.loadBalancerSecurityGroup,
      dropInvalidHeaderFields: true,
      http2Enabled: true,
      // Held requests wait at most a few segment durations; ingest bodies are single segments.
      idleTimeout: Duration.seconds(60),
    });
    if (resolved.accessLogsBucket) this.loadBalancer.logAccessLogs(resolved.accessLogsBucket, 'load-balancer');

    const targetGroupProps: elbv2.ApplicationTargetGroupProps = {
      vpc,
      port: ORIGIN_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.INSTANCE,
      targets: [this.autoScalingGroup],
      deregistrationDelay: resolved.deregistrationDelay,
      healthCheck: {
        path: READINESS_PATH,
        healthyHttpCodes: '200',
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
    };
    this.deliveryTargetGroup = new elbv2.ApplicationTargetGroup(this, 'DeliveryTargets', targetGroupProps);
    this.ingestTargetGroup = new elbv2.ApplicationTargetGroup(this, 'IngestTargets', targetGroupProps);

    if (resolved.tls) {
      this.certificate = new acm.Certificate(this, 'Certificate', {
        domainName: resolved.tls.domainName,
        validation: acm.CertificateValidation.fromDns(resolved.tls.hostedZone),
      });
      this.listener = this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [this.certificate],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        open: false,
        defaultTargetGroups: [this.deliveryTargetGroup],
      });
      this.redirectListener = this.loadBalancer.addListener('HttpRedirect', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        open: false,
        defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
      });
    } else {
      this.listener = this.loadBalancer.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        open: false,
        defaultTargetGroups: [this.deliveryTargetGroup],
      });
    }
    this.listener.addAction('HideMetrics', {
      priority: 5,
      conditions: [elbv2.ListenerCondition.pathPatterns([...PRIVATE_PATH_PATTERNS])],
      action: elbv2.ListenerAction.fixedResponse(404, { contentType: 'text/plain', messageBody: 'Not Found' }),
    });
    this.listener.addAction('Ingest', {
      priority: 10,
      conditions: [elbv2.ListenerCondition.pathPatterns([...INGEST_PATH_PATTERNS])],
      action: elbv2.ListenerAction.forward([this.ingestTargetGroup]),
    });

    // Both target groups feed one group, so request-count scaling is refused (it needs exactly
    // one target group); CPU tracks load for both ingest and delivery.
    this.autoScalingGroup.scaleOnCpuUtilization('CpuScaling', {
      targetUtilizationPercent: resolved.cpuTargetPercent,
    });
  }

  private createRole(props: ResolvedProps, logGroup: logs.LogGroup): iam.Role {
    const stack = Stack.of(this);
    const ownObjects = props.segmentBucket.arnForObjects('*');
    const peerBuckets = Object.values(props.peerBuckets).map((bucket) => `arn:${stack.partition}:s3:::${bucket}`);
    const tables = Object.values(tableNames(props.tablePrefix)).map((name) => stack.formatArn({ service: 'dynamodb', resource: 'table', resourceName: name }));
    const secret = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      // Secrets Manager appends six random characters to every secret's ARN.
      resourceName: `${props.secretName}-??????`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    // Exactly the calls the AWS adapters make (docs/aws-mode.md): object reads and writes,
    // HeadBucket (needs ListBucket, which also turns a missing key into 404 rather than 403),
    // item reads and single-item writes, and metrics.
    const statements = [
      new iam.PolicyStatement({
        sid: 'OwnSegmentObjects',
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        resources: [ownObjects],
      }),
      new iam.PolicyStatement({ sid: 'OwnSegmentBucket', actions: ['s3:ListBucket'], resources: [props.segmentBucket.bucketArn] }),
      new iam.PolicyStatement({
        sid: 'MetadataTables',
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: tables,
      }),
      new iam.PolicyStatement({
        sid: 'RuntimeMetrics',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': METRIC_NAMESPACE } },
      }),
      new iam.PolicyStatement({ sid: 'RuntimeSecret', actions: ['secretsmanager:GetSecretValue'], resources: [secret] }),
      // The CloudWatch agent: its own stream in the group CDK created (it creates no group).
      new iam.PolicyStatement({
        sid: 'RuntimeLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [logGroup.logGroupArn],
      }),
    ];
    if (peerBuckets.length > 0) {
      // Peers: the copy after each ack (write), and the fallback read of a key whose copy from
      // that peer has not landed here yet (read; ListBucket makes a missing key a 404).
      statements.push(
        new iam.PolicyStatement({
          sid: 'PeerSegmentObjects',
          actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
          resources: peerBuckets.map((bucket) => `${bucket}/*`),
        }),
        new iam.PolicyStatement({ sid: 'PeerSegmentBuckets', actions: ['s3:ListBucket'], resources: peerBuckets }),
      );
    }

    const role = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'Live Origin instances: own bucket, peer buckets (write), tables, metrics, logs, runtime secret, SSM sessions',
      inlinePolicies: { origin: new iam.PolicyDocument({ statements }) },
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName(SSM_MANAGED_POLICY)],
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${SSM_MANAGED_POLICY}]`,
      reason:
        'Session Manager is the only way onto an instance (no key pair, no port 22); AWS maintains this policy as exactly ' +
        'what the SSM agent needs, and its action list changes with the agent, which a copied inline policy would not.',
    });
    this.acknowledgeWildcards(role, [ownObjects, ...peerBuckets.map((bucket) => `${bucket}/*`)]);
    return role;
  }

  /** Each wildcard the role holds, with why it cannot be narrower. */
  private acknowledgeWildcards(role: iam.Role, objectResources: readonly string[]): void {
    const stack = Stack.of(this);
    for (const resource of objectResources) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagResource(stack, resource)}]`,
        reason:
          'Segment objects are named by event and path at run time; the grant is limited to the objects of one ' +
          "named segment bucket (this region's, or a peer region's for the copy after each ack and the fallback read).",
      });
    }
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `cloudwatch:PutMetricData has no resource-level permissions; the statement is limited to the ${METRIC_NAMESPACE} namespace by condition.`,
    });
  }
}

/**
 * A resource as cdk-nag writes it in a finding id (`Resource::...`): intrinsics flattened,
 * `Ref` as `<Name>`, `Fn::GetAtt` as `<Name.Attribute>`.
 */
function nagResource(stack: Stack, resource: string): string {
  return flatten(stack.resolve(resource));
}

function flatten(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const node = value as Record<string, unknown>;
  if (node['Fn::Join']) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(flatten).join(separator);
  }
  if (node['Fn::Sub']) return flatten(node['Fn::Sub']);
  if (node['Fn::GetAtt']) {
    const [logicalId, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
    return `<${flatten(logicalId)}.${flatten(attribute)}>`;
  }
  if (node['Fn::ImportValue']) return flatten(node['Fn::ImportValue']);
  if (node.Ref) return `<${flatten(node.Ref)}>`;
  return JSON.stringify(value);
}

function validate(props: ResolvedProps): void {
  const problems: string[] = [];
  if (!isGravitonInstanceType(props.instanceType)) {
    problems.push(`instanceType "${props.instanceType}" must be Graviton (arm64), like the AMI`);
  }
  if (!Number.isInteger(props.minCapacity) || props.minCapacity < 1) problems.push(`minCapacity must be an integer >= 1, got ${props.minCapacity}`);
  if (!Number.isInteger(props.maxCapacity) || props.maxCapacity < props.minCapacity) {
    problems.push(`maxCapacity must be an integer >= minCapacity (${props.minCapacity}), got ${props.maxCapacity}`);
  }
  if (!(props.cpuTargetPercent > 0 && props.cpuTargetPercent <= 100)) problems.push(`cpuTargetPercent must be in (0, 100], got ${props.cpuTargetPercent}`);
  if (!(props.hotCacheMemoryFraction > 0 && props.hotCacheMemoryFraction < 1)) {
    problems.push(`hotCacheMemoryFraction must be in (0, 1), got ${props.hotCacheMemoryFraction}`);
  }
  if (!Number.isInteger(props.rootVolumeGiB) || props.rootVolumeGiB < 8) problems.push(`rootVolumeGiB must be an integer >= 8, got ${props.rootVolumeGiB}`);
  const delay = props.deregistrationDelay.toSeconds({ integral: false });
  if (delay < 0 || delay > 3600) problems.push(`deregistrationDelay must be between 0 and 3600 s, got ${delay}`);
  const stackRegion = Stack.of(props.vpc).region;
  for (const region of Object.keys(props.peerBuckets)) {
    if (!isRegionName(region)) problems.push(`peerBuckets: "${region}" is not a region name`);
    if (!Token.isUnresolved(stackRegion) && region === stackRegion) problems.push(`peerBuckets must not include this region (${region})`);
  }
  if (props.tls && !Token.isUnresolved(props.tls.domainName) && !/^[a-z0-9.-]+\.[a-z]{2,63}$/.test(props.tls.domainName)) {
    problems.push(`tls.domainName "${props.tls.domainName}" is not a DNS name`);
  }
  if (problems.length > 0) throw new Error(`OriginFleet: ${problems.join('; ')}`);
}
