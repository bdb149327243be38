/** The admin API (authenticated), planned switches without failed requests, cache warm/purge/persistence, metrics. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import OpenAI from 'openai';
import { admin, ask, setup, sleep } from './harness.js';

const GROUPS = [
  { name: 'site-a', role: 'primary' as const, upstreams: ['a1', 'a2'] },
  { name: 'site-b', role: 'standby' as const, upstreams: ['b1'] },
  { name: 'cpu', role: 'degraded' as const, upstreams: ['c1'], models: ['"*": tiny-cpu'] },
];

describe('gateway admin API', () => {
  it('refuses calls without the right bearer token', async () => {
    const s = await setup(GROUPS);
    try {
      assert.equal((await admin(s.gw, 'GET', '/admin/state', undefined, 'wrong')).status, 401);
      const res = await fetch(`${s.gw.url}/admin/state`);
      assert.equal(res.status, 401);
      assert.equal((await admin(s.gw, 'POST', '/admin/upstreams/a1/drain', undefined, 'wrong')).status, 401);
      assert.equal(s.gw.ctx.pool.view(Date.now()).find((v) => v.name === 'a1')!.drained, false);
    } finally {
      await s.stop();
    }
  });

  it('reports every upstream with its group, route and health', async () => {
    const s = await setup(GROUPS);
    try {
      const { status, json } = await admin(s.gw, 'GET', '/admin/state');
      assert.equal(status, 200);
      assert.deepEqual(json.order, ['site-a', 'site-b', 'cpu']);
      assert.equal(json.primary, 'site-a');
      const byName = Object.fromEntries(json.upstreams.map((u: { name: string }) => [u.name, u]));
      assert.equal(byName.a1.route, 'primary');
      assert.equal(byName.b1.route, 'standby');
      assert.equal(byName.c1.route, 'degraded');
      assert.equal(byName.a1.available, true);
    } finally {
      await s.stop();
    }
  });

  it('drains an upstream (no new requests) and undrains it', async () => {
    const s = await setup(GROUPS);
    try {
      assert.equal((await admin(s.gw, 'POST', '/admin/upstreams/a1/drain')).status, 200);
      const before = s.fakes.a1.requests;
      for (let i = 0; i < 6; i++) assert.equal((await ask(s.client, `d${i}`)).upstream, 'a2');
      assert.equal(s.fakes.a1.requests, before);
      await admin(s.gw, 'POST', '/admin/upstreams/a1/undrain');
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) seen.add((await ask(s.client, `u${i}`)).upstream!);
      assert.ok(seen.has('a1'));
      assert.equal((await admin(s.gw, 'POST', '/admin/upstreams/nope/drain')).status, 404);
    } finally {
      await s.stop();
    }
  });

  it('switches the primary group under load without a single failed request', async () => {
    const s = await setup(GROUPS, '', { latencyMs: 10 });
    try {
      const routes: { sent: number; answered: number; route: string }[] = [];
      const errors: unknown[] = [];
      let running = true;
      const worker = async (w: number) => {
        for (let i = 0; running; i++) {
          try {
            const sent = Date.now();
            const r = await ask(s.client, `w${w}-${i}`);
            routes.push({ sent, answered: Date.now(), route: `${r.route}:${r.upstream}` });
          } catch (e) {
            errors.push(e);
          }
        }
      };
      const workers = Array.from({ length: 6 }, (_, w) => worker(w));
      // Traffic first (by count, not by time: a loaded CI machine answers fewer requests in 300 ms).
      for (const until = Date.now() + 30_000; routes.length < 12 && Date.now() < until; ) await sleep(20);
      // A runbook's planned switch: site-b becomes primary, then site-a is drained and shut down.
      const switchAt = Date.now();
      const sw = await admin(s.gw, 'POST', '/admin/switch', { group: 'site-b' });
      assert.equal(sw.status, 200);
      assert.deepEqual(sw.json.order, ['site-b', 'site-a', 'cpu']);
      await admin(s.gw, 'POST', '/admin/upstreams/a1/drain');
      await admin(s.gw, 'POST', '/admin/upstreams/a2/drain');
      // In-flight requests on site-a finish (by their count, not a fixed time: a loaded machine is slow).
      const siteABusy = () => s.gw.ctx.pool.view(Date.now()).some((v) => v.name.startsWith('a') && v.inFlight > 0);
      for (const until = Date.now() + 30_000; siteABusy() && Date.now() < until; ) await sleep(10);
      await s.fakes.a1.kill();
      await s.fakes.a2.kill();
      const drainedAt = Date.now();
      for (const until = Date.now() + 30_000; routes.filter((r) => r.sent > drainedAt).length < 12 && Date.now() < until; ) await sleep(20);
      running = false;
      await Promise.all(workers);
      assert.deepEqual(errors, []);
      assert.deepEqual(s.gw.ctx.pool.view(Date.now()).map((v) => v.inFlight), [0, 0, 0, 0], 'no in-flight count leaked');
      // Answered before the switch was asked for: routed before it (one sent just before may be routed after).
      const before = routes.filter((r) => r.answered < switchAt);
      assert.ok(before.length > 5 && before.every((r) => r.route.startsWith('primary:a')), 'site-a was primary at first');
      const later = routes.filter((r) => r.sent > drainedAt);
      assert.ok(later.length > 5 && later.every((r) => r.route === 'primary:b1'), 'site-b serves as primary after the switch');
    } finally {
      await s.stop();
    }
  });

  it('refuses to make a degraded group primary, and names unknown groups', async () => {
    const s = await setup(GROUPS);
    try {
      const d = await admin(s.gw, 'POST', '/admin/switch', { group: 'cpu' });
      assert.equal(d.status, 400);
      assert.match(d.json.error.message, /degraded/);
      assert.equal((await admin(s.gw, 'POST', '/admin/switch', { group: 'mars' })).status, 404);
    } finally {
      await s.stop();
    }
  });

  it('warms the cache from a file of common queries, purges it, and keeps it across restarts', async () => {
    const s = await setup(GROUPS, '  cache: { path: cache/answers.jsonl, ttl: 1h }');
    try {
      const file = path.join(s.dir, 'common.jsonl');
      await writeFile(
        file,
        [
          JSON.stringify({ model: 'llama-70b', messages: [{ role: 'user', content: 'how do I restore?' }] }),
          JSON.stringify({ endpoint: 'completions', body: { model: 'llama-70b', prompt: 'status' } }),
        ].join('\n'),
      );
      const warm = await admin(s.gw, 'POST', '/admin/cache/warm', { file });
      assert.equal(warm.status, 200);
      assert.deepEqual(warm.json, { warmed: 2, failed: [] });
      await s.gw.saveCache();
      // Everything dies; a restarted gateway still has the warmed answers from disk.
      for (const f of Object.values(s.fakes)) await f.kill();
      const g2 = await s.restart();
      const c2 = new OpenAI({ baseURL: `${g2.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const r = await ask(c2, 'how do I restore?');
      assert.equal(r.route, 'cache');
      assert.match(r.text, /^answer from a[12]: how do I restore\?$/);
      const purged = await admin(g2, 'POST', '/admin/cache/purge');
      assert.equal(purged.json.purged, 2);
      await assert.rejects(ask(c2, 'how do I restore?'), /503/);
    } finally {
      await s.stop();
    }
  });

  it('warms the cache from warm_file at start', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lifeboat-warm-'));
    const file = path.join(dir, 'common.jsonl');
    await writeFile(file, ['alpha', 'beta', 'gamma'].map((q) => JSON.stringify({ model: 'llama-70b', messages: [{ role: 'user', content: q }] })).join('\n'));
    const s = await setup(GROUPS, `  cache: { warm_file: ${JSON.stringify(file)} }`);
    try {
      await s.gw.warmed;
      assert.equal(s.gw.ctx.cache!.stats().entries, 3);
      assert.ok(s.logs.some((l) => /cache warmed from .*common\.jsonl: 3 answers stored, 0 failed/.test(l)));
      for (const f of Object.values(s.fakes)) await f.kill();
      assert.equal((await ask(s.client, 'beta')).route, 'cache');
    } finally {
      await s.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('serves cache hits first when configured to serve them always', async () => {
    const s = await setup(GROUPS, '  cache: { serve: always }');
    try {
      const first = await ask(s.client, 'same question');
      assert.equal(first.route, 'primary');
      const n = s.fakes.a1.requests + s.fakes.a2.requests;
      const second = await ask(s.client, 'same question');
      assert.equal(second.route, 'cache');
      assert.equal(s.fakes.a1.requests + s.fakes.a2.requests, n);
    } finally {
      await s.stop();
    }
  });

  it('exposes Prometheus metrics by route, status, upstream health and cache', async () => {
    const s = await setup(GROUPS, '  cache: {}');
    try {
      await ask(s.client, 'm1');
      await s.fakes.a1.kill();
      await s.fakes.a2.kill();
      await ask(s.client, 'm2');
      await ask(s.client, 'm1');
      await sleep(250);
      const text = await (await fetch(`${s.gw.url}/metrics`)).text();
      assert.match(text, /lifeboat_gateway_requests_total\{route="primary",status="200",endpoint="chat"\} 1/);
      assert.match(text, /lifeboat_gateway_requests_total\{route="standby",status="200",endpoint="chat"\} 2/);
      assert.match(text, /lifeboat_gateway_upstream_healthy\{upstream="a1",group="site-a"\} 0/);
      assert.match(text, /lifeboat_gateway_upstream_available\{upstream="b1",group="site-b",route="standby"\} 1/);
      assert.match(text, /lifeboat_gateway_failovers_total\{from="primary",to="standby"\} [1-9]/);
      assert.match(text, /lifeboat_gateway_request_duration_seconds_bucket\{le="0.05",route="primary"\}/);
      assert.match(text, /lifeboat_gateway_cache_hit_ratio 0/);
    } finally {
      await s.stop();
    }
  });
});
