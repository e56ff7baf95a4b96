import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { testPatternArgs } from '../../scripts/packager-args.js';

export const FFMPEG = '/usr/bin/ffmpeg';

export function ffmpegInstalled(): boolean {
  return spawnSync(FFMPEG, ['-version']).status === 0;
}

/**
 * How a packager presents its token: `bearer`, an `Authorization` header of its own; `basic`,
 * nothing but a user name and password in its URLs (`http://<pipeline>:<token>@host/...`), as
 * encoders that know no other way do.
 */
export type PackagerAuth = 'bearer' | 'basic';

export interface PackagerOptions {
  /** `.../ingest/{event}/{pipeline}` */
  readonly ingestBase: string;
  readonly token: string;
  readonly seconds: number;
  readonly segmentSeconds: number;
  readonly fps: number;
  /** @default 'bearer' */
  readonly auth?: PackagerAuth;
  /**
   * Segments the playlist or manifest keeps; ffmpeg DELETEs older ones once they left it (hls
   * `-hls_flags delete_segments`, dash `-window_size` with `-extra_window_size 1`).
   * @default every segment, none deleted
   */
  readonly window?: number;
}

/** The hls muxer's playlist length, and its deletes with a window. */
export function hlsWindowArgs(options: PackagerOptions): string[] {
  return options.window === undefined ? ['-hls_list_size', '0'] : ['-hls_list_size', String(options.window), '-hls_flags', 'delete_segments'];
}

/**
 * Where the HLS muxer PUTs and the options that carry the token. With `basic`, ffmpeg holds
 * the body back (`Expect: 100-continue`), learns the scheme from the origin's 401 and sends the
 * URL's credentials as Basic: its hls muxer passes no `auth_type` on to the HTTP protocol.
 */
export function hlsIngest(options: PackagerOptions): { readonly base: string; readonly args: string[] } {
  if (options.auth === 'basic') return { base: basicCredentialsUrl(options.ingestBase, options.token), args: [] };
  return { base: options.ingestBase, args: ['-headers', `Authorization: Bearer ${options.token}\r\n`] };
}

/** The ingest base with the pipeline as the user name (the convention; any name is accepted) and the token as the password. */
export function basicCredentialsUrl(ingestBase: string, token: string): string {
  const url = new URL(ingestBase);
  url.username = url.pathname.split('/').pop()!;
  url.password = token;
  return url.href;
}

/**
 * A real live packager: ffmpeg encodes a test pattern in real time (-re) and PUTs CMAF
 * segments and an HLS playlist to the origin's ingest URL. Two of these with the same options
 * produce the same epoch-locked timeline (same names, same numbers, same boundaries).
 */
export function startPackager(options: PackagerOptions): ChildProcess {
  const ingest = hlsIngest(options);
  const pattern = { fps: options.fps, segmentSeconds: options.segmentSeconds, seconds: options.seconds };
  return spawn(
    FFMPEG,
    [
      ...testPatternArgs({ ...pattern, size: '320x180', preset: 'ultrafast', audioBitrate: '64k' }),
      '-f',
      'hls',
      '-hls_time',
      String(options.segmentSeconds),
      ...hlsWindowArgs(options),
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

export interface PlayResult {
  readonly code: number | null;
  readonly videoFrames: number;
  readonly errors: string;
}

/**
 * A real player: ffmpeg's HLS client plays the live playlist from its first segment until
 * #EXT-X-ENDLIST (its DASH client, a manifest the packager has finished), decoding every
 * frame (framecrc output, one line per decoded frame).
 */
export function play(playlistUrl: string, timeoutMs: number): Promise<PlayResult> {
  const fromFirstSegment = playlistUrl.endsWith('.m3u8') ? ['-live_start_index', '0'] : [];
  const child = spawn(
    FFMPEG,
    ['-hide_banner', '-loglevel', 'error', '-nostdin', ...fromFirstSegment, '-i', playlistUrl, '-map', '0:v', '-f', 'framecrc', '-'],
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
