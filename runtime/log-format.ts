/**
 * Log lines for people: pino writes one JSON object per line, which log shippers want and a
 * person at a terminal does not. This turns each line into `time LEVEL message key=value ...`,
 * with an error's stack below it. Small on purpose: the AMI runs JSON, so none of this is on a
 * production path, and it needs no transport thread or dependency in the bundle.
 */

import type { Clock } from './ports/clock.js';

export type LogFormat = 'json' | 'pretty';

/** pino's numeric levels. */
const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** ANSI colours per level: grey, grey, green, yellow, red, red. */
const LEVEL_COLORS: Readonly<Record<number, string>> = { 10: '90', 20: '90', 30: '32', 40: '33', 50: '31', 60: '31' };
/** Fields every line has, shown in the line's head or left out. */
const HEAD_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'err']);
/** Widest level name, so messages line up. */
const LEVEL_WIDTH = 5;

function value(field: unknown): string {
  if (typeof field === 'string') return /[\s"=]/.test(field) || field === '' ? JSON.stringify(field) : field;
  return JSON.stringify(field);
}

/** An entry without a time of its own shows when it was written (`now`), or a blank of the same width. */
function timeOfDay(time: unknown, now: (() => number) | undefined): string {
  const at = typeof time === 'number' ? time : now?.();
  return at === undefined ? ' '.repeat(12) : new Date(at).toISOString().slice(11, 23);
}

/** One pino JSON line as a person reads it; a line that is not JSON passes through unchanged. */
export function prettyLogLine(line: string, colors = false, now?: () => number): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const level = typeof entry.level === 'number' ? entry.level : 30;
  const name = (LEVEL_NAMES[level] ?? String(level)).padEnd(LEVEL_WIDTH);
  const shown = colors ? `\u001b[${LEVEL_COLORS[level] ?? '0'}m${name}\u001b[0m` : name;
  const fields = Object.entries(entry)
    .filter(([key, field]) => !HEAD_FIELDS.has(key) && field !== undefined)
    .map(([key, field]) => `${key}=${value(field)}`);
  const err = entry.err as { message?: string; stack?: string } | undefined;
  const message = [entry.msg ?? '', ...fields].filter((part) => part !== '').join('  ');
  const stack = err ? `\n    ${(err.stack ?? err.message ?? '').split('\n').join('\n    ')}` : '';
  return `${timeOfDay(entry.time, now)} ${shown} ${message}${stack}\n`;
}

/** A pino destination that writes pretty lines to `out`; `clock` dates an entry that has no time. */
export function prettyDestination(out: NodeJS.WritableStream, colors: boolean, clock: Pick<Clock, 'now'>): { write(line: string): void } {
  const now = (): number => clock.now();
  return { write: (line: string) => void out.write(prettyLogLine(line, colors, now)) };
}
