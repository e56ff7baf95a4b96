import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestOrigin } from '../support/origin.js';
import { AUTH, configure, eventually, put, startOrigin, startPurgeReceiver } from '../support/origin.js';
import { itWithTools } from '../support/tools.js';
import type { Family, Json } from './ops-files.js';
import {
  DASHBOARD_FILE,
  dashboardPanels,
  dashboardQueries,
  metricReferences,
  PROMTOOL,
  parseExposition,
  parseRules,
  promtoolInstalled,
  RULES_FILE,
  readText,
  referenceProblems,
} from './ops-files.js';

/** Segment duration of the test events: a hold and a hold timeout take about one each. */
const D = 1000;

const rules = parseRules(readText(RULES_FILE));
const recorded = new Set(rules.filter((r) => r.kind === 'record').map((r) => r.name));
const dashboard = JSON.parse(readText(DASHBOARD_FILE)) as { [key: string]: Json } & { panels: Json[]; templating: { list: Json[] } };

let origin: TestOrigin;
let cdn: Awaited<ReturnType<typeof startPurgeReceiver>>;
let families: Map<string, Family>;
let exposition: string;

/** An event whose segment `next` is due one D from now, so a GET for it is held. */
async function liveEvent(event: string, next: number, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await configure(origin, event, {
    pipelines: ['a', 'b'],
    segmentDurationMs: D,
    availabilityStartTime: new Date(Date.now() + D - next * D).toISOString(),
    startNumber: 1,
    ...extra,
  });
  expect([200, 201]).toContain(res.status);
}

/**
 * A little of everything an operator would see: ingest from two pipelines (one defective, one
 * object defective in both), GETs answered from the hot cache, a held request released by a
 * publish, a hold that times out, misses, and an invalidation that purges the CDN.
 */
async function driveTraffic(): Promise<void> {
  await liveEvent('ops-1', 10);
  for (const n of [8, 9]) {
    expect((await put(origin, 'ops-1', 'a', `video/seg_${n}.m4s`, `a${n}`, { 'live-defect': n === 8 ? 'short' : 'none' })).status).toBe(201);
    expect((await put(origin, 'ops-1', 'b', `video/seg_${n}.m4s`, `b${n}`, { 'live-defect': n === 8 ? 'tfdt' : 'none' })).status).toBe(201);
  }
  for (const n of [8, 9, 9]) expect((await fetch(`${origin.url}/live/ops-1/video/seg_${n}.m4s`)).status).toBe(200);

  await liveEvent('ops-1', 10); // again, so that segment 10 is in its hold window now
  const held = fetch(`${origin.url}/live/ops-1/video/seg_10.m4s`);
  let answered: number | undefined;
  void held.then((r) => (answered = r.status));
  await eventually(async () => {
    expect(answered, 'the request for the next segment was answered instead of held').toBeUndefined();
    expect((await origin.metrics.held.get()).values[0]?.value).toBe(1);
  }, 2000);
  await put(origin, 'ops-1', 'a', 'video/seg_10.m4s', 'a10');
  expect((await held).status).toBe(200);

  await liveEvent('ops-2', 10, { holdGraceMs: 50 });
  expect((await fetch(`${origin.url}/live/ops-2/video/seg_10.m4s`)).status).toBe(404);
  expect((await fetch(`${origin.url}/live/ops-1/video/seg_99.m4s`)).status).toBe(404);
  expect((await fetch(`${origin.url}/live/no-such-event/video/seg_1.m4s`)).status).toBe(404);

  const invalidation = await fetch(`${origin.url}/admin/events/ops-1/invalidations`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ from: 8, to: 8 }),
  });
  expect(invalidation.status).toBe(202);
  await eventually(() => expect(cdn.received.length).toBeGreaterThan(0));
}

beforeAll(async () => {
  cdn = await startPurgeReceiver();
  origin = await startOrigin({ purgeUrls: [cdn.url] });
  await driveTraffic();
  const res = await fetch(`${origin.url}/metrics`);
  expect(res.status).toBe(200);
  exposition = await res.text();
  families = parseExposition(exposition);
});
afterAll(async () => {
  await origin?.close();
  await cdn?.close();
});

describe('the live /metrics after a little traffic', () => {
  it('has samples for what the traffic exercised, with their labels', () => {
    const labelled: Record<string, string[]> = {
      live_origin_requests_total: ['route', 'method', 'status'],
      live_origin_request_duration_seconds: ['route'],
      live_origin_ingests_total: ['pipeline', 'result'],
      live_origin_defects_total: ['pipeline', 'kind'],
      live_origin_selections_total: ['outcome'],
      live_origin_delivery_misses_total: ['status', 'reason'],
      live_origin_hold_wait_seconds: ['outcome'],
      live_origin_purges_total: ['outcome'],
      live_origin_pipeline_healthy: ['event', 'pipeline'],
      live_origin_pipeline_lateness_seconds: ['event', 'pipeline'],
      live_origin_hold_timeouts_total: [],
      live_origin_held_requests: [],
      live_origin_hot_cache_hits_total: [],
    };
    for (const [name, labels] of Object.entries(labelled)) {
      const family = families.get(name);
      expect(family?.samples, name).toBeGreaterThan(0);
      expect([...family!.labels], name).toEqual(expect.arrayContaining(labels));
    }
  });

  it('writes the bucket bound the latency rule selects as le="5"', () => {
    // job:live_origin_requests_slower_than_5s:ratio_rate5m matches the bucket by its label value.
    expect(rules.find((r) => r.name === 'job:live_origin_requests_slower_than_5s:ratio_rate5m')?.expr).toContain('le="5"');
    expect(exposition).toMatch(/^live_origin_request_duration_seconds_bucket\{[^}]*le="5"[^}]*\} [1-9]/m);
  });
});

describe('every series the rules name', () => {
  it('is exported by the runtime, or recorded by a rule', () => {
    expect(rules.length).toBeGreaterThan(20);
    const problems = rules.flatMap((rule) => referenceProblems(`rule ${rule.name}`, rule.expr, families, recorded));
    expect(problems).toEqual([]);
  });
});

describe('the Grafana dashboard (docs/ops/grafana/live-origin.json)', () => {
  const queries = dashboardQueries(dashboard);

  it('names only series the runtime exports', () => {
    expect(queries.length).toBeGreaterThan(20);
    const problems = queries.flatMap((q) => referenceProblems(q.where, q.expr, families, recorded));
    expect(problems).toEqual([]);
  });

  it('shows every series an alert rests on, so the runbook can point at a panel', () => {
    const base = (name: string): string => name.replace(/_(bucket|sum|count)$/, '');
    const shown = new Set(queries.flatMap((q) => metricReferences(q.expr).map((ref) => base(ref.name))));
    const byName = new Map(rules.map((r) => [r.name, r]));
    const rawNames = (expr: string, seen = new Set<string>()): string[] =>
      metricReferences(expr).flatMap((ref) => {
        if (!ref.name.includes(':')) return [base(ref.name)];
        if (seen.has(ref.name)) return [];
        seen.add(ref.name);
        return rawNames(byName.get(ref.name)?.expr ?? '', seen);
      });
    const alerted = new Set(rules.filter((r) => r.kind === 'alert').flatMap((r) => rawNames(r.expr)));
    expect(alerted.size).toBeGreaterThanOrEqual(10);
    expect([...alerted].filter((name) => !shown.has(name))).toEqual([]);
  });

  it('states a current schema version and imports without edits (a datasource variable, no fixed uid)', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(typeof dashboard.title).toBe('string');
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    const variables = dashboard.templating.list as { [key: string]: Json }[];
    const datasource = variables.find((v) => v.name === 'datasource');
    expect(datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(variables.find((v) => v.name === 'event')).toMatchObject({ type: 'query', datasource: { type: 'prometheus', uid: '${datasource}' } });

    // Every Prometheus datasource reference anywhere in the file goes through the variable.
    const refs: Json[] = [];
    const walk = (node: Json): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === 'datasource' && value && typeof value === 'object' && !Array.isArray(value) && value.type === 'prometheus') refs.push(value);
          walk(value);
        }
      }
    };
    walk(dashboard);
    expect(refs.length).toBeGreaterThan(queries.length);
    for (const ref of refs) expect(ref).toEqual({ type: 'prometheus', uid: '${datasource}' });
  });

  it('has panels with targets, unique ids, and places on the grid', () => {
    const panels = dashboardPanels(dashboard);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) {
      const gridPos = panel.gridPos as { x: number; y: number; w: number; h: number };
      expect(gridPos.x + gridPos.w, String(panel.title)).toBeLessThanOrEqual(24);
      if (panel.type === 'row') continue;
      expect(panel.datasource, String(panel.title)).toEqual({ type: 'prometheus', uid: '${datasource}' });
      const targets = panel.targets as { expr?: string; refId?: string }[];
      expect(targets.length, String(panel.title)).toBeGreaterThan(0);
      for (const target of targets) {
        expect(target.expr, String(panel.title)).toMatch(/live_origin_/);
        expect(target.refId).toMatch(/^[A-Z]$/);
      }
    }
    // Per-event panels follow the event variable.
    const perEvent = queries.filter((q) => /live_origin_pipeline_(healthy|lateness_seconds)\{/.test(q.expr) && q.where.startsWith('panel'));
    expect(perEvent.length).toBeGreaterThanOrEqual(2);
    for (const q of perEvent) expect(q.expr, q.where).toContain('event=~"$event"');
  });

  const withPromtool = itWithTools([!promtoolInstalled() && `${PROMTOOL} (apt-get install prometheus)`]);
  withPromtool('has queries that parse as PromQL (promtool checks each as a recording rule)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'live-origin-dashboard-'));
    try {
      const file = path.join(dir, 'dashboard.rules.yml');
      const body = queries
        .filter((q) => !q.expr.startsWith('label_values('))
        .map((q, i) => `      - record: dashboard:query_${i}:check\n        expr: ${JSON.stringify(q.expr.replaceAll('$__rate_interval', '5m'))}`)
        .join('\n');
      writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${body}\n`);
      const run = spawnSync(PROMTOOL, ['check', 'rules', file], { encoding: 'utf8' });
      expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the name checks themselves (they must catch a misspelt or misused name)', () => {
  it('reads raw and recorded names, and never label values', () => {
    const refs = metricReferences(
      'sum by (job) (rate(live_origin_requests_total{status=~"5..", route="live_origin_fake"}[$__rate_interval])) / job:live_origin_requests:rate5m',
    );
    expect(refs).toEqual([
      { name: 'live_origin_requests_total', labels: ['status', 'route'] },
      { name: 'job:live_origin_requests:rate5m', labels: [] },
    ]);
  });

  it('reports misspelt names, histograms without a suffix, suffixes on counters, unrecorded names and unknown labels', () => {
    const check = (expr: string): string[] => referenceProblems('x', expr, families, recorded);
    expect(check('rate(live_origin_requets_total[5m])')).toEqual(['x: live_origin_requets_total is not a series the runtime exports']);
    expect(check('rate(live_origin_request_duration_seconds[5m])')).toEqual(['x: live_origin_request_duration_seconds is not a series the runtime exports']);
    expect(check('rate(live_origin_requests_total_bucket[5m])')).toEqual(['x: live_origin_requests_total_bucket is not a series the runtime exports']);
    expect(check('job:live_origin_nothing:rate5m > 1')).toEqual(['x: job:live_origin_nothing:rate5m is recorded by no rule']);
    expect(check('live_origin_pipeline_healthy{pipline="a"}')).toEqual(['x: live_origin_pipeline_healthy has no label pipline']);
    // ...and accepts what is right.
    expect(
      check(
        'histogram_quantile(0.99, sum by (le) (rate(live_origin_request_duration_seconds_bucket{route="/x", le="5", job="j"}[5m]))) + live_origin_hold_wait_seconds_count + job:live_origin_requests:rate5m',
      ),
    ).toEqual([]);
  });
});
