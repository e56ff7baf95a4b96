import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { FFMPEG } from './ffmpeg.js';

/**
 * Live packagers for browser players: ffmpeg encodes a test pattern in real time and PUTs
 * CMAF segments with HLS playlists (hls muxer) or a DASH manifest (dash muxer). Two with the
 * same options publish the same timeline (same names, numbers and media times).
 */

export interface LivePackagerOptions {
  /** `.../ingest/{event}/{pipeline}` */
  readonly ingestBase: string;
  readonly token: string;
  readonly seconds: number;
  readonly segmentSeconds: number;
  readonly fps: number;
}

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

/** HLS fMP4 with PUT; the token in `-headers`; program date-times so a player can tell its latency. */
export function startHlsPackager(options: LivePackagerOptions): ChildProcess {
  return spawn(
    FFMPEG,
    [
      ...encoderArgs(options),
      '-f',
      'hls',
      '-hls_time',
      String(options.segmentSeconds),
      '-hls_list_size',
      '0',
      '-hls_flags',
      'program_date_time',
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
      '-headers',
      `Authorization: Bearer ${options.token}\r\n`,
      '-hls_segment_filename',
      `${options.ingestBase}/v/seg_%d.m4s`,
      `${options.ingestBase}/v/index.m3u8`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

/** DASH with ffmpeg's dash muxer over HTTP PUT; the token through the HTTP protocol's options. */
export function startDashPackager(options: LivePackagerOptions): ChildProcess {
  return spawn(
    FFMPEG,
    [
      ...encoderArgs(options),
      '-f',
      'dash',
      '-seg_duration',
      String(options.segmentSeconds),
      '-window_size',
      '0',
      '-use_template',
      '1',
      '-use_timeline',
      '1',
      '-ignore_io_errors',
      '1',
      '-method',
      'PUT',
      '-http_opts',
      `headers=Authorization\\: Bearer ${options.token}`,
      `${options.ingestBase}/d/manifest.mpd`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}
