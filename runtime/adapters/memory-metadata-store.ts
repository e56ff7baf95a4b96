import { DEFAULT_WINDOW_SEGMENTS } from '../domain/event-config.js';
import type { Candidate, EventConfig, EventState, Mask, PipelineState, RenditionDeclaration, RenditionState } from '../domain/model.js';
import { mergeNotifications } from '../domain/notifications.js';
import { QUALITY_HISTORY } from '../domain/quality.js';
import { keepRecentPublishes } from '../domain/timing.js';
import type { MetadataStore, ObjectRecord, PublishInfo } from '../ports/metadata-store.js';

export interface MemoryMetadataStoreOptions {
  /** Told of candidates dropped because their rendition moved more than windowSegments ahead. */
  readonly onEvict?: (candidate: Candidate) => void;
}

interface MutableEvent {
  event: string;
  createdAt: number;
  config: EventConfig;
  notifications: Record<string, string>;
  masks: Mask[];
  pipelines: Record<string, PipelineState>;
  renditions: Record<string, RenditionState>;
}

interface MutableObject {
  readonly candidates: Map<string, Candidate>;
  pinned?: string;
}

/**
 * Metadata in process memory. Each rendition keeps its newest `windowSegments` numbers; older
 * candidates are dropped (and reported, so their bytes go too).
 */
export class MemoryMetadataStore implements MetadataStore {
  private readonly events = new Map<string, MutableEvent>();
  private readonly objects = new Map<string, MutableObject>();
  /** event#rendition -> segment number -> paths of that number. */
  private readonly windows = new Map<string, RenditionWindow>();

  constructor(private readonly options: MemoryMetadataStoreOptions = {}) {}

  async getEvent(event: string): Promise<EventState | undefined> {
    return this.events.get(event);
  }

  async ensureEvent(event: string, at: number): Promise<boolean> {
    if (this.events.has(event)) return false;
    this.events.set(event, { event, createdAt: at, config: {}, notifications: {}, masks: [], pipelines: {}, renditions: {} });
    return true;
  }

  async putEventConfig(event: string, config: EventConfig, at: number): Promise<boolean> {
    const created = await this.ensureEvent(event, at);
    this.events.get(event)!.config = { ...config };
    return created;
  }

  async mergeNotifications(event: string, update: Readonly<Record<string, string>>): Promise<Readonly<Record<string, string>>> {
    const state = this.mustEvent(event);
    state.notifications = mergeNotifications(state.notifications, update);
    return state.notifications;
  }

  async addMask(event: string, mask: Mask): Promise<void> {
    const state = this.mustEvent(event);
    state.masks = [...state.masks, mask];
  }

  async recordPublish(event: string, info: PublishInfo): Promise<void> {
    const state = this.mustEvent(event);
    const previous = state.pipelines[info.pipeline];
    state.pipelines = {
      ...state.pipelines,
      [info.pipeline]: {
        pipeline: info.pipeline,
        lastIngestAt: info.at,
        edge: info.number === undefined ? previous?.edge : Math.max(previous?.edge ?? info.number, info.number),
        ingests: (previous?.ingests ?? 0) + 1,
        defective: (previous?.defective ?? 0) + (info.defective ? 1 : 0),
        ...recentQuality(previous?.recentQuality, info.quality),
      },
    };
    if (info.rendition === undefined || info.number === undefined) return;
    const rendition = state.renditions[info.rendition];
    if (rendition?.recent.some(([n]) => n === info.number)) return;
    const recent = keepRecentPublishes([...(rendition?.recent ?? []), [info.number, info.at]]);
    state.renditions = {
      ...state.renditions,
      [info.rendition]: { ...rendition, rendition: info.rendition, width: Math.max(rendition?.width ?? 0, info.width ?? 0), recent },
    };
  }

  async recordDeclared(event: string, declarations: readonly RenditionDeclaration[]): Promise<void> {
    const state = this.mustEvent(event);
    const renditions = { ...state.renditions };
    for (const { rendition, playlist, declaredMs } of declarations) {
      const { declaredMs: _replaced, ...known } = renditions[rendition] ?? { rendition, width: 0, recent: [] };
      renditions[rendition] = { ...known, playlist, ...(declaredMs === undefined ? {} : { declaredMs }) };
    }
    state.renditions = renditions;
  }

  async getObject(event: string, path: string): Promise<ObjectRecord> {
    const object = this.objects.get(objectId(event, path));
    if (!object) return { candidates: [] };
    return { candidates: [...object.candidates.values()], pinned: object.pinned };
  }

  async putCandidate(candidate: Candidate): Promise<Candidate | undefined> {
    const id = objectId(candidate.event, candidate.path);
    let object = this.objects.get(id);
    if (!object) {
      object = { candidates: new Map() };
      this.objects.set(id, object);
    }
    const previous = object.candidates.get(candidate.pipeline);
    object.candidates.set(candidate.pipeline, candidate);
    if (candidate.rendition !== undefined && candidate.number !== undefined) this.slide(candidate);
    return previous;
  }

  async setDefects(event: string, pipeline: string, path: string, defects: readonly string[]): Promise<Candidate | undefined> {
    const object = this.objects.get(objectId(event, path));
    const current = object?.candidates.get(pipeline);
    if (!object || !current) return undefined;
    const updated = { ...current, defects: [...defects] };
    object.candidates.set(pipeline, updated);
    return updated;
  }

  async setQuality(event: string, pipeline: string, path: string, quality: number): Promise<Candidate | undefined> {
    const object = this.objects.get(objectId(event, path));
    const current = object?.candidates.get(pipeline);
    if (!object || !current) return undefined;
    const updated = { ...current, quality };
    object.candidates.set(pipeline, updated);
    return updated;
  }

  async deleteCandidate(event: string, pipeline: string, path: string): Promise<Candidate | undefined> {
    const id = objectId(event, path);
    const object = this.objects.get(id);
    const current = object?.candidates.get(pipeline);
    if (!object || !current) return undefined;
    object.candidates.delete(pipeline);
    if (object.candidates.size === 0 && object.pinned === undefined) this.objects.delete(id);
    return current;
  }

  async swapPin(event: string, path: string, expected: string | undefined, next: string): Promise<string> {
    const id = objectId(event, path);
    let object = this.objects.get(id);
    if (!object) {
      object = { candidates: new Map() };
      this.objects.set(id, object);
    }
    if (object.pinned === expected) object.pinned = next;
    return object.pinned!;
  }

  async dropPin(event: string, path: string, expected: string): Promise<void> {
    const object = this.objects.get(objectId(event, path));
    if (object?.pinned === expected) object.pinned = undefined;
  }

  async clearPins(event: string): Promise<void> {
    const prefix = `${event}#`;
    for (const [id, object] of this.objects) {
      if (id.startsWith(prefix)) object.pinned = undefined;
    }
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.events.clear();
    this.objects.clear();
    this.windows.clear();
  }

  private mustEvent(event: string): MutableEvent {
    const state = this.events.get(event);
    if (!state) throw new Error(`event ${event} does not exist`);
    return state;
  }

  /** Adds the candidate's number to its rendition window and drops numbers that fell out of it. */
  private slide(candidate: Candidate): void {
    const windowId = `${candidate.event}#${candidate.rendition}`;
    let window = this.windows.get(windowId);
    if (!window) {
      window = { numbers: [], paths: new Map() };
      this.windows.set(windowId, window);
    }
    const number = candidate.number!;
    const paths = window.paths.get(number);
    if (paths) paths.add(candidate.path);
    else {
      window.paths.set(number, new Set([candidate.path]));
      insertSorted(window.numbers, number);
    }
    const limit = this.events.get(candidate.event)?.config.windowSegments ?? DEFAULT_WINDOW_SEGMENTS;
    if (window.numbers.length <= limit) return;
    for (const n of window.numbers.splice(0, window.numbers.length - limit)) {
      for (const path of window.paths.get(n)!) {
        const object = this.objects.get(objectId(candidate.event, path));
        this.objects.delete(objectId(candidate.event, path));
        for (const dropped of object?.candidates.values() ?? []) this.options.onEvict?.(dropped);
      }
      window.paths.delete(n);
    }
  }
}

/**
 * A rendition's numbered objects: the numbers in ascending order (live numbers arrive in order,
 * so an insert is usually an append, never a sort of the window), and each number's paths.
 */
interface RenditionWindow {
  readonly numbers: number[];
  readonly paths: Map<number, Set<string>>;
}

/** Inserts `value` (not yet present) into the ascending array. */
function insertSorted(numbers: number[], value: number): void {
  if (numbers.length === 0 || value > numbers[numbers.length - 1]!) {
    numbers.push(value);
    return;
  }
  let low = 0;
  let high = numbers.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (numbers[middle]! < value) low = middle + 1;
    else high = middle;
  }
  numbers.splice(low, 0, value);
}

/** A pipeline's recent scores with a new one appended (the newest QUALITY_HISTORY), as a field to spread. */
function recentQuality(previous: readonly number[] | undefined, score: number | undefined): { recentQuality?: readonly number[] } {
  if (score === undefined) return previous ? { recentQuality: previous } : {};
  return { recentQuality: [...(previous ?? []), score].slice(-QUALITY_HISTORY) };
}

function objectId(event: string, path: string): string {
  return `${event}#${path}`;
}
