import { CfnWaitConditionHandle } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { AlarmTopic, type AlarmTopicProps } from '../../../lib/constructs/alarm-topic.js';
import { regionalStack, resourcesOf, template } from '../helpers.js';

function build(props: AlarmTopicProps = {}) {
  const stack = regionalStack(undefined, 'eu-west-1');
  const alarmTopic = new AlarmTopic(stack, 'AlarmTopic', props);
  // A template needs one resource even when the construct creates none.
  new CfnWaitConditionHandle(stack, 'Filler');
  return { stack, alarmTopic, tpl: template(stack) };
}

describe('AlarmTopic', () => {
  const { tpl, alarmTopic, stack } = build({ emails: ['oncall@example.com', 'lead@example.com'] });

  it('creates a topic encrypted with its own rotating key', () => {
    tpl.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const [[keyId]] = resourcesOf(tpl, 'AWS::KMS::Key');
    tpl.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
  });

  it('lets CloudWatch alarms use the key (the AWS-managed SNS key would refuse them)', () => {
    const [[, key]] = resourcesOf(tpl, 'AWS::KMS::Key') as [[string, { KeyPolicy: { Statement: Record<string, unknown>[] } }]];
    const statement = key.KeyPolicy.Statement.find((each) => each.Sid === 'CloudWatchAlarmsPublish');
    expect(statement).toMatchObject({
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    });
  });

  it('accepts publishing over TLS only', () => {
    const [[, policy]] = resourcesOf(tpl, 'AWS::SNS::TopicPolicy') as [[string, { PolicyDocument: { Statement: Record<string, unknown>[] } }]];
    expect(policy.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('subscribes every address by e-mail', () => {
    const endpoints = resourcesOf(tpl, 'AWS::SNS::Subscription').map(([, props]) => [props.Protocol, props.Endpoint]);
    expect(endpoints.sort()).toEqual([
      ['email', 'lead@example.com'],
      ['email', 'oncall@example.com'],
    ]);
    expect(stack.resolve(alarmTopic.topic.topicArn)).toEqual({ Ref: expect.stringMatching(/^AlarmTopic/) });
  });

  it('uses an existing topic of its region instead, creating nothing', () => {
    const arn = 'arn:aws:sns:eu-west-1:123456789012:oncall';
    const existing = build({ existingTopicArn: arn });
    existing.tpl.resourceCountIs('AWS::SNS::Topic', 0);
    existing.tpl.resourceCountIs('AWS::KMS::Key', 0);
    expect(existing.alarmTopic.topic.topicArn).toBe(arn);
  });

  it('refuses a topic of another region: alarms notify topics of their own region only', () => {
    expect(() => build({ existingTopicArn: 'arn:aws:sns:us-east-1:123456789012:oncall' })).toThrow(/own region/);
  });

  it('refuses something that is not an e-mail address', () => {
    expect(() => build({ emails: ['oncall'] })).toThrow(/not an e-mail address/);
  });
});
