/**
 * The failure scenarios of issue 4, end to end with the openai client against fake upstreams:
 * primary killed mid-traffic, all GPU groups down, everything down, primary recovering, hangs,
 * a single-upstream group that must cool down, streams that break, deadlines.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { APIError } from 'openai';
import { ask, setup, sleep, waitFor, type GroupSpec } from './harness.js';

const THREE_TIERS: GroupSpec[] = [
  { name: 'gpu-main', role: 'primary', upstreams: ['p1'] },
  { name: 'gpu-dr', role: 'standby', upstreams: ['s1'] },
  { name: 'cpu', role: 'degraded', upstreams: ['cpu1'], models: ['"*": tiny-cpu'] },
];

describe('gateway failover', () => {
  it('keeps answering via the standby when the primary is killed mid-traffic; no request is lost', async () => {
    const s = await setup(THREE_TIERS, '', { latencyMs: 15 });
    try {
      await Promise.all(Array.from({ length: 8 }, (_, i) => ask(s.client, `warm-up ${i}`))); // connections, lazy loading
      const results: { route: string | null; sent: number; at: number }[] = [];
      const errors: unknown[] = [];
      let killedAt = 0;
      let deadAt = 0;
      const stopAt = Date.now() + 1800;
      const worker = async (w: number) => {
        for (let i = 0; Date.now() < stopAt; i++) {
          try {
            const sent = Date.now();
            const r = await ask(s.client, `w${w}-${i}`);
            results.push({ route: r.route, sent, at: Date.now() });
          } catch (e) {
            errors.push(e);
          }
        }
      };
      const killer = (async () => {
        await sleep(700);
        killedAt = Date.now();
        await s.fakes.p1.kill();
        deadAt = Date.now();
      })();
      await Promise.all([...Array.from({ length: 8 }, (_, w) => worker(w)), killer]);
      assert.deepEqual(errors, [], 'every request succeeded, including those in flight on the killed primary');
      assert.deepEqual(s.gw.ctx.pool.view(Date.now()).map((v) => v.inFlight), [0, 0, 0], 'no in-flight count leaked');
      const before = results.filter((r) => r.at < killedAt);
      const after = results.filter((r) => r.sent > deadAt); // sent when the primary was already gone
      assert.ok(before.length >= 4 && before.every((r) => r.route === 'primary'), `primary served before the kill: ${JSON.stringify(before.map((r) => r.route).filter((r) => r !== 'primary'))} of ${before.length}`);
      assert.ok(after.length >= 4 && after.every((r) => r.route === 'standby'), `standby served after the kill: ${JSON.stringify(after.filter((r) => r.route !== 'standby').map((r) => [r.route, r.sent - deadAt]))} of ${after.length}`);
      const firstStandby = results.find((r) => r.route === 'standby')!.at - killedAt;
      // Requests fail over at once; the bound is 2 health-check intervals (200 ms) plus slack for a loaded CI machine.
      assert.ok(firstStandby < 400, `traffic reached the standby ${firstStandby} ms after the kill`);
      // Retries are bounded: only requests that hit the dead primary before ejection needed a second attempt.
      const failovers = await metric(s.gw.url, 'lifeboat_gateway_failovers_total{from="primary",to="standby"}');
      assert.ok(failovers >= 1 && failovers <= 8 + 2, `failovers ${failovers} ≤ in-flight (8) + ejection threshold (2)`);
    } finally {
      await s.stop();
    }
  });

  it('answers from the degraded CPU model, marked degraded, when all GPU groups are down', async () => {
    const s = await setup(THREE_TIERS);
    try {
      await s.fakes.p1.kill();
      await s.fakes.s1.kill();
      const r = await ask(s.client, 'still there?', 'llama-70b');
      assert.equal(r.route, 'degraded');
      assert.equal(r.upstream, 'cpu1');
      assert.equal(r.model, 'tiny-cpu', 'the degraded group maps the model name to its smaller model');
      assert.equal(s.fakes.cpu1.lastBody?.model, 'tiny-cpu');
      assert.equal(r.text, 'answer from cpu1: still there?');
    } finally {
      await s.stop();
    }
  });

  it('serves cached answers for warm queries and a clear 503 for others when everything is down', async () => {
    const s = await setup(THREE_TIERS, '  cache: { ttl: 1h, max_entries: 100 }');
    try {
      const live = await ask(s.client, 'what is our RTO?');
      assert.equal(live.route, 'primary');
      for (const f of Object.values(s.fakes)) await f.kill();
      const cached = await ask(s.client, '  what is our RTO?  ');
      assert.equal(cached.route, 'cache');
      assert.equal(cached.cache, 'hit');
      assert.equal(cached.upstream, 'p1', 'names the upstream that produced the cached answer');
      assert.equal(cached.text, live.text);
      // A streaming client gets the cached answer as a stream.
      const stream = await s.client.chat.completions.create({ model: 'llama-70b', messages: [{ role: 'user', content: 'what is our RTO?' }], stream: true });
      let streamed = '';
      for await (const c of stream) streamed += c.choices[0]?.delta?.content ?? '';
      assert.equal(streamed, live.text);
      await assert.rejects(ask(s.client, 'never asked before'), (e: unknown) => {
        assert.ok(e instanceof APIError);
        assert.equal(e.status, 503);
        assert.equal(e.code, 'no_upstream_available');
        assert.match(e.message, /no upstream could answer/);
        return true;
      });
    } finally {
      await s.stop();
    }
  });

  it('returns traffic to the primary once it passes the healthy threshold again', async () => {
    const s = await setup(THREE_TIERS);
    try {
      await s.fakes.p1.kill();
      await waitFor(async () => (await ask(s.client, 'x')).route === 'standby', 1000, 'failover to standby');
      await waitFor(() => !s.gw.ctx.pool.view(Date.now()).find((v) => v.name === 'p1')!.healthy, 1000, 'p1 marked unhealthy');
      await sleep(150);
      assert.equal((await ask(s.client, 'still down')).route, 'standby');
      const probesBefore = s.fakes.p1.probes;
      await s.fakes.p1.revive();
      const took = await waitFor(async () => (await ask(s.client, 'back?')).route === 'primary', 2000, 'traffic back on primary');
      // Back only after healthy_threshold (2) good probes, and long before the 2 s ejection would expire.
      assert.ok(s.fakes.p1.probes - probesBefore >= 2, `${s.fakes.p1.probes - probesBefore} probes answered before traffic returned`);
      assert.ok(took < 1000, `primary took traffic again ${took} ms after reviving`);
    } finally {
      await s.stop();
    }
  });

  it('moves on when the primary hangs, then stops sending it traffic', async () => {
    const s = await setup(THREE_TIERS);
    try {
      s.fakes.p1.setMode({ kind: 'hang' });
      const t0 = Date.now();
      const r = await ask(s.client, 'are you there');
      assert.equal(r.route, 'standby');
      assert.ok(Date.now() - t0 >= 380, 'waited for the 400 ms attempt timeout first');
      await waitFor(() => !s.gw.ctx.pool.view(Date.now()).find((v) => v.name === 'p1')!.available, 1000, 'p1 taken out');
      const t1 = Date.now();
      assert.equal((await ask(s.client, 'again')).route, 'standby');
      assert.ok(Date.now() - t1 < 200, 'no more waiting on the hung primary');
    } finally {
      await s.stop();
    }
  });

  it('cools down a single-upstream group: an outage does not make every request pay a retry', async () => {
    // LiteLLM's complaint: a group of one deployment never cooled down. Here the one upstream is ejected.
    const s = await setup(THREE_TIERS, '', { healthInterval: '10s' });
    try {
      s.fakes.p1.setMode({ kind: 'fail', status: 503 });
      for (let i = 0; i < 10; i++) assert.equal((await ask(s.client, `q${i}`)).route, 'standby');
      assert.equal(s.fakes.p1.requests, 2, 'only consecutive_failures (2) requests reached the failing primary');
      const view = s.gw.ctx.pool.view(Date.now()).find((v) => v.name === 'p1')!;
      assert.ok(view.ejectedForMs > 1000, 'p1 is ejected for the base ejection time');
    } finally {
      await s.stop();
    }
  });

  it('does not retry beyond the retry budget, so an outage cannot multiply the load', async () => {
    const s = await setup(THREE_TIERS, '  retries: { budget_percent: 0, min_per_second: 0 }');
    try {
      s.fakes.p1.setMode({ kind: 'fail', status: 500 });
      await assert.rejects(ask(s.client, 'no budget'), (e: unknown) => e instanceof APIError && e.status === 503 && /retry budget spent/.test(e.message));
      assert.equal(s.fakes.s1.requests, 0, 'the standby was not tried');
      assert.equal(await metric(s.gw.url, 'lifeboat_gateway_retry_budget_exhausted_total'), 1);
    } finally {
      await s.stop();
    }
  });

  it('ends a stream that breaks mid-way with an error the client sees, without retrying it', async () => {
    const s = await setup(THREE_TIERS);
    try {
      s.fakes.p1.setMode({ kind: 'die-mid-stream' });
      const stream = await s.client.chat.completions.create({ model: 'llama-70b', messages: [{ role: 'user', content: 'long answer please' }], stream: true });
      let got = '';
      await assert.rejects(async () => {
        for await (const c of stream) got += c.choices[0]?.delta?.content ?? '';
      }, /stream broke off/);
      assert.equal(got, 'answer', 'the first chunk was passed through before the break');
      assert.equal(s.fakes.s1.requests, 0, 'a request already streamed is not replayed elsewhere');
    } finally {
      await s.stop();
    }
  });

  it('honours a per-request deadline', async () => {
    const s = await setup(THREE_TIERS);
    try {
      for (const f of Object.values(s.fakes)) f.setMode({ kind: 'slow', delayMs: 2000 });
      const t0 = Date.now();
      const res = await fetch(`${s.gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-lifeboat-deadline-ms': '250' },
        body: JSON.stringify({ model: 'llama-70b', messages: [{ role: 'user', content: 'quick' }] }),
      });
      const took = Date.now() - t0;
      assert.equal(res.status, 503);
      assert.ok(took < 600, `gave up after ${took} ms`);
      const j = (await res.json()) as { error: { message: string } };
      assert.match(j.error.message, /no response within|deadline/);
    } finally {
      await s.stop();
    }
  });
});

async function metric(base: string, series: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.split(' ')[1]) : 0;
}
