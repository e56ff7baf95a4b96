import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { TABLE_PARTITION_KEY as PK, TABLE_SORT_KEY as SK, TABLE_TTL_ATTRIBUTE as TTL } from '../aws-contract.js';
import { DEFAULT_WINDOW_SEGMENTS } from '../domain/event-config.js';
import type { Candidate, EventConfig, EventState, InProgressCandidate, Mask, PipelineState, RenditionState } from '../domain/model.js';
import type { ObjectKind } from '../domain/object-path.js';
import { QUALITY_HISTORY } from '../domain/quality.js';
import { keepRecentPublishes } from '../domain/timing.js';

/**
 * How the origin's data maps onto the two tables (names and keys from aws-contract.ts).
 *
 * candidates: pk `${event}#${path}`; sk the pipeline id, or `#pin` for the pinned selection.
 *   So one Query returns an object's every candidate and its pin.
 * events: pk the event id; sk `config` (config JSON, createdAt, pin epoch), `notify` (one
 *   `n:<name>` attribute per notification), `mask#<createdAt>#<random>`, `pipeline#<id>`
 *   (stats), `rendition#<template>` (one `at:<number>` attribute per first publish; the
 *   declared duration `declaredMs` and the `playlist` that declared it).
 *   So one Query returns everything getEvent needs.
 */

export type Item = Record<string, AttributeValue>;

export const PIN_SORT_KEY = '#pin';
export const CONFIG_SORT_KEY = 'config';
export const NOTIFY_SORT_KEY = 'notify';
export const MASK_PREFIX = 'mask#';
export const PIPELINE_PREFIX = 'pipeline#';
export const RENDITION_PREFIX = 'rendition#';
/** `stream#<path>#<pipeline>`: a PUT being received by some instance (relayed while it arrives). */
export const STREAM_PREFIX = 'stream#';
/** A stream record DynamoDB may delete after this long, if its instance died before withdrawing it. */
export const STREAM_ITEM_RETENTION_S = 10 * 60;
/** Attribute-name prefixes inside the notify and rendition items. */
export const NOTIFY_ATTRIBUTE_PREFIX = 'n:';
export const PUBLISH_ATTRIBUTE_PREFIX = 'at:';

/** Candidates and masks live at least a day, longer for long windows (at 10 s per segment, the longest segment we expect). */
const MIN_RETENTION_S = 24 * 3600;
const RETENTION_S_PER_SEGMENT = 10;
/** Pipeline stats and rendition cadence items, refreshed by every publish. */
export const EVENT_ITEM_RETENTION_S = 30 * 24 * 3600;

export function objectPartition(event: string, path: string): string {
  return `${event}#${path}`;
}

/** Epoch seconds when DynamoDB may delete a candidate (or mask) written at `at` (epoch ms). */
export function candidateExpiry(at: number, config: EventConfig | undefined): number {
  const window = config?.windowSegments ?? DEFAULT_WINDOW_SEGMENTS;
  return Math.floor(at / 1000) + Math.max(MIN_RETENTION_S, window * RETENTION_S_PER_SEGMENT);
}

export const s = (value: string): AttributeValue => ({ S: value });
export const n = (value: number): AttributeValue => ({ N: String(value) });

function str(item: Item, name: string): string | undefined {
  return item[name]?.S;
}

function num(item: Item, name: string): number | undefined {
  const raw = item[name]?.N;
  return raw === undefined ? undefined : Number(raw);
}

export function candidateItem(candidate: Candidate, expiresAt: number): Item {
  const item: Item = {
    [PK]: s(objectPartition(candidate.event, candidate.path)),
    [SK]: s(candidate.pipeline),
    event: s(candidate.event),
    path: s(candidate.path),
    kind: s(candidate.kind),
    etag: s(candidate.etag),
    size: n(candidate.size),
    contentType: s(candidate.contentType),
    defects: { L: candidate.defects.map(s) },
    publishedAt: n(candidate.publishedAt),
    [TTL]: n(expiresAt),
  };
  if (candidate.number !== undefined) item.number = n(candidate.number);
  if (candidate.rendition !== undefined) item.rendition = s(candidate.rendition);
  if (candidate.quality !== undefined) item.quality = n(candidate.quality);
  return item;
}

export function candidateFromItem(item: Item): Candidate {
  const number = num(item, 'number');
  const rendition = str(item, 'rendition');
  const quality = num(item, 'quality');
  return {
    event: str(item, 'event')!,
    pipeline: str(item, SK)!,
    path: str(item, 'path')!,
    kind: str(item, 'kind') as ObjectKind,
    ...(number === undefined ? {} : { number }),
    ...(rendition === undefined ? {} : { rendition }),
    etag: str(item, 'etag')!,
    size: num(item, 'size')!,
    contentType: str(item, 'contentType')!,
    defects: (item.defects?.L ?? []).map((value) => value.S!),
    ...(quality === undefined ? {} : { quality }),
    publishedAt: num(item, 'publishedAt')!,
  };
}

export function streamKey(candidate: Pick<InProgressCandidate, 'event' | 'path' | 'pipeline'>): Item {
  return { [PK]: s(candidate.event), [SK]: s(`${STREAM_PREFIX}${candidate.path}#${candidate.pipeline}`) };
}

export function streamItem(candidate: InProgressCandidate, relay: string): Item {
  const item: Item = {
    ...streamKey(candidate),
    pipeline: s(candidate.pipeline),
    path: s(candidate.path),
    kind: s(candidate.kind),
    contentType: s(candidate.contentType),
    defects: { L: candidate.defects.map(s) },
    startedAt: n(candidate.startedAt),
    relay: s(relay),
    [TTL]: n(Math.floor(candidate.startedAt / 1000) + STREAM_ITEM_RETENTION_S),
  };
  if (candidate.number !== undefined) item.number = n(candidate.number);
  if (candidate.rendition !== undefined) item.rendition = s(candidate.rendition);
  if (candidate.declaredSize !== undefined) item.declaredSize = n(candidate.declaredSize);
  // The score travels with the record: another instance selecting among arriving copies (and
  // its relayed answer's Live-Quality) must see the score the PUT declared, not an assumed 100.
  if (candidate.quality !== undefined) item.quality = n(candidate.quality);
  return item;
}

export function streamFromItem(event: string, item: Item): { candidate: InProgressCandidate; relay: string } {
  const number = num(item, 'number');
  const rendition = str(item, 'rendition');
  const declaredSize = num(item, 'declaredSize');
  const quality = num(item, 'quality');
  return {
    relay: str(item, 'relay')!,
    candidate: {
      event,
      pipeline: str(item, 'pipeline')!,
      path: str(item, 'path')!,
      kind: str(item, 'kind') as ObjectKind,
      ...(number === undefined ? {} : { number }),
      ...(rendition === undefined ? {} : { rendition }),
      contentType: str(item, 'contentType')!,
      ...(declaredSize === undefined ? {} : { declaredSize }),
      defects: (item.defects?.L ?? []).map((value) => value.S!),
      ...(quality === undefined ? {} : { quality }),
      startedAt: num(item, 'startedAt')!,
      inProgress: true,
    },
  };
}

/** A pin is in force only while its epoch is the event's (clearPins moves the epoch on). */
export interface StoredPin {
  readonly pipeline: string;
  readonly epoch: number;
}

export function pinFromItem(item: Item): StoredPin {
  return { pipeline: str(item, 'pipeline')!, epoch: num(item, 'epoch') ?? 0 };
}

export function maskItem(event: string, mask: Mask, random: string, expiresAt: number): Item {
  const item: Item = {
    [PK]: s(event),
    [SK]: s(`${MASK_PREFIX}${String(mask.createdAt).padStart(15, '0')}#${random}`),
    createdAt: n(mask.createdAt),
    [TTL]: n(expiresAt),
  };
  if (mask.from !== undefined) item.from = n(mask.from);
  if (mask.to !== undefined) item.to = n(mask.to);
  if (mask.paths !== undefined) item.paths = { L: mask.paths.map(s) };
  if (mask.pipeline !== undefined) item.pipeline = s(mask.pipeline);
  return item;
}

function maskFromItem(item: Item): Mask {
  const from = num(item, 'from');
  const to = num(item, 'to');
  const pipeline = str(item, 'pipeline');
  return {
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    ...(item.paths?.L ? { paths: item.paths.L.map((value) => value.S!) } : {}),
    ...(pipeline === undefined ? {} : { pipeline }),
    createdAt: num(item, 'createdAt')!,
  };
}

export function pipelineFromItem(item: Item): PipelineState {
  const edge = num(item, 'edge');
  const scores = qualityScores(item);
  return {
    pipeline: str(item, SK)!.slice(PIPELINE_PREFIX.length),
    lastIngestAt: num(item, 'lastIngestAt') ?? 0,
    ...(edge === undefined ? {} : { edge }),
    ingests: num(item, 'ingests') ?? 0,
    defective: num(item, 'defective') ?? 0,
    ...(scores.length === 0 ? {} : { recentQuality: scores.slice(-QUALITY_HISTORY) }),
  };
}

/** The pipeline item's `recentQuality` list, oldest first (may exceed the history until trimmed). */
export function qualityScores(item: Item): number[] {
  return (item.recentQuality?.L ?? []).map((value) => Number(value.N));
}

/** Every first publish kept in a rendition item, ascending by number (may exceed the history until trimmed). */
export function renditionPublishes(item: Item): [number, number][] {
  const publishes: [number, number][] = [];
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(PUBLISH_ATTRIBUTE_PREFIX)) publishes.push([Number(name.slice(PUBLISH_ATTRIBUTE_PREFIX.length)), Number(value.N)]);
  }
  return publishes.sort((a, b) => a[0] - b[0]);
}

export function renditionFromItem(item: Item): RenditionState {
  const declaredMs = num(item, 'declaredMs');
  const playlist = str(item, 'playlist');
  return {
    rendition: str(item, SK)!.slice(RENDITION_PREFIX.length),
    width: num(item, 'width') ?? 0,
    recent: keepRecentPublishes(renditionPublishes(item)),
    ...(declaredMs === undefined ? {} : { declaredMs }),
    ...(playlist === undefined ? {} : { playlist }),
  };
}

export function notificationsFromItem(item: Item): Record<string, string> {
  const notifications: Record<string, string> = {};
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(NOTIFY_ATTRIBUTE_PREFIX) && value.S !== undefined) notifications[name.slice(NOTIFY_ATTRIBUTE_PREFIX.length)] = value.S;
  }
  return notifications;
}

/** The event as getEvent returns it, with its pin epoch; undefined without a config item (unknown event). */
export interface EventRecord {
  readonly state: EventState | undefined;
  readonly pinEpoch: number;
}

export function eventFromItems(event: string, items: readonly Item[]): EventRecord {
  let config: Item | undefined;
  let notifications: Record<string, string> = {};
  const masks: Mask[] = [];
  const pipelines: Record<string, PipelineState> = {};
  const renditions: Record<string, RenditionState> = {};
  for (const item of items) {
    const sk = str(item, SK)!;
    if (sk === CONFIG_SORT_KEY) config = item;
    else if (sk === NOTIFY_SORT_KEY) notifications = notificationsFromItem(item);
    else if (sk.startsWith(MASK_PREFIX)) masks.push(maskFromItem(item));
    else if (sk.startsWith(PIPELINE_PREFIX)) {
      const state = pipelineFromItem(item);
      pipelines[state.pipeline] = state;
    } else if (sk.startsWith(RENDITION_PREFIX)) {
      const state = renditionFromItem(item);
      renditions[state.rendition] = state;
    }
  }
  if (!config) return { state: undefined, pinEpoch: 0 };
  return {
    pinEpoch: num(config, 'pinEpoch') ?? 0,
    state: {
      event,
      createdAt: num(config, 'createdAt') ?? 0,
      config: JSON.parse(str(config, 'config') ?? '{}') as EventConfig,
      notifications,
      masks,
      pipelines,
      renditions,
    },
  };
}
