import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { prettyDestination, prettyLogLine } from '../runtime/log-format.js';
import { ManualClock } from './support/manual-clock.js';

const TIME = Date.UTC(2026, 11, 5, 9, 7, 3, 42);

describe('prettyLogLine', () => {
  it('writes time, level, message and the fields as key=value', () => {
    const line = JSON.stringify({
      level: 30,
      time: TIME,
      pid: 1,
      hostname: 'h',
      address: 'http://127.0.0.1:8080',
      store: 'memory',
      msg: 'live origin listening',
    });
    expect(prettyLogLine(line)).toBe('09:07:03.042 INFO  live origin listening  address=http://127.0.0.1:8080  store=memory\n');
  });

  it('quotes values with spaces and writes numbers and objects as JSON', () => {
    const line = JSON.stringify({ level: 40, time: TIME, msg: 'purge failed', reason: 'connection refused', status: 503, target: { region: 'r1' } });
    expect(prettyLogLine(line)).toBe('09:07:03.042 WARN  purge failed  reason="connection refused"  status=503  target={"region":"r1"}\n');
  });

  it("puts an error's stack under the line, indented", () => {
    const line = JSON.stringify({
      level: 50,
      time: TIME,
      msg: 'request failed',
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at f (x.ts:1:1)' },
    });
    expect(prettyLogLine(line)).toBe('09:07:03.042 ERROR request failed\n    Error: boom\n        at f (x.ts:1:1)\n');
  });

  it('colours the level only when asked', () => {
    const line = JSON.stringify({ level: 50, time: TIME, msg: 'x' });
    expect(prettyLogLine(line, true)).toBe('09:07:03.042 \u001b[31mERROR\u001b[0m x\n');
  });

  it('dates an entry without a time of its own by the clock it is given', () => {
    const line = JSON.stringify({ level: 30, msg: 'no time' });
    expect(prettyLogLine(line, false, () => TIME)).toBe('09:07:03.042 INFO  no time\n');
    expect(prettyLogLine(line)).toBe(`${' '.repeat(12)} INFO  no time\n`);
  });

  it('passes a line that is not JSON through', () => {
    expect(prettyLogLine('plain text')).toBe('plain text\n');
  });
});

describe('prettyDestination', () => {
  it('takes what pino writes and prints one readable line per entry', () => {
    const written: string[] = [];
    const out = { write: (text: string) => written.push(text) } as unknown as NodeJS.WritableStream;
    const log = pino({ level: 'info', timestamp: false }, prettyDestination(out, false, new ManualClock(TIME)));
    log.info({ workers: 2 }, 'primary started workers');
    log.debug('not at info');
    expect(written).toEqual(['09:07:03.042 INFO  primary started workers  workers=2\n']);
  });
});
