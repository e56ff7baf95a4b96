import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import type { LlDashMuxing } from '../../scripts/packager-args.js';
import { hlsMuxerArgs, llDashMuxerArgs, testPatternArgs } from '../../scripts/packager-args.js';
import type { PackagerOptions } from './ffmpeg.js';
import { basicCredentialsUrl, FFMPEG, hlsIngest } from './ffmpeg.js';

/**
 * Live packagers for browser players: ffmpeg encodes a test pattern in real time and PUTs
 * CMAF segments with HLS playlists (hls muxer) or a DASH manifest (dash muxer). Two with the
 * same options publish the same timeline (same names, numbers and media times).
 */

export type LivePackagerOptions = PackagerOptions;

/** The test pattern, small and fast to encode (several packagers share the test host). */
function encoderArgs(options: LivePackagerOptions, zeroLatency = false): string[] {
  return testPatternArgs({
    fps: options.fps,
    segmentSeconds: options.segmentSeconds,
    size: '320x180',
    preset: 'ultrafast',
    audioBitrate: '64k',
    seconds: options.seconds,
    zeroLatency,
  });
}

/** HLS fMP4 with PUT; program date-times so a player can tell its latency. */
export function startHlsPackager(options: LivePackagerOptions): ChildProcess {
  const ingest = hlsIngest(options);
  return spawn(
    FFMPEG,
    [
      ...encoderArgs(options),
      ...hlsMuxerArgs({
        segmentSeconds: options.segmentSeconds,
        listSize: options.window ?? 0,
        flags: options.window === undefined ? 'program_date_time' : 'program_date_time+delete_segments',
        authArgs: ingest.args,
        ingestBase: ingest.base,
        playlist: 'v/index.m3u8',
      }),
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

/** Fragment length, the MPD's latency target and its UTCTiming source (scripts/packager-args.ts). */
export interface LlDashPackagerOptions extends LivePackagerOptions, Pick<LlDashMuxing, 'fragmentSeconds' | 'targetLatencySeconds' | 'utcTimingUrl'> {}

/**
 * Low-latency DASH (llDashMuxerArgs): one chunked PUT per segment flushed per fragment, with the
 * encoder holding no frames back.
 */
export function startLlDashPackager(options: LlDashPackagerOptions): ChildProcess {
  return spawn(
    FFMPEG,
    [
      ...encoderArgs(options, true),
      ...llDashMuxerArgs({
        segmentSeconds: options.segmentSeconds,
        fragmentSeconds: options.fragmentSeconds,
        targetLatencySeconds: options.targetLatencySeconds,
        utcTimingUrl: options.utcTimingUrl,
        httpOptions: `headers=Authorization\\: Bearer ${options.token}`,
        manifestUrl: `${options.ingestBase}/d/manifest.mpd`,
      }),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}
