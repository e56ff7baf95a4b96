/**
 * The load balancer of an origin fleet: TLS, separate ingest and delivery target groups that
 * take unready instances out of rotation (and back), the routing rules, the ingest source list,
 * and the AWS WAF rate limit on ingest. Created in the fleet's scope, so logical ids stay.
 */
import { Duration } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import { ORIGIN_PORT, READINESS_PATH } from '../instance/paths.js';
import { acknowledge } from '../nag.js';
import type { ResolvedFleetProps } from './origin-fleet-props.js';

/** Paths served by the ingest target group; everything else is delivery. */
export const INGEST_PATH_PATTERNS = ['/ingest/*', '/admin/*'] as const;
/** Paths the load balancer never forwards: metrics are for scrapers inside the VPC. */
export const PRIVATE_PATH_PATTERNS = ['/metrics', '/metrics/*'] as const;
/** A listener rule holds at most five condition values: one path and four addresses. */
const SOURCES_PER_RULE = 4;
/** Priorities of the ingest rules (source-limited ones count up from here) and of the refusal after them. */
const INGEST_PRIORITY = 10;
const INGEST_REFUSED_PRIORITY = 90;
/** AWS WAF's window for the rate-based rule. */
const RATE_WINDOW_SECONDS = 300;

/**
 * The target groups' check of `/readyz`: an instance whose store does not answer leaves the
 * rotation after two failed checks and returns after two good ones. It never replaces an
 * instance (the group uses EC2 health and the liveness timer for that), and when every target
 * fails at once the load balancer fails open and keeps sending to all of them.
 */
export const TARGET_HEALTH_CHECK = {
  path: READINESS_PATH,
  healthyHttpCodes: '200',
  interval: Duration.seconds(10),
  timeout: Duration.seconds(5),
  healthyThresholdCount: 2,
  unhealthyThresholdCount: 2,
} as const;

export interface LoadBalancing {
  readonly securityGroup: ec2.SecurityGroup;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The listener that routes (443 with TLS, else 80). */
  readonly listener: elbv2.ApplicationListener;
  /** Port 80 redirecting to HTTPS (only with TLS). */
  readonly redirectListener?: elbv2.ApplicationListener;
  readonly certificate?: acm.Certificate;
  readonly deliveryTargetGroup: elbv2.ApplicationTargetGroup;
  readonly ingestTargetGroup: elbv2.ApplicationTargetGroup;
  /** The rate limit on ingest, with `ingestRateLimit`. */
  readonly webAcl?: wafv2.CfnWebACL;
}

export function createLoadBalancing(scope: Construct, props: ResolvedFleetProps): LoadBalancing {
  const { vpc } = props;
  const securityGroup = new ec2.SecurityGroup(scope, 'LoadBalancerSecurityGroup', {
    vpc,
    description: 'Live Origin load balancer: HTTP(S) from CDNs and packagers anywhere',
    allowAllOutbound: false,
  });
  for (const port of props.tls ? [80, 443] : [80]) {
    securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), `HTTP${port === 443 ? 'S' : ''} from anywhere`);
  }
  acknowledge(
    securityGroup,
    { rule: 'EC23' },
    'The origin is public by design: CDN edges and packagers connect from addresses we do not control; requests are ' +
      'authenticated by bearer tokens (ingest, optionally limited to ingestSources) and the CDN secret header (delivery).',
  );

  const loadBalancer = new elbv2.ApplicationLoadBalancer(scope, 'LoadBalancer', {
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
    internetFacing: true,
    securityGroup,
    dropInvalidHeaderFields: true,
    http2Enabled: true,
    // Held requests wait at most a few segment durations; ingest bodies are single segments.
    idleTimeout: Duration.seconds(60),
    deletionProtection: props.deletionProtection,
    ...(props.loadBalancerCapacityUnits > 0 ? { minimumCapacityUnit: props.loadBalancerCapacityUnits } : {}),
  });
  if (props.accessLogsBucket) loadBalancer.logAccessLogs(props.accessLogsBucket, 'load-balancer');

  const targetGroupProps: elbv2.ApplicationTargetGroupProps = {
    vpc,
    port: ORIGIN_PORT,
    protocol: elbv2.ApplicationProtocol.HTTP,
    targetType: elbv2.TargetType.INSTANCE,
    deregistrationDelay: props.deregistrationDelay,
    ...(props.slowStart.toSeconds() > 0 ? { slowStart: props.slowStart } : {}),
    healthCheck: TARGET_HEALTH_CHECK,
  };
  const deliveryTargetGroup = new elbv2.ApplicationTargetGroup(scope, 'DeliveryTargets', targetGroupProps);
  const ingestTargetGroup = new elbv2.ApplicationTargetGroup(scope, 'IngestTargets', targetGroupProps);

  let certificate: acm.Certificate | undefined;
  let redirectListener: elbv2.ApplicationListener | undefined;
  let listener: elbv2.ApplicationListener;
  if (props.tls) {
    certificate = new acm.Certificate(scope, 'Certificate', {
      domainName: props.tls.domainName,
      validation: acm.CertificateValidation.fromDns(props.tls.hostedZone),
    });
    listener = loadBalancer.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [certificate],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      open: false,
      defaultTargetGroups: [deliveryTargetGroup],
    });
    redirectListener = loadBalancer.addListener('HttpRedirect', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      open: false,
      defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
    });
  } else {
    listener = loadBalancer.addListener('Http', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      open: false,
      defaultTargetGroups: [deliveryTargetGroup],
    });
  }
  listener.addAction('HideMetrics', {
    priority: 5,
    conditions: [elbv2.ListenerCondition.pathPatterns([...PRIVATE_PATH_PATTERNS])],
    action: elbv2.ListenerAction.fixedResponse(404, { contentType: 'text/plain', messageBody: 'Not Found' }),
  });
  routeIngest(listener, ingestTargetGroup, props.ingestSources);
  const webAcl = props.ingestRateLimit > 0 ? rateLimitIngest(scope, loadBalancer, props.ingestRateLimit) : undefined;

  return { securityGroup, loadBalancer, listener, redirectListener, certificate, deliveryTargetGroup, ingestTargetGroup, webAcl };
}

/**
 * `/ingest/*` and `/admin/*` to the ingest target group: from anywhere, or with a source list
 * only from those addresses (one rule per path and four addresses), the rest refused with 403.
 */
function routeIngest(listener: elbv2.ApplicationListener, ingest: elbv2.ApplicationTargetGroup, sources: readonly string[]): void {
  if (sources.length === 0) {
    listener.addAction('Ingest', {
      priority: INGEST_PRIORITY,
      conditions: [elbv2.ListenerCondition.pathPatterns([...INGEST_PATH_PATTERNS])],
      action: elbv2.ListenerAction.forward([ingest]),
    });
    return;
  }
  let priority = INGEST_PRIORITY;
  INGEST_PATH_PATTERNS.forEach((path, pathIndex) => {
    for (let from = 0; from < sources.length; from += SOURCES_PER_RULE) {
      listener.addAction(`IngestFrom${pathIndex}x${from / SOURCES_PER_RULE}`, {
        priority: priority++,
        conditions: [elbv2.ListenerCondition.pathPatterns([path]), elbv2.ListenerCondition.sourceIps(sources.slice(from, from + SOURCES_PER_RULE))],
        action: elbv2.ListenerAction.forward([ingest]),
      });
    }
  });
  if (priority >= INGEST_REFUSED_PRIORITY) throw new Error(`OriginFleet: ingestSources needs ${priority - INGEST_PRIORITY} rules; at most 80 fit`);
  listener.addAction('IngestRefused', {
    priority: INGEST_REFUSED_PRIORITY,
    conditions: [elbv2.ListenerCondition.pathPatterns([...INGEST_PATH_PATTERNS])],
    action: elbv2.ListenerAction.fixedResponse(403, {
      contentType: 'application/json',
      messageBody: '{"error":"forbidden","message":"ingest and admin are not open to this address"}',
    }),
  });
}

/**
 * A web ACL whose one rule answers 429 to an address that sends more than `limit` requests to
 * ingest or admin in five minutes. Delivery is not inspected by the rule (it is still counted
 * in WAF's per-request price: see docs/deploy.md).
 */
function rateLimitIngest(scope: Construct, loadBalancer: elbv2.ApplicationLoadBalancer, limit: number): wafv2.CfnWebACL {
  const visibility = (name: string) => ({ cloudWatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: true });
  const startsWith = (prefix: string) => ({
    byteMatchStatement: {
      fieldToMatch: { uriPath: {} },
      positionalConstraint: 'STARTS_WITH',
      searchString: prefix,
      textTransformations: [{ priority: 0, type: 'NONE' }],
    },
  });
  const webAcl = new wafv2.CfnWebACL(scope, 'IngestRateLimit', {
    scope: 'REGIONAL',
    defaultAction: { allow: {} },
    description: `Live Origin: at most ${limit} ingest/admin requests per address per ${RATE_WINDOW_SECONDS / 60} minutes`,
    visibilityConfig: visibility('LiveOriginIngestAcl'),
    rules: [
      {
        name: 'IngestRate',
        priority: 0,
        action: { block: { customResponse: { responseCode: 429 } } },
        visibilityConfig: visibility('LiveOriginIngestRate'),
        statement: {
          rateBasedStatement: {
            limit,
            aggregateKeyType: 'IP',
            evaluationWindowSec: RATE_WINDOW_SECONDS,
            scopeDownStatement: { orStatement: { statements: INGEST_PATH_PATTERNS.map((pattern) => startsWith(pattern.slice(0, -1))) } },
          },
        },
      },
    ],
  });
  new wafv2.CfnWebACLAssociation(scope, 'IngestRateLimitAssociation', { resourceArn: loadBalancer.loadBalancerArn, webAclArn: webAcl.attrArn });
  return webAcl;
}
