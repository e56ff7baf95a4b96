import { RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /**
   * An existing topic in this region (for example the on-call tool's) that the alarms notify
   * instead of a new one. Its owner manages its subscriptions and encryption.
   * @default - a new encrypted topic
   */
  readonly existingTopicArn?: string;
  /**
   * Addresses subscribed to a new topic by e-mail (each confirms once, from the message AWS
   * sends). Refused together with `existingTopicArn`: subscribe them to that topic instead.
   * @default []
   */
  readonly emails?: readonly string[];
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * Where a region's alarms page: a new SNS topic, encrypted with a key of its own that CloudWatch
 * may use (the AWS-managed SNS key does not let CloudWatch publish), accepting TLS only, with
 * e-mail subscriptions; or an existing topic named by ARN.
 */
export class AlarmTopic extends Construct {
  public readonly topic: sns.ITopic;
  /** The key of a new topic. */
  public readonly key?: kms.Key;

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    const emails = props.emails ?? [];
    validate(this, props, emails);

    if (props.existingTopicArn) {
      this.topic = sns.Topic.fromTopicArn(this, 'Topic', props.existingTopicArn);
      return;
    }

    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: 'Live Origin alarm notifications',
      enableKeyRotation: true,
      // Messages are transient; nothing encrypted with this key outlives the topic.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    const topic = new sns.Topic(this, 'Topic', {
      displayName: 'Live Origin alarms',
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const email of emails) topic.addSubscription(new subscriptions.EmailSubscription(email));
    this.topic = topic;
  }
}

function validate(scope: Construct, props: AlarmTopicProps, emails: readonly string[]): void {
  const problems: string[] = [];
  for (const email of emails) {
    if (!EMAIL.test(email)) problems.push(`"${email}" is not an e-mail address`);
  }
  const arn = props.existingTopicArn;
  if (arn !== undefined && !Token.isUnresolved(arn)) {
    const region = Stack.of(scope).region;
    const parts = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,256}$/.exec(arn);
    if (!parts) problems.push(`existingTopicArn "${arn}" is not an SNS topic ARN`);
    else if (!Token.isUnresolved(region) && parts[1] !== region) {
      problems.push(`existingTopicArn is in ${parts[1]}, but alarms can only notify a topic of their own region (${region})`);
    }
    if (emails.length > 0) problems.push('emails cannot be subscribed to an existing topic by this app; subscribe them there');
  }
  if (problems.length > 0) throw new Error(`AlarmTopic: ${problems.join('; ')}`);
}
