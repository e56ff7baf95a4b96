import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';

/**
 * Checks a CloudFormation template offline against CloudFormation's own resource
 * specification: the database in `@aws-cdk/aws-service-spec`, from which the CDK generates its
 * L1 classes. cdk-nag and the construct tests judge what a template means; this judges whether
 * CloudFormation would take it at all: every resource type exists, every property name is one the
 * type has, every required property is there, every value has the kind the spec gives it
 * (string, number, boolean, list, map, nested type) and one of its allowed values where the spec
 * lists them, and every `Fn::GetAtt` (and `${Logical.Attribute}` in `Fn::Sub`) names an attribute
 * the target's type has. A value computed by an intrinsic function is taken on trust, except
 * `Fn::If`, whose branches are checked, and the functions that always make a string.
 */

type SpecDatabase = ReturnType<typeof loadAwsServiceSpecSync>;

/** The parts of the spec's property types this checker reads. */
type PropertyType =
  | { readonly type: 'string'; readonly allowedValues?: readonly string[] }
  | { readonly type: 'integer'; readonly allowedValues?: readonly number[] }
  | { readonly type: 'number' | 'boolean' | 'json' | 'date-time' | 'null' | 'tag' }
  | { readonly type: 'ref'; readonly reference: { readonly $ref: string } }
  | { readonly type: 'array' | 'map'; readonly element: PropertyType }
  | { readonly type: 'union'; readonly types: readonly PropertyType[] };

interface PropertySpec {
  readonly type: PropertyType;
  readonly previousTypes?: readonly PropertyType[];
  readonly required?: boolean;
}

/** The parts of a resource type this checker reads. */
interface SpecResource {
  readonly properties: Record<string, PropertySpec>;
  readonly attributes: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources?: Record<string, unknown>;
  readonly Parameters?: Record<string, unknown>;
  readonly Outputs?: Record<string, unknown>;
  readonly [section: string]: unknown;
}

/** One thing CloudFormation would refuse: where (`Resources.Bucket.Properties.X`) and why. */
export interface SpecFinding {
  readonly path: string;
  readonly problem: string;
}

/**
 * Types CloudFormation takes that the resource specification does not list: the CDK's own
 * version-reporting resource, and custom resources, whose properties and attributes are
 * whatever their provider makes of them (only `ServiceToken` is required).
 */
const CDK_METADATA = 'AWS::CDK::Metadata';
const CUSTOM_RESOURCE = 'AWS::CloudFormation::CustomResource';
const isCustom = (type: string): boolean => type === CUSTOM_RESOURCE || type.startsWith('Custom::');

/** The keys a resource entry may have besides Type and Properties. */
const RESOURCE_KEYS = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'Metadata',
  'Condition',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'CreationPolicy',
  'UpdatePolicy',
]);
const DELETION_POLICIES = ['Delete', 'Retain', 'RetainExceptOnCreate', 'Snapshot'];
/** Intrinsic functions whose result is always a string. */
const STRING_FUNCTIONS = new Set(['Fn::Join', 'Fn::Sub', 'Fn::Base64', 'Fn::ToJsonString']);
const PSEUDO_PARAMETER = /^AWS::(AccountId|NotificationARNs|NoValue|Partition|Region|StackId|StackName|URLSuffix)$/;

let loaded: SpecDatabase | undefined;
/** The spec database (about a second to load; loaded once per test file). */
export function cfnSpec(): SpecDatabase {
  loaded ??= loadAwsServiceSpecSync();
  return loaded;
}

const kindOf = (type: PropertyType): string => (type.type === 'ref' ? 'an object (nested type)' : type.type === 'tag' ? 'a tag' : `a ${type.type}`);

function isIntrinsic(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::') || keys[0] === 'Condition');
}

const isNoValue = (value: unknown): boolean => isIntrinsic(value) && value.Ref === 'AWS::NoValue';

export function checkTemplate(template: CfnTemplate, db: SpecDatabase = cfnSpec()): SpecFinding[] {
  const findings: SpecFinding[] = [];
  const report = (path: string, problem: string) => findings.push({ path, problem });
  const resources = (template.Resources ?? {}) as Record<string, Record<string, unknown>>;
  const specOf = new Map<string, SpecResource | undefined>();
  for (const [id, resource] of Object.entries(resources)) {
    const type = String(resource.Type);
    const spec = db.lookup('resource', 'cloudFormationType', 'equals', type)[0] as SpecResource | undefined;
    specOf.set(id, spec);
    if (!spec && type !== CDK_METADATA && !isCustom(type)) report(`Resources.${id}.Type`, `unknown resource type ${type}`);
  }

  /** Each finding of `value` against `type`, at `path`. */
  function checkValue(value: unknown, type: PropertyType, path: string, out: SpecFinding[]): void {
    const wrong = (problem: string) => out.push({ path, problem });
    if (isNoValue(value)) return;
    if (isIntrinsic(value)) {
      const [name, args] = Object.entries(value)[0]!;
      if (name === 'Fn::If' && Array.isArray(args) && args.length === 3) {
        checkValue(args[1], type, `${path}.Fn::If[1]`, out);
        checkValue(args[2], type, `${path}.Fn::If[2]`, out);
      } else if (STRING_FUNCTIONS.has(name) && ['array', 'map', 'ref', 'tag'].includes(type.type)) {
        wrong(`${name} makes a string; expected ${kindOf(type)}`);
      }
      return;
    }
    switch (type.type) {
      case 'string':
      case 'date-time':
        // CloudFormation turns a number or boolean into the string a property wants.
        if (typeof value === 'object' || value === undefined) wrong(`expected a string, got ${describe(value)}`);
        else if (type.type === 'string' && type.allowedValues && !type.allowedValues.includes(String(value))) {
          wrong(`"${String(value)}" is not one of ${type.allowedValues.join(', ')}`);
        }
        return;
      case 'integer':
      case 'number': {
        // A numeric string is taken as the number.
        const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
        if (Number.isNaN(number)) wrong(`expected a number, got ${describe(value)}`);
        else if (type.type === 'integer' && !Number.isInteger(number)) wrong(`expected an integer, got ${describe(value)}`);
        else if (type.type === 'integer' && type.allowedValues && !type.allowedValues.includes(number))
          wrong(`${number} is not one of ${type.allowedValues.join(', ')}`);
        return;
      }
      case 'boolean':
        if (typeof value !== 'boolean' && value !== 'true' && value !== 'false') wrong(`expected a boolean, got ${describe(value)}`);
        return;
      case 'json':
        if (typeof value !== 'object' || value === null) {
          // Some JSON properties take a JSON document as a string (a policy, a dashboard body).
          if (typeof value !== 'string') wrong(`expected a JSON object, got ${describe(value)}`);
        }
        return;
      case 'null':
        return;
      case 'tag':
        checkObject(value, { Key: { type: { type: 'string' }, required: true }, Value: { type: { type: 'string' }, required: true } }, path, out);
        return;
      case 'array':
        if (!Array.isArray(value)) wrong(`expected a list, got ${describe(value)}`);
        else for (const [index, element] of value.entries()) checkValue(element, type.element, `${path}[${index}]`, out);
        return;
      case 'map':
        if (typeof value !== 'object' || value === null || Array.isArray(value)) wrong(`expected a map, got ${describe(value)}`);
        else for (const [key, element] of Object.entries(value)) checkValue(element, type.element, `${path}.${key}`, out);
        return;
      case 'ref': {
        const definition = db.get('typeDefinition', type.reference as never) as unknown as { properties: Record<string, PropertySpec> };
        checkObject(value, definition.properties, path, out);
        return;
      }
      case 'union': {
        // Fits if any member fits; else each member's first complaint.
        const tries = type.types.map((member) => {
          const memberOut: SpecFinding[] = [];
          checkValue(value, member, path, memberOut);
          return memberOut;
        });
        if (tries.every((tried) => tried.length > 0))
          wrong(`fits none of ${type.types.map(kindOf).join(', ')} (${tries.map((tried) => tried[0]!.problem).join('; ')})`);
        return;
      }
    }
  }

  function checkObject(value: unknown, properties: Record<string, PropertySpec>, path: string, out: SpecFinding[]): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      out.push({ path, problem: `expected an object, got ${describe(value)}` });
      return;
    }
    const given = value as Record<string, unknown>;
    for (const [name, property] of Object.entries(properties)) {
      if (property.required && (given[name] === undefined || isNoValue(given[name])))
        out.push({ path: `${path}.${name}`, problem: 'required property missing' });
    }
    for (const [name, field] of Object.entries(given)) {
      const property = properties[name];
      if (!property) {
        out.push({ path: `${path}.${name}`, problem: `unknown property (known: ${Object.keys(properties).sort().join(', ')})` });
        continue;
      }
      // A value of one of the property's earlier types is still taken.
      const attempts = [property.type, ...(property.previousTypes ?? [])].map((type) => {
        const attempt: SpecFinding[] = [];
        checkValue(field, type, `${path}.${name}`, attempt);
        return attempt;
      });
      if (attempts.every((attempt) => attempt.length > 0)) out.push(...attempts[0]!);
    }
  }

  for (const [id, resource] of Object.entries(resources)) {
    const path = `Resources.${id}`;
    for (const key of Object.keys(resource)) if (!RESOURCE_KEYS.has(key)) report(`${path}.${key}`, 'unknown resource attribute');
    for (const policy of ['DeletionPolicy', 'UpdateReplacePolicy'] as const) {
      const value = resource[policy];
      if (value !== undefined && !DELETION_POLICIES.includes(String(value)))
        report(`${path}.${policy}`, `"${String(value)}" is not one of ${DELETION_POLICIES.join(', ')}`);
    }
    const type = String(resource.Type);
    const spec = specOf.get(id);
    if (isCustom(type)) {
      if ((resource.Properties as Record<string, unknown> | undefined)?.ServiceToken === undefined)
        report(`${path}.Properties.ServiceToken`, 'required property missing');
    } else if (spec) {
      checkObject(resource.Properties ?? {}, spec.properties, `${path}.Properties`, findings);
    }
  }

  checkReferences(template, resources, specOf, report);
  return findings;
}

/** Every `Ref`, `Fn::GetAtt` and `${...}` in `Fn::Sub` names something that exists, and a GetAtt an attribute its type has. */
function checkReferences(
  template: CfnTemplate,
  resources: Record<string, Record<string, unknown>>,
  specOf: ReadonlyMap<string, SpecResource | undefined>,
  report: (path: string, problem: string) => void,
): void {
  const parameters = new Set(Object.keys(template.Parameters ?? {}));
  const attribute = (target: string, name: string, path: string) => {
    const resource = resources[target];
    if (!resource) {
      report(path, `GetAtt of ${target}.${name}: no resource ${target}`);
      return;
    }
    const type = String(resource.Type);
    if (isCustom(type)) return;
    const spec = specOf.get(target);
    if (spec && !(name in spec.attributes)) {
      report(path, `GetAtt ${target}.${name}: ${type} has no attribute ${name} (it has: ${Object.keys(spec.attributes).sort().join(', ') || 'none'})`);
    }
  };
  const visit = (node: unknown, path: string): void => {
    if (Array.isArray(node)) {
      for (const [index, element] of node.entries()) visit(element, `${path}[${index}]`);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const entries = Object.entries(node);
    if (entries.length === 1) {
      const [name, args] = entries[0]!;
      if (name === 'Ref' && typeof args === 'string') {
        if (!resources[args] && !parameters.has(args) && !PSEUDO_PARAMETER.test(args)) report(path, `Ref to ${args}: no such resource or parameter`);
        return;
      }
      if (name === 'Fn::GetAtt') {
        const [target, attributeName] = typeof args === 'string' ? [args.slice(0, args.indexOf('.')), args.slice(args.indexOf('.') + 1)] : (args as unknown[]);
        if (typeof target === 'string' && typeof attributeName === 'string') attribute(target, attributeName, path);
        else visit(args, path);
        return;
      }
      if (name === 'Fn::Sub') {
        const [text, variables] = typeof args === 'string' ? [args, {}] : (args as [string, Record<string, unknown>]);
        const own = new Set(Object.keys(variables ?? {}));
        for (const match of String(text).matchAll(/\$\{([^!}][^}]*)\}/g)) {
          const reference = match[1]!.trim();
          if (own.has(reference)) continue;
          const dot = reference.indexOf('.');
          if (dot > 0) attribute(reference.slice(0, dot), reference.slice(dot + 1), path);
          else if (!resources[reference] && !parameters.has(reference) && !PSEUDO_PARAMETER.test(reference))
            report(path, `\${${reference}} in Fn::Sub: no such resource or parameter`);
        }
        visit(variables, `${path}.Fn::Sub[1]`);
        return;
      }
    }
    for (const [key, value] of entries) visit(value, `${path}.${key}`);
  };
  for (const section of ['Resources', 'Outputs', 'Conditions', 'Rules'] as const) visit(template[section], section);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${Object.keys(value).join(', ')})`;
  return `${typeof value} ${JSON.stringify(value)}`;
}
