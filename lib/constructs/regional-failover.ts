import { Token } from 'aws-cdk-lib';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import { withDefaults } from '../defaults.js';

/** One region behind the failover name. */
export interface FailoverRegion {
  /** The region name (also where its alarm lives). */
  readonly region: string;
  /** The region's load balancer, target of the alias record. */
  readonly loadBalancer: elbv2.ILoadBalancerV2;
  /** Name of the region's composite health alarm. */
  readonly alarmName: string;
}

export interface RegionalFailoverProps {
  /** Public zone that holds the record. */
  readonly hostedZone: route53.IHostedZone;
  /** Fully qualified name that fails over, e.g. `origin.example.com`. */
  readonly domainName: string;
  /**
   * Exactly two regions: the first gets the PRIMARY record, the second the SECONDARY. Route 53
   * failover routing has exactly these two roles; more regions need another routing policy
   * (for example latency records with health checks).
   */
  readonly regions: readonly FailoverRegion[];
  /**
   * Health of a region while its alarm has no data (for example right after creation).
   * @default route53.InsufficientDataHealthStatusEnum.LAST_KNOWN_STATUS
   */
  readonly insufficientDataHealthStatus?: route53.InsufficientDataHealthStatusEnum;
}

/** Defaults merged under the caller's props. */
export function regionalFailoverDefaults(props: RegionalFailoverProps): Required<RegionalFailoverProps> {
  return withDefaults(
    {
      insufficientDataHealthStatus: route53.InsufficientDataHealthStatusEnum.LAST_KNOWN_STATUS,
    },
    props,
  );
}

/**
 * DNS failover between two regions: a Route 53 health check per region that follows the
 * region's composite alarm, and PRIMARY/SECONDARY alias records to the load balancers that also
 * evaluate the load balancers' own target health.
 */
export class RegionalFailover extends Construct {
  /** One per region, in the order of `regions`. */
  public readonly healthChecks: readonly route53.HealthCheck[];
  /** PRIMARY then SECONDARY. */
  public readonly records: readonly route53.ARecord[];

  constructor(scope: Construct, id: string, props: RegionalFailoverProps) {
    super(scope, id);
    const resolved = regionalFailoverDefaults(props);
    validate(resolved);

    const roles = [route53.Failover.PRIMARY, route53.Failover.SECONDARY];
    const healthChecks: route53.HealthCheck[] = [];
    const records: route53.ARecord[] = [];
    resolved.regions.forEach((entry, index) => {
      const role = roles[index]!;
      const name = role === route53.Failover.PRIMARY ? 'Primary' : 'Secondary';
      const healthCheck = new route53.HealthCheck(this, `${name}Health`, {
        type: route53.HealthCheckType.CLOUDWATCH_METRIC,
        alarmIdentifier: { name: entry.alarmName, region: entry.region },
        insufficientDataHealthStatus: resolved.insufficientDataHealthStatus,
      });
      healthChecks.push(healthCheck);
      records.push(
        new route53.ARecord(this, `${name}Record`, {
          zone: resolved.hostedZone,
          // A trailing dot makes the name absolute, so an imported zone needs no zone name.
          recordName: `${resolved.domainName}.`,
          target: route53.RecordTarget.fromAlias(new targets.LoadBalancerTarget(entry.loadBalancer, { evaluateTargetHealth: true })),
          failover: role,
          setIdentifier: `${entry.region}-${role.toLowerCase()}`,
          healthCheck,
        }),
      );
    });
    this.healthChecks = healthChecks;
    this.records = records;
  }
}

function validate(props: Required<RegionalFailoverProps>): void {
  if (props.regions.length !== 2) {
    throw new Error(
      `RegionalFailover: failover routing needs exactly two regions (one PRIMARY, one SECONDARY), got ${props.regions.length}; ` +
        'for more regions use latency or weighted records with health checks instead',
    );
  }
  const [first, second] = props.regions;
  if (first!.region === second!.region) {
    throw new Error(`RegionalFailover: the two regions must differ, got ${first!.region} twice`);
  }
  if (!Token.isUnresolved(props.domainName) && !/^([a-z0-9](-*[a-z0-9])*\.)+[a-z]{2,63}$/.test(props.domainName)) {
    throw new Error(`RegionalFailover: domainName "${props.domainName}" is not a fully qualified DNS name (no trailing dot)`);
  }
  for (const entry of props.regions) {
    if (entry.alarmName.length === 0) throw new Error(`RegionalFailover: alarmName of ${entry.region} is empty`);
  }
}
