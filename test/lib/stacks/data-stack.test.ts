import { describe, expect, it } from 'vitest';
import { DataStack, type DataStackProps } from '../../../lib/stacks/data-stack.js';
import { newApp, template } from '../helpers.js';

function build(props: Partial<DataStackProps> = {}) {
  const stack = new DataStack(newApp(), 'Data', {
    env: { region: 'eu-west-1' },
    segmentBucketName: 'live-origin-segments-test-eu-west-1',
    windowSegments: 1800,
    segmentDurationMs: 2000,
    ...props,
  });
  return { stack, tpl: template(stack) };
}

// The first synth loads most of aws-cdk-lib: seconds alone, over 30 s on a loaded shared machine.
describe('DataStack', { timeout: 120_000 }, () => {
  it('is protected from deletion', () => {
    expect(build().stack.terminationProtection).toBe(true);
  });

  it('holds the segment bucket and its log bucket', () => {
    const { tpl } = build();
    tpl.resourceCountIs('AWS::S3::Bucket', 2);
    tpl.hasResourceProperties('AWS::S3::Bucket', { BucketName: 'live-origin-segments-test-eu-west-1' });
  });

  it('holds no tables outside the primary region', () => {
    build().tpl.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
  });

  it('holds the global tables in the primary region', () => {
    build({ tables: { tablePrefix: 'live-origin-', replicaRegions: ['us-east-1'] } }).tpl.resourceCountIs('AWS::DynamoDB::GlobalTable', 2);
  });
});
