import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { FFMPEG } from './ffmpeg.js';

/**
 * A real LL-HLS packager for tests. ffmpeg encodes a test pattern in real time into fragmented
 * MP4 with one fragment per part (short GOP-aligned fragments on a pipe); this script cuts the
 * stream into the init segment, parts and whole segments, writes RFC 8216bis media playlists
 * (EXT-X-PART, EXT-X-PRELOAD-HINT, EXT-X-SERVER-CONTROL with CAN-BLOCK-RELOAD and
 * PART-HOLD-BACK) and PUTs everything to the origin's ingest URL, in publish order: a part,
 * then the segment it completes, then the playlist that names them.
 *
 * Epoch-locked: media time is rebased on the event's availability start time (the fragments'
 * decode times are rewritten), and segment and part numbers follow from media time alone, so two
 * packagers started at any time publish the same names for the same moments.
 */
export interface LlHlsPackagerOptions {
  /** `<origin>/ingest/<event>/<pipeline>`. */
  readonly ingestBase: string;
  readonly token: string;
  /** Epoch ms at which segment `startNumber` begins (the event's availability start time). */
  readonly astMs: number;
  readonly startNumber: number;
  readonly segmentMs: number;
  readonly partMs: number;
  readonly fps: number;
  /** How long this pipeline runs before it stops by itself. */
  readonly seconds: number;
  /** Whole segments a playlist lists. */
  readonly windowSegments?: number;
  /** Rendition directory under the event. */
  readonly dir?: string;
  /** PART-HOLD-BACK in part targets (default three; the RFC's minimum is two; fractions allowed). */
  readonly partHoldBackParts?: number;
}

export interface LlHlsPackager {
  /** Published objects by kind, for test assertions. */
  readonly published: { parts: number; segments: number; playlists: number; failures: number };
  /** Resolves when ffmpeg has ended and every PUT is done. */
  readonly done: Promise<void>;
  /** Kills the pipeline at once (a crash: no final playlist). */
  kill(): void;
}

const TIMESCALE = 90_000;
const DEFAULT_WINDOW_SEGMENTS = 6;
/** RFC 8216bis: a playlist keeps parts for about three target durations from its end. */
const PART_SEGMENTS_KEPT = 3;
/** PART-HOLD-BACK of three part targets by default (the RFC asks for at least two, Apple for three). */
const PART_HOLD_BACK_PARTS = 3;

interface Part {
  readonly msn: number;
  readonly index: number;
  readonly durationS: number;
  readonly independent: boolean;
}

interface Segment {
  readonly msn: number;
  readonly parts: Part[];
  complete: boolean;
}

/** Starts a pipeline at the next segment boundary of the event's timeline. */
export function startLlHlsPackager(options: LlHlsPackagerOptions): LlHlsPackager {
  const published = { parts: 0, segments: 0, playlists: 0, failures: 0 };
  const dir = options.dir ?? 'v';
  const windowSegments = options.windowSegments ?? DEFAULT_WINDOW_SEGMENTS;
  const partsPerSegment = Math.round(options.segmentMs / options.partMs);
  let child: ChildProcess | undefined;
  let killed = false;
  let queue: Promise<void> = Promise.resolve();
  const controller = new AbortController();

  const send = (path: string, body: Buffer | string, contentType: string): void => {
    queue = queue.then(async () => {
      if (killed) return;
      try {
        const res = await fetch(`${options.ingestBase}/${dir}/${path}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${options.token}`, 'content-type': contentType },
          body,
          signal: controller.signal,
        });
        await res.arrayBuffer();
        if (res.status >= 300) published.failures++;
      } catch {
        if (!killed) published.failures++;
      }
    });
  };

  const segments: Segment[] = [];
  let pendingSegmentBytes: Buffer[] = [];
  const playlist = (): string => {
    const whole = segments.filter((s) => s.complete).slice(-windowSegments);
    const open = segments.at(-1)?.complete === false ? segments.at(-1) : undefined;
    const first = whole[0]?.msn ?? open?.msn ?? options.startNumber;
    const lines = [
      '#EXTM3U',
      '#EXT-X-VERSION:9',
      `#EXT-X-TARGETDURATION:${Math.ceil(options.segmentMs / 1000)}`,
      `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${(((options.partHoldBackParts ?? PART_HOLD_BACK_PARTS) * options.partMs) / 1000).toFixed(3)}`,
      `#EXT-X-PART-INF:PART-TARGET=${(options.partMs / 1000).toFixed(3)}`,
      `#EXT-X-MEDIA-SEQUENCE:${first}`,
      '#EXT-X-MAP:URI="init.mp4"',
      `#EXT-X-PROGRAM-DATE-TIME:${new Date(options.astMs + (first - options.startNumber) * options.segmentMs).toISOString()}`,
    ];
    const lastMsn = open?.msn ?? whole.at(-1)?.msn ?? first;
    const partLines = (segment: Segment) =>
      segment.parts.map(
        (p) => `#EXT-X-PART:DURATION=${p.durationS.toFixed(3)},URI="filePart${p.msn}.${p.index}.mp4"${p.independent ? ',INDEPENDENT=YES' : ''}`,
      );
    for (const segment of whole) {
      if (segment.msn > lastMsn - PART_SEGMENTS_KEPT) lines.push(...partLines(segment));
      const duration = segment.parts.reduce((sum, p) => sum + p.durationS, 0);
      lines.push(`#EXTINF:${duration.toFixed(3)},`, `fileSequence${segment.msn}.mp4`);
    }
    if (open) lines.push(...partLines(open));
    const next = open ? { msn: open.msn, index: open.parts.length } : { msn: (whole.at(-1)?.msn ?? first - 1) + 1, index: 0 };
    lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="filePart${next.msn}.${next.index}.mp4"`);
    return `${lines.join('\n')}\n`;
  };

  const onFragment = (fragment: Buffer, baseTicks: number, samples: number): void => {
    const startMs = (baseTicks / TIMESCALE) * 1000;
    const msn = options.startNumber + Math.floor((startMs + 1) / options.segmentMs);
    const index = Math.floor(((startMs + 1) % options.segmentMs) / options.partMs);
    let segment = segments.at(-1);
    if (!segment || segment.msn !== msn) {
      // A segment cut short (the pipeline started mid-segment, or lost frames) still closes.
      if (segment && !segment.complete) closeSegment(segment);
      segment = { msn, parts: [], complete: false };
      segments.push(segment);
      if (segments.length > windowSegments + 2) segments.shift();
      pendingSegmentBytes = [];
    }
    const part: Part = { msn, index, durationS: samples / options.fps, independent: index === 0 };
    segment.parts.push(part);
    pendingSegmentBytes.push(fragment);
    send(`filePart${msn}.${index}.mp4`, fragment, 'video/mp4');
    published.parts++;
    if (index === partsPerSegment - 1) closeSegment(segment);
    send('index.m3u8', playlist(), 'application/vnd.apple.mpegurl');
    published.playlists++;
  };

  const closeSegment = (segment: Segment): void => {
    segment.complete = true;
    send(`fileSequence${segment.msn}.mp4`, Buffer.concat(pendingSegmentBytes), 'video/mp4');
    published.segments++;
  };

  const done = (async () => {
    // Start on a segment boundary of the event's timeline, so the first segment is whole.
    const sinceAst = Date.now() - options.astMs;
    const boundary = Math.ceil(sinceAst / options.segmentMs) * options.segmentMs;
    await new Promise((resolve) => setTimeout(resolve, boundary - sinceAst));
    if (killed) return;
    const offsetTicks = Math.round((boundary / 1000) * TIMESCALE);
    const gop = String(Math.round((options.fps * options.segmentMs) / 1000));
    child = spawn(
      FFMPEG,
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-nostdin',
        '-re',
        '-f',
        'lavfi',
        '-i',
        `testsrc2=size=320x180:rate=${options.fps}`,
        '-t',
        String(options.seconds),
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-tune',
        'zerolatency',
        '-pix_fmt',
        'yuv420p',
        '-g',
        gop,
        '-keyint_min',
        gop,
        '-sc_threshold',
        '0',
        '-video_track_timescale',
        String(TIMESCALE),
        '-f',
        'mp4',
        '-movflags',
        'frag_keyframe+empty_moov+default_base_moof',
        '-frag_duration',
        String(options.partMs * 1000),
        '-flush_packets',
        '1',
        'pipe:1',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let errors = '';
    child.stderr!.on('data', (chunk) => (errors += chunk));
    const reader = new Mp4FragmentReader(
      (init) => send('init.mp4', init, 'video/mp4'),
      (fragment, base, samples) => onFragment(fragment, base, samples),
      offsetTicks,
    );
    child.stdout!.on('data', (chunk: Buffer) => reader.push(chunk));
    const code = await new Promise<number | null>((resolve) => child!.once('exit', resolve));
    if (code !== 0 && !killed) throw new Error(`ffmpeg exited ${code}: ${errors}`);
    await queue;
  })();

  return {
    published,
    done,
    kill() {
      killed = true;
      controller.abort();
      child?.kill('SIGKILL');
    },
  };
}

/**
 * Cuts a fragmented MP4 byte stream into its init segment (ftyp + moov) and its fragments
 * (moof + mdat), rebasing each fragment's decode time (tfdt) by `offsetTicks`.
 */
class Mp4FragmentReader {
  private buffer: Buffer = Buffer.alloc(0);
  private init: Buffer[] = [];
  private moof: Buffer | undefined;
  private initSent = false;

  constructor(
    private readonly onInit: (init: Buffer) => void,
    private readonly onFragment: (fragment: Buffer, baseTicks: number, samples: number) => void,
    private readonly offsetTicks: number,
  ) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 8) return;
      let size = this.buffer.readUInt32BE(0);
      if (size === 1) {
        if (this.buffer.length < 16) return;
        size = Number(this.buffer.readBigUInt64BE(8));
      }
      if (size < 8 || this.buffer.length < size) return;
      const box = this.buffer.subarray(0, size);
      this.buffer = this.buffer.subarray(size);
      this.onBox(box.toString('latin1', 4, 8), Buffer.from(box));
    }
  }

  private onBox(type: string, box: Buffer): void {
    if (type === 'ftyp' || type === 'moov') {
      this.init.push(box);
      return;
    }
    if (type === 'moof') {
      if (!this.initSent) {
        this.initSent = true;
        this.onInit(Buffer.concat(this.init));
      }
      this.moof = box;
      return;
    }
    if (type === 'mdat' && this.moof) {
      const { base, samples } = rebaseMoof(this.moof, this.offsetTicks);
      this.onFragment(Buffer.concat([this.moof, box]), base, samples);
      this.moof = undefined;
    }
  }
}

/** Children of a box (its payload starts after `headerBytes`). */
function* children(box: Buffer, headerBytes: number): Generator<{ type: string; start: number; size: number }> {
  for (let at = headerBytes; at + 8 <= box.length; ) {
    const size = box.readUInt32BE(at);
    if (size < 8) return;
    yield { type: box.toString('latin1', at + 4, at + 8), start: at, size };
    at += size;
  }
}

/** Adds `offsetTicks` to the moof's tfdt in place; returns the new decode time and sample count. */
function rebaseMoof(moof: Buffer, offsetTicks: number): { base: number; samples: number } {
  let base = 0;
  let samples = 0;
  for (const traf of children(moof, 8)) {
    if (traf.type !== 'traf') continue;
    const trafBox = moof.subarray(traf.start, traf.start + traf.size);
    for (const child of children(trafBox, 8)) {
      const at = child.start;
      if (child.type === 'tfdt') {
        const version = trafBox.readUInt8(at + 8);
        if (version === 1) {
          base = Number(trafBox.readBigUInt64BE(at + 12)) + offsetTicks;
          trafBox.writeBigUInt64BE(BigInt(base), at + 12);
        } else {
          base = trafBox.readUInt32BE(at + 12) + offsetTicks;
          if (base > 0xffffffff) throw new Error('tfdt version 0 cannot hold the rebased decode time');
          trafBox.writeUInt32BE(base, at + 12);
        }
      } else if (child.type === 'trun') {
        samples += trafBox.readUInt32BE(at + 12);
      }
    }
  }
  return { base, samples };
}
