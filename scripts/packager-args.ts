/**
 * The ffmpeg arguments of the project's live packagers: a test pattern encoded in real time, and
 * the muxers that PUT it to an origin (HLS with fMP4 segments, low-latency DASH). The demo and
 * the tests' packagers share these; each adds where it publishes and how it presents its token.
 */

export interface TestPattern {
  readonly fps: number;
  /** A key frame starts every segment of this many seconds. */
  readonly segmentSeconds: number;
  /** Frame size, `WIDTHxHEIGHT`. */
  readonly size: string;
  /** libx264's preset. */
  readonly preset: string;
  /** AAC bit rate, as ffmpeg spells it (`64k`). */
  readonly audioBitrate: string;
  /** Stops after this many seconds of media. @default runs until stopped */
  readonly seconds?: number;
  /** A video filter over the pattern (the demo burns in the pipeline's name and the clock). */
  readonly videoFilter?: string;
  /**
   * `-tune zerolatency`: no lookahead and sliced threads, so the encoder holds no frames back
   * and a fragment leaves as soon as its frames are encoded. @default false
   */
  readonly zeroLatency?: boolean;
}

/** Input (test pattern and tone, read in real time) and encoder arguments. */
export function testPatternArgs(pattern: TestPattern): string[] {
  const gop = String(pattern.fps * pattern.segmentSeconds);
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    '-re',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${pattern.size}:rate=${pattern.fps}`,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    ...(pattern.seconds === undefined ? [] : ['-t', String(pattern.seconds)]),
    ...(pattern.videoFilter === undefined ? [] : ['-vf', pattern.videoFilter]),
    '-c:v',
    'libx264',
    '-preset',
    pattern.preset,
    ...(pattern.zeroLatency ? ['-tune', 'zerolatency'] : []),
    '-pix_fmt',
    'yuv420p',
    '-g',
    gop,
    '-keyint_min',
    gop,
    '-sc_threshold',
    '0',
    '-c:a',
    'aac',
    '-b:a',
    pattern.audioBitrate,
  ];
}

export interface HlsMuxing {
  readonly segmentSeconds: number;
  /** Segments the playlist keeps (0: all). */
  readonly listSize: number;
  /** `-hls_flags` (`program_date_time`, `delete_segments`, ...). */
  readonly flags: string;
  /** Arguments that carry the token (`-headers`); none when the URL has credentials. */
  readonly authArgs: readonly string[];
  /** `.../ingest/{event}/{pipeline}`: segments go to `v/seg_{n}.m4s` under it. */
  readonly ingestBase: string;
  /** The playlist's path under `ingestBase`. */
  readonly playlist: string;
}

/** The hls muxer: fMP4 segments numbered from 1 and the playlist, each PUT once written. */
export function hlsMuxerArgs(muxing: HlsMuxing): string[] {
  return [
    '-f',
    'hls',
    '-hls_time',
    String(muxing.segmentSeconds),
    '-hls_list_size',
    String(muxing.listSize),
    '-hls_flags',
    muxing.flags,
    '-hls_segment_type',
    'fmp4',
    '-hls_fmp4_init_filename',
    'init.mp4',
    '-start_number',
    '1',
    '-ignore_io_errors',
    '1',
    '-method',
    'PUT',
    ...muxing.authArgs,
    '-hls_segment_filename',
    `${muxing.ingestBase}/v/seg_%d.m4s`,
    `${muxing.ingestBase}/${muxing.playlist}`,
  ];
}

export interface LlDashMuxing {
  readonly segmentSeconds: number;
  /** Seconds of media per CMAF chunk (a fragment, flushed as one chunk of the segment's PUT). */
  readonly fragmentSeconds: number;
  /** The player's target live latency, written into the MPD's ServiceDescription. */
  readonly targetLatencySeconds: number;
  /** The DASH UTCTiming source written into the MPD (the origin's /time, as players reach it). */
  readonly utcTimingUrl: string;
  /** Segments the MPD keeps. @default ffmpeg's */
  readonly windowSegments?: number;
  /** The HTTP protocol's options: a header (`headers=Authorization\: Bearer ...`) or `auth_type=basic`. */
  readonly httpOptions: string;
  /** Where the MPD goes; segments go beside it. */
  readonly manifestUrl: string;
}

/**
 * Low-latency DASH with ffmpeg's dash muxer: chunked CMAF, one chunked PUT per segment over a
 * persistent connection, flushed per fragment, and an MPD whose segments say
 * `availabilityTimeComplete="false"` (dash.js then plays in its low-latency mode and fetches
 * segments as streams), with a ServiceDescription latency target and a UTCTiming source.
 */
export function llDashMuxerArgs(muxing: LlDashMuxing): string[] {
  return [
    '-f',
    'dash',
    '-ldash',
    '1',
    '-streaming',
    '1',
    '-use_template',
    '1',
    '-use_timeline',
    '0',
    '-seg_duration',
    String(muxing.segmentSeconds),
    '-frag_type',
    'duration',
    '-frag_duration',
    String(muxing.fragmentSeconds),
    '-target_latency',
    String(muxing.targetLatencySeconds),
    '-utc_timing_url',
    muxing.utcTimingUrl,
    ...(muxing.windowSegments === undefined ? [] : ['-window_size', String(muxing.windowSegments)]),
    '-ignore_io_errors',
    '1',
    '-method',
    'PUT',
    '-http_persistent',
    '1',
    '-http_opts',
    muxing.httpOptions,
    muxing.manifestUrl,
  ];
}
