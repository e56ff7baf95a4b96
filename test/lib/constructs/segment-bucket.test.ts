import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { SegmentBucket, segmentExpiryDays } from '../../../lib/constructs/segment-bucket.js';
import { regionalStack, template } from '../helpers.js';

function build(props: ConstructorParameters<typeof SegmentBucket>[2] = {}) {
  const stack = regionalStack();
  const segments = new SegmentBucket(stack, 'Segments', { bucketName: 'live-origin-segments-test', ...props });
  return { stack, segments, tpl: template(stack) };
}

describe('SegmentBucket', () => {
  const { segments, stack, tpl } = build();
  const segmentBucketId = stack.getLogicalId(segments.bucket.node.defaultChild as s3.CfnBucket);

  it('encrypts segments at rest', () => {
    tpl.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'live-origin-segments-test',
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
  });

  it('blocks every kind of public access', () => {
    tpl.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'live-origin-segments-test',
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
  });

  it('denies requests without TLS', () => {
    tpl.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: segmentBucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('expires segments after the event window, at least one day', () => {
    tpl.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'live-origin-segments-test',
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 1, Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } })]),
      },
    });
  });

  it('sends server access logs to its log bucket', () => {
    const logBucketId = stack.getLogicalId(segments.accessLogsBucket.node.defaultChild as s3.CfnBucket);
    tpl.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'live-origin-segments-test',
      LoggingConfiguration: { DestinationBucketName: { Ref: logBucketId }, LogFilePrefix: 'segments-bucket/' },
    });
  });

  it('retains its data when the stack deletes it', () => {
    tpl.hasResource('AWS::S3::Bucket', { Properties: Match.objectLike({ BucketName: 'live-origin-segments-test' }), DeletionPolicy: 'Retain' });
  });

  it('sizes the expiry from a long window', () => {
    const long = build({ windowSegments: 100_000, segmentDuration: Duration.seconds(6) });
    // 600,000 s is 6.9 days: rounded up so no segment of the window expires early.
    expect(long.segments.expiryDays).toBe(7);
    long.tpl.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'live-origin-segments-test',
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 7 })]) },
    });
  });

  it('refuses an empty window', () => {
    expect(() => build({ windowSegments: 0 })).toThrow(/windowSegments must be a positive integer/);
  });
});

describe('segmentExpiryDays', () => {
  it('never goes below one day', () => {
    expect(segmentExpiryDays(10, 2000)).toBe(1);
  });

  it('rounds a partial day up', () => {
    expect(segmentExpiryDays(43_201, 2000)).toBe(2);
  });
});
