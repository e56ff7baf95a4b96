/**
 * Names that more than one stack must agree on without a cross-stack reference: a region's
 * segment bucket (its peers write to it), its composite alarm (Route 53 follows it), the tables.
 * Deterministic names remove the need for reference cycles between regions.
 */
import { TABLE_SUFFIXES } from '../runtime/aws-contract.js';

/** The application's name, used as the prefix of every physical name. */
export const APP_NAME = 'live-origin';

/**
 * The segment bucket of `region`. Bucket names are global, so the account is part of the name;
 * pass `Aws.ACCOUNT_ID` (a token) when the stacks are account-agnostic: all regions deploy into
 * the same account, so the token resolves to the same value in every stack.
 */
export function segmentBucketName(account: string, region: string): string {
  return `${APP_NAME}-segments-${account}-${region}`;
}

/** The composite alarm that says whether `region` can serve; fixed so Route 53 can name it. */
export function regionHealthAlarmName(region: string): string {
  return `${APP_NAME}-${region}-region-health`;
}

/** The CloudWatch dashboard of `region`. */
export function dashboardName(region: string): string {
  return `${APP_NAME}-${region}`;
}

/** Every metadata table's physical name, keyed like `TABLE_SUFFIXES`. */
export function tableNames(prefix: string): Record<keyof typeof TABLE_SUFFIXES, string> {
  const entries = Object.entries(TABLE_SUFFIXES).map(([key, suffix]) => [key, `${prefix}${suffix}`]);
  return Object.fromEntries(entries) as Record<keyof typeof TABLE_SUFFIXES, string>;
}

/** Stack names: one data and one origin stack per region, one DNS stack. */
export const STACK_NAMES = {
  data: (region: string) => `LiveOrigin-Data-${region}`,
  origin: (region: string) => `LiveOrigin-Origin-${region}`,
  dns: 'LiveOrigin-Dns',
} as const;
