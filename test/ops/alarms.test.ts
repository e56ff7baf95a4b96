import { describe, expect, it } from 'vitest';
import { ALARM_NAME_SUFFIXES, FAILOVER_ALARM_KEYS } from '../../lib/naming.js';
import { DASHBOARD_FILE, dashboardPanels, parseRules, RULES_FILE, readText } from './ops-files.js';

const ALARMS_FILE = 'docs/ops/alarms.md';
const page = readText(ALARMS_FILE);
const alerts = parseRules(readText(RULES_FILE)).filter((r) => r.kind === 'alert');

/** The rows of the first table: Prometheus alert -> the cell naming CloudWatch alarms. */
function mappingRows(markdown: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const alert = /^\[(LiveOrigin[A-Za-z0-9]+)\]/.exec(cells[1] ?? '')?.[1];
    if (alert) {
      expect(rows.has(alert), `${alert} has two rows`).toBe(false);
      rows.set(alert, cells[2]!);
    }
  }
  return rows;
}

describe('docs/ops/alarms.md', () => {
  const rows = mappingRows(page);

  it('maps every Prometheus alert, and only those', () => {
    expect([...rows.keys()].sort()).toEqual(alerts.map((a) => a.name).sort());
  });

  it('names only CloudWatch alarms the CDK app creates, or says none', () => {
    const suffixes = new Set<string>(Object.values(ALARM_NAME_SUFFIXES));
    for (const [alert, cell] of rows) {
      const named = [...cell.matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1]!);
      if (named.length === 0) expect(cell, alert).toMatch(/^none/);
      for (const name of named) expect(suffixes, `${alert}: ${name}`).toContain(name);
    }
  });

  it('names Grafana panels that exist', () => {
    const titles = new Set(dashboardPanels(JSON.parse(readText(DASHBOARD_FILE))).map((p) => p.title));
    const widgets = page.slice(page.indexOf('| CloudWatch widget |'));
    const named = widgets
      .split('\n')
      .filter((line) => line.startsWith('| '))
      .flatMap((line) => [...(line.split('|')[2] ?? '').matchAll(/"([^"]+)"/g)].map((m) => m[1]!));
    expect(named.length).toBeGreaterThanOrEqual(8);
    expect(named.filter((title) => !titles.has(title))).toEqual([]);
  });

  it('accounts for every CloudWatch alarm, and marks those Route 53 follows', () => {
    for (const suffix of Object.values(ALARM_NAME_SUFFIXES)) expect(page, suffix).toContain(`\`${suffix}\``);
    for (const key of FAILOVER_ALARM_KEYS) expect(page, key).toMatch(new RegExp(`\`${ALARM_NAME_SUFFIXES[key]}\`[^|]*\\(DNS\\)`));
  });
});
