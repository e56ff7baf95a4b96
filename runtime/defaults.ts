/**
 * Defaults that the runtime and the CDK app must agree on. The CDK app bundles the runtime, so
 * lib/ may import this module; the runtime never imports lib/. Constants only, no imports.
 */

/** The application's name: the prefix of every physical name it creates (tables, buckets, alarms). */
export const APP_NAME = 'live-origin';

/** Prefix of the DynamoDB table names when `LIVE_ORIGIN_TABLE_PREFIX` (context `tablePrefix`) is not set. */
export const DEFAULT_TABLE_PREFIX = `${APP_NAME}-`;
