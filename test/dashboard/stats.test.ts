/**
 * GET /api/v1/stats's document: stored and protected bytes per tier, from one walk of a real
 * repository (engine groupedStats). A blob two tiers share counts in each tier and once in the
 * total; the total is what `lifeboat stats` says; an asset the plan does not name counts under
 * the tier its snapshot recorded, or under "not in the plan".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { manualClock } from '../../src/base/clock.js';
import { loadPlan } from '../../src/control/plan.js';
import { statsDocument, tierOf } from '../../src/control/tier-stats.js';
import { backup } from '../../src/engine/backup.js';
import { groupedStats, stats } from '../../src/engine/inspect.js';
import { listSnapshots } from '../../src/engine/snapshots.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

test('stored bytes per tier: shared blobs count in each tier and once in the total; the total is the repository stats', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const shared = randomBytes(300 * 1024);
  const files = { model: { 'shared.bin': shared, 'own.bin': randomBytes(100 * 1024) }, evals: { 'shared.bin': shared }, stray: { 's.bin': randomBytes(50 * 1024) }, old: { 'o.bin': randomBytes(20 * 1024) } };
  for (const [asset, content] of Object.entries(files)) {
    for (const [name, bytes] of Object.entries(content)) {
      await fs.mkdir(path.join(dir, 'src', asset), { recursive: true });
      await fs.writeFile(path.join(dir, 'src', asset, name), bytes);
    }
  }
  const at = (time: string) => manualClock(time);
  await backup(repo, { asset: 'model', paths: [path.join(dir, 'src', 'model')], tier: 1, clock: at('2026-01-01T00:00:00Z') });
  await backup(repo, { asset: 'model', paths: [path.join(dir, 'src', 'model')], tier: 1, clock: at('2026-01-02T00:00:00Z') });
  await backup(repo, { asset: 'evals', paths: [path.join(dir, 'src', 'evals')], tier: 2, clock: at('2026-01-01T00:00:00Z') });
  await backup(repo, { asset: 'stray', paths: [path.join(dir, 'src', 'stray')], clock: at('2026-01-01T00:00:00Z') });
  await backup(repo, { asset: 'old', paths: [path.join(dir, 'src', 'old')], tier: 2, clock: at('2026-01-01T00:00:00Z') });
  const config = path.join(dir, 'lifeboat.yaml');
  await fs.writeFile(config, `repositories:\n  primary: { url: ./repo }\nassets:\n  model: { kind: model, tier: 1, source: { path: ./src/model } }\n  evals: { kind: dataset, tier: 2, source: { path: ./src/evals } }\n  docs: { kind: code, tier: 3, git_remote: https://git.example.internal/docs.git }\n`);
  const plan = await loadPlan(config);

  const snapshots = await listSnapshots(repo);
  const { all, groups } = await groupedStats(repo, snapshots, (s) => String(tierOf(plan, s)));
  assert.deepEqual(all, await stats(repo), 'the total is what `lifeboat stats` says');
  const doc = statsDocument(plan, 'primary', snapshots, all, groups, Date.parse('2026-01-03T00:00:00Z'));
  const tier = (n: number | null) => doc.tiers.find((x) => x.tier === n)!;
  assert.deepEqual(doc.tiers.map((x) => x.tier), [1, 2, 3, null]);
  assert.deepEqual([tier(1).assets, tier(1).snapshots, tier(1).protected_bytes], [1, 2, 400 * 1024], 'protected: the newest snapshot of each asset');
  assert.equal(tier(1).logical_bytes, 2 * 400 * 1024, 'logical: every snapshot');
  assert.deepEqual([tier(2).assets, tier(2).snapshots, tier(2).protected_bytes], [2, 2, 320 * 1024], 'old is not in the plan: it counts under the tier it recorded');
  assert.deepEqual([tier(3).assets, tier(3).snapshots, tier(3).stored_bytes], [1, 0, 0], 'Tier 3 is in git: nothing stored');
  assert.deepEqual([tier(null).assets, tier(null).protected_bytes], [1, 50 * 1024]);
  // Random data does not compress: stored bytes are the distinct data plus a little per blob and tree.
  assert.ok(tier(1).stored_bytes >= 400 * 1024 && tier(1).stored_bytes < 420 * 1024, String(tier(1).stored_bytes));
  assert.ok(tier(2).stored_bytes >= 320 * 1024 && tier(2).stored_bytes < 340 * 1024, String(tier(2).stored_bytes));
  const sum = doc.tiers.reduce((s, x) => s + x.stored_bytes, 0);
  assert.ok(doc.total.stored_bytes < sum - 290 * 1024, 'the shared 300 KiB is stored once');
  assert.equal(doc.total.stored_bytes, all.storedBytes);
  assert.equal(doc.total.protected_bytes, (400 + 300 + 50 + 20) * 1024);
  assert.ok(doc.total.dedup_saved_bytes >= 700 * 1024, `dedup saved the second model snapshot and the shared blob: ${doc.total.dedup_saved_bytes}`);
  assert.equal(doc.total.compression_saved_bytes, Math.max(0, all.rawBytes - all.storedBytes), 'random data: encryption adds, compression saves nothing');
});
