import { describe, expect, it } from 'vitest';
import type { CfnTemplate } from './cfn-spec.js';
import { checkTemplate } from './cfn-spec.js';

/** What CloudFormation takes: intrinsics, a condition's branches, AWS::NoValue, numbers as strings, custom resources. */
const VALID: CfnTemplate = {
  Parameters: { Env: { Type: 'String' } },
  Conditions: { Prod: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] } },
  Resources: {
    Bucket: {
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: 'Retain',
      Properties: {
        BucketName: { 'Fn::Join': ['-', [{ Ref: 'AWS::StackName' }, 'segments']] },
        VersioningConfiguration: { 'Fn::If': ['Prod', { Status: 'Enabled' }, { Ref: 'AWS::NoValue' }] },
        Tags: [{ Key: 'app', Value: 'live-origin' }],
      },
    },
    Queue: {
      Type: 'AWS::SQS::Queue',
      Properties: { DelaySeconds: '5', FifoQueue: 'true', QueueName: { 'Fn::Sub': '${AWS::StackName}-${Bucket.Arn}.fifo' } },
    },
    Group: { Type: 'AWS::AutoScaling::AutoScalingGroup', Properties: { MinSize: 2, MaxSize: '6', AvailabilityZones: { 'Fn::GetAZs': '' } } },
    Provider: { Type: 'Custom::Anything', Properties: { ServiceToken: { 'Fn::GetAtt': ['Queue', 'Arn'] }, Whatever: [1, { a: 2 }] } },
  },
  Outputs: {
    QueueUrl: { Value: { 'Fn::GetAtt': ['Queue', 'QueueUrl'] } },
    Custom: { Value: { 'Fn::GetAtt': ['Provider', 'AnyAttribute'] } },
  },
};

/** One known mistake of each kind. */
const MISTAKES: CfnTemplate = {
  Resources: {
    Typo: { Type: 'AWS::S3::Bukket', Properties: {} },
    Bucket: {
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: 'Keep',
      Properties: {
        BucketNmae: 'segments',
        AccessControl: 'Secret',
        VersioningConfiguration: { Status: 'On' },
        Tags: { app: 'live-origin' },
      },
    },
    Queue: { Type: 'AWS::SQS::Queue', Properties: { DelaySeconds: 'soon', FifoQueue: 'yes', MessageRetentionPeriod: 1.5 } },
    Group: { Type: 'AWS::AutoScaling::AutoScalingGroup', Properties: { MinSize: 1, LaunchTemplate: { 'Fn::Join': ['', ['lt']] } } },
    Custom: { Type: 'Custom::Thing', Properties: {} },
  },
  Outputs: {
    Url: { Value: { 'Fn::GetAtt': ['Bucket', 'Url'] } },
    Missing: { Value: { 'Fn::GetAtt': ['Nothing', 'Arn'] } },
    Sub: { Value: { 'Fn::Sub': 'https://${Queue.Endpoint}/${Unknown}' } },
    Ref: { Value: { Ref: 'Nowhere' } },
  },
};

describe('checkTemplate', () => {
  it('finds nothing in a template CloudFormation takes', () => {
    expect(checkTemplate(VALID)).toEqual([]);
  });

  it('reports each known mistake, where it is', () => {
    const findings = checkTemplate(MISTAKES);
    const at = (path: string) => findings.filter((finding) => finding.path === path).map((finding) => finding.problem);
    expect(at('Resources.Typo.Type')).toEqual(['unknown resource type AWS::S3::Bukket']);
    expect(at('Resources.Bucket.Properties.BucketNmae')[0]).toMatch(/^unknown property \(known: .*BucketName/);
    expect(at('Resources.Bucket.Properties.AccessControl')[0]).toMatch(/^"Secret" is not one of AuthenticatedRead, .*Private/);
    expect(at('Resources.Bucket.Properties.VersioningConfiguration.Status')).toEqual(['"On" is not one of Enabled, Suspended']);
    expect(at('Resources.Bucket.Properties.Tags')).toEqual(['expected a list, got an object (app)']);
    expect(at('Resources.Bucket.DeletionPolicy')).toEqual(['"Keep" is not one of Delete, Retain, RetainExceptOnCreate, Snapshot']);
    expect(at('Resources.Queue.Properties.DelaySeconds')).toEqual(['expected a number, got string "soon"']);
    expect(at('Resources.Queue.Properties.FifoQueue')).toEqual(['expected a boolean, got string "yes"']);
    expect(at('Resources.Queue.Properties.MessageRetentionPeriod')).toEqual(['expected an integer, got number 1.5']);
    expect(at('Resources.Group.Properties.MaxSize')).toEqual(['required property missing']);
    expect(at('Resources.Group.Properties.LaunchTemplate')).toEqual(['Fn::Join makes a string; expected an object (nested type)']);
    expect(at('Resources.Custom.Properties.ServiceToken')).toEqual(['required property missing']);
    expect(at('Outputs.Url.Value')[0]).toMatch(/^GetAtt Bucket\.Url: AWS::S3::Bucket has no attribute Url \(it has: Arn, DomainName/);
    expect(at('Outputs.Missing.Value')).toEqual(['GetAtt of Nothing.Arn: no resource Nothing']);
    expect(at('Outputs.Sub.Value')).toEqual([
      'GetAtt Queue.Endpoint: AWS::SQS::Queue has no attribute Endpoint (it has: Arn, QueueName, QueueUrl)',
      '${Unknown} in Fn::Sub: no such resource or parameter',
    ]);
    expect(at('Outputs.Ref.Value')).toEqual(['Ref to Nowhere: no such resource or parameter']);
    // Nothing else: each mistake is reported once, and the sound parts are not.
    expect(findings).toHaveLength(17);
  });
});
