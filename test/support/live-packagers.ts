import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import type { PackagerOptions } from './ffmpeg.js';
import { basicCredentialsUrl, FFMPEG, hlsIngest } from './ffmpeg.js';

/**
 * Live packagers for browser players: ffmpeg encodes a test pattern in real time and PUTs
 * CMAF segments with HLS playlists (hls muxer) or a DASH manifest (dash muxer). Two with the
 * same options publish the same timeline (same names, numbers and media times).
 */

export type LivePackagerOptions = PackagerOptions;

function encoderArgs(options: LivePackagerOptions): string[] {
  const gop = String(options.fps * options.segmentSeconds);
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    '-re',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=320x180:rate=${options.fps}`,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-t',
    String(options.seconds),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
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
    '64k',
  ];
}

/** HLS fMP4 with PUT; program date-times so a player can tell its latency. */
export function startHlsPackager(options: LivePackagerOptions): ChildProcess {
  const ingest = hlsIngest(options);
  return spawn(
    FFMPEG,
    [
      ...encoderArgs(options),
      '-f',
      'hls',
      '-hls_time',
      String(options.segmentSeconds),
      '-hls_list_size',
      String(options.window ?? 0),
      '-hls_flags',
      options.window === undefined ? 'program_date_time' : 'program_date_time+delete_segments',
      '-ignore_io_errors',
      '1',
      '-hls_segment_type',
      'fmp4',
      '-hls_fmp4_init_filename',
      'init.mp4',
      '-start_number',
      '1',
      '-method',
      'PUT',
      ...ingest.args,
      '-hls_segment_filename',
      `${ingest.base}/v/seg_%d.m4s`,
      `${ingest.base}/v/index.m3u8`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

/**
 * DASH with ffmpeg's dash muxer over HTTP PUT; the token through the HTTP protocol's options:
 * a header, or (`basic`) `auth_type=basic` with the URL's credentials, sent up front.
 */
export function startDashPackager(options: LivePackagerOptions): ChildProcess {
  const basic = options.auth === 'basic';
  const base = basic ? basicCredentialsUrl(options.ingestBase, options.token) : options.ingestBase;
  return spawn(
    FFMPEG,
    [
      ...encoderArgs(options),
      '-f',
      'dash',
      '-seg_duration',
      String(options.segmentSeconds),
      ...(options.window === undefined ? ['-window_size', '0'] : ['-window_size', String(options.window), '-extra_window_size', '1']),
      '-use_template',
      '1',
      '-use_timeline',
      '1',
      '-ignore_io_errors',
      '1',
      '-method',
      'PUT',
      '-http_opts',
      basic ? 'auth_type=basic' : `headers=Authorization\\: Bearer ${options.token}`,
      `${base}/d/manifest.mpd`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

export interface LlDashPackagerOptions extends LivePackagerOptions {
  /** Seconds of media per CMAF chunk (a fragment, flushed as one chunk of the segment's PUT). */
  readonly fragmentSeconds: number;
  /** The player's target live latency, written into the MPD's ServiceDescription. */
  readonly targetLatencySeconds: number;
  /** The DASH UTCTiming source written into the MPD (the origin's /time, as players reach it). */
  readonly utcTimingUrl: string;
}

/**
 * Low-latency DASH with ffmpeg's dash muxer: chunked CMAF, one chunked PUT per segment (over a
 * persistent connection) flushed per fragment, an MPD whose segments say
 * `availabilityTimeComplete="false"` (dash.js then plays in its low-latency mode and fetches
 * segments as streams), with a ServiceDescription latency target and a UTCTiming source.
 * `-tune zerolatency` keeps the encoder from holding frames back (no lookahead, sliced threads).
 */
export function startLlDashPackager(options: LlDashPackagerOptions): ChildProcess {
  return spawn(
    FFMPEG,
    [
      ...encoderArgs(options),
      '-tune',
      'zerolatency',
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
      String(options.segmentSeconds),
      '-frag_type',
      'duration',
      '-frag_duration',
      String(options.fragmentSeconds),
      '-target_latency',
      String(options.targetLatencySeconds),
      '-utc_timing_url',
      options.utcTimingUrl,
      '-ignore_io_errors',
      '1',
      '-method',
      'PUT',
      '-http_persistent',
      '1',
      '-http_opts',
      `headers=Authorization\\: Bearer ${options.token}`,
      `${options.ingestBase}/d/manifest.mpd`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}
