import { median } from './hls-listing.js';

/**
 * What a DASH MPD (ISO/IEC 23009-1) names and declares for number-addressed segments: each
 * Representation's `SegmentTemplate@media` with its `$Number$`, the numbers its
 * `SegmentTimeline` lists, and the durations the packager declares (`@duration/@timescale`,
 * the timeline's `S@d`, `MPD@maxSegmentDuration`). A cheap tag scanner, not a validating XML
 * parser: a manifest is served as it was PUT, and what this reader does not understand
 * (`$Time$` templates, `BaseURL`, `SegmentList`) only leaves a rendition undeclared.
 */

export interface DashRepresentation {
  /** `SegmentTemplate@media` with `$RepresentationID$` and `$Bandwidth$` filled in; `$Number$` left. */
  readonly media: string;
  readonly startNumber: number;
  /** How many segments the `SegmentTimeline` lists; undefined without a timeline. */
  readonly listedCount?: number;
  /** The declared segment duration in ms (template `@duration`, else the timeline's median `S@d`). */
  readonly durationMs?: number;
}

export interface DashManifest {
  /** `MPD@type="dynamic"` (live); a static MPD lists everything it will ever list. */
  readonly dynamic: boolean;
  /** `MPD@availabilityStartTime` in epoch ms. */
  readonly availabilityStartTime?: number;
  /** `MPD@mediaPresentationDuration` in ms. */
  readonly presentationMs?: number;
  /** `MPD@maxSegmentDuration` in ms. */
  readonly maxSegmentMs?: number;
  /** `Period@start` of the last Period (the live one), in ms. */
  readonly periodStartMs: number;
  /** The last Period's Representations that address segments by `$Number$`. */
  readonly representations: readonly DashRepresentation[];
}

interface Element {
  readonly name: string;
  readonly attributes: ReadonlyMap<string, string>;
  readonly children: Element[];
}

const TAG = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g;
const ATTRIBUTE = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const NUMBER_IDENTIFIER = /\$Number(?:%0(\d+)d)?\$/;

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

function unescapeXml(value: string): string {
  return value.replace(/&(lt|gt|quot|apos|amp);/g, (_, entity: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[entity]!);
}

/** The document's element tree (comments, declarations and text dropped). */
function scan(text: string): Element | undefined {
  const root: Element = { name: '#root', attributes: new Map(), children: [] };
  const open: Element[] = [root];
  for (const match of text.replace(/<!--[\s\S]*?-->/g, '').matchAll(TAG)) {
    const [, closing, rawName, rawAttributes, selfClosing] = match as unknown as [string, string, string, string, string];
    const name = localName(rawName);
    if (closing) {
      let at = open.length - 1;
      while (at > 0 && open[at]!.name !== name) at--;
      if (at > 0) open.length = at;
      continue;
    }
    const attributes = new Map<string, string>();
    for (const attribute of rawAttributes.matchAll(ATTRIBUTE)) attributes.set(localName(attribute[1]!), unescapeXml(attribute[2] ?? attribute[3] ?? ''));
    const element: Element = { name, attributes, children: [] };
    open[open.length - 1]!.children.push(element);
    if (!selfClosing) open.push(element);
  }
  return root.children.find((element) => element.name === 'MPD');
}

/** An xs:duration as MPDs write it (`PT2S`, `PT1H0M4.5S`, `P1DT2H`), in ms. */
export function parseIsoDuration(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(value.trim());
  if (!match || value.trim() === 'P' || value.trim() === 'PT') return undefined;
  const [days, hours, minutes, secs] = match.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number];
  return Math.round((((days * 24 + hours) * 60 + minutes) * 60 + secs) * 1000);
}

function integer(value: string | undefined): number | undefined {
  return value !== undefined && /^\d{1,15}$/.test(value.trim()) ? Number(value.trim()) : undefined;
}

/** SegmentTemplate attributes and timeline, a child level overriding its parent (Period, AdaptationSet, Representation). */
interface Template {
  readonly attributes: ReadonlyMap<string, string>;
  readonly timeline?: Element;
}

function inherit(parent: Template | undefined, element: Element): Template | undefined {
  const template = element.children.find((child) => child.name === 'SegmentTemplate');
  if (!template) return parent;
  const timeline = template.children.find((child) => child.name === 'SegmentTimeline') ?? parent?.timeline;
  return { attributes: new Map([...(parent?.attributes ?? []), ...template.attributes]), timeline };
}

function representation(template: Template | undefined, element: Element): DashRepresentation | undefined {
  const media = template?.attributes.get('media');
  if (!template || !media || !NUMBER_IDENTIFIER.test(media)) return undefined;
  const timescale = integer(template.attributes.get('timescale')) || 1;
  const filled = media
    .replaceAll('$RepresentationID$', element.attributes.get('id') ?? '')
    .replaceAll('$Bandwidth$', element.attributes.get('bandwidth') ?? '')
    .replaceAll('$$', '$');
  const startNumber = integer(template.attributes.get('startNumber')) ?? 1;
  const duration = integer(template.attributes.get('duration'));
  if (!template.timeline) {
    return { media: filled, startNumber, durationMs: duration ? Math.round((duration * 1000) / timescale) : undefined };
  }
  let listedCount = 0;
  const durations: number[] = [];
  for (const s of template.timeline.children) {
    if (s.name !== 'S') continue;
    const d = integer(s.attributes.get('d'));
    // A negative @r (repeat to the next S or the period's end) is counted as one: the origin
    // only needs what is certainly listed.
    const repeat = integer(s.attributes.get('r')) ?? 0;
    listedCount += repeat + 1;
    if (d) durations.push(...Array<number>(Math.min(repeat + 1, 64)).fill(Math.round((d * 1000) / timescale)));
  }
  return { media: filled, startNumber, listedCount, durationMs: median(durations) };
}

export function readMpd(text: string): DashManifest | undefined {
  const mpd = scan(text);
  if (!mpd) return undefined;
  const periods = mpd.children.filter((child) => child.name === 'Period');
  const period = periods[periods.length - 1];
  const representations: DashRepresentation[] = [];
  if (period) {
    const periodTemplate = inherit(undefined, period);
    for (const set of period.children.filter((child) => child.name === 'AdaptationSet')) {
      const setTemplate = inherit(periodTemplate, set);
      for (const element of set.children.filter((child) => child.name === 'Representation')) {
        const found = representation(inherit(setTemplate, element), element);
        if (found) representations.push(found);
      }
    }
  }
  const ast = mpd.attributes.get('availabilityStartTime');
  const astMs = ast === undefined ? Number.NaN : Date.parse(ast);
  return {
    dynamic: mpd.attributes.get('type') === 'dynamic',
    availabilityStartTime: Number.isFinite(astMs) ? astMs : undefined,
    presentationMs: parseIsoDuration(mpd.attributes.get('mediaPresentationDuration')),
    maxSegmentMs: parseIsoDuration(mpd.attributes.get('maxSegmentDuration')),
    periodStartMs: parseIsoDuration(period?.attributes.get('start')) ?? 0,
    representations,
  };
}

/** The media URL of segment `n`: `$Number$` (or `$Number%05d$`, zero-padded) filled in. */
export function numberedMedia(media: string, n: number): string {
  return media.replace(NUMBER_IDENTIFIER, (_, width: string | undefined) => String(n).padStart(Number(width ?? 0), '0'));
}

/**
 * The highest number a Representation lists at `nowMs`: the last of its `SegmentTimeline`; for
 * a template without one, the newest segment the MPD's own clock makes available (its end at
 * or before now), or every segment of a static presentation. Undefined when the MPD does not say.
 */
export function lastListed(manifest: DashManifest, rendition: DashRepresentation, nowMs: number): number | undefined {
  if (rendition.listedCount !== undefined) return rendition.startNumber + rendition.listedCount - 1;
  const durationMs = rendition.durationMs;
  if (!durationMs) return undefined;
  if (!manifest.dynamic) {
    return manifest.presentationMs === undefined ? undefined : rendition.startNumber + Math.ceil(manifest.presentationMs / durationMs) - 1;
  }
  if (manifest.availabilityStartTime === undefined) return undefined;
  const available = Math.floor((nowMs - manifest.availabilityStartTime - manifest.periodStartMs) / durationMs);
  return rendition.startNumber + Math.max(0, available) - 1;
}
