import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { IConstruct } from 'constructs';
import { type LiveOriginConfig, parseConfig, type RawContext } from '../../lib/config.js';
import { instanceProgram } from '../../lib/instance/paths.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A tiny server entry: construct tests bundle it instead of the real runtime, in milliseconds. */
export const FIXTURE_ENTRY = fileURLToPath(new URL('./fixtures/server.ts', import.meta.url));

/** cdk.json's context (feature flags included), so tests build what `cdk synth` builds. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(`${REPO_ROOT}/cdk.json`, 'utf8')) as { context: Record<string, unknown> };
  return cdkJson.context;
}

/** An app with cdk.json's context and its own temporary output directory. */
export function newApp(): App {
  return new App({ context: cdkJsonContext() });
}

/** A stack in a concrete region and no account, as the app's stacks are. */
export function regionalStack(app: App = newApp(), region = 'us-east-1', id = `Test-${region}`): Stack {
  return new Stack(app, id, { env: { region } });
}

/** A VPC with the subnet layout the constructs expect, without creating one. */
export function importedVpc(stack: Stack): ec2.IVpc {
  return ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: [`${stack.region}a`, `${stack.region}b`],
    publicSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'],
    privateSubnetIds: ['subnet-0bbbbbbbbbbbbbbb1', 'subnet-0bbbbbbbbbbbbbbb2'],
  });
}

/** The two-region configuration with DNS that the wiring tests use. */
export function twoRegionConfig(overrides: RawContext = {}, now?: number): LiveOriginConfig {
  return parseConfig(
    {
      regions: 'us-east-1,eu-west-1',
      domainName: 'origin.example.com',
      hostedZoneId: 'Z0123456789EXAMPLE',
      ...overrides,
    },
    now,
  );
}

export function template(stack: Stack): Template {
  return Template.fromStack(stack);
}

/** Every resource of one type, as [logicalId, properties]. */
export function resourcesOf(tpl: Template, type: string): [string, Record<string, unknown>][] {
  return Object.entries(tpl.findResources(type)).map(([id, resource]) => [id, (resource as { Properties: Record<string, unknown> }).Properties]);
}

/** Renders a Fn::Join (as in user data) to text, intrinsics shown as JSON. */
export function joinedText(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, unknown>;
  if (node['Fn::Base64']) return joinedText(node['Fn::Base64']);
  if (node['Fn::Join']) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(joinedText).join(separator);
  }
  return JSON.stringify(value);
}

/** The logical id of an L2 construct's CloudFormation resource. */
export function logicalId(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}

/**
 * The variables a fleet's user data sets above boot.sh, as bash itself reads them (tokens appear
 * as their intrinsics' JSON). Throws unless the rest of the user data is boot.sh as written.
 */
export function bootVariablesOf(userData: string): Record<string, string> {
  const body = instanceProgram('boot.sh');
  if (!userData.endsWith(body)) throw new Error('the user data does not end with lib/instance/boot.sh');
  const header = userData.slice(0, userData.length - body.length);
  const run = spawnSync('bash', ['-c', `${header}\nfor name in $(compgen -v); do printf '%s=%s\\0' "$name" "\${!name}"; done`], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`the user data's variables do not parse: ${run.stderr}`);
  return Object.fromEntries(
    run.stdout
      .split('\0')
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}
