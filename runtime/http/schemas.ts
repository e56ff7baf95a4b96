import { EVENT_ID, PIPELINE_ID } from '../domain/object-path.js';

/**
 * Route parameter schemas: bad identifiers are rejected (400) before any handler runs, by the
 * identifier rules of the domain (domain/object-path.ts), not a copy of them.
 */
export const EVENT_PATTERN = EVENT_ID.source;
export const PIPELINE_PATTERN = PIPELINE_ID.source;

export const eventParams = {
  type: 'object',
  properties: { event: { type: 'string', pattern: EVENT_PATTERN } },
  required: ['event'],
} as const;

export const eventObjectParams = {
  type: 'object',
  properties: { event: { type: 'string', pattern: EVENT_PATTERN }, '*': { type: 'string' } },
  required: ['event', '*'],
} as const;

export const ingestParams = {
  type: 'object',
  properties: {
    event: { type: 'string', pattern: EVENT_PATTERN },
    pipeline: { type: 'string', pattern: PIPELINE_PATTERN },
    '*': { type: 'string' },
  },
  required: ['event', 'pipeline', '*'],
} as const;

export interface EventParams {
  event: string;
}
export interface EventObjectParams {
  event: string;
  '*': string;
}
export interface IngestParams {
  event: string;
  pipeline: string;
  '*': string;
}
