/**
 * `lifeboat serve` end to end, on a real primary and a replica on the Ceph RGW: it backs up what
 * is due and replicates it, serves the status, jobs and snapshots documents, Prometheus metrics
 * that promtool accepts, alerts a webhook once when a replica cannot be reached, pings the
 * asset's dead-man URL around each backup, backs up on request, never shows a secret, refuses
 * requests without the token, and survives being killed mid-backup: restarted, it runs the
 * backup once more and the repository checks clean.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { runCli, runCliJson } from '../helpers/cli.js';
import { writeRandomFile } from '../helpers/files.js';
import { api, eventually, startServe } from '../helpers/serve.js';
import { repoUrl, TEST_BACKEND } from '../helpers/test-backend.js';
import { TEST_PASSWORD } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { bucketForTest, RGW } from '../storage/rgw.js';

const run = promisify(execFile);

interface Received {
  method: string;
  url: string;
  body: string;
}

/** A local HTTP endpoint that records what it receives (alert webhooks, dead-man pings). */
async function receiver(t: { after(fn: () => Promise<void>): void }): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      got.push({ method: req.method ?? '', url: req.url ?? '', body });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got };
}

interface Status {
  assets: Array<{ name: string; rpo_state: string; replicas: Array<{ repository: string; missing_snapshots: number | null; error?: { message: string } }> }>;
  cache: { age_seconds: number };
}

async function site(t: Parameters<typeof tempDir>[0], hook: string) {
  const dir = await tempDir(t);
  const bucket = await bucketForTest(t, 'serve');
  const primary = TEST_BACKEND === 's3' ? `${repoUrl(path.join(dir, 'primary'))}, s3: { endpoint: ${RGW.endpoint}, path_style: true }` : './primary';
  await fs.writeFile(path.join(dir, 'password'), `${TEST_PASSWORD}\n`, { mode: 0o600 });
  await fs.writeFile(
    path.join(dir, 'lifeboat.yaml'),
    [
      'repositories:',
      `  primary: { url: ${primary}, role: primary, password_file: password }`,
      `  dr-site: { url: "s3://${bucket}/dr", role: replica, password_file: password, s3: { endpoint: ${RGW.endpoint}, path_style: true } }`,
      // A second site that is down: replication to it fails, and says so.
      `  offline: { url: "s3://${bucket}/offline", role: replica, password_file: password, s3: { endpoint: "http://127.0.0.1:9", path_style: true } }`,
      'tiers:',
      `  1: { alerts: { webhooks: ["${hook}/alerts"] } }`,
      'assets:',
      `  model: { kind: model, tier: 1, source: { path: model }, ping: "${hook}/ping/model" }`,
      '  notes: { kind: config, tier: 2, source: { path: notes }, replicate_to: [dr-site] }',
      'serve: { poll: 1s, status_every: 2s, lease_ttl: 10s }',
      '',
    ].join('\n'),
  );
  await fs.mkdir(path.join(dir, 'model'));
  await fs.mkdir(path.join(dir, 'notes'));
  await writeRandomFile(path.join(dir, 'model', 'model.safetensors.bin'), 2 << 20, 'm');
  await writeRandomFile(path.join(dir, 'notes', 'prompt.txt'), 500, 'n');
  // Passwords only from the file; the RGW credentials from the environment (the S3 secret must never show).
  const env = { LIFEBOAT_PASSWORD: undefined, LIFEBOAT_REPOSITORY: undefined, LIFEBOAT_CACHE_DIR: path.join(dir, 'cache'), AWS_ACCESS_KEY_ID: RGW.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: RGW.credentials.secretAccessKey, AWS_REGION: RGW.region };
  for (const name of ['primary', 'dr-site']) {
    const r = await runCli(['init', '-r', name], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
  }
  return { dir, env };
}

test('serve backs up what is due, replicates, serves status, jobs and metrics, alerts once, pings, backs up on request, shows no secret', async (t) => {
  const hook = await receiver(t);
  const { dir, env } = await site(t, hook.url);
  const serve = await startServe([], { cwd: dir, env });
  t.after(() => serve.child.kill('SIGKILL'));

  const status = await eventually('both assets backed up, and the status refreshed', async () => {
    const r = await api<Status>(serve.url, '/api/v1/status');
    return r.status === 200 && r.body.assets.every((a) => a.rpo_state === 'ok' && a.replicas.some((x) => x.repository === 'dr-site' && x.missing_snapshots === 0)) ? r : undefined;
  });
  assert.ok(Number(status.headers.get('x-lifeboat-status-age')) >= 0);
  const model = status.body.assets.find((a) => a.name === 'model')!;
  assert.match(model.replicas.find((r) => r.repository === 'offline')?.error?.message ?? '', /127\.0\.0\.1:9|connect|ECONNREFUSED/i, 'the site that is down is reported, not fatal');

  const jobs = await api<{ running: unknown[]; recent: Array<{ kind: string; asset?: string; result: string }> }>(serve.url, '/api/v1/jobs');
  assert.ok(jobs.body.recent.some((j) => j.kind === 'backup' && j.asset === 'model' && j.result === 'ok'));

  // Prometheus: promtool accepts a real scrape, and the values say what status says.
  const scrape = await api<string>(serve.url, '/metrics');
  assert.equal(scrape.status, 200);
  const metricsFile = path.join(dir, 'metrics.txt');
  await fs.writeFile(metricsFile, scrape.text);
  const lint = await run('sh', ['-c', `promtool check metrics < ${metricsFile}`]).catch((e: { stdout: string; stderr: string; code: number }) => e);
  assert.ok(!('code' in lint) || lint.code === 0, `promtool check metrics: ${JSON.stringify(lint)}`);
  assert.match(scrape.text, /^lifeboat_asset_rpo_violated\{asset="model",tier="1"\} 0$/m);
  assert.match(scrape.text, /^lifeboat_backup_total\{asset="model",result="ok"\} [1-9]/m);
  assert.match(scrape.text, /^lifeboat_backup_last_success_timestamp_seconds\{asset="model",tier="1"\} \d+/m);
  assert.match(scrape.text, /^lifeboat_replica_lag_seconds\{asset="model",replica="dr-site"\} 0$/m);
  assert.match(scrape.text, /^lifeboat_asset_rpo_seconds\{asset="notes",tier="2"\} 604800$/m);

  // One alert about the site that is down, with a `text` for Slack and Mattermost; pings around the backup.
  const alerts = await eventually('the replication alert', async () => {
    const a = hook.got.filter((g) => g.url === '/alerts').map((g) => JSON.parse(g.body) as { event: string; text: string; asset: string });
    return a.some((x) => x.event === 'replication_failed') ? a : undefined;
  });
  const replication = alerts.filter((a) => a.event === 'replication_failed');
  assert.equal(replication.length, 1, 'one alert, not one per round');
  assert.match(replication[0].text, /Lifeboat: model: not replicated to offline/);
  const pings = hook.got.filter((g) => g.url.startsWith('/ping/model')).map((g) => g.url);
  assert.deepEqual(pings.slice(0, 2), ['/ping/model/start', '/ping/model/fail'], 'the first backup could not reach every replica: /fail');

  // Back up now: 202, then a second snapshot.
  const before = (await api<unknown[]>(serve.url, '/api/v1/snapshots?asset=notes')).body.length;
  const asked = await api<{ accepted: boolean }>(serve.url, '/api/v1/assets/notes/backup', { method: 'POST' });
  assert.equal(asked.status, 202);
  await eventually('the asked-for backup', async () => ((await api<unknown[]>(serve.url, '/api/v1/snapshots?asset=notes')).body.length > before ? true : undefined));
  assert.equal((await api(serve.url, '/api/v1/assets/nope/backup', { method: 'POST' })).status, 404);
  assert.equal((await api(serve.url, '/api/v1/nothing')).status, 404);

  const documents = await Promise.all(['/api/v1/status', '/api/v1/assets', '/api/v1/jobs', '/api/v1/snapshots', '/metrics'].map((p) => api(serve.url, p)));
  const stopped = await serve.stop('SIGTERM');
  assert.equal(stopped.code, 0, serve.log());
  assert.match(serve.log(), /stopped/);

  const everything = [serve.log(), ...documents.map((d) => d.text), ...hook.got.map((g) => g.body + g.url)].join('\n');
  for (const secret of [TEST_PASSWORD, RGW.credentials.secretAccessKey]) assert.ok(!everything.includes(secret), 'no secret in a log line, a response or an alert');

  const check = await runCli(['check', '-r', 'primary'], { cwd: dir, env });
  assert.equal(check.code, 0, check.stderr);
  const locks = await runCliJson<{ removed: number }>(['unlock', '-r', 'primary'], { cwd: dir, env });
  assert.equal(locks.json.removed, 0, 'no stale lock left');
});

test('a token is required off loopback; with a token set every route but /healthz refuses without it', async (t) => {
  const hook = await receiver(t);
  const { dir, env } = await site(t, hook.url);
  const refused = await runCli(['serve', '--listen', '0.0.0.0:0'], { cwd: dir, env });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /refusing to listen on 0\.0\.0\.0:0 without a token: set LIFEBOAT_SERVE_TOKEN/);

  const token = 'a-long-random-token-for-the-test-0123456789';
  const serve = await startServe([], { cwd: dir, env: { ...env, LIFEBOAT_SERVE_TOKEN: token } });
  t.after(() => serve.child.kill('SIGKILL'));
  for (const p of ['/api/v1/status', '/api/v1/assets', '/metrics', '/api/v1/jobs']) {
    const r = await api<{ error: { code: string } }>(serve.url, p);
    assert.equal(r.status, 401, p);
    assert.equal(r.body.error.code, 'UNAUTHORIZED');
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="lifeboat"');
    assert.equal((await api(serve.url, p, { token: 'wrong' })).status, 401);
  }
  assert.equal((await api(serve.url, '/healthz')).status, 200);
  const ok = await api(serve.url, '/api/v1/assets', { token });
  assert.equal(ok.status, 200);
  assert.ok(!ok.text.includes(token));
  await serve.stop();
  assert.ok(!serve.log().includes(token), 'the token is never logged');
});

test('killed mid-backup, serve restarted runs the backup once more; the repository checks clean and holds one snapshot', async (t) => {
  const hook = await receiver(t);
  const { dir, env } = await site(t, hook.url);
  await writeRandomFile(path.join(dir, 'model', 'big.bin'), 96 << 20, 'big');
  const first = await startServe([], { cwd: dir, env });
  await eventually('the backup of model to run', async () => ((await api<{ running: Array<{ key: string }> }>(first.url, '/api/v1/jobs')).body.running.some((j) => j.key === 'backup:model') ? true : undefined), 30_000, 50);
  await first.stop('SIGKILL');

  const second = await startServe([], { cwd: dir, env });
  t.after(() => second.child.kill('SIGKILL'));
  await eventually('model backed up after the restart', async () => {
    const r = await api<Status>(second.url, '/api/v1/status');
    return r.status === 200 && r.body.assets.find((a) => a.name === 'model')?.rpo_state === 'ok' ? true : undefined;
  });
  const snapshots = await api<Array<{ asset: string }>>(second.url, '/api/v1/snapshots?asset=model');
  assert.equal(snapshots.body.length, 1, 'the killed backup wrote no snapshot; the rerun wrote one');
  assert.equal((await second.stop()).code, 0);
  const check = await runCli(['check', '--read-data', '-r', 'primary'], { cwd: dir, env });
  assert.equal(check.code, 0, check.stdout + check.stderr);
});

test('SIGTERM mid-backup: serve stops the backup at a safe point and exits; no snapshot, no lock, the repository checks clean, the job is recorded as interrupted', async (t) => {
  const hook = await receiver(t);
  const { dir, env } = await site(t, hook.url);
  await writeRandomFile(path.join(dir, 'model', 'big.bin'), 160 << 20, 'big');
  const serve = await startServe([], { cwd: dir, env });
  t.after(() => serve.child.kill('SIGKILL'));
  await eventually('the backup of model to be under way', async () => {
    const jobs = await api<{ running: Array<{ key: string; progress?: { bytesDone: number } }> }>(serve.url, '/api/v1/jobs');
    return jobs.body.running.some((j) => j.key === 'backup:model' && (j.progress?.bytesDone ?? 0) > 0) ? true : undefined;
  }, 60_000, 50);
  const started = Date.now();
  const ended = await serve.stop('SIGTERM');
  assert.equal(ended.code, 0, serve.log());
  assert.ok(Date.now() - started < 20_000, 'it stopped at a safe point, not after the whole backup');
  const snapshots = await runCliJson<Array<{ asset: string }>>(['snapshots', '-r', 'primary'], { cwd: dir, env });
  assert.equal(snapshots.json.filter((s) => s.asset === 'model').length, 0, 'no snapshot for the interrupted backup');
  const locks = await runCliJson<{ removed: number }>(['unlock', '-r', 'primary'], { cwd: dir, env });
  assert.equal(locks.json.removed, 0, 'no lock left behind');
  assert.equal((await runCli(['check', '-r', 'primary'], { cwd: dir, env })).code, 0);
  const catalog = await runCliJson<{ jobs: number }>(['catalog', 'rebuild', '-r', 'primary'], { cwd: dir, env: { ...env, LIFEBOAT_CATALOG: path.join(dir, 'c.sqlite') } });
  assert.ok(catalog.json.jobs >= 1);
  const status = await runCliJson<{ assets: Array<{ name: string; last_backup: { result: string } | null }> }>(['status'], { cwd: dir, env: { ...env, LIFEBOAT_CATALOG: path.join(dir, 'c.sqlite') } });
  assert.equal(status.json.assets.find((a) => a.name === 'model')?.last_backup?.result, 'interrupted');
});
