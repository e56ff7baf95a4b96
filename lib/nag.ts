/**
 * cdk-nag acknowledgements, with finding ids built one way. cdk-nag names a finding by rule and,
 * for IAM rules, by the offending value as it renders it in the template: intrinsics flattened,
 * `Ref` as `<Name>`, `Fn::GetAtt` as `<Name.Attribute>`, pseudo parameters as `<AWS::Partition>`.
 * An id written by hand that differs by one character acknowledges nothing, and the synth fails.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** What a finding is about: the whole construct, one IAM resource string, or one managed policy. */
export type NagFinding =
  | { readonly rule: string }
  | { readonly rule: string; readonly resource: string }
  | { readonly rule: string; readonly managedPolicy: string };

/** The id cdk-nag gives `finding` on `scope` (its stack resolves the resource's tokens). */
export function nagFindingId(scope: IConstruct, finding: NagFinding): string {
  const id = `AwsSolutions-${finding.rule}`;
  if ('resource' in finding) return `${id}[Resource::${flatten(Stack.of(scope).resolve(finding.resource))}]`;
  if ('managedPolicy' in finding) return `${id}[Policy::arn:<AWS::Partition>:iam::aws:policy/${finding.managedPolicy}]`;
  return id;
}

/** Acknowledges `finding` on `scope`, with the reason a reviewer reads. */
export function acknowledge(scope: IConstruct, finding: NagFinding, reason: string): void {
  Validations.of(scope).acknowledge({ id: nagFindingId(scope, finding), reason });
}

function flatten(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const node = value as Record<string, unknown>;
  if (node['Fn::Join']) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(flatten).join(separator);
  }
  if (node['Fn::Sub']) return flatten(node['Fn::Sub']);
  if (node['Fn::GetAtt']) {
    const [logicalId, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
    return `<${flatten(logicalId)}.${flatten(attribute)}>`;
  }
  if (node['Fn::ImportValue']) return flatten(node['Fn::ImportValue']);
  if (node.Ref) return `<${flatten(node.Ref)}>`;
  return JSON.stringify(value);
}
