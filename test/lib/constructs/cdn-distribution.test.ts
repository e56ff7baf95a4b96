import { Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  CDN_AUTH_HEADER,
  CdnDistribution,
  type CdnDistributionProps,
  FAILOVER_STATUS_CODES,
  originTimeouts,
} from '../../../lib/constructs/cdn-distribution.js';
import { regionalStack, resourcesOf, template } from '../helpers.js';

const ORIGINS: CdnDistributionProps['origins'] = [
  { region: 'us-east-1', domainName: 'us-east-1.origin.example.com', protocol: 'https', port: 8443 },
  { region: 'eu-west-1', domainName: 'eu-west-1.origin.example.com', protocol: 'https', port: 8443 },
];

function build(props: Partial<CdnDistributionProps> = {}): { tpl: Template; cdn: CdnDistribution } {
  const stack = regionalStack();
  const cdn = new CdnDistribution(stack, 'Cdn', { origins: ORIGINS, secretName: 'live-origin/runtime', segmentDurationMs: 2000, ...props });
  return { tpl: template(stack), cdn };
}

interface DistributionConfig {
  Origins: {
    Id: string;
    DomainName: string;
    OriginCustomHeaders: { HeaderName: string; HeaderValue: string }[];
    CustomOriginConfig: Record<string, unknown>;
  }[];
  OriginGroups: { Items: { Id: string; FailoverCriteria: { StatusCodes: { Items: number[] } }; Members: { Items: { OriginId: string }[] } }[] };
  DefaultCacheBehavior: Record<string, unknown>;
  CacheBehaviors: Record<string, unknown>[];
  Logging?: Record<string, unknown>;
}

function config(tpl: Template): DistributionConfig {
  const [[, props]] = resourcesOf(tpl, 'AWS::CloudFront::Distribution') as [[string, { DistributionConfig: DistributionConfig }]];
  return props.DistributionConfig;
}

const { tpl, cdn } = build();

describe('CdnDistribution: failover per request', () => {
  it('puts the primary region first in an origin group that fails over on 500, 502, 503 and 504', () => {
    const { OriginGroups, Origins } = config(tpl);
    expect(OriginGroups.Items).toHaveLength(1);
    const [group] = OriginGroups.Items;
    const members = group!.Members.Items.map((member) => Origins.find((origin) => origin.Id === member.OriginId)!.DomainName);
    expect(members).toEqual(['us-east-1.origin.example.com', 'eu-west-1.origin.example.com']);
    expect(group!.FailoverCriteria.StatusCodes.Items.sort()).toEqual([...FAILOVER_STATUS_CODES].sort());
  });

  it('routes /live/* and the default behaviour to the origin group', () => {
    const { OriginGroups, DefaultCacheBehavior, CacheBehaviors } = config(tpl);
    const groupId = OriginGroups.Items[0]!.Id;
    expect(DefaultCacheBehavior.TargetOriginId).toBe(groupId);
    expect(CacheBehaviors.map((behavior) => [behavior.PathPattern, behavior.TargetOriginId])).toEqual([['/live/*', groupId]]);
  });

  it('tries a dark primary once, briefly, and gives the secondary a retry', () => {
    tpl.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: {
        Origins: Match.arrayWith([
          Match.objectLike({ DomainName: 'us-east-1.origin.example.com', ConnectionAttempts: 1, ConnectionTimeout: 3 }),
          Match.objectLike({ DomainName: 'eu-west-1.origin.example.com', ConnectionAttempts: 2, ConnectionTimeout: 5 }),
        ]),
      },
    });
  });

  it('serves one region without an origin group', () => {
    const single = config(build({ origins: [ORIGINS[0]!] }).tpl);
    expect(single.OriginGroups).toBeUndefined();
    expect(single.CacheBehaviors[0]!.TargetOriginId).toBe(single.Origins[0]!.Id);
  });

  it('refuses more than two origins, saying why', () => {
    const third = { region: 'ap-southeast-2', domainName: 'ap-southeast-2.origin.example.com', protocol: 'https' as const, port: 8443 };
    expect(() => build({ origins: [...ORIGINS, third] })).toThrow(/one primary and one failover|a primary and one failover/);
  });
});

describe('CdnDistribution: the CDN secret', () => {
  it('sends Live-CDN-Auth from a Secrets Manager dynamic reference, never a value', () => {
    for (const origin of config(tpl).Origins) {
      expect(origin.OriginCustomHeaders).toEqual([
        { HeaderName: CDN_AUTH_HEADER, HeaderValue: '{{resolve:secretsmanager:live-origin/runtime:SecretString:LIVE_ORIGIN_CDN_SECRET::}}' },
      ]);
    }
  });

  it('reaches the origins over HTTPS with TLS 1.2 only', () => {
    for (const origin of config(tpl).Origins) {
      expect(origin.CustomOriginConfig).toMatchObject({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'], HTTPSPort: 8443 });
    }
  });
});

describe('CdnDistribution: caching that fits the contract', () => {
  it('keys on the path plus _HLS_msn and _HLS_part only, no headers or cookies', () => {
    tpl.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: {
        ParametersInCacheKeyAndForwardedToOrigin: {
          QueryStringsConfig: { QueryStringBehavior: 'whitelist', QueryStrings: ['_HLS_msn', '_HLS_part'] },
          HeadersConfig: { HeaderBehavior: 'none' },
          CookiesConfig: { CookieBehavior: 'none' },
        },
      },
    });
  });

  it('honours Cache-Control down to 0 s and caps at a day', () => {
    tpl.hasResourceProperties('AWS::CloudFront::CachePolicy', { CachePolicyConfig: { MinTTL: 0, DefaultTTL: 0, MaxTTL: 86_400 } });
  });

  it('keys on Origin when the origin answers CORS per page', () => {
    build({ cacheByOrigin: true }).tpl.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: {
        ParametersInCacheKeyAndForwardedToOrigin: { HeadersConfig: { HeaderBehavior: 'whitelist', Headers: ['Origin'] } },
      },
    });
  });

  it('uses that policy on /live/*, with no response headers policy to strip CORS or CMSD headers', () => {
    const [behavior] = config(tpl).CacheBehaviors;
    const [[policyId]] = resourcesOf(tpl, 'AWS::CloudFront::CachePolicy');
    expect(behavior!.CachePolicyId).toEqual({ Ref: policyId });
    expect(behavior!.ResponseHeadersPolicyId).toBeUndefined();
    expect(behavior!.AllowedMethods).toEqual(['GET', 'HEAD', 'OPTIONS']);
  });

  it('forwards the headers a CORS preflight needs, and does not cache preflights', () => {
    const [behavior] = config(tpl).CacheBehaviors;
    const [[policyId, policy]] = resourcesOf(tpl, 'AWS::CloudFront::OriginRequestPolicy');
    expect(behavior!.OriginRequestPolicyId).toEqual({ Ref: policyId });
    expect(behavior!.CachedMethods).toEqual(['GET', 'HEAD']);
    expect(policy).toMatchObject({
      OriginRequestPolicyConfig: {
        HeadersConfig: { HeaderBehavior: 'whitelist', Headers: ['Origin', 'Access-Control-Request-Method', 'Access-Control-Request-Headers'] },
        QueryStringsConfig: { QueryStringBehavior: 'none' },
        CookiesConfig: { CookieBehavior: 'none' },
      },
    });
  });
});

describe('CdnDistribution: holds and timeouts', () => {
  it('derives the longest hold from the segment duration: 2 s segments hold up to 6 s (three target durations)', () => {
    expect(originTimeouts(2000)).toEqual({ longestHoldMs: 6000, readTimeoutSeconds: 8, completionTimeoutSeconds: 10, keepaliveSeconds: 55 });
    // 1.5 s segments: target duration 2 s, blocking reload 6 s, segment hold 3 s.
    expect(originTimeouts(1500).longestHoldMs).toBe(6000);
    // A long grace makes the segment hold the longest.
    expect(originTimeouts(2000, 8000).longestHoldMs).toBe(10_000);
  });

  it('sets the origin response timeout above the longest hold and keep-alive above it', () => {
    for (const origin of config(tpl).Origins) {
      const custom = origin.CustomOriginConfig as { OriginReadTimeout: number; OriginKeepaliveTimeout: number };
      expect(custom.OriginReadTimeout * 1000).toBeGreaterThan(cdn.timeouts.longestHoldMs);
      expect(custom.OriginReadTimeout).toBe(8);
      expect(custom.OriginKeepaliveTimeout).toBeGreaterThan(custom.OriginReadTimeout);
    }
    const longer = config(build({ segmentDurationMs: 6000 }).tpl).Origins[0]!.CustomOriginConfig as { OriginReadTimeout: number };
    expect(longer.OriginReadTimeout).toBe(20);
  });

  it('bounds a whole streamed answer: held to the end of its window (2D), then streamed at half speed (2D), plus the margin', () => {
    // 2 s segments: 4 s hold + 4 s stream + 2 s = 10 s; 6 s segments: 12 + 12 + 2 = 26 s.
    for (const origin of config(tpl).Origins) {
      const { ResponseCompletionTimeout, CustomOriginConfig } = origin as unknown as {
        ResponseCompletionTimeout: number;
        CustomOriginConfig: { OriginReadTimeout: number };
      };
      expect(ResponseCompletionTimeout).toBe(10);
      // CloudFront refuses a completion timeout under the response timeout.
      expect(ResponseCompletionTimeout).toBeGreaterThanOrEqual(CustomOriginConfig.OriginReadTimeout);
    }
    expect(originTimeouts(6000).completionTimeoutSeconds).toBe(26);
    // A long grace: the hold itself is most of it.
    expect(originTimeouts(2000, 8000).completionTimeoutSeconds).toBe(16);
  });

  it("refuses segments whose holds outlast CloudFront's 60 s response timeout", () => {
    expect(() => build({ segmentDurationMs: 20_000 })).toThrow(/above CloudFront's 60 s/);
  });
});

describe('CdnDistribution: only delivery is reachable', () => {
  it('answers everything outside /live/* at the edge with a viewer-request function', () => {
    const { DefaultCacheBehavior } = config(tpl);
    const [[functionId]] = resourcesOf(tpl, 'AWS::CloudFront::Function');
    expect(DefaultCacheBehavior.FunctionAssociations).toEqual([{ EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [functionId, 'FunctionARN'] } }]);
    expect(DefaultCacheBehavior.AllowedMethods).toEqual(['GET', 'HEAD']);
  });

  it('whose code answers 404 for /ingest, /admin, /metrics and /status', () => {
    const [[, fn]] = resourcesOf(tpl, 'AWS::CloudFront::Function') as [[string, { FunctionCode: string; FunctionConfig: { Runtime: string } }]];
    expect(fn.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
    const handler = new Function(`${fn.FunctionCode}; return handler;`)() as (event: unknown) => { statusCode: number };
    for (const uri of ['/ingest/news/a/seg_1.m4s', '/admin/events/news', '/metrics', '/status']) {
      expect(handler({ request: { method: 'GET', uri } }).statusCode).toBe(404);
    }
  });
});

describe('CdnDistribution: logs', () => {
  it("writes access logs to its own encrypted, expiring bucket that accepts CloudFront's ACL writes", () => {
    const { Logging } = config(tpl);
    expect(Logging).toMatchObject({ Prefix: 'cloudfront/' });
    tpl.hasResourceProperties('AWS::S3::Bucket', {
      OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 30 })] },
      PublicAccessBlockConfiguration: Match.objectLike({ BlockPublicAcls: true }),
    });
  });
});
