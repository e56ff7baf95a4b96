import { Duration, RemovalPolicy, SecretValue, Token } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { withDefaults } from '../defaults.js';
import { acknowledge } from '../nag.js';

/** The header the runtime checks against `LIVE_ORIGIN_CDN_SECRET` (docs/contract.md, delivery). */
export const CDN_AUTH_HEADER = 'Live-CDN-Auth';
/** The runtime secret's JSON key that holds the CDN secret (docs/deploy.md, step 2). */
export const CDN_SECRET_JSON_KEY = 'LIVE_ORIGIN_CDN_SECRET';
/** The only path family the CDN serves; ingest, admin, metrics and status stay off it. */
export const DELIVERY_PATH_PATTERN = '/live/*';
/** LL-HLS blocking-reload directives (RFC 8216bis): the only query strings in the cache key. */
export const CACHE_KEY_QUERY_STRINGS = ['_HLS_msn', '_HLS_part'] as const;
/**
 * Request headers the origin reads besides the cache key: a CORS preflight is answered as one
 * only when it names the page's origin and the method (runtime/domain/cors.ts).
 */
export const CORS_REQUEST_HEADERS = ['Origin', 'Access-Control-Request-Method', 'Access-Control-Request-Headers'] as const;
/** Status codes on which CloudFront asks the secondary region for the same request. */
export const FAILOVER_STATUS_CODES = [500, 502, 503, 504] as const;
/** Longest lifetime CloudFront keeps an object, whatever the origin says (clean segments are immutable). */
export const MAX_TTL = Duration.days(1);
/** An LL-HLS blocking reload is answered within three target durations (RFC 8216bis). */
export const BLOCKING_RELOAD_TARGET_DURATIONS = 3;
/** Time after a hold ends for the origin to read the object and start answering. */
export const ANSWER_MARGIN_MS = 2_000;
/** CloudFront's origin response timeout without a quota increase. */
export const MAX_READ_TIMEOUT_SECONDS = 60;
/**
 * A segment the origin streams while its PUT arrives takes about one segment duration from its
 * first byte to its last (the packager's real-time pace); the whole answer is allowed this many
 * durations, so a packager running at half speed still completes.
 */
export const STREAMED_SEGMENT_DURATIONS = 2;
/**
 * Idle keep-alive to the origin: longer than any hold, shorter than the load balancer's 60 s idle
 * timeout, so CloudFront never reuses a connection the load balancer is closing.
 */
export const KEEPALIVE_SECONDS = 55;

/** One regional origin, as CloudFront reaches it. */
export interface CdnOrigin {
  /** The origin's region (for names and docs). */
  readonly region: string;
  /** Name CloudFront connects to: the region's own name (HTTPS) or its load balancer (HTTP). */
  readonly domainName: string;
  /** HTTPS (certificate for `domainName`) or plain HTTP (trials without a domain). */
  readonly protocol: 'https' | 'http';
  /** The load balancer's listener for CloudFront. */
  readonly port: number;
}

export interface CdnDistributionProps {
  /** Primary region first; with two, the second is the failover of every request. */
  readonly origins: readonly CdnOrigin[];
  /** Secrets Manager secret (in this stack's region) whose JSON holds the CDN secret. */
  readonly secretName: string;
  /** The longest segment duration any event uses, in milliseconds: sizes the response timeout. */
  readonly segmentDurationMs: number;
  /**
   * How long past its due time a segment is held (the runtime's `holdGraceMs`).
   * @default segmentDurationMs
   */
  readonly holdGraceMs?: number;
  /**
   * Version id of the secret to resolve (rotation: a new id makes CloudFormation resolve again).
   * @default - the current version
   */
  readonly secretVersionId?: string;
  /**
   * Key the cache on `Origin`: needed when `LIVE_ORIGIN_CORS_ORIGINS` is a list (the origin then
   * answers per page with `Vary: Origin`); with the default `*` every page gets the same answer.
   * @default false
   */
  readonly cacheByOrigin?: boolean;
  /**
   * Edge locations used.
   * @default cloudfront.PriceClass.PRICE_CLASS_ALL
   */
  readonly priceClass?: cloudfront.PriceClass;
  /**
   * An AWS WAF web ACL (global scope, created in us-east-1) to attach.
   * @default - none
   */
  readonly webAclArn?: string;
  /**
   * Days CloudFront's access logs are kept.
   * @default 30
   */
  readonly logRetentionDays?: number;
}

type ResolvedProps = Required<Omit<CdnDistributionProps, 'webAclArn' | 'secretVersionId'>> & Pick<CdnDistributionProps, 'webAclArn' | 'secretVersionId'>;

/** Defaults merged under the caller's props. */
export function cdnDistributionDefaults(props: CdnDistributionProps): ResolvedProps {
  return withDefaults(
    {
      holdGraceMs: props.segmentDurationMs,
      cacheByOrigin: false,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_ALL,
      logRetentionDays: 30,
    },
    props,
  );
}

/** Timeouts towards the origin, derived from how long the origin may hold a request. */
export interface OriginTimeouts {
  /** The longest a request is held: a segment's hold window or a blocking reload. */
  readonly longestHoldMs: number;
  /**
   * CloudFront's origin response timeout, in whole seconds: the wait for the first byte, and
   * also between two packets of an answer (a streamed segment's pause between chunks, or before
   * its last chunk while the origin makes the PUT durable).
   */
  readonly readTimeoutSeconds: number;
  /**
   * The most a whole answer may take (CloudFront's response completion timeout), in whole
   * seconds: a segment held to the end of its hold window and then streamed from its PUT.
   */
  readonly completionTimeoutSeconds: number;
  readonly keepaliveSeconds: number;
}

/**
 * A held request must be answered before CloudFront gives up on it, or the origin group would
 * fail it over and the secondary would start the same hold again. A segment is held from one
 * duration before it is due to `holdGraceMs` after; a blocking reload for three target
 * durations (the segment duration rounded up to whole seconds, as EXT-X-TARGETDURATION is).
 */
export function originTimeouts(segmentDurationMs: number, holdGraceMs: number = segmentDurationMs): OriginTimeouts {
  const segmentHoldMs = segmentDurationMs + holdGraceMs;
  const blockingReloadMs = BLOCKING_RELOAD_TARGET_DURATIONS * Math.ceil(segmentDurationMs / 1000) * 1000;
  const longestHoldMs = Math.max(segmentHoldMs, blockingReloadMs);
  const readTimeoutSeconds = Math.ceil((longestHoldMs + ANSWER_MARGIN_MS) / 1000);
  const longestAnswerMs = Math.max(segmentHoldMs + STREAMED_SEGMENT_DURATIONS * segmentDurationMs, blockingReloadMs);
  const completionTimeoutSeconds = Math.max(readTimeoutSeconds, Math.ceil((longestAnswerMs + ANSWER_MARGIN_MS) / 1000));
  return { longestHoldMs, readTimeoutSeconds, completionTimeoutSeconds, keepaliveSeconds: Math.max(KEEPALIVE_SECONDS, readTimeoutSeconds) };
}

/**
 * Answers every request outside `/live/*` at the edge, so ingest, admin, metrics and the status
 * page are never reachable through the CDN (the origin's CDN listener refuses them too).
 */
const NOT_DELIVERY_FUNCTION = `function handler(event) {
  return { statusCode: 404, statusDescription: 'Not Found', headers: { 'cache-control': { value: 'max-age=60' } } };
}`;

/**
 * A CloudFront distribution in front of the regional origins: `/live/*` goes to an origin group
 * that tries the primary region and, on 500/502/503/504, a failed connection or a timeout, the
 * secondary, for the same request. The cache honours the origin's `Cache-Control` down to 0 s
 * and keys only on the path and the LL-HLS directives; every origin request carries the CDN
 * secret, resolved from Secrets Manager at deploy time.
 */
export class CdnDistribution extends Construct {
  public readonly distribution: cloudfront.Distribution;
  public readonly cachePolicy: cloudfront.CachePolicy;
  public readonly originRequestPolicy: cloudfront.OriginRequestPolicy;
  public readonly notDeliveryFunction: cloudfront.Function;
  public readonly logBucket: s3.Bucket;
  public readonly timeouts: OriginTimeouts;

  constructor(scope: Construct, id: string, props: CdnDistributionProps) {
    super(scope, id);
    const resolved = cdnDistributionDefaults(props);
    this.timeouts = originTimeouts(resolved.segmentDurationMs, resolved.holdGraceMs);
    validate(resolved, this.timeouts);

    // A dynamic reference: the template holds `{{resolve:secretsmanager:...}}`, never the value.
    const cdnSecret = SecretValue.secretsManager(resolved.secretName, { jsonField: CDN_SECRET_JSON_KEY, versionId: resolved.secretVersionId }).unsafeUnwrap();
    const [primary, secondary] = resolved.origins.map((origin, index) => this.origin(origin, cdnSecret, index === 0));
    const target: cloudfront.IOrigin = secondary
      ? new origins.OriginGroup({
          primaryOrigin: primary!,
          fallbackOrigin: secondary,
          fallbackStatusCodes: [...FAILOVER_STATUS_CODES],
        })
      : primary!;

    this.cachePolicy = new cloudfront.CachePolicy(this, 'LiveCachePolicy', {
      comment: 'Live Origin: origin Cache-Control down to 0 s; key is the path plus _HLS_msn and _HLS_part',
      minTtl: Duration.seconds(0),
      // The origin labels every answer; one without Cache-Control is not cached.
      defaultTtl: Duration.seconds(0),
      maxTtl: MAX_TTL,
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.allowList(...CACHE_KEY_QUERY_STRINGS),
      headerBehavior: resolved.cacheByOrigin ? cloudfront.CacheHeaderBehavior.allowList('Origin') : cloudfront.CacheHeaderBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      // Segments are already compressed media; playlists are small.
      enableAcceptEncodingGzip: false,
      enableAcceptEncodingBrotli: false,
    });

    // Forwarded but not keyed on: with the default `*` policy a GET's answer is the same for every
    // page, and preflights (OPTIONS) are not cached, so no page's answer is served to another.
    this.originRequestPolicy = new cloudfront.OriginRequestPolicy(this, 'LiveOriginRequestPolicy', {
      comment: 'Live Origin: the CORS request headers a preflight needs (the cache key adds path, _HLS_msn, _HLS_part)',
      headerBehavior: cloudfront.OriginRequestHeaderBehavior.allowList(
        ...CORS_REQUEST_HEADERS.filter((header) => !(resolved.cacheByOrigin && header === 'Origin')),
      ),
      queryStringBehavior: cloudfront.OriginRequestQueryStringBehavior.none(),
      cookieBehavior: cloudfront.OriginRequestCookieBehavior.none(),
    });

    this.notDeliveryFunction = new cloudfront.Function(this, 'NotDelivery', {
      comment: 'Live Origin: 404 for everything but /live/*',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(NOT_DELIVERY_FUNCTION),
    });

    this.logBucket = new s3.Bucket(this, 'Logs', {
      // CloudFront's standard logs are written with an ACL, so ACLs stay enabled for it.
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(resolved.logRetentionDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      this.logBucket,
      { rule: 'S1' },
      'This bucket only receives CloudFront access logs; logging the access to it would log the log deliveries themselves.',
    );

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `Live Origin: ${resolved.origins.map((origin) => origin.region).join(' then ')}`,
      priceClass: resolved.priceClass,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableIpv6: true,
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
      webAclId: resolved.webAclArn,
      defaultBehavior: {
        origin: target,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        functionAssociations: [{ function: this.notDeliveryFunction, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
      additionalBehaviors: {
        [DELIVERY_PATH_PATTERN]: {
          origin: target,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          // OPTIONS for CORS preflights; origin groups take only reads, which is all delivery is.
          // Preflights are not cached: their answer depends on headers outside the cache key.
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
          cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
          cachePolicy: this.cachePolicy,
          // Range and revalidation (If-None-Match) CloudFront handles itself. No response headers
          // policy: CORS, CMSD-* and Live-* pass through as the origin sends them.
          originRequestPolicy: this.originRequestPolicy,
          compress: false,
        },
      },
    });
    this.acknowledgeFindings(resolved);
  }

  /** One regional origin, with the CDN secret and timeouts sized to the holds. */
  private origin(origin: CdnOrigin, cdnSecret: string, primary: boolean): origins.HttpOrigin {
    const https = origin.protocol === 'https';
    return new origins.HttpOrigin(origin.domainName, {
      originId: `${origin.region}`,
      protocolPolicy: https ? cloudfront.OriginProtocolPolicy.HTTPS_ONLY : cloudfront.OriginProtocolPolicy.HTTP_ONLY,
      ...(https ? { httpsPort: origin.port } : { httpPort: origin.port }),
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
      readTimeout: Duration.seconds(this.timeouts.readTimeoutSeconds),
      // A streamed answer that outlasts this (a PUT that trickles on) is cut at the edge and, being
      // incomplete, not cached; the viewer's retry then finds the other pipeline's copy.
      responseCompletionTimeout: Duration.seconds(this.timeouts.completionTimeoutSeconds),
      keepaliveTimeout: Duration.seconds(this.timeouts.keepaliveSeconds),
      // A dark primary costs one short connection attempt before the secondary is asked; the
      // secondary, the last chance, gets a retry.
      connectionTimeout: Duration.seconds(primary ? 3 : 5),
      connectionAttempts: primary ? 1 : 2,
      customHeaders: { [CDN_AUTH_HEADER]: cdnSecret },
    });
  }

  private acknowledgeFindings(props: ResolvedProps): void {
    const distribution = this.distribution;
    acknowledge(
      distribution,
      { rule: 'CFR1' },
      "Geo restriction depends on each event's rights, not on the origin; operators set it per deployment " +
        '(a live origin serves whoever the rights holder allows).',
    );
    if (!props.webAclArn) {
      acknowledge(
        distribution,
        { rule: 'CFR2' },
        'The distribution serves only cacheable GET/HEAD/OPTIONS under /live/*, validated by the origin (400 before any ' +
          'store access) and authenticated to it by the CDN secret; a WAF web ACL (webAclArn) is an option, not a default, ' +
          'because per-request WAF pricing on segment traffic outweighs what it protects here.',
      );
    }
    acknowledge(
      distribution,
      { rule: 'CFR4' },
      'The distribution serves its default *.cloudfront.net name, for which CloudFront fixes the viewer policy; ' +
        'an alias with an ACM certificate in us-east-1 and TLSv1.2_2021 is the documented next step (docs/cdn/cloudfront.md).',
    );
    if (props.origins.some((origin) => origin.protocol === 'http')) {
      acknowledge(
        distribution,
        { rule: 'CFR5' },
        'Without a domain (trial deployments) the load balancer has no certificate, so CloudFront reaches it over HTTP; ' +
          'with domainName and hostedZoneId every origin is HTTPS-only with TLS 1.2 (docs/cdn/cloudfront.md).',
      );
    }
  }
}

function validate(props: ResolvedProps, timeouts: OriginTimeouts): void {
  const problems: string[] = [];
  if (props.origins.length < 1 || props.origins.length > 2) {
    problems.push(`origins must list one or two regions (an origin group has a primary and one failover), got ${props.origins.length}`);
  }
  for (const origin of props.origins) {
    const allowed = origin.port === 80 || origin.port === 443 || (origin.port >= 1024 && origin.port <= 65535);
    if (!Token.isUnresolved(origin.port) && !allowed)
      problems.push(`origin ${origin.region}: CloudFront connects to 80, 443 or 1024-65535, got ${origin.port}`);
  }
  if (!Number.isInteger(props.segmentDurationMs) || props.segmentDurationMs < 1) {
    problems.push(`segmentDurationMs must be a positive integer, got ${props.segmentDurationMs}`);
  }
  if (timeouts.readTimeoutSeconds > MAX_READ_TIMEOUT_SECONDS) {
    problems.push(
      `holds last up to ${timeouts.longestHoldMs} ms, so the origin response timeout would be ${timeouts.readTimeoutSeconds} s, ` +
        `above CloudFront's ${MAX_READ_TIMEOUT_SECONDS} s without a quota increase; use shorter segments or raise the quota first`,
    );
  }
  if (!Number.isInteger(props.logRetentionDays) || props.logRetentionDays < 1) problems.push(`logRetentionDays must be >= 1, got ${props.logRetentionDays}`);
  if (problems.length > 0) throw new Error(`CdnDistribution: ${problems.join('; ')}`);
}
