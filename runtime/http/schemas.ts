/** Route parameter schemas: bad identifiers are rejected (400) before any handler runs. */
export const EVENT_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';
export const PIPELINE_PATTERN = '^[a-z0-9][a-z0-9-]{0,31}$';

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
