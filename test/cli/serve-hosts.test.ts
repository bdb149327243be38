/**
 * Two hosts, one repository on the Ceph RGW: a GPU server and an NFS head each run
 * `lifeboat serve --host NAME`. Each backs up only the assets whose host: names it; repository-wide
 * jobs (verification here) run on exactly one host at a time under a lease; killing the holder
 * hands the lease to the other within one lease period; `lifeboat status` anywhere shows every asset.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { systemClock } from '../../src/base/clock.js';
import { readLease } from '../../src/control/lease.js';
import { listJobIds, loadJobRecord, type JobRecord } from '../../src/control/jobs.js';
import { openRepository } from '../../src/repo/repository.js';
import { openS3Storage } from '../../src/storage/s3.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { writeRandomFile } from '../helpers/files.js';
import { api, eventually, startServe } from '../helpers/serve.js';
import { TEST_PASSWORD } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { bucketForTest, RGW, rgwOptions } from '../storage/rgw.js';

const LEASE_TTL_S = 8;

test('two serve processes on one RGW repository: own assets only, one verification at a time, the lease passes on when its holder dies', async (t) => {
  const dir = await tempDir(t);
  const bucket = await bucketForTest(t, 'hosts');
  const url = `s3://${bucket}/repo`;
  await fs.writeFile(
    path.join(dir, 'lifeboat.yaml'),
    [
      'repositories:',
      `  primary: { url: "${url}", role: primary, s3: { endpoint: ${RGW.endpoint}, path_style: true } }`,
      'tiers:',
      '  2: { verify_every: 3s, verify_subset: 100% }',
      'assets:',
      '  weights: { kind: model, tier: 2, host: gpu-01, source: { path: weights } }',
      '  exports: { kind: dataset, tier: 2, host: nfs-01, source: { path: exports } }',
      `serve: { poll: 1s, status_every: 2s, lease_ttl: ${LEASE_TTL_S}s, retention_every: 0s, prune_every: 0s }`,
      '',
    ].join('\n'),
  );
  await fs.mkdir(path.join(dir, 'weights'));
  await fs.mkdir(path.join(dir, 'exports'));
  await writeRandomFile(path.join(dir, 'weights', 'w.bin'), 48 << 20, 'w');
  await writeRandomFile(path.join(dir, 'exports', 'e.jsonl'), 1 << 20, 'e');
  const base = { LIFEBOAT_PASSWORD: TEST_PASSWORD, LIFEBOAT_REPOSITORY: undefined, AWS_ACCESS_KEY_ID: RGW.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: RGW.credentials.secretAccessKey, AWS_REGION: RGW.region };
  const envOf = (host: string) => ({ ...base, LIFEBOAT_CACHE_DIR: path.join(dir, `cache-${host}`) });
  assert.equal((await runCli(['init'], { cwd: dir, env: envOf('gpu-01') })).code, 0);

  const gpu = await startServe(['--host', 'gpu-01'], { cwd: dir, env: envOf('gpu-01') });
  const nfs = await startServe(['--host', 'nfs-01'], { cwd: dir, env: envOf('nfs-01') });
  t.after(() => {
    gpu.child.kill('SIGKILL');
    nfs.child.kill('SIGKILL');
  });

  const storage = openS3Storage(url, rgwOptions());
  t.after(() => storage.close());
  const repo = await openRepository(storage, TEST_PASSWORD);
  const records = async (): Promise<JobRecord[]> => Promise.all((await listJobIds(repo)).map((id) => loadJobRecord(repo, id)));

  // Each host backs up its own asset, and only that.
  await eventually('both assets backed up', async () => {
    const r = await api<{ assets: Array<{ name: string; rpo_state: string }> }>(gpu.url, '/api/v1/status');
    return r.status === 200 && r.body.assets.every((a) => a.rpo_state === 'ok') ? true : undefined;
  }, 90_000);
  const snapshots = await runCliJson<Array<{ asset: string; hostname: string }>>(['snapshots'], { cwd: dir, env: envOf('gpu-01') });
  assert.deepEqual([...new Set(snapshots.json.map((s) => `${s.asset}@${s.hostname}`))].sort(), ['exports@nfs-01', 'weights@gpu-01']);

  // Verification runs again and again, never on both hosts at once.
  await eventually('a few verifications', async () => ((await records()).filter((r) => r.kind === 'verify').length >= 3 ? true : undefined), 90_000);
  const verifies = (await records()).filter((r) => r.kind === 'verify').sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  for (let i = 1; i < verifies.length; i++) {
    assert.ok(verifies[i].startedAt >= verifies[i - 1].finishedAt, `verifications overlap: ${JSON.stringify(verifies.slice(i - 1, i + 1))}`);
  }

  // Kill whichever host holds the verification lease while it holds it; the other takes over.
  const held = await eventually('a host holding the verification lease', async () => readLease(repo, 'job-verify'), 60_000, 20);
  const [victim, survivor, survivorName] = held.host === 'gpu-01' ? [gpu, nfs, 'nfs-01'] : [nfs, gpu, 'gpu-01'];
  await victim.stop('SIGKILL');
  const killedAt = systemClock.now();
  const last = (await readLease(repo, 'job-verify'))!; // the dead holder's last renewal
  const taken = await eventually('the lease taken over', async () => {
    const lease = await readLease(repo, 'job-verify');
    return lease?.host === survivorName ? lease : undefined;
  }, 30_000, 100);
  const tookMs = systemClock.now() - killedAt;
  t.diagnostic(`lease taken over ${tookMs} ms after the kill; the dead holder's ran out ${Date.parse(last.expiresAt) - killedAt} ms after it`);
  if (last.host !== survivorName) {
    const freeAt = Date.parse(last.expiresAt) + (LEASE_TTL_S * 1000) / 4; // its expiry plus the skew margin (a quarter of the period)
    assert.ok(Date.parse(taken.acquiredAt) >= freeAt, `never taken while its holder could still hold it: taken ${taken.acquiredAt}, free at ${new Date(freeAt).toISOString()}`);
  }
  assert.ok(tookMs <= LEASE_TTL_S * 1000 + 1500, `taken over ${tookMs} ms after the kill: within one lease period (and a poll)`);
  await eventually('a verification by the survivor', async () => ((await records()).some((r) => r.kind === 'verify' && r.host === survivorName && Date.parse(r.startedAt) >= killedAt) ? true : undefined), 30_000);

  // status anywhere shows every asset.
  const status = await runCliJson<{ assets: Array<{ name: string }> }>(['status'], { cwd: dir, env: envOf('elsewhere') });
  assert.deepEqual(status.json.assets.map((a) => a.name).sort(), ['exports', 'weights']);
  assert.equal((await survivor.stop()).code, 0, survivor.log());
});
