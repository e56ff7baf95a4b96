import { randomBytes } from 'node:crypto';
import { DEFAULT_TABLE_PREFIX } from './defaults.js';
import type { CorsPolicy } from './domain/cors.js';
import { corsPolicy } from './domain/cors.js';
import type { TokenGrants } from './domain/tokens.js';
import { parseTokenGrants } from './domain/tokens.js';
import type { LogFormat } from './log-format.js';

/** Defaults of the environment contract (docs/contract.md, "Configuration"; the README's table lists them). */
export const CONFIG_DEFAULTS = {
  port: 8080,
  host: '127.0.0.1',
  maxObjectBytes: 64 * 1024 * 1024,
  maxHeld: 20_000,
  memoryBytes: 1024 * 1024 * 1024,
  /** Requests per second per event before shedding (0: no budget). */
  eventRps: 0,
  tablePrefix: DEFAULT_TABLE_PREFIX,
  /** How long a draining node keeps serving with readiness 503 before closing (load balancer deregistration). */
  drainDelayMs: 0,
  /** Processes per host (aws mode); the AMI sets one per vCPU. */
  workers: 1,
  /** Re-reads of the credentials file: a revoked token stops within this of the file changing. */
  credentialsReloadMs: 30_000,
  /** Where other instances reach this one's relay (aws mode); the AMI sets the instance's private address. */
  relayHost: '127.0.0.1',
  /** The relay's port (worker i of a host listens on port + i); 0: any free port. */
  relayPort: 0,
} as const;

export interface RuntimeConfig {
  readonly port: number;
  readonly host: string;
  readonly store: 'memory' | 'aws';
  readonly bucket?: string;
  readonly tablePrefix: string;
  readonly region?: string;
  readonly peerBuckets: Readonly<Record<string, string>>;
  /**
   * Peer regions whose bucket lives on its own S3 endpoint (`region=bucket@http://host:port` in
   * LIVE_ORIGIN_PEER_BUCKETS): local twins of regions, each on its own S3 server. On AWS every
   * region's bucket is reached through the SDK's regional endpoint and this stays empty.
   */
  readonly peerEndpoints: Readonly<Record<string, string>>;
  /**
   * AWS_ENDPOINT_URL_S3 is set (the SDK's own variable, which it reads for the endpoint): a local
   * or S3-compatible server, which has no per-bucket host names, so buckets are addressed by path.
   */
  readonly s3PathStyle: boolean;
  readonly tokens: TokenGrants;
  /** Set when no LIVE_ORIGIN_TOKENS was given: the token generated for this run. */
  readonly generatedToken?: string;
  readonly cdnSecret?: string;
  /** LIVE_ORIGIN_CDN_SECRET_NEXT: accepted beside the current one while a rotation moves CDNs over. */
  readonly cdnSecretNext?: string;
  /**
   * LIVE_ORIGIN_CREDENTIALS_FILE: tokens and CDN secrets come from this JSON file (the keys of
   * the environment variables) and are read again every `credentialsReloadMs`; it replaces
   * LIVE_ORIGIN_TOKENS and the CDN secrets of the environment.
   */
  readonly credentialsFile?: string;
  /** LIVE_ORIGIN_CREDENTIALS_RELOAD_MS. */
  readonly credentialsReloadMs: number;
  readonly purgeUrls: readonly string[];
  /** LIVE_ORIGIN_CLOUDFRONT_DISTRIBUTION_ID: purges also become invalidations on this distribution. */
  readonly cloudFrontDistributionId?: string;
  readonly maxObjectBytes: number;
  readonly maxHeld: number;
  readonly memoryBytes: number;
  readonly eventRps: number;
  readonly drainDelayMs: number;
  /** LIVE_ORIGIN_WORKERS: processes on this host, each an instance (aws mode; memory mode runs one). */
  readonly workers: number;
  /**
   * LIVE_ORIGIN_RELAY_HOST and LIVE_ORIGIN_RELAY_PORT (aws mode): the private address and port
   * other instances read this one's PUTs from while they arrive.
   */
  readonly relayHost: string;
  readonly relayPort: number;
  /** Which worker of its host this process is (set by the primary; 0 for a single process). */
  readonly workerIndex: number;
  readonly logLevel: string;
  /** LOG_FORMAT: `json` or `pretty`; unset, the server picks pretty on a terminal and JSON otherwise. */
  readonly logFormat?: LogFormat;
  /** False when NO_COLOR is set (no-color.org): pretty logs without colours. */
  readonly logColors: boolean;
  /** LIVE_ORIGIN_CORS_ORIGINS: which pages may read delivery responses (default any). */
  readonly cors: CorsPolicy;
}

export class ConfigError extends Error {}

/** pino's levels; `silent` logs nothing. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];
/** The highest TCP port. */
const MAX_PORT = 65_535;

/** CloudFront distribution ids: upper-case letters and digits (E2QWRUHEXAMPLE). */
const CLOUDFRONT_DISTRIBUTION_ID = /^[A-Z0-9]{8,20}$/;

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new ConfigError(`${name} must be an integer ${range}, got "${raw}"`);
  }
  return value;
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[]): T | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

function pairs(env: NodeJS.ProcessEnv, name: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const entry of (env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [key, value] = entry.split('=');
    if (!key || !value) throw new ConfigError(`${name} entries must be key=value, got "${entry}"`);
    result[key] = value;
  }
  return result;
}

/** LIVE_ORIGIN_PEER_BUCKETS: `region=bucket` or `region=bucket@endpoint` entries. */
function peers(env: NodeJS.ProcessEnv): { buckets: Record<string, string>; endpoints: Record<string, string> } {
  const buckets: Record<string, string> = {};
  const endpoints: Record<string, string> = {};
  for (const [region, spec] of Object.entries(pairs(env, 'LIVE_ORIGIN_PEER_BUCKETS'))) {
    const at = spec.indexOf('@');
    const bucket = at < 0 ? spec : spec.slice(0, at);
    if (bucket === '') throw new ConfigError(`LIVE_ORIGIN_PEER_BUCKETS: no bucket for ${region}`);
    buckets[region] = bucket;
    if (at < 0) continue;
    const endpoint = spec.slice(at + 1).replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]+$/.test(endpoint)) {
      throw new ConfigError(`LIVE_ORIGIN_PEER_BUCKETS: the endpoint of ${region} must be an http(s) URL without a path, got "${endpoint}"`);
    }
    endpoints[region] = endpoint;
  }
  return { buckets, endpoints };
}

function cors(env: NodeJS.ProcessEnv): CorsPolicy {
  try {
    return corsPolicy((env.LIVE_ORIGIN_CORS_ORIGINS ?? '').split(','));
  } catch (error) {
    throw new ConfigError(`LIVE_ORIGIN_CORS_ORIGINS: ${(error as Error).message}`);
  }
}

/** The only reader of process.env: validates everything once, at start-up. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const store = env.LIVE_ORIGIN_STORE ?? 'memory';
  if (store !== 'memory' && store !== 'aws') throw new ConfigError(`LIVE_ORIGIN_STORE must be memory or aws, got "${store}"`);
  if (store === 'aws' && !env.LIVE_ORIGIN_BUCKET) throw new ConfigError('LIVE_ORIGIN_BUCKET is required when LIVE_ORIGIN_STORE=aws');
  if (store === 'aws' && !env.AWS_REGION) throw new ConfigError('AWS_REGION is required when LIVE_ORIGIN_STORE=aws');

  const peerBuckets = peers(env);
  const credentialsFile = env.LIVE_ORIGIN_CREDENTIALS_FILE?.trim() || undefined;
  let generatedToken: string | undefined;
  let tokenSpec = env.LIVE_ORIGIN_TOKENS ?? '';
  if (tokenSpec.trim() === '' && credentialsFile === undefined) {
    generatedToken = randomBytes(16).toString('hex');
    tokenSpec = `${generatedToken}=*`;
  }
  let tokens: TokenGrants = new Map();
  try {
    if (tokenSpec.trim() !== '') tokens = parseTokenGrants(tokenSpec);
  } catch (error) {
    throw new ConfigError(`LIVE_ORIGIN_TOKENS: ${(error as Error).message}`);
  }
  const purgeUrls = (env.LIVE_ORIGIN_PURGE_URLS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const url of purgeUrls) {
    if (!/^https?:\/\/[^/]+/.test(url)) throw new ConfigError(`LIVE_ORIGIN_PURGE_URLS entries must be http(s) URLs, got "${url}"`);
  }
  const cloudFrontDistributionId = env.LIVE_ORIGIN_CLOUDFRONT_DISTRIBUTION_ID?.trim() || undefined;
  if (cloudFrontDistributionId !== undefined && !CLOUDFRONT_DISTRIBUTION_ID.test(cloudFrontDistributionId)) {
    throw new ConfigError(`LIVE_ORIGIN_CLOUDFRONT_DISTRIBUTION_ID must be a distribution id like E2QWRUHEXAMPLE, got "${cloudFrontDistributionId}"`);
  }
  return {
    port: integer(env, 'PORT', CONFIG_DEFAULTS.port, 0, MAX_PORT),
    host: env.HOST || CONFIG_DEFAULTS.host,
    store,
    bucket: env.LIVE_ORIGIN_BUCKET || undefined,
    tablePrefix: env.LIVE_ORIGIN_TABLE_PREFIX || CONFIG_DEFAULTS.tablePrefix,
    region: env.AWS_REGION || undefined,
    s3PathStyle: env.AWS_ENDPOINT_URL_S3 !== undefined,
    peerBuckets: peerBuckets.buckets,
    peerEndpoints: peerBuckets.endpoints,
    tokens,
    generatedToken,
    cdnSecret: env.LIVE_ORIGIN_CDN_SECRET || undefined,
    cdnSecretNext: env.LIVE_ORIGIN_CDN_SECRET_NEXT || undefined,
    credentialsFile,
    credentialsReloadMs: integer(env, 'LIVE_ORIGIN_CREDENTIALS_RELOAD_MS', CONFIG_DEFAULTS.credentialsReloadMs, 10),
    purgeUrls: purgeUrls.map((url) => url.replace(/\/+$/, '')),
    cloudFrontDistributionId,
    maxObjectBytes: integer(env, 'LIVE_ORIGIN_MAX_OBJECT_BYTES', CONFIG_DEFAULTS.maxObjectBytes, 1),
    maxHeld: integer(env, 'LIVE_ORIGIN_MAX_HELD', CONFIG_DEFAULTS.maxHeld, 0),
    memoryBytes: integer(env, 'LIVE_ORIGIN_MEMORY_BYTES', CONFIG_DEFAULTS.memoryBytes, 1),
    eventRps: integer(env, 'LIVE_ORIGIN_EVENT_RPS', CONFIG_DEFAULTS.eventRps, 0),
    drainDelayMs: integer(env, 'LIVE_ORIGIN_DRAIN_DELAY_MS', CONFIG_DEFAULTS.drainDelayMs, 0),
    workers: integer(env, 'LIVE_ORIGIN_WORKERS', CONFIG_DEFAULTS.workers, 1),
    relayHost: env.LIVE_ORIGIN_RELAY_HOST || CONFIG_DEFAULTS.relayHost,
    relayPort: integer(env, 'LIVE_ORIGIN_RELAY_PORT', CONFIG_DEFAULTS.relayPort, 0, MAX_PORT),
    workerIndex: integer(env, 'LIVE_ORIGIN_WORKER_INDEX', 0, 0),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS) ?? 'info',
    logFormat: oneOf(env, 'LOG_FORMAT', LOG_FORMATS),
    logColors: !env.NO_COLOR,
    cors: cors(env),
  };
}
