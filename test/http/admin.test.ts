import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestOrigin } from '../support/origin.js';
import { AUTH, configure, NEWS_TOKEN, put, startOrigin } from '../support/origin.js';

let origin: TestOrigin;
beforeAll(async () => {
  origin = await startOrigin();
});
afterAll(async () => origin.close());

describe('event config', () => {
  it('creates an event with 201, replaces it with 200, and shows it', async () => {
    const config = {
      pipelines: ['b', 'a'],
      segmentDurationMs: 2000,
      availabilityStartTime: '2026-11-25T10:00:00.000Z',
      startNumber: 5,
      holdGraceMs: 500,
      windowSegments: 60,
      minQuality: 30,
      betterWaitMs: 120,
    };
    expect((await configure(origin, 'ad-1', config)).status).toBe(201);
    expect((await configure(origin, 'ad-1', config)).status).toBe(200);
    const status = await (await fetch(`${origin.url}/admin/events/ad-1`, { headers: AUTH })).json();
    expect(status.config).toEqual(config);
  });

  it('shows the quality defaults in force: minQuality 0, and a wait of D/8 capped at 250 ms (outside the config, which a round trip must not freeze)', async () => {
    await configure(origin, 'ad-q', { segmentDurationMs: 1000, availabilityStartTime: '2026-11-25T10:00:00.000Z' });
    const status = await (await fetch(`${origin.url}/admin/events/ad-q`, { headers: AUTH })).json();
    expect([status.config.minQuality, status.config.betterWaitMs, status.betterWaitMs]).toEqual([0, undefined, 125]);
    await configure(origin, 'ad-q', { segmentDurationMs: 1000, availabilityStartTime: '2026-11-25T10:00:00.000Z', betterWaitMs: 60 });
    const configured = await (await fetch(`${origin.url}/admin/events/ad-q`, { headers: AUTH })).json();
    expect([configured.config.betterWaitMs, configured.betterWaitMs]).toEqual([60, 60]);
  });

  it.each([
    [{ minQuality: 101 }, 'minQuality must be an integer from 0 to 100'],
    [{ betterWaitMs: -5 }, 'betterWaitMs must be an integer from 0 to 10000'],
    [{ segmentDurationMs: 1000, availabilityStartTime: '2026-11-25T10:00:00.000Z', betterWaitMs: 1000 }, 'betterWaitMs must be shorter than segmentDurationMs'],
  ])('refuses %j with 400 and a reason, keeping the config it had', async (config, message) => {
    expect((await configure(origin, 'ad-qbad', { minQuality: 10 })).status).toBeLessThan(300);
    const response = await configure(origin, 'ad-qbad', config);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'bad_request', message });
    const status = await (await fetch(`${origin.url}/admin/events/ad-qbad`, { headers: AUTH })).json();
    expect(status.config.minQuality).toBe(10);
  });

  it('reports per-pipeline live edge, last ingest, defect counts and health', async () => {
    await put(origin, 'ad-2', 'a', 'v/seg_7.m4s', 'x', { 'live-defect': 'short' });
    await put(origin, 'ad-2', 'a', 'v/seg_8.m4s', 'x');
    await put(origin, 'ad-2', 'b', 'v/seg_8.m4s', 'x');
    const status = await (await fetch(`${origin.url}/admin/events/ad-2`, { headers: AUTH })).json();
    expect(status.pipelines).toMatchObject([
      { pipeline: 'a', liveEdge: 8, ingests: 2, defectiveIngests: 1, healthy: true },
      { pipeline: 'b', liveEdge: 8, ingests: 1, defectiveIngests: 0, healthy: true },
    ]);
    expect(Date.parse(status.pipelines[0].lastIngestAt)).toBeGreaterThan(Date.now() - 5000);
  });

  it('rejects unknown fields, bad types and a half template with 400', async () => {
    for (const body of [
      { bogus: 1 },
      { segmentDurationMs: -1 },
      { pipelines: ['A'] },
      { segmentDurationMs: 2000 },
      { availabilityStartTime: 'yesterday', segmentDurationMs: 2000 },
    ]) {
      const res = await configure(origin, 'ad-3', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await res.json()).error).toBe('bad_request');
    }
  });

  it('rejects invalid JSON with 400 and a non-JSON body with 415', async () => {
    const bad = await fetch(`${origin.url}/admin/events/ad-4`, { method: 'PUT', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{' });
    expect(bad.status).toBe(400);
    const text = await fetch(`${origin.url}/admin/events/ad-4`, { method: 'PUT', headers: { ...AUTH, 'content-type': 'text/plain' }, body: 'hi' });
    expect(text.status).toBe(415);
  });

  it('needs a token that grants the event', async () => {
    expect((await fetch(`${origin.url}/admin/events/ad-5`)).status).toBe(401);
    const other = await fetch(`${origin.url}/admin/events/ad-5`, { headers: { authorization: `Bearer ${NEWS_TOKEN}` } });
    expect(other.status).toBe(403);
  });

  it('answers 404 for the status of an unknown event', async () => {
    expect((await fetch(`${origin.url}/admin/events/ad-none`, { headers: AUTH })).status).toBe(404);
  });
});

describe('operations', () => {
  it('answers /healthz and /readyz', async () => {
    expect((await fetch(`${origin.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${origin.url}/readyz`)).status).toBe(200);
  });

  it('exports the series of the contract in Prometheus text format', async () => {
    const fresh = await startOrigin();
    await put(fresh, 'ad-6', 'a', 'v/seg_1.m4s', 'x', { 'live-defect': 'tfdt' });
    await fetch(`${fresh.url}/live/ad-6/v/seg_1.m4s`);
    await fetch(`${fresh.url}/live/ad-6/v/seg_9.m4s`);
    const res = await fetch(`${fresh.url}/metrics`);
    await fresh.close();
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    for (const series of [
      'live_origin_requests_total{route="/live/:event/*",method="GET",status="200"}',
      'live_origin_request_duration_seconds_bucket',
      'live_origin_ingests_total{pipeline="a",result="created"} 1',
      'live_origin_ingest_bytes_total{pipeline="a"} 1',
      'live_origin_requests_total{route="/ingest/:event/:pipeline/*",method="PUT",status="201"} 1',
      'live_origin_defects_total{pipeline="a",kind="tfdt"} 1',
      'live_origin_selections_total{outcome="defective"} 1',
      'live_origin_held_requests 0',
      '# TYPE live_origin_hold_wait_seconds histogram',
      'live_origin_hold_timeouts_total 0',
      'live_origin_delivery_misses_total{status="404",reason="no_timeline"} 1',
      '# TYPE live_origin_purges_total counter',
      '# TYPE live_origin_hot_cache_hits_total counter',
      '# TYPE live_origin_store_faults_total counter',
      '# TYPE live_origin_evictions_total counter',
      'live_origin_pipeline_healthy{event="ad-6",pipeline="a"} 1',
      'live_origin_pipeline_lateness_seconds{event="ad-6",pipeline="a"}',
    ]) {
      expect(text, series).toContain(series);
    }
  });

  it('answers 404 in JSON for an unknown route', async () => {
    const res = await fetch(`${origin.url}/nothing-here`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not_found', message: 'no such route' });
  });
});
