import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';

export const FFMPEG = '/usr/bin/ffmpeg';

export function ffmpegInstalled(): boolean {
  return spawnSync(FFMPEG, ['-version']).status === 0;
}

export interface PackagerOptions {
  readonly ingestBase: string;
  readonly token: string;
  readonly seconds: number;
  readonly segmentSeconds: number;
  readonly fps: number;
}

/**
 * A real live packager: ffmpeg encodes a test pattern in real time (-re) and PUTs CMAF
 * segments and an HLS playlist to the origin's ingest URL. Two of these with the same options
 * produce the same epoch-locked timeline (same names, same numbers, same boundaries).
 */
export function startPackager(options: PackagerOptions): ChildProcess {
  const gop = String(options.fps * options.segmentSeconds);
  return spawn(
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
      '-g',
      gop,
      '-keyint_min',
      gop,
      '-sc_threshold',
      '0',
      '-c:a',
      'aac',
      '-f',
      'hls',
      '-hls_time',
      String(options.segmentSeconds),
      '-hls_list_size',
      '0',
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

export interface PlayResult {
  readonly code: number | null;
  readonly videoFrames: number;
  readonly errors: string;
}

/**
 * A real player: ffmpeg's HLS client plays the live playlist from its first segment until
 * #EXT-X-ENDLIST, decoding every frame (framecrc output, one line per decoded frame).
 */
export function play(playlistUrl: string, timeoutMs: number): Promise<PlayResult> {
  const child = spawn(
    FFMPEG,
    ['-hide_banner', '-loglevel', 'error', '-nostdin', '-live_start_index', '0', '-i', playlistUrl, '-map', '0:v', '-f', 'framecrc', '-'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let errors = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (errors += chunk));
  // A player stuck on a stale playlist would wait forever: stop it, and let the test fail.
  const limit = setTimeout(() => {
    errors += `player stopped after ${timeoutMs} ms`;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(limit);
      const videoFrames = out.split('\n').filter((line) => /^0,/.test(line)).length;
      resolve({ code, videoFrames, errors });
    });
  });
}
