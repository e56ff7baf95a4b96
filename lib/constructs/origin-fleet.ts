import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { bootScript } from '../instance/boot-script.js';
import { MAX_RELAY_WORKERS, ORIGIN_PORT, RELAY_PORT } from '../instance/paths.js';
import { acknowledge } from '../nag.js';
import { allowSelfReplacement, createInstanceRole } from './fleet-instance-role.js';
import { createLoadBalancing } from './fleet-load-balancer.js';
import { type OriginFleetProps, originFleetDefaults, validateFleetProps } from './origin-fleet-props.js';

export { INGEST_PATH_PATTERNS, PRIVATE_PATH_PATTERNS } from './fleet-load-balancer.js';
export type { OriginFleetProps, OriginTls, ScheduledCapacity } from './origin-fleet-props.js';
export { originFleetDefaults } from './origin-fleet-props.js';

/** How long CloudFormation waits for the instances' signals (readiness, then load balancer health). */
const SIGNAL_TIMEOUT = Duration.minutes(20);
/**
 * A new instance's boot: no liveness verdict (set-instance-health respects it) before this.
 * Covers the secret fetch, the agent, the runtime's start and the first health checks.
 */
const HEALTH_CHECK_GRACE = Duration.minutes(5);

/**
 * The regional fleet: an internet-facing load balancer with separate ingest and delivery target
 * groups in front of an Auto Scaling group of the baked AMI, scaling on CPU, with event-window
 * minimums, a least-privilege instance role, the runtime's log shipped to a log group, and shell
 * access through SSM Session Manager only (no key pair, no port 22).
 *
 * Blast radius: the target groups follow readiness (an instance whose store does not answer
 * leaves the rotation and comes back by itself); the group replaces an instance only when EC2
 * says it is broken or its own liveness timer says the runtime stopped answering. A slow or
 * absent shared store therefore never replaces the fleet.
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
  /** AWS WAF rate limit on ingest (with `ingestRateLimit`). */
  public readonly webAcl?: wafv2.CfnWebACL;
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  public readonly launchTemplate: ec2.LaunchTemplate;
  public readonly instanceRole: iam.Role;
  public readonly instanceSecurityGroup: ec2.SecurityGroup;
  public readonly userData: ec2.UserData;
  /** The runtime's log, one stream per instance. */
  public readonly logGroup: logs.LogGroup;
  /** One-time minimum changes (event windows). */
  public readonly scheduledActions: readonly autoscaling.CfnScheduledAction[];

  constructor(scope: Construct, id: string, props: OriginFleetProps) {
    super(scope, id);
    const resolved = originFleetDefaults(props);
    validateFleetProps(resolved);
    const stack = Stack.of(this);
    const { vpc } = resolved;

    // No fixed name: a retained group cannot collide with the one a redeploy creates.
    this.logGroup = new logs.LogGroup(this, 'RuntimeLogs', {
      retention: resolved.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.instanceRole = createInstanceRole(this, resolved, this.logGroup);

    this.instanceSecurityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc,
      description: `Live Origin instances: ${ORIGIN_PORT} from the load balancer only; relays from each other`,
      allowAllOutbound: true,
    });
    // Serving while ingesting across instances: each reads PUTs arriving on another from its relay.
    this.instanceSecurityGroup.addIngressRule(
      this.instanceSecurityGroup,
      ec2.Port.tcpRange(RELAY_PORT, RELAY_PORT + MAX_RELAY_WORKERS - 1),
      'Relays of PUTs still arriving, between the instances of this fleet',
    );

    const balancing = createLoadBalancing(this, resolved);
    this.loadBalancer = balancing.loadBalancer;
    this.loadBalancerSecurityGroup = balancing.securityGroup;
    this.listener = balancing.listener;
    this.redirectListener = balancing.redirectListener;
    this.certificate = balancing.certificate;
    this.deliveryTargetGroup = balancing.deliveryTargetGroup;
    this.ingestTargetGroup = balancing.ingestTargetGroup;
    this.webAcl = balancing.webAcl;

    // Filled below, once the group's logical id (the signal's resource) exists.
    const userData = new LateUserData();
    this.userData = userData;
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      instanceType: new ec2.InstanceType(resolved.instanceType),
      machineImage: resolved.machineImage,
      userData,
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

    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Group', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate: this.launchTemplate,
      minCapacity: resolved.minCapacity,
      maxCapacity: resolved.maxCapacity,
      // EC2 status only: load balancer health is readiness, which a shared store's brownout
      // fails on every instance at once. Liveness reports itself (liveness-check.sh).
      healthChecks: autoscaling.HealthChecks.ec2({ gracePeriod: HEALTH_CHECK_GRACE }),
      cooldown: Duration.minutes(3),
      defaultInstanceWarmup: Duration.minutes(2),
      groupMetrics: [autoscaling.GroupMetrics.all()],
      signals: autoscaling.Signals.waitForMinCapacity({ timeout: SIGNAL_TIMEOUT }),
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({
        maxBatchSize: 1,
        minInstancesInService: Math.min(resolved.minCapacity, resolved.maxCapacity - 1),
        // Scaling (AlarmNotification) and event windows (ScheduledActions) keep running during a
        // roll: a surge during a deploy must still add instances. A scaling activity may then
        // fail the update, which CloudFormation rolls back; a fleet frozen under load is worse.
        suspendProcesses: [autoscaling.ScalingProcess.HEALTH_CHECK, autoscaling.ScalingProcess.REPLACE_UNHEALTHY, autoscaling.ScalingProcess.AZ_REBALANCE],
      }),
    });
    acknowledge(
      this.autoScalingGroup,
      { rule: 'AS3' },
      'Launch and termination events are in the group activity history and EventBridge; paging is driven by the ' +
        "region's alarms, which say whether the region can serve, not by per-instance notifications.",
    );
    this.autoScalingGroup.attachToApplicationTargetGroup(this.deliveryTargetGroup);
    this.autoScalingGroup.attachToApplicationTargetGroup(this.ingestTargetGroup);
    allowSelfReplacement(this, this.instanceRole, this.autoScalingGroup);

    userData.fill(
      bootScript({
        region: stack.region,
        bucketName: resolved.segmentBucket.bucketName,
        tablePrefix: resolved.tablePrefix,
        peerBuckets: Object.entries(resolved.peerBuckets)
          .map(([region, bucket]) => `${region}=${bucket}`)
          .join(','),
        secretName: resolved.secretName,
        hotCacheMemoryFraction: resolved.hotCacheMemoryFraction,
        stackName: stack.stackName,
        signalResource: stack.getLogicalId(this.autoScalingGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup),
        logGroupName: this.logGroup.logGroupName,
        targetGroupArns: [this.deliveryTargetGroup.targetGroupArn, this.ingestTargetGroup.targetGroupArn],
      }),
    );

    // Both target groups feed one group, so request-count scaling is refused (it needs exactly
    // one target group); CPU tracks load for both ingest and delivery.
    this.autoScalingGroup.scaleOnCpuUtilization('CpuScaling', {
      targetUtilizationPercent: resolved.cpuTargetPercent,
    });

    this.scheduledActions = resolved.scheduledCapacity.map(
      (change, index) =>
        new autoscaling.CfnScheduledAction(this, `ScheduledCapacity${index}`, {
          autoScalingGroupName: this.autoScalingGroup.autoScalingGroupName,
          startTime: new Date(change.at).toISOString(),
          minSize: change.minCapacity,
        }),
    );
  }
}

/**
 * User data whose whole text is known only after the resources it names exist (the group's
 * logical id): `UserData.custom` wants its content at construction.
 */
class LateUserData extends ec2.UserData {
  private content = '';

  fill(content: string): void {
    this.content = content;
  }

  render(): string {
    return this.content;
  }

  addCommands(): void {
    throw new Error('the origin fleet writes its whole user data (lib/instance/boot.sh)');
  }

  addOnExitCommands(): void {
    throw new Error('the origin fleet writes its whole user data (lib/instance/boot.sh)');
  }

  addExecuteFileCommand(): void {
    throw new Error('the origin fleet writes its whole user data (lib/instance/boot.sh)');
  }

  addS3DownloadCommand(): string {
    throw new Error('the origin fleet writes its whole user data (lib/instance/boot.sh)');
  }

  addSignalOnExitCommand(): void {
    throw new Error('the origin fleet writes its whole user data (lib/instance/boot.sh)');
  }
}
