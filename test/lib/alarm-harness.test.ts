/** The alarm model against AWS's own examples (CloudWatch User Guide, evaluation with missing data). */
import { describe, expect, it } from 'vitest';
import { type AlarmState, calculatedHealth, evaluateRange, metricCheckHealth, replayAlarm, replayEndpoint, type TreatMissingData } from './alarm-harness.js';

const MODES: TreatMissingData[] = ['missing', 'ignore', 'breaching', 'notBreaching'];
const RETAIN = 'retain';

/** `0 - X - X`: 0 not breaching, X breaching, - missing, oldest first. */
function points(text: string): (boolean | undefined)[] {
  return text.split(' ').map((point) => (point === '-' ? undefined : point === 'X'));
}

function row(text: string, m: number, current: AlarmState): (AlarmState | typeof RETAIN)[] {
  return MODES.map((treatMissingData) => {
    const state = evaluateRange(points(text), { evaluationPeriods: 3, datapointsToAlarm: m, treatMissingData }, current);
    // "Retain current state": the same answer whatever the current state is.
    const other = evaluateRange(points(text), { evaluationPeriods: 3, datapointsToAlarm: m, treatMissingData }, current === 'OK' ? 'ALARM' : 'OK');
    return state === other ? state : RETAIN;
  });
}

describe('CloudWatch alarm evaluation, as AWS tabulates it (evaluation range 5)', () => {
  // Columns: MISSING, IGNORE, BREACHING, NOT BREACHING.
  it.each([
    ['0 - X - X', ['OK', 'OK', 'OK', 'OK']],
    ['0 - - - -', ['OK', 'OK', 'OK', 'OK']],
    ['- - - - -', ['INSUFFICIENT_DATA', RETAIN, 'ALARM', 'OK']],
    ['0 X X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['- - X - -', ['ALARM', RETAIN, 'ALARM', 'OK']],
  ])('3 of 3: %s', (text, expected) => {
    expect(row(text, 3, 'OK')).toEqual(expected);
  });

  it.each([
    ['0 - X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['0 0 X 0 X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['0 - X - -', ['OK', 'OK', 'ALARM', 'OK']],
    ['- - - - 0', ['OK', 'OK', 'ALARM', 'OK']],
    ['- - - X -', ['ALARM', RETAIN, 'ALARM', 'OK']],
  ])('2 of 3: %s', (text, expected) => {
    expect(row(text, 2, 'OK')).toEqual(expected);
  });

  it('does not go to ALARM early on `- - - - X` or `- - - X -` with 3 of 3', () => {
    for (const text of ['- - - - X', '- - - X -']) {
      expect(evaluateRange(points(text), { evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: 'missing' }, 'OK')).toBe('OK');
    }
  });

  it('replays a series: three breaching minutes in a row to ALARM, one good one back to OK', () => {
    const alarm = {
      name: 'a',
      namespace: 'n',
      metricName: 'm',
      statistic: 'Sum',
      periodSeconds: 60,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      threshold: 1,
      comparison: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'notBreaching' as const,
    };
    expect(replayAlarm(alarm, [0, 5, 5, 5, 0, 5, undefined, 5])).toEqual(['OK', 'OK', 'OK', 'ALARM', 'OK', 'OK', 'OK', 'OK']);
  });
});

describe('Route 53 health checks', () => {
  const fast = { requestIntervalSeconds: 10, failureThreshold: 3 };

  it('call an endpoint unhealthy within threshold x interval of it failing, and healthy again likewise', () => {
    const health = replayEndpoint(fast, (t) => t < 100 || t >= 200, 300);
    const down = health.indexOf(false);
    expect(down).toBeGreaterThanOrEqual(100);
    expect(down).toBeLessThanOrEqual(130);
    const up = health.indexOf(true, down);
    expect(up).toBeGreaterThanOrEqual(200);
    expect(up).toBeLessThanOrEqual(230);
  });

  it('keep an endpoint healthy through a failure shorter than threshold - 1 intervals', () => {
    expect(replayEndpoint(fast, (t) => t < 100 || t >= 119, 300).every(Boolean)).toBe(true);
  });

  it('follow an alarm, with LastKnownStatus while it has no data', () => {
    expect(metricCheckHealth(['OK', 'ALARM', 'INSUFFICIENT_DATA', 'OK', 'INSUFFICIENT_DATA'], 'LastKnownStatus')).toEqual([true, false, false, true, true]);
    expect(metricCheckHealth(['OK', 'INSUFFICIENT_DATA'], 'Unhealthy')).toEqual([true, false]);
  });

  it('combine children in a CALCULATED check by HealthThreshold', () => {
    expect(
      calculatedHealth(
        [
          [true, true, false],
          [true, false, false],
        ],
        2,
      ),
    ).toEqual([true, false, false]);
    expect(
      calculatedHealth(
        [
          [true, true, false],
          [true, false, false],
        ],
        1,
      ),
    ).toEqual([true, true, false]);
  });
});
