/**
 * Reading the operations files (docs/ops/): the Prometheus rule file, its promtool tests, the
 * Grafana dashboard, and a live `/metrics` page, well enough to check that they name the same
 * series. The YAML readers are deliberately rough: they understand the layout these files use
 * (one rule per `- record:`/`- alert:` item, `expr:` on one line or as a `|` block), and the
 * tests compare their counts with promtool's own, so a layout they misread fails loudly.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const PROMTOOL = '/usr/bin/promtool';
export const RULES_FILE = 'docs/ops/prometheus/live-origin.rules.yml';
export const RULES_TEST_FILE = 'docs/ops/prometheus/live-origin.rules.test.yml';
export const DASHBOARD_FILE = 'docs/ops/grafana/live-origin.json';
export const RUNBOOK_FILE = 'docs/runbook.md';

/** Labels Prometheus attaches at scrape time; every series has them. */
export const SCRAPE_LABELS = ['job', 'instance'] as const;

export function promtoolInstalled(): boolean {
  return spawnSync(PROMTOOL, ['--version']).status === 0;
}

export interface Rule {
  readonly kind: 'record' | 'alert';
  readonly name: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

const indentOf = (line: string): number => line.length - line.trimStart().length;
const unquote = (value: string): string => {
  const v = value.trim();
  return (v.startsWith("'") && v.endsWith("'")) || (v.startsWith('"') && v.endsWith('"')) ? v.slice(1, -1) : v;
};

/** Every recording and alerting rule of a rule file, in order. */
export function parseRules(text: string): Rule[] {
  const lines = text.split('\n');
  const rules: { kind: 'record' | 'alert'; name: string; expr: string; for?: string; labels: Record<string, string>; annotations: Record<string, string> }[] =
    [];
  let current: (typeof rules)[number] | undefined;
  let section: 'labels' | 'annotations' | undefined;
  let sectionIndent = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const item = /^\s*- (record|alert):\s*(\S+)\s*$/.exec(line);
    if (item) {
      current = { kind: item[1] as 'record' | 'alert', name: item[2]!, expr: '', labels: {}, annotations: {} };
      rules.push(current);
      section = undefined;
      continue;
    }
    if (!current) continue;
    if (section && indentOf(line) > sectionIndent) {
      const entry = /^\s*([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$/.exec(line);
      if (entry) current[section][entry[1]!] = unquote(entry[2]!);
      continue;
    }
    section = undefined;
    const key = /^(\s*)(expr|for|labels|annotations):\s*(.*)$/.exec(line);
    if (!key) continue;
    const [, indent, name, rest] = key as unknown as [string, string, string, string];
    if (name === 'expr') {
      if (/^[|>][-+]?$/.test(rest.trim())) {
        const block: string[] = [];
        while (i + 1 < lines.length && (lines[i + 1]!.trim() === '' || indentOf(lines[i + 1]!) > indent.length)) block.push(lines[++i]!.trim());
        current.expr = block.join('\n').trim();
      } else {
        current.expr = unquote(rest);
      }
    } else if (name === 'for') {
      current.for = rest.trim();
    } else {
      section = name as 'labels' | 'annotations';
      sectionIndent = indent.length;
    }
  }
  return rules;
}

/** For each alert name in a promtool test file, whether some evaluation expects it quiet / firing. */
export function alertTestCoverage(text: string): Map<string, { quiet: boolean; firing: boolean }> {
  const coverage = new Map<string, { quiet: boolean; firing: boolean }>();
  for (const chunk of text.split(/^\s*- eval_time:/m).slice(1)) {
    const name = /^\s*alertname:\s*(\S+)/m.exec(chunk)?.[1];
    if (!name) continue;
    const entry = coverage.get(name) ?? { quiet: false, firing: false };
    if (/^\s*exp_alerts:\s*\[\]\s*$/m.test(chunk)) entry.quiet = true;
    else if (/^\s*exp_alerts:\s*$\s*^\s*- exp_labels:/m.test(chunk)) entry.firing = true;
    coverage.set(name, entry);
  }
  return coverage;
}

export interface NameReference {
  /** The identifier as written (`live_origin_x_bucket`, `job:live_origin_x:rate5m`). */
  readonly name: string;
  /** Label names in the selector right after it (`name{a="1", b=~"2"}`), if any. */
  readonly labels: readonly string[];
}

/**
 * Metric names a PromQL expression refers to: identifiers naming a `live_origin_` series, raw
 * (`live_origin_requests_total`) or recorded (`job:live_origin_requests:rate5m`). String
 * literals are dropped first, so label values never count as names.
 */
export function metricReferences(expr: string): NameReference[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  const found: NameReference[] = [];
  const identifier = /(?<![A-Za-z0-9_:$])[A-Za-z_:][A-Za-z0-9_:]*/g;
  for (let match = identifier.exec(withoutStrings); match; match = identifier.exec(withoutStrings)) {
    const name = match[0];
    if (!(name.startsWith('live_origin_') || (name.includes(':') && name.includes('live_origin_')))) continue;
    const after = withoutStrings.slice(match.index + name.length);
    const selector = /^\s*\{([^}]*)\}/.exec(after);
    const labels = selector ? [...selector[1]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]!) : [];
    found.push({ name, labels });
  }
  return found;
}

export interface Family {
  readonly type: string;
  /** Label names seen on its samples (empty when it has no sample yet). */
  readonly labels: Set<string>;
  samples: number;
}

/** Metric families of a Prometheus text exposition, with the label names of their samples. */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) families.set(type[1]!, { type: type[2]!, labels: new Set(), samples: 0 });
  }
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{([^}]*)\})?\s/.exec(line);
    if (!sample) continue;
    const family = families.get(sample[1]!) ?? histogramFamily(families, sample[1]!)?.family;
    if (!family) continue;
    family.samples++;
    for (const m of (sample[3] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="/g)) if (m[1] !== 'le') family.labels.add(m[1]!);
  }
  return families;
}

const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;

/** The histogram (or summary) family a `_bucket`/`_sum`/`_count` series belongs to. */
function histogramFamily(families: Map<string, Family>, name: string): { family: Family; suffix: string } | undefined {
  for (const suffix of HISTOGRAM_SUFFIXES) {
    if (!name.endsWith(suffix)) continue;
    const family = families.get(name.slice(0, -suffix.length));
    if (!family) continue;
    if (family.type === 'histogram' || (family.type === 'summary' && suffix !== '_bucket')) return { family, suffix };
  }
  return undefined;
}

/**
 * What is wrong with the references of one expression: names the runtime does not export
 * (a histogram only as `_bucket`, `_sum`, `_count`; a counter or gauge only by its own name),
 * recorded names no rule records, and selector labels its samples never carry.
 */
export function referenceProblems(where: string, expr: string, families: Map<string, Family>, recorded: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const ref of metricReferences(expr)) {
    if (ref.name.includes(':')) {
      if (!recorded.has(ref.name)) problems.push(`${where}: ${ref.name} is recorded by no rule`);
      continue;
    }
    const direct = families.get(ref.name);
    const histogram = histogramFamily(families, ref.name);
    let family: Family | undefined;
    if (direct && direct.type !== 'histogram' && direct.type !== 'summary') family = direct;
    else if (histogram) family = histogram.family;
    if (!family) {
      problems.push(`${where}: ${ref.name} is not a series the runtime exports`);
      continue;
    }
    if (family.samples === 0) continue;
    const known = new Set([...family.labels, ...SCRAPE_LABELS, ...(histogram?.suffix === '_bucket' ? ['le'] : []), '__name__']);
    for (const label of ref.labels) if (!known.has(label)) problems.push(`${where}: ${ref.name} has no label ${label}`);
  }
  return problems;
}

export interface DashboardQuery {
  readonly where: string;
  readonly expr: string;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every panel of a dashboard, rows' collapsed panels included. */
export function dashboardPanels(dashboard: { panels?: Json[] }): { [key: string]: Json }[] {
  const panels: { [key: string]: Json }[] = [];
  for (const panel of dashboard.panels ?? []) {
    const p = panel as { [key: string]: Json };
    panels.push(p);
    if (Array.isArray(p.panels)) panels.push(...(p.panels as { [key: string]: Json }[]));
  }
  return panels;
}

/** Every PromQL query of a dashboard: panel targets and template variable queries. */
export function dashboardQueries(dashboard: { panels?: Json[]; templating?: { list?: Json[] } }): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  for (const panel of dashboardPanels(dashboard)) {
    const targets = Array.isArray(panel.targets) ? (panel.targets as { [key: string]: Json }[]) : [];
    targets.forEach((target, index) => {
      if (typeof target.expr === 'string') queries.push({ where: `panel "${String(panel.title)}" target ${index}`, expr: target.expr });
    });
  }
  for (const variable of (dashboard.templating?.list ?? []) as { [key: string]: Json }[]) {
    if (variable.type !== 'query') continue;
    const query = variable.query as Json;
    const expr = typeof query === 'string' ? query : (query as { query?: string } | null)?.query;
    if (typeof expr === 'string') queries.push({ where: `variable ${String(variable.name)}`, expr });
  }
  return queries;
}

export function readText(file: string): string {
  return readFileSync(file, 'utf8');
}

/** GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const match of markdown.matchAll(/^#{1,6}\s+(.+?)\s*$/gm)) {
    anchors.add(
      match[1]!
        .toLowerCase()
        .replace(/[^a-z0-9 _-]/g, '')
        .replace(/ /g, '-'),
    );
  }
  return anchors;
}
