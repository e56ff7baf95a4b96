import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { describeWithTools } from '../support/tools.js';
import {
  alertTestCoverage,
  headingAnchors,
  PROMTOOL,
  parseRules,
  promtoolInstalled,
  RULES_FILE,
  RULES_TEST_FILE,
  RUNBOOK_FILE,
  readText,
} from './ops-files.js';

// CI installs promtool (Debian's prometheus package, .ci/run) and must run these; elsewhere
// they are skipped with a note, never faked.
const withPromtool = describeWithTools([!promtoolInstalled() && `${PROMTOOL} (apt-get install prometheus)`]);

const rules = parseRules(readText(RULES_FILE));
const alerts = rules.filter((r) => r.kind === 'alert');
const SEVERITIES = ['critical', 'warning', 'info'];

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync(PROMTOOL, args, { encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

withPromtool('promtool on docs/ops/prometheus', () => {
  it('accepts the rule file, and finds as many rules as the checks here read', () => {
    const { status, output } = promtool('check', 'rules', RULES_FILE);
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
    expect(Number(/SUCCESS: (\d+) rules found/.exec(output)?.[1])).toBe(rules.length);
  });

  it('passes the rule unit tests', () => {
    const { status, output } = promtool('test', 'rules', RULES_TEST_FILE);
    expect(output, output).toContain('SUCCESS');
    expect(status, output).toBe(0);
  });
});

describe('the alerting rules', () => {
  it('cover what the issue lists', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(9);
    const exprs = alerts.map((a) => a.expr).join('\n');
    for (const signal of [
      'pipeline_healthy',
      'pipeline_lateness',
      'defects',
      'selections_defective',
      'hold_timeouts',
      '5xx',
      'shed',
      'store_faults',
      'purges',
      'peer_copy_lag',
    ]) {
      expect(exprs, signal).toContain(signal);
    }
  });

  it.each(alerts.map((a) => [a.name, a] as const))('%s has a for, a severity and its annotations', (name, alert) => {
    expect(alert.for, name).toMatch(/^\d+[smh]$/);
    expect(SEVERITIES, name).toContain(alert.labels.severity);
    expect(alert.annotations.summary, name).toBeTruthy();
    expect(alert.annotations.description, name).toBeTruthy();
    expect(alert.annotations.runbook_url, name).toBe(`${RUNBOOK_FILE}#${name.toLowerCase()}`);
  });

  it('each have a section in the runbook, where their runbook_url points', () => {
    const anchors = headingAnchors(readText(RUNBOOK_FILE));
    const missing = alerts.filter((a) => !anchors.has(a.annotations.runbook_url!.split('#')[1]!)).map((a) => a.name);
    expect(missing).toEqual([]);
  });

  it('each are tested by promtool both firing and quiet', () => {
    const coverage = alertTestCoverage(readText(RULES_TEST_FILE));
    const gaps = alerts
      .filter((a) => !(coverage.get(a.name)?.firing && coverage.get(a.name)?.quiet))
      .map((a) => `${a.name}: ${JSON.stringify(coverage.get(a.name) ?? {})}`);
    expect(gaps).toEqual([]);
  });

  it('have unique names, and recorded names follow level:metric:operations', () => {
    const names = rules.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    for (const record of rules.filter((r) => r.kind === 'record')) expect(record.name).toMatch(/^[a-z_]+:live_origin_[a-z0-9_]+:[a-z0-9_]+$/);
  });
});

describe('the rule readers (checked against a file they must misread if they were wrong)', () => {
  it('read one-line and block expressions, labels and annotations', () => {
    const parsed = parseRules(
      [
        'groups:',
        '  - name: g',
        '    rules:',
        '      - record: job:live_origin_x:rate5m',
        '        expr: sum by (job) (rate(live_origin_x_total[5m]))',
        '      - alert: X',
        '        expr: |',
        '          job:live_origin_x:rate5m',
        '            > 1',
        '        for: 2m',
        '        labels:',
        '          severity: warning',
        '        annotations:',
        "          summary: 'x is {{ $value }}'",
      ].join('\n'),
    );
    expect(parsed).toEqual([
      { kind: 'record', name: 'job:live_origin_x:rate5m', expr: 'sum by (job) (rate(live_origin_x_total[5m]))', labels: {}, annotations: {} },
      {
        kind: 'alert',
        name: 'X',
        expr: 'job:live_origin_x:rate5m\n> 1',
        for: '2m',
        labels: { severity: 'warning' },
        annotations: { summary: 'x is {{ $value }}' },
      },
    ]);
  });

  it('tell a firing expectation from a quiet one', () => {
    const coverage = alertTestCoverage(
      [
        '      - eval_time: 1m',
        '        alertname: A',
        '        exp_alerts: []',
        '      - eval_time: 2m',
        '        alertname: A',
        '        exp_alerts:',
        '          - exp_labels: { severity: warning }',
        '      - eval_time: 2m',
        '        alertname: B',
        '        exp_alerts: []',
      ].join('\n'),
    );
    expect(Object.fromEntries(coverage)).toEqual({ A: { quiet: true, firing: true }, B: { quiet: true, firing: false } });
  });
});
