import { Duration, Stack, Tags, Token } from 'aws-cdk-lib';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import { withDefaults } from '../defaults.js';
import { FAILOVER_DEFAULTS } from '../failover-timeline.js';
import { FAILOVER_ALARM_KEYS, type FailoverAlarmKey, failoverSetIdentifier, healthCheckName } from '../naming.js';

export type FailoverRole = 'PRIMARY' | 'SECONDARY';

export interface RegionalFailoverProps {
  /** Public zone that holds the record. */
  readonly hostedZone: route53.IHostedZone;
  /** Fully qualified name that fails over, e.g. `origin.example.com`. */
  readonly domainName: string;
  /**
   * This region's role. Route 53 failover routing has exactly one PRIMARY and one SECONDARY
   * record per name; more regions need another routing policy (latency records with health
   * checks, for example).
   */
  readonly role: FailoverRole;
  /** This region's load balancer: the alias target, and the endpoint Route 53 checks. */
  readonly loadBalancer: elbv2.ILoadBalancerV2;
  /** Whether the load balancer answers HTTPS (443) or only HTTP (80). */
  readonly protocol: 'HTTP' | 'HTTPS';
  /** Path that answers 2xx only while the region can serve. */
  readonly readinessPath: string;
  /**
   * Fixed names of this region's single-metric alarms that Route 53 follows, by key
   * (`alarmName(region, key)` of lib/naming.ts). They must be in this stack's region.
   */
  readonly alarmNames: Readonly<Record<FailoverAlarmKey, string>>;
  /**
   * Seconds between one Route 53 checker's requests: 10 (fast) or 30.
   * @default FAILOVER_DEFAULTS.endpointRequestIntervalSeconds (10)
   */
  readonly requestInterval?: Duration;
  /**
   * Failed requests in a row before a checker calls the endpoint unhealthy.
   * @default FAILOVER_DEFAULTS.endpointFailureThreshold (3)
   */
  readonly failureThreshold?: number;
  /**
   * Health of an alarm check while its alarm has no data (for example right after creation).
   * @default route53.InsufficientDataHealthStatusEnum.LAST_KNOWN_STATUS
   */
  readonly insufficientDataHealthStatus?: route53.InsufficientDataHealthStatusEnum;
}

type ResolvedProps = Required<RegionalFailoverProps>;

/** Defaults merged under the caller's props. */
export function regionalFailoverDefaults(props: RegionalFailoverProps): ResolvedProps {
  return withDefaults(
    {
      requestInterval: Duration.seconds(FAILOVER_DEFAULTS.endpointRequestIntervalSeconds),
      failureThreshold: FAILOVER_DEFAULTS.endpointFailureThreshold,
      insufficientDataHealthStatus: route53.InsufficientDataHealthStatusEnum.LAST_KNOWN_STATUS,
    },
    props,
  );
}

/**
 * One region's side of DNS failover, in the region's own stack so that nothing crosses
 * regions: an HTTP(S) health check of the load balancer's readiness path, one
 * `CLOUDWATCH_METRIC` health check per single-metric alarm, a `CALCULATED` health check that is
 * healthy only while all of them are, and the region's failover alias record that follows it
 * (and the load balancer's own target health).
 *
 * The endpoint check asks for the load balancer's own DNS name: it resolves to this region's
 * load balancer whatever the failover record says, and Route 53 does not validate the
 * certificate, so the domain's certificate answering for another name is no obstacle. SNI is
 * sent (the load balancer then picks its default certificate, the only one).
 */
export class RegionalFailover extends Construct {
  /** HTTP(S) check of the readiness path. */
  public readonly endpointCheck: route53.HealthCheck;
  /** One per alarm Route 53 follows. */
  public readonly alarmChecks: Readonly<Record<FailoverAlarmKey, route53.HealthCheck>>;
  /** Healthy while every other check is: what the record follows. */
  public readonly regionCheck: route53.HealthCheck;
  public readonly record: route53.ARecord;

  constructor(scope: Construct, id: string, props: RegionalFailoverProps) {
    super(scope, id);
    const resolved = regionalFailoverDefaults(props);
    const region = Stack.of(this).region;
    validate(resolved, region);

    const name = (check: route53.HealthCheck, key: Parameters<typeof healthCheckName>[1]): route53.HealthCheck => {
      Tags.of(check).add('Name', healthCheckName(region, key));
      return check;
    };

    this.endpointCheck = name(
      new route53.HealthCheck(this, 'EndpointCheck', {
        type: resolved.protocol === 'HTTPS' ? route53.HealthCheckType.HTTPS : route53.HealthCheckType.HTTP,
        fqdn: resolved.loadBalancer.loadBalancerDnsName,
        resourcePath: resolved.readinessPath,
        ...(resolved.protocol === 'HTTPS' ? { enableSNI: true } : {}),
        requestInterval: resolved.requestInterval,
        failureThreshold: resolved.failureThreshold,
      }),
      'endpoint',
    );

    const alarmChecks = {} as Record<FailoverAlarmKey, route53.HealthCheck>;
    for (const key of FAILOVER_ALARM_KEYS) {
      alarmChecks[key] = name(
        new route53.HealthCheck(this, `${key.charAt(0).toUpperCase()}${key.slice(1)}Check`, {
          type: route53.HealthCheckType.CLOUDWATCH_METRIC,
          alarmIdentifier: { name: resolved.alarmNames[key], region },
          insufficientDataHealthStatus: resolved.insufficientDataHealthStatus,
        }),
        key,
      );
    }
    this.alarmChecks = alarmChecks;

    const children = [this.endpointCheck, ...Object.values(alarmChecks)];
    this.regionCheck = name(
      new route53.HealthCheck(this, 'RegionCheck', {
        type: route53.HealthCheckType.CALCULATED,
        childHealthChecks: children,
        healthThreshold: children.length,
      }),
      'region',
    );

    this.record = new route53.ARecord(this, 'Record', {
      zone: resolved.hostedZone,
      // A trailing dot makes the name absolute, so an imported zone needs no zone name.
      recordName: `${resolved.domainName}.`,
      target: route53.RecordTarget.fromAlias(new targets.LoadBalancerTarget(resolved.loadBalancer, { evaluateTargetHealth: true })),
      failover: resolved.role === 'PRIMARY' ? route53.Failover.PRIMARY : route53.Failover.SECONDARY,
      setIdentifier: failoverSetIdentifier(region, resolved.role),
      healthCheck: this.regionCheck,
    });
  }
}

function validate(props: ResolvedProps, region: string): void {
  const problems: string[] = [];
  if (Token.isUnresolved(region)) problems.push('the stack needs a concrete region (alarm health checks name it)');
  if (!Token.isUnresolved(props.domainName) && !/^([a-z0-9](-*[a-z0-9])*\.)+[a-z]{2,63}$/.test(props.domainName)) {
    problems.push(`domainName "${props.domainName}" is not a fully qualified DNS name (no trailing dot)`);
  }
  const interval = props.requestInterval.toSeconds();
  if (interval !== 10 && interval !== 30) problems.push(`requestInterval must be 10 or 30 seconds, got ${interval}`);
  if (!Number.isInteger(props.failureThreshold) || props.failureThreshold < 1 || props.failureThreshold > 10) {
    problems.push(`failureThreshold must be an integer from 1 to 10, got ${props.failureThreshold}`);
  }
  if (!props.readinessPath.startsWith('/')) problems.push(`readinessPath must start with /, got "${props.readinessPath}"`);
  for (const key of FAILOVER_ALARM_KEYS) {
    if (!props.alarmNames[key]) problems.push(`alarmNames.${key} is missing`);
  }
  if (problems.length > 0) throw new Error(`RegionalFailover: ${problems.join('; ')}`);
}
