/**
 * Gateway benchmark, bounded to about two minutes: `node dist/bench/gateway/run.js [--quick]`.
 *  1. Overhead: autocannon at a fixed 500 / 1000 / 2000 req/s against a fake upstream directly and through
 *     the gateway (separate processes); p50/p99 latency difference, median of 3 runs (1 with --quick).
 *  2. Failover: 300 req/s open loop, the primary process is killed; time until answers come from the
 *     standby, until outlier ejection and health checks take the primary out; failed requests.
 *  3. Planned switch: 500 req/s, the admin API switches the primary group, drains and then the old primary
 *     is killed; failed requests (target: zero).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import type { GatewayConfig, GroupConfig } from '../../src/gateway/config.js';
import { openLoop } from './open-loop.js';
import { startChild, type Child } from './processes.js';

const QUICK = process.argv.includes('--quick');
const REPS = QUICK ? 1 : 3;
const SECONDS = QUICK ? 2 : 4;
const TOKEN = 'bench-token';
const BODY = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'What is the RTO of a tier 1 asset?' }], max_tokens: 16 });

function config(groups: GroupConfig[], health: { intervalMs: number }): GatewayConfig {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    adminToken: TOKEN,
    adminTokenEnv: 'LIFEBOAT_GATEWAY_TOKEN',
    deadlineMs: 30_000,
    attemptTimeoutMs: 2_000,
    maxBodyBytes: 1 << 20,
    retries: { maxAttempts: 3, budgetPercent: 20, minPerSecond: 5 },
    healthCheck: { intervalMs: health.intervalMs, timeoutMs: 1000, healthyThreshold: 2, unhealthyThreshold: 2 },
    outlier: { consecutiveFailures: 3, baseEjectionMs: 10_000, maxEjectionMs: 60_000 },
    groups,
    cache: undefined,
  };
}

function group(name: string, role: GroupConfig['role'], ups: { name: string; url: string }[]): GroupConfig {
  return { name, role, models: undefined, upstreams: ups.map((u) => ({ name: u.name, group: name, url: u.url, apiKey: undefined, maxConnections: 256, probe: { endpoint: 'chat', model: 'bench' } })) };
}

async function startGatewayChild(dir: string, cfg: GatewayConfig): Promise<Child> {
  const file = path.join(dir, `gateway-${Date.now()}.json`);
  await writeFile(file, JSON.stringify(cfg));
  return startChild(['gateway', file], false);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f = (x: number) => x.toFixed(2);

interface Run {
  p50: number;
  p99: number;
  rate: number;
  failed: number;
}

async function cannon(base: string, rate: number, seconds: number): Promise<Run> {
  const latencies: number[] = [];
  let failed = 0;
  const opts = {
    url: `${base}/v1/chat/completions`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json' },
    body: BODY,
    connections: Math.max(8, Math.ceil(rate / 100)),
    overallRate: rate,
    duration: seconds,
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const inst = autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
    // autocannon's own histogram has 1 ms resolution; its response events carry the exact time.
    inst.on('response', (_client, status, _bytes, ms) => {
      if (status === 200) latencies.push(ms);
      else failed++;
    });
  });
  failed += result.errors + result.timeouts;
  latencies.sort((a, b) => a - b);
  return { p50: pct(latencies, 50), p99: pct(latencies, 99), rate: latencies.length / seconds, failed };
}

async function overhead(dir: string) {
  const up = await startChild(['upstream', 'u1']);
  const gw = await startGatewayChild(dir, config([group('main', 'primary', [{ name: 'u1', url: up.url }])], { intervalMs: 5000 }));
  try {
    await cannon(up.url, 500, 1);
    await cannon(gw.url, 500, 1);
    const rows = [];
    for (const rate of [500, 1000, 2000]) {
      const reps: { direct: Run; gateway: Run }[] = [];
      for (let i = 0; i < REPS; i++) reps.push({ direct: await cannon(up.url, rate, SECONDS), gateway: await cannon(gw.url, rate, SECONDS) });
      rows.push({
        rate,
        directP50: median(reps.map((r) => r.direct.p50)),
        directP99: median(reps.map((r) => r.direct.p99)),
        gatewayP50: median(reps.map((r) => r.gateway.p50)),
        gatewayP99: median(reps.map((r) => r.gateway.p99)),
        overheadP50: median(reps.map((r) => r.gateway.p50 - r.direct.p50)),
        overheadP99: median(reps.map((r) => r.gateway.p99 - r.direct.p99)),
        achieved: median(reps.map((r) => r.gateway.rate)),
        failed: reps.reduce((n, r) => n + r.gateway.failed + r.direct.failed, 0),
      });
    }
    return rows;
  } finally {
    await gw.stop();
    await up.stop();
  }
}

async function upstreamState(gwUrl: string, name: string): Promise<{ available: boolean; healthy: boolean; changedAt: string }> {
  const res = await fetch(`${gwUrl}/admin/state`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const json = (await res.json()) as { upstreams: { name: string; available: boolean; healthy: boolean; changedAt: string }[] };
  return json.upstreams.find((u) => u.name === name)!;
}

async function admin(gwUrl: string, p: string, body?: unknown): Promise<void> {
  const res = await fetch(`${gwUrl}${p}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
  if (res.status !== 200) throw new Error(`${p}: HTTP ${res.status} ${await res.text()}`);
}

async function withPair<T>(dir: string, intervalMs: number, fn: (gw: Child, primary: Child) => Promise<T>): Promise<T> {
  const p = await startChild(['upstream', 'p1']);
  const s = await startChild(['upstream', 's1']);
  const gw = await startGatewayChild(dir, config([group('main', 'primary', [{ name: 'p1', url: p.url }]), group('dr', 'standby', [{ name: 's1', url: s.url }])], { intervalMs }));
  try {
    return await fn(gw, p);
  } finally {
    await gw.stop();
    await p.stop();
    await s.stop();
  }
}

/** Under traffic: requests fail over at once, and outlier detection takes the primary out. */
async function failoverUnderLoad(dir: string) {
  return withPair(dir, 1000, async (gw, p) => {
    let killedAt = 0;
    let killedEpoch = 0;
    const t0 = performance.now();
    const samples = await openLoop(`${gw.url}/v1/chat/completions`, BODY, 300, 3500, [
      {
        atMs: 1500,
        run: async () => {
          killedAt = performance.now() - t0;
          killedEpoch = Date.now();
          await p.command('kill');
        },
      },
    ]);
    const st = await upstreamState(gw.url, 'p1');
    const afterKill = samples.filter((x) => x.sentAt >= killedAt);
    return {
      requests: samples.length,
      failed: samples.filter((x) => x.status !== 200).length,
      firstStandbyMs: Math.min(...afterKill.filter((x) => x.route === 'standby').map((x) => x.doneAt - killedAt)),
      takenOutMs: st.available ? NaN : Date.parse(st.changedAt) - killedEpoch,
      p99AfterKillMs: pct(afterKill.map((x) => x.doneAt - x.sentAt).sort((a, b) => a - b), 99),
    };
  });
}

/** Without traffic only the active health checks can notice: time until the primary is marked unhealthy. */
async function detectionIdle(dir: string, intervalMs: number): Promise<number> {
  return withPair(dir, intervalMs, async (gw, p) => {
    // Kill at a random phase of the probe cycle, as a real failure would.
    await new Promise((r) => setTimeout(r, intervalMs * (1 + Math.random())));
    const killedAt = performance.now();
    await p.command('kill');
    for (;;) {
      if (!(await upstreamState(gw.url, 'p1')).healthy) return performance.now() - killedAt;
      if (performance.now() - killedAt > 4 * intervalMs + 2000) return NaN;
      await new Promise((r) => setTimeout(r, 10));
    }
  });
}

async function plannedSwitch(dir: string) {
  const a = await startChild(['upstream', 'a1']);
  const b = await startChild(['upstream', 'b1']);
  const gw = await startGatewayChild(dir, config([group('site-a', 'primary', [{ name: 'a1', url: a.url }]), group('site-b', 'standby', [{ name: 'b1', url: b.url }])], { intervalMs: 1000 }));
  try {
    const samples = await openLoop(`${gw.url}/v1/chat/completions`, BODY, 500, 4000, [
      {
        atMs: 1500,
        run: async () => {
          await admin(gw.url, '/admin/switch', { group: 'site-b' });
          await admin(gw.url, '/admin/upstreams/a1/drain');
          await new Promise((r) => setTimeout(r, 500));
          await a.command('kill'); // the old primary goes down for maintenance
        },
      },
    ]);
    return {
      requests: samples.length,
      failed: samples.filter((x) => x.status !== 200).length,
      servedBySiteA: samples.filter((x) => x.route === 'primary' && x.sentAt < 1500).length,
      afterSwitchOnStandbyRoute: samples.filter((x) => x.sentAt > 1600 && x.route !== 'primary').length,
    };
  } finally {
    await gw.stop();
    await a.stop();
    await b.stop();
  }
}

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'lifeboat-gw-bench-'));
  try {
    const rows = await overhead(dir);
    console.log(`\nGateway overhead vs direct (ms; fake upstream with no generation time; median of ${REPS} × ${SECONDS} s, autocannon at a fixed rate)`);
    console.log('rate req/s | achieved | direct p50 | direct p99 | gateway p50 | gateway p99 | overhead p50 | overhead p99 | failed');
    for (const r of rows) {
      console.log(`${r.rate} | ${r.achieved.toFixed(0)} | ${f(r.directP50)} | ${f(r.directP99)} | ${f(r.gatewayP50)} | ${f(r.gatewayP99)} | ${f(r.overheadP50)} | ${f(r.overheadP99)} | ${r.failed}`);
    }
    const fo = await failoverUnderLoad(dir);
    console.log('\nFailover under traffic (300 req/s open loop, primary process killed)');
    console.log(`first answer from the standby: ${f(fo.firstStandbyMs)} ms after the kill; primary taken out by outlier detection after ${f(fo.takenOutMs)} ms`);
    console.log(`failed requests: ${fo.failed} of ${fo.requests}; p99 latency of requests sent after the kill: ${f(fo.p99AfterKillMs)} ms`);
    console.log('\nFailover without traffic (only health checks; unhealthy threshold 2)');
    for (const intervalMs of [500, 1000]) {
      const runs: number[] = [];
      for (let i = 0; i < REPS; i++) runs.push(await detectionIdle(dir, intervalMs));
      console.log(`interval ${intervalMs} ms: primary marked unhealthy after ${runs.map(f).join(', ')} ms (median ${f(median(runs))}; bound 2 intervals = ${2 * intervalMs} ms)`);
    }
    const sw = await plannedSwitch(dir);
    console.log('\nPlanned switch (500 req/s; switch primary group, drain, kill the old primary)');
    console.log(`failed requests: ${sw.failed} of ${sw.requests}; answered by site-a before: ${sw.servedBySiteA}; after the switch not on route primary: ${sw.afterSwitchOnStandbyRoute}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
