/**
 * The DR loop end to end with real parts: a generated model served by the test inference server
 * behind the real `lifeboat gateway`; the model is lost, `lifeboat recover` brings it back
 * (restore, verify, deploy, smoke, switch, notify), the smoke test passes against the recovered
 * weights and the gateway routes to them. Then a drill with a seed, a drill over a damaged pack
 * (fails at verify, naming the file), and a restore target on a full volume (doctor and the drill
 * fail first, touching nothing).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { Report } from '../../src/control/reports.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { listJobIds, loadJobRecord } from '../../src/control/jobs.js';
import { createRepo, reopenRepo, TEST_PASSWORD } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { startInferenceServer, tensorDigest } from '../fixtures/inference-server.js';
import { askGateway, FIXTURE, freePort, GATEWAY_TOKEN, generateModel, spawnGateway, startWebhook, waitFor } from './site.js';

interface Site {
  dir: string;
  config: string;
  model: string;
  digest: string;
  scratch: string;
}

function yaml(site: Site, urls: { a: string; b: string; c: string; gateway: string; gatewayPort: number; hook: string }, scratchRoot = site.scratch): string {
  const node = process.execPath;
  const smoke = (url: string) =>
    `{ url: "${url}/v1/completions", method: POST, json: { model: "\${asset}", prompt: ping, max_tokens: 1 }, expect_status: 200, expect_body_contains: "sha256=${site.digest}", max_latency: 5s }`;
  return `
repositories:
  primary: { url: ${site.dir}/repo, role: primary, password_file: ${site.dir}/password }
assets:
  llama-ft: { kind: model, tier: 1, rto: 10m, source: { path: ${site.model} }, runbook: serve-model }
  prompts: { kind: config, tier: 2, source: { path: ${site.dir}/srv/prompts } }
runbooks:
  serve-model:
    scratch_root: ${scratchRoot}
    steps:
      - restore: { target: "${path.dirname(site.model)}/\${asset}" }
      - verify: { format: true }
      - deploy: { run: "${node} ${FIXTURE} reload ${urls.b} \${restore_dir}/model.safetensors", timeout: 1m }
      - smoke: { http: ${smoke(urls.b)}, retries: 5, retry_delay: 200ms }
      - switch: { gateway: { url: "${urls.gateway}", group: rack-b } }
      - notify: { webhook: "${urls.hook}/hooks/dr" }
    drill:
      restore: { target: scratch }
      deploy: { run: "${node} ${FIXTURE} reload ${urls.c} \\"$LIFEBOAT_RESTORE_DIR/model.safetensors\\"" }
      smoke: { http: ${smoke(urls.c)} }
      switch: skip
gateway:
  listen: 127.0.0.1:${urls.gatewayPort}
  health_check: { interval: 200ms, timeout: 1s, healthy_threshold: 1, unhealthy_threshold: 1 }
  groups:
    - { name: rack-a, role: primary, probe: { endpoint: completions, model: llama-ft }, upstreams: [{ name: a1, url: "${urls.a}" }] }
    - { name: rack-b, role: standby, probe: { endpoint: completions, model: llama-ft }, upstreams: [{ name: b1, url: "${urls.b}" }] }
`;
}

test('recover, drill, a damaged pack and a full volume, with real parts', { timeout: 240_000 }, async (t) => {
  const dir = await tempDir(t, 'lifeboat-runbooks-');
  const model = path.join(dir, 'srv/models/llama-ft');
  await generateModel(model);
  const site: Site = { dir, config: path.join(dir, 'lifeboat.yaml'), model, digest: (await tensorDigest(path.join(model, 'model.safetensors'))).digest, scratch: path.join(dir, 'scratch') };
  await fs.writeFile(path.join(dir, 'password'), TEST_PASSWORD + '\n', { mode: 0o600 });
  await createRepo(path.join(dir, 'repo'), { packSize: 1024 * 1024 });
  const env = { LIFEBOAT_GATEWAY_TOKEN: GATEWAY_TOKEN, LIFEBOAT_STATE_DIR: path.join(dir, 'state'), LIFEBOAT_REPOSITORY: undefined, LIFEBOAT_CONFIG: site.config };
  const cli = (args: string[]) => runCli(args, { env });
  const cliJson = <T>(args: string[]) => runCliJson<T>(args, { env });

  // Production: server A serves the model (gateway group rack-a); B is a cold standby, C the drills' standby.
  const a = await startInferenceServer({ model: path.join(model, 'model.safetensors'), name: 'a' });
  const b = await startInferenceServer({ model: path.join(dir, 'nothing-yet.safetensors'), name: 'b' });
  const c = await startInferenceServer({ model: path.join(dir, 'nothing-yet.safetensors'), name: 'c' });
  const hook = await startWebhook();
  const gatewayPort = await freePort();
  const urls = { a: a.url, b: b.url, c: c.url, gateway: `http://127.0.0.1:${gatewayPort}`, gatewayPort, hook: hook.url };
  await fs.writeFile(site.config, yaml(site, urls));
  const gateway = await spawnGateway(site.config, gatewayPort);
  t.after(async () => {
    await gateway.stop();
    await Promise.all([a.close(), b.close(), c.close(), hook.close()]);
  });

  const backup = await cli(['backup', '--asset', 'llama-ft', model]);
  assert.equal(backup.code, 0, backup.stderr);
  await waitFor(async () => (await askGateway(gateway.url)).upstream === 'a1', 10_000, 'the gateway to route to a1');

  // The disaster: the model is gone, and server A cannot load it any more.
  await fs.rm(model, { recursive: true });
  assert.equal((await a.reload()).ok, false);
  assert.equal((await askGateway(gateway.url)).status, 503);

  const dry = await cliJson<{ steps: Array<{ name: string; does: string }>; preflight: Array<{ check: string; status: string }> }>(['recover', 'llama-ft', '--dry-run']);
  assert.equal(dry.result.code, 0, dry.result.stderr);
  assert.deepEqual(dry.json.steps.map((s) => s.name), ['restore', 'verify', 'deploy', 'smoke', 'switch', 'notify']);
  assert.equal(dry.json.steps[2].does, `run: ${process.execPath} ${FIXTURE} reload ${b.url} ${model}/model.safetensors`);
  assert.ok(dry.json.preflight.some((c) => c.check === 'gateway' && c.status === 'ok'), JSON.stringify(dry.json.preflight));
  await assert.rejects(fs.stat(model), 'a dry run touches nothing');

  const recovered = await cliJson<Report>(['recover', 'llama-ft', '--report-dir', path.join(dir, 'reports')]);
  assert.equal(recovered.result.code, 0, recovered.result.stderr + recovered.result.stdout);
  const r = recovered.json;
  assert.equal(r.verdict, 'met');
  assert.equal(r.mode, 'recovery');
  assert.equal(r.rto_seconds, 600);
  assert.deepEqual(r.steps.map((s) => [s.name, s.status]), ['restore', 'verify', 'deploy', 'smoke', 'switch', 'notify'].map((n) => [n, 'ok']));
  assert.ok(r.total_seconds > 0 && r.total_seconds >= r.steps.reduce((s, x) => s + x.seconds, 0) - 0.01);
  assert.match(r.steps[1].output_tail, /SHA-256 of every file match the snapshot; 1 safetensors/);
  assert.equal((await tensorDigest(path.join(model, 'model.safetensors'))).digest, site.digest, 'the recovered weights are the backed-up ones');
  assert.match(r.steps[3].output_tail, new RegExp(`sha256=${site.digest}`));
  const routed = await askGateway(gateway.url);
  assert.equal(routed.upstream, 'b1', 'the gateway routes to the recovered model');
  assert.match(routed.text, new RegExp(`sha256=${site.digest}`));
  assert.equal(hook.received.length, 1);
  assert.match((hook.received[0] as { text: string }).text, /Lifeboat recovery of llama-ft: restore ok/);
  for (const ext of ['json', 'md', 'html']) await fs.access(path.join(dir, 'reports', `${r.id}.${ext}`));

  // A drill picked with a seed: restores to scratch, deploys to the drill standby, skips the switch.
  const drilled = await cliJson<Report>(['drill', '--tier', '1', '--seed', '7']);
  assert.equal(drilled.result.code, 0, drilled.result.stderr + drilled.result.stdout);
  const d = drilled.json;
  assert.equal(d.asset, 'llama-ft', 'the only Tier 1 asset');
  assert.equal(d.seed, 7);
  assert.equal(d.verdict, 'met');
  assert.deepEqual(d.steps.map((s) => [s.name, s.status]), [['restore', 'ok'], ['verify', 'ok'], ['deploy', 'ok'], ['smoke', 'ok'], ['switch', 'skipped'], ['notify', 'ok']]);
  assert.ok(d.restore_dir!.startsWith(site.scratch + path.sep), d.restore_dir!);
  assert.equal(c.loaded.ok && c.loaded.digest, site.digest, 'the drill standby loaded the drilled copy');
  assert.deepEqual(await fs.readdir(site.scratch), [], 'the scratch target is removed after the drill');
  assert.ok(d.steps.every((s) => s.status === 'skipped' || (s.started_at !== null && s.seconds >= 0 && s.attempts >= 1)));
  const html = await cli(['drill', 'report', d.id.slice(0, 20), '--format', 'html']);
  assert.equal(html.code, 0, html.stderr);
  assert.match(html.stdout, /^<!doctype html>/);
  assert.match(html.stdout, /<svg[^>]*aria-label="timeline of the steps"/);
  assert.doesNotMatch(html.stdout, /<link|<script|src="http/, 'a standalone page');
  const md = await cli(['drill', 'report']);
  assert.match(md.stdout, new RegExp(`^# Drill of llama-ft: RTO met`));
  assert.match(md.stdout, /\| 5 \| switch \| switch \| skipped \|/);

  // A damaged pack: the drill fails at verify, and the report names the file and why.
  const packs = await listPacks(path.join(dir, 'repo'));
  const largest = packs.sort((x, y) => y.size - x.size)[0];
  const original = await fs.readFile(largest.path);
  const damaged = Buffer.from(original);
  damaged[damaged.length >> 1] ^= 0xff;
  await fs.chmod(largest.path, 0o600);
  await fs.writeFile(largest.path, damaged);
  const failedDrill = await cliJson<Report>(['drill', '--asset', 'llama-ft']);
  assert.equal(failedDrill.result.code, 1, failedDrill.result.stderr);
  const f = failedDrill.json;
  assert.equal(f.verdict, 'failed');
  assert.deepEqual(f.steps.slice(0, 3).map((s) => [s.name, s.status]), [['restore', 'ok'], ['verify', 'failed'], ['deploy', 'skipped']]);
  assert.match(f.steps[1].error!, /model\.safetensors: not restored: .+/);
  assert.match(f.error!, /^step verify failed/);
  await fs.writeFile(largest.path, original);

  // History: two drills of llama-ft, one met and one failed.
  const history = await cliJson<{ assets: Array<{ asset: string; runs: Array<{ verdict: string }> }> }>(['drill', 'history']);
  assert.deepEqual(history.json.assets.map((x) => [x.asset, x.runs.map((run) => run.verdict)]), [['llama-ft', ['met', 'failed']]]);
  // Each drill is a job record too, as serve's are: serve counts them toward the tier's drill_every.
  const repo = await reopenRepo(path.join(dir, 'repo'));
  const drillJobs = (await Promise.all((await listJobIds(repo)).map((id) => loadJobRecord(repo, id)))).filter((j) => j.kind === 'drill').sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  assert.deepEqual(drillJobs.map((j) => [j.result, j.details.report, j.details.tier]), [['ok', d.id, 1], ['failed', f.id, 1]]);
  assert.equal(drillJobs[1].error?.code, 'STEP_FAILED');

  // A restore target on a volume too small: doctor and the drill fail first, touching nothing.
  const tmpfs = path.join(dir, 'tmpfs');
  await fs.mkdir(tmpfs);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', tmpfs]);
  try {
    await fullVolume(site, urls, tmpfs, cliJson);
  } finally {
    execFileSync('umount', [tmpfs]);
  }
});

type CliJson = <T>(args: string[]) => ReturnType<typeof runCliJson<T>>;

async function fullVolume(site: Site, urls: Parameters<typeof yaml>[1], tmpfs: string, cliJson: CliJson): Promise<void> {
  await fs.writeFile(site.config, yaml(site, urls, tmpfs));
  const doctor = await cliJson<{ status: string; checks: Array<{ check: string; subject: string; status: string; message: string }> }>(['doctor']);
  assert.equal(doctor.result.code, 1, doctor.result.stderr);
  assert.equal(doctor.json.status, 'fail');
  const space = doctor.json.checks.filter((x) => x.check === 'space' && x.status === 'fail');
  assert.equal(space.length, 1, JSON.stringify(doctor.json.checks));
  assert.match(space[0].message, new RegExp(`restoring llama-ft \\(drill\\) needs .* MiB, but ${tmpfs} has 1\\.0 MiB free`));
  assert.ok(doctor.json.checks.some((x) => x.check === 'repository' && x.status === 'ok'));
  const fullDrill = await cliJson<Report>(['drill', '--asset', 'llama-ft']);
  assert.equal(fullDrill.result.code, 1);
  assert.equal(fullDrill.json.verdict, 'failed');
  assert.ok(fullDrill.json.steps.every((s) => s.status === 'skipped'));
  assert.match(fullDrill.json.error!, /^preflight failed: .*has 1\.0 MiB free/);
  assert.match(fullDrill.result.stderr, /preflight failed/);
  assert.deepEqual(await fs.readdir(tmpfs), [], 'nothing was written to the full volume');
}

async function listPacks(repo: string): Promise<Array<{ path: string; size: number }>> {
  const out: Array<{ path: string; size: number }> = [];
  for (const sub of await fs.readdir(path.join(repo, 'data'))) {
    for (const name of await fs.readdir(path.join(repo, 'data', sub))) {
      const p = path.join(repo, 'data', sub, name);
      out.push({ path: p, size: (await fs.stat(p)).size });
    }
  }
  return out;
}
