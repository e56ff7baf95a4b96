/**
 * The deployment's configuration: read once from CDK context by `bin/live-origin.ts`, validated
 * here, and handed to the stacks as plain typed data. Every key can come from `cdk.json` or
 * from the command line (`-c key=value`, where every value arrives as a string).
 *
 * Over 400 lines on purpose: it is one parser of the whole context, each key's checks beside its
 * type, all collecting into one list of problems so that a bad deploy command is fixed in one
 * go. Splitting it by key would share the problem list and the value readers across files for
 * no gain in reading.
 */
import { isGravitonInstanceType, isRegionName } from './aws-names.js';
import { DEFAULT_SECRET_NAME, DEFAULT_TABLE_PREFIX } from './naming.js';

/** The context keys this app reads; anything else in the context is CDK's own. */
export const CONTEXT_KEYS = [
  'regions',
  'homeRegion',
  'primaryRegion',
  'domainName',
  'hostedZoneId',
  'account',
  'instanceType',
  'minCapacity',
  'maxCapacity',
  'windowSegments',
  'segmentDurationMs',
  'tablePrefix',
  'secretName',
  'vpcId',
  'vpcAttributes',
  'cdn',
  'alarmEmails',
  'alarmTopicArns',
  'eventWindows',
  'loadBalancerCapacityUnits',
  'ingestSources',
  'ingestRateLimit',
  'patchEpoch',
  'cdnSecretVersionId',
] as const;

export type ContextKey = (typeof CONTEXT_KEYS)[number];

/** Raw context values as CDK returns them (strings from `-c`, JSON values from cdk.json). */
export type RawContext = Readonly<Partial<Record<ContextKey, unknown>>>;

/** The network of an existing VPC, committed so that synth never looks anything up. */
export interface ExistingVpc {
  readonly vpcId: string;
  readonly availabilityZones: readonly string[];
  /** One per availability zone, same order: the load balancer goes here. */
  readonly publicSubnetIds: readonly string[];
  /** One per availability zone, same order, with a route to the internet (NAT): instances go here. */
  readonly privateSubnetIds: readonly string[];
}

/** Route 53 failover in front of the regional load balancers. */
export interface DnsConfig {
  /** The name the CDN and packagers use, e.g. `origin.example.com`. */
  readonly domainName: string;
  /** The public hosted zone that holds `domainName`. */
  readonly hostedZoneId: string;
}

/** Where alarms page. */
export interface AlarmNotifications {
  /** Subscribed by e-mail to each region's new alarm topic. */
  readonly emails: readonly string[];
  /** Existing SNS topics by region: that region's alarms notify it instead of a new topic. */
  readonly topicArns: Readonly<Record<string, string>>;
}

/** A window of the expected peak (an event): every region at `minCapacity` from `start` to `end`. */
export interface EventWindow {
  /** ISO 8601 UTC. */
  readonly start: string;
  readonly end: string;
  /** Instances each region keeps during the window, standby included (it must take the whole event on failover). */
  readonly minCapacity: number;
}

export interface LiveOriginConfig {
  /** Every region that runs an origin, home first. */
  readonly regions: readonly string[];
  /**
   * The region that holds the global tables' source, the CDN stack and the DNS PRIMARY record.
   * Fixed for the life of a deployment: moving it would move the tables and the distribution.
   */
  readonly homeRegion: string;
  /**
   * The region CloudFront asks first (its origin order) and that deploys last (`npm run deploy`).
   * Changing it changes the CDN stack only: the incident step when one region stays down.
   */
  readonly primaryRegion: string;
  /** With it, a DNS stack adds failover records and each origin serves HTTPS. */
  readonly dns?: DnsConfig;
  /** Target account; without it the stacks are account-agnostic (offline synth works). */
  readonly account?: string;
  /** EC2 instance type of the fleet: Graviton (arm64), because the AMI is arm64. */
  readonly instanceType: string;
  /** Fewest instances by region, outside event windows. */
  readonly minCapacity: Readonly<Record<string, number>>;
  readonly maxCapacity: number;
  /** Event windows still to come or under way (ended ones are dropped at synth). */
  readonly eventWindows: readonly EventWindow[];
  /** Load balancer capacity units reserved in every region (0: none). */
  readonly loadBalancerCapacityUnits: number;
  /** CIDR blocks allowed to ingest and admin (empty: anyone with a token). */
  readonly ingestSources: readonly string[];
  /** Ingest/admin requests per address per 5 minutes before AWS WAF answers 429 (0: no web ACL). */
  readonly ingestRateLimit: number;
  /** Label of the OS patches baked into the image; change it to rebake and roll. */
  readonly patchEpoch: string;
  /** Version of the runtime secret whose CDN secret CloudFront sends (rotation). */
  readonly cdnSecretVersionId?: string;
  /** Segments an event keeps behind its live edge: sizes the bucket's lifecycle expiry. */
  readonly windowSegments: number;
  /** The longest segment duration any event uses, in milliseconds. */
  readonly segmentDurationMs: number;
  /** Prefix of the DynamoDB table names; the runtime's `LIVE_ORIGIN_TABLE_PREFIX`. */
  readonly tablePrefix: string;
  /** Secrets Manager secret (same name in every region) holding tokens and the CDN secret. */
  readonly secretName: string;
  /** Existing VPCs by region; regions not listed get a new VPC. */
  readonly existingVpcs: Readonly<Record<string, ExistingVpc>>;
  /** With it, a CDN stack puts CloudFront in front of the origins (docs/cdn/cloudfront.md). */
  readonly cdn?: CdnKind;
  /** Where every alarm notifies on ALARM and OK. */
  readonly alarms: AlarmNotifications;
}

/** The CDN tier this app deploys in front of the origins (`-c cdn=cloudfront`); none by default. */
export const CDN_KINDS = ['cloudfront'] as const;
export type CdnKind = (typeof CDN_KINDS)[number];

/** Thrown with every problem found, one per line, so a bad `-c` is fixed in one go. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid Live Origin context:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Default values, for keys that have one. */
export const CONFIG_DEFAULTS = {
  regions: ['us-east-1', 'eu-west-1'],
  instanceType: 'c7g.large',
  minCapacity: 2,
  maxCapacity: 6,
  /** One hour of 2 s segments. */
  windowSegments: 1800,
  segmentDurationMs: 2000,
  /** The runtime's own default, so a missing env var cannot point elsewhere. */
  tablePrefix: DEFAULT_TABLE_PREFIX,
  secretName: DEFAULT_SECRET_NAME,
  loadBalancerCapacityUnits: 0,
  ingestRateLimit: 0,
  patchEpoch: 'initial',
} as const;

/** The primary region when none is given: the first one listed. */
export function defaultPrimaryRegion(regions: readonly string[]): string | undefined {
  return regions[0];
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](-*[a-z0-9])*\.)+[a-z]{2,63}$/;
const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
const ACCOUNT = /^\d{12}$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const TABLE_PREFIX = /^[A-Za-z0-9_.-]{0,200}$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,256}$/;
const EMAIL = /^[^@\s,]+@[^@\s,]+\.[^@\s,]+$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,256}$/;

/** Collects problems instead of throwing at the first one. */
class Problems {
  readonly list: string[] = [];
  add(message: string): void {
    this.list.push(message);
  }
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/** `-c` gives strings; cdk.json may give JSON values or JSON text. */
function parseJsonText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (!text.startsWith('[') && !text.startsWith('{')) return value;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return value;
  }
}

/** `a,b` or `["a","b"]` or a JSON array: trimmed non-empty strings. */
export function parseList(value: unknown): string[] | undefined {
  const parsed = parseJsonText(value);
  if (Array.isArray(parsed)) return parsed.map((item) => String(item).trim()).filter(Boolean);
  if (typeof parsed === 'string')
    return parsed
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  return undefined;
}

function text(value: unknown, key: string, problems: Problems): string | undefined {
  if (isBlank(value)) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') {
    problems.add(`${key} must be a string, got ${JSON.stringify(value)}`);
    return undefined;
  }
  return String(value).trim();
}

function integer(value: unknown, key: string, fallback: number, min: number, problems: Problems): number {
  if (isBlank(value)) return fallback;
  const number = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isSafeInteger(number) || number < min) {
    problems.add(`${key} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
    return fallback;
  }
  return number;
}

function parseRegions(value: unknown, problems: Problems): string[] {
  if (isBlank(value)) return [...CONFIG_DEFAULTS.regions];
  const regions = parseList(value);
  if (regions === undefined || regions.length === 0) {
    problems.add(`regions must be a comma-separated list or a JSON array of region names, got ${JSON.stringify(value)}`);
    return [];
  }
  for (const region of regions) {
    if (!isRegionName(region)) problems.add(`regions: "${region}" is not an AWS region name (like us-east-1)`);
  }
  const duplicates = regions.filter((region, index) => regions.indexOf(region) !== index);
  if (duplicates.length > 0) problems.add(`regions lists ${[...new Set(duplicates)].join(', ')} more than once`);
  return regions;
}

/** `vpc-1` (one region only), `us-east-1=vpc-1,eu-west-1=vpc-2`, or a JSON object. */
function parseVpcIds(value: unknown, regions: readonly string[], problems: Problems): Record<string, string> {
  if (isBlank(value)) return {};
  const parsed = parseJsonText(value);
  const byRegion: Record<string, string> = {};
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    for (const [region, id] of Object.entries(parsed)) byRegion[region] = String(id).trim();
  } else if (typeof parsed === 'string' && !parsed.includes('=')) {
    if (regions.length !== 1) {
      problems.add(
        `vpcId "${parsed}" names one VPC, but ${regions.length} regions are configured and a VPC lives in one region; ` +
          'use region=vpc-id pairs, e.g. -c vpcId=us-east-1=vpc-0abc,eu-west-1=vpc-0def',
      );
      return {};
    }
    byRegion[regions[0]!] = parsed.trim();
  } else if (typeof parsed === 'string') {
    for (const entry of parsed
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean)) {
      const [region, id, ...rest] = entry.split('=');
      if (!region || !id || rest.length > 0) {
        problems.add(`vpcId entries must be region=vpc-id, got "${entry}"`);
        continue;
      }
      byRegion[region.trim()] = id.trim();
    }
  } else {
    problems.add(`vpcId must be a VPC id, region=vpc-id pairs or a JSON object, got ${JSON.stringify(value)}`);
  }
  for (const [region, id] of Object.entries(byRegion)) {
    if (!regions.includes(region)) problems.add(`vpcId names region "${region}", which is not in regions (${regions.join(', ')})`);
    if (!VPC_ID.test(id)) problems.add(`vpcId for ${region}: "${id}" is not a VPC id (vpc-...)`);
  }
  return byRegion;
}

function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : undefined;
}

/** The committed network of each existing VPC: synth must not look it up. */
function parseExistingVpcs(vpcIds: Readonly<Record<string, string>>, attributesValue: unknown, problems: Problems): Record<string, ExistingVpc> {
  const entries = Object.entries(vpcIds);
  if (entries.length === 0) return {};
  const attributes = parseJsonText(attributesValue);
  const table = typeof attributes === 'object' && attributes !== null && !Array.isArray(attributes) ? (attributes as Record<string, unknown>) : {};
  const result: Record<string, ExistingVpc> = {};
  for (const [region, vpcId] of entries) {
    const where = `vpcAttributes["${vpcId}"] (for vpcId in ${region})`;
    const entry = table[vpcId] as Record<string, unknown> | undefined;
    if (typeof entry !== 'object' || entry === null) {
      problems.add(
        `${where} is missing: synth never looks VPCs up, so commit { "availabilityZones": [...], ` +
          '"publicSubnetIds": [...], "privateSubnetIds": [...] } under vpcAttributes in cdk.json',
      );
      continue;
    }
    const availabilityZones = stringArray(entry.availabilityZones);
    const publicSubnetIds = stringArray(entry.publicSubnetIds);
    const privateSubnetIds = stringArray(entry.privateSubnetIds);
    if (!availabilityZones || availabilityZones.length < 2) {
      problems.add(`${where}.availabilityZones must list at least two zones`);
      continue;
    }
    if (availabilityZones.some((zone) => !zone.startsWith(region))) {
      problems.add(`${where}.availabilityZones must be zones of ${region}, got ${availabilityZones.join(', ')}`);
    }
    for (const [name, ids] of [
      ['publicSubnetIds', publicSubnetIds],
      ['privateSubnetIds', privateSubnetIds],
    ] as const) {
      if (!ids || ids.length !== availabilityZones.length) {
        problems.add(`${where}.${name} must list one subnet per availability zone (${availabilityZones.length})`);
      } else if (ids.some((id) => !SUBNET_ID.test(id))) {
        problems.add(`${where}.${name} must be subnet ids (subnet-...), got ${ids.join(', ')}`);
      }
    }
    if (publicSubnetIds && privateSubnetIds) {
      result[region] = { vpcId, availabilityZones, publicSubnetIds, privateSubnetIds };
    }
  }
  return result;
}

/** `alarmEmails`: a list; `alarmTopicArns`: `region=arn,...` or a JSON object. */
function parseAlarms(raw: RawContext, regions: readonly string[], problems: Problems): AlarmNotifications {
  const emails = isBlank(raw.alarmEmails) ? [] : (parseList(raw.alarmEmails) ?? []);
  for (const email of emails) {
    if (!EMAIL.test(email)) problems.add(`alarmEmails: "${email}" is not an e-mail address`);
  }
  const topicArns: Record<string, string> = {};
  if (!isBlank(raw.alarmTopicArns)) {
    const parsed = parseJsonText(raw.alarmTopicArns);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      for (const [region, arn] of Object.entries(parsed)) topicArns[region] = String(arn).trim();
    } else if (typeof parsed === 'string') {
      for (const entry of parsed
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)) {
        const at = entry.indexOf('=');
        if (at < 1) problems.add(`alarmTopicArns entries must be region=arn, got "${entry}"`);
        else topicArns[entry.slice(0, at).trim()] = entry.slice(at + 1).trim();
      }
    } else {
      problems.add(`alarmTopicArns must be region=arn pairs or a JSON object, got ${JSON.stringify(raw.alarmTopicArns)}`);
    }
  }
  for (const [region, arn] of Object.entries(topicArns)) {
    if (!regions.includes(region)) problems.add(`alarmTopicArns names region "${region}", which is not in regions (${regions.join(', ')})`);
    const match = SNS_TOPIC_ARN.exec(arn);
    if (!match) problems.add(`alarmTopicArns for ${region}: "${arn}" is not an SNS topic ARN`);
    else if (match[1] !== region) problems.add(`alarmTopicArns for ${region}: the topic is in ${match[1]}; alarms notify topics of their own region only`);
  }
  return { emails, topicArns };
}

function parseDns(raw: RawContext, regions: readonly string[], problems: Problems): DnsConfig | undefined {
  const domainName = text(raw.domainName, 'domainName', problems)?.toLowerCase().replace(/\.$/, '');
  const hostedZoneId = text(raw.hostedZoneId, 'hostedZoneId', problems)?.replace(/^\/?hostedzone\//, '');
  if (domainName === undefined && hostedZoneId === undefined) return undefined;
  if (domainName === undefined || hostedZoneId === undefined) {
    problems.add('domainName and hostedZoneId go together: give both to add DNS failover, or neither');
    return undefined;
  }
  if (!DOMAIN.test(domainName)) problems.add(`domainName "${domainName}" is not a DNS name`);
  if (!HOSTED_ZONE_ID.test(hostedZoneId)) problems.add(`hostedZoneId "${hostedZoneId}" is not a Route 53 hosted zone id (Z...)`);
  if (regions.length !== 2) {
    problems.add(
      `DNS failover needs exactly two regions, got ${regions.length} (${regions.join(', ')}): Route 53 failover ` +
        'routing has one PRIMARY and one SECONDARY record; more regions need another routing design',
    );
  }
  return { domainName, hostedZoneId };
}

/** `cloudfront` or nothing; CloudFront origin groups hold one primary and one failover origin. */
function parseCdn(value: unknown, regions: readonly string[], problems: Problems): CdnKind | undefined {
  const kind = typeof value === 'string' ? value.trim().toLowerCase() : value;
  if (isBlank(kind) || kind === 'none') return undefined;
  if (!CDN_KINDS.includes(kind as CdnKind)) {
    problems.add(`cdn must be ${CDN_KINDS.join(' or ')} (or none), got ${JSON.stringify(value)}`);
    return undefined;
  }
  if (regions.length > 2) {
    problems.add(`cdn=cloudfront takes one or two regions, got ${regions.length}: a CloudFront origin group has one primary and one failover origin`);
  }
  return kind as CdnKind;
}

/** `4`, `us-east-1=4,eu-west-1=3`, or a JSON object: every region gets a number. */
function parseMinCapacity(value: unknown, regions: readonly string[], problems: Problems): Record<string, number> {
  const parsed = parseJsonText(value);
  const byRegion: Record<string, number> = Object.fromEntries(regions.map((region) => [region, CONFIG_DEFAULTS.minCapacity]));
  if (isBlank(value)) return byRegion;
  if (typeof parsed === 'number' || (typeof parsed === 'string' && !parsed.includes('='))) {
    const all = integer(parsed, 'minCapacity', CONFIG_DEFAULTS.minCapacity, 1, problems);
    return Object.fromEntries(regions.map((region) => [region, all]));
  }
  const entries =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? Object.entries(parsed)
      : typeof parsed === 'string'
        ? parsed
            .split(',')
            .map((entry) => entry.trim())
            .filter(Boolean)
            .map((entry) => entry.split('='))
        : undefined;
  if (!entries) {
    problems.add(`minCapacity must be a number, region=number pairs or a JSON object, got ${JSON.stringify(value)}`);
    return byRegion;
  }
  for (const [region, count] of entries) {
    const name = String(region).trim();
    if (!regions.includes(name)) problems.add(`minCapacity names region "${name}", which is not in regions (${regions.join(', ')})`);
    else byRegion[name] = integer(count, `minCapacity for ${name}`, CONFIG_DEFAULTS.minCapacity, 1, problems);
  }
  return byRegion;
}

/**
 * `eventWindows`: a JSON array of `{ start, end, minCapacity }`. Windows that have ended are
 * dropped (Auto Scaling refuses a schedule in the past); `now` is the synth's clock.
 */
function parseEventWindows(value: unknown, now: number, problems: Problems): EventWindow[] {
  if (isBlank(value)) return [];
  const parsed = parseJsonText(value);
  if (!Array.isArray(parsed)) {
    problems.add(`eventWindows must be a JSON array of {"start","end","minCapacity"}, got ${JSON.stringify(value)}`);
    return [];
  }
  const windows: EventWindow[] = [];
  for (const [index, entry] of parsed.entries()) {
    const where = `eventWindows[${index}]`;
    const window = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const start = Date.parse(String(window.start));
    const end = Date.parse(String(window.end));
    if (Number.isNaN(start) || Number.isNaN(end) || end <= start) {
      problems.add(`${where}: start and end must be ISO 8601 times, end after start, got ${JSON.stringify(entry)}`);
      continue;
    }
    const minCapacity = integer(window.minCapacity, `${where}.minCapacity`, 0, 1, problems);
    if (minCapacity === 0) problems.add(`${where}.minCapacity is required`);
    if (end <= now) continue;
    windows.push({ start: new Date(start).toISOString(), end: new Date(end).toISOString(), minCapacity });
  }
  const sorted = windows.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  for (let i = 1; i < sorted.length; i++) {
    if (Date.parse(sorted[i]!.start) < Date.parse(sorted[i - 1]!.end)) problems.add(`eventWindows overlap: ${sorted[i - 1]!.start} and ${sorted[i]!.start}`);
  }
  return sorted;
}

const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/;
const PATCH_EPOCH = /^[A-Za-z0-9._-]{1,64}$/;
const SECRET_VERSION_ID = /^[A-Za-z0-9-]{32,64}$/;

/** Validates raw context into the typed configuration; throws `ConfigError` listing every problem. */
export function parseConfig(raw: RawContext, now: number = Date.now()): LiveOriginConfig {
  const problems = new Problems();
  const regions = parseRegions(raw.regions, problems);

  const homeRegion = text(raw.homeRegion, 'homeRegion', problems) ?? defaultPrimaryRegion(regions) ?? '';
  if (regions.length > 0 && !regions.includes(homeRegion)) {
    problems.add(`homeRegion "${homeRegion}" must be one of regions (${regions.join(', ')})`);
  }
  const primaryRegion = text(raw.primaryRegion, 'primaryRegion', problems) ?? homeRegion;
  if (regions.length > 0 && !regions.includes(primaryRegion)) {
    problems.add(`primaryRegion "${primaryRegion}" must be one of regions (${regions.join(', ')})`);
  }
  const ordered = [homeRegion, ...regions.filter((region) => region !== homeRegion)].filter((r) => regions.includes(r));

  const account = text(raw.account, 'account', problems);
  if (account !== undefined && !ACCOUNT.test(account)) problems.add(`account must be a 12-digit AWS account id, got "${account}"`);

  const instanceType = text(raw.instanceType, 'instanceType', problems) ?? CONFIG_DEFAULTS.instanceType;
  if (!isGravitonInstanceType(instanceType)) {
    problems.add(`instanceType "${instanceType}" must be a Graviton (arm64) type such as c7g.large: the AMI is arm64`);
  }

  const minCapacity = parseMinCapacity(raw.minCapacity, regions, problems);
  const largestMin = Math.max(0, ...Object.values(minCapacity));
  const maxCapacity = integer(raw.maxCapacity, 'maxCapacity', Math.max(CONFIG_DEFAULTS.maxCapacity, largestMin), 1, problems);
  if (maxCapacity < largestMin) problems.add(`maxCapacity (${maxCapacity}) must be >= minCapacity (${largestMin})`);
  const eventWindows = parseEventWindows(raw.eventWindows, now, problems);
  for (const window of eventWindows) {
    if (window.minCapacity > maxCapacity)
      problems.add(`eventWindows at ${window.start}: minCapacity ${window.minCapacity} is above maxCapacity (${maxCapacity})`);
  }
  const loadBalancerCapacityUnits = integer(raw.loadBalancerCapacityUnits, 'loadBalancerCapacityUnits', CONFIG_DEFAULTS.loadBalancerCapacityUnits, 0, problems);
  if (loadBalancerCapacityUnits > 0 && loadBalancerCapacityUnits < 100) {
    problems.add(
      `loadBalancerCapacityUnits must be 0 (none) or at least 100 (an Application Load Balancer's smallest reservation), got ${loadBalancerCapacityUnits}`,
    );
  }
  const ingestSources = isBlank(raw.ingestSources) ? [] : (parseList(raw.ingestSources) ?? []);
  for (const source of ingestSources) if (!CIDR.test(source)) problems.add(`ingestSources: "${source}" is not a CIDR block (like 203.0.113.0/24)`);
  const ingestRateLimit = integer(raw.ingestRateLimit, 'ingestRateLimit', CONFIG_DEFAULTS.ingestRateLimit, 0, problems);
  if (ingestRateLimit > 0 && ingestRateLimit < 10) problems.add(`ingestRateLimit must be 0 (none) or at least 10 (AWS WAF's floor), got ${ingestRateLimit}`);
  const patchEpoch = text(raw.patchEpoch, 'patchEpoch', problems) ?? CONFIG_DEFAULTS.patchEpoch;
  if (!PATCH_EPOCH.test(patchEpoch)) problems.add(`patchEpoch "${patchEpoch}" may only use letters, digits, . _ - (at most 64)`);
  const cdnSecretVersionId = text(raw.cdnSecretVersionId, 'cdnSecretVersionId', problems);
  if (cdnSecretVersionId !== undefined && !SECRET_VERSION_ID.test(cdnSecretVersionId)) {
    problems.add(`cdnSecretVersionId "${cdnSecretVersionId}" is not a Secrets Manager version id`);
  }

  const windowSegments = integer(raw.windowSegments, 'windowSegments', CONFIG_DEFAULTS.windowSegments, 1, problems);
  const segmentDurationMs = integer(raw.segmentDurationMs, 'segmentDurationMs', CONFIG_DEFAULTS.segmentDurationMs, 1, problems);

  const tablePrefix = text(raw.tablePrefix, 'tablePrefix', problems) ?? CONFIG_DEFAULTS.tablePrefix;
  if (!TABLE_PREFIX.test(tablePrefix)) problems.add(`tablePrefix "${tablePrefix}" may only use A-Z a-z 0-9 _ . -`);

  const secretName = text(raw.secretName, 'secretName', problems) ?? CONFIG_DEFAULTS.secretName;
  if (!SECRET_NAME.test(secretName)) problems.add(`secretName "${secretName}" is not a valid Secrets Manager name`);

  const dns = parseDns(raw, regions, problems);
  const vpcIds = parseVpcIds(raw.vpcId, regions, problems);
  const existingVpcs = parseExistingVpcs(vpcIds, raw.vpcAttributes, problems);
  const alarms = parseAlarms(raw, regions, problems);
  const cdn = parseCdn(raw.cdn, regions, problems);

  if (problems.list.length > 0) throw new ConfigError(problems.list);
  return {
    regions: ordered,
    homeRegion,
    primaryRegion,
    ...(dns ? { dns } : {}),
    ...(account ? { account } : {}),
    instanceType,
    minCapacity,
    maxCapacity,
    eventWindows,
    loadBalancerCapacityUnits,
    ingestSources,
    ingestRateLimit,
    patchEpoch,
    ...(cdnSecretVersionId ? { cdnSecretVersionId } : {}),
    windowSegments,
    segmentDurationMs,
    tablePrefix,
    secretName,
    existingVpcs,
    ...(cdn ? { cdn } : {}),
    alarms,
  };
}

/** Reads every key through `get` (for example `app.node.tryGetContext`) exactly once. */
export function readContext(get: (key: ContextKey) => unknown): RawContext {
  return Object.fromEntries(CONTEXT_KEYS.map((key) => [key, get(key)])) as RawContext;
}
