/**
 * Discovery of an S3 prefix on the test Ceph RGW: the same generated tree, uploaded object by
 * object, gives the same assets (named s3://BUCKET/PREFIX/...), the same decoys rejected, and
 * the SQLite databases told apart by the schema in their first bytes. The CLI takes the URL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { discover } from '../../src/control/audit/discover.js';
import type { DiscoverReport } from '../../src/control/audit/report.js';
import { openStorage } from '../../src/storage/open.js';
import { runCliJson } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { RGW_CLI_ENV } from '../storage/rgw-endpoint.js';
import { bucketForTest, rgwOptions } from '../storage/rgw.js';
import { DECOYS, EXPECTED, writeFixtureTree } from './fixture-tree.js';

async function upload(dir: string, url: string): Promise<number> {
  const storage = await openStorage(url, { s3: rgwOptions() });
  let count = 0;
  try {
    for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue; // S3 has no symlinks: the loop stays behind
      const file = path.join(entry.parentPath, entry.name);
      await storage.put(path.relative(dir, file), await fs.readFile(file));
      count++;
    }
  } finally {
    await storage.close();
  }
  return count;
}

test('an S3 prefix holding the tree: the same assets, kinds, formats and tiers; decoys rejected', async (t) => {
  const bucket = await bucketForTest(t, 'discover');
  const dir = await tempDir(t, 'lifeboat-discover-s3-');
  await writeFixtureTree(path.join(dir, 'tree'), path.join(dir, 'remote.git'));
  const url = `s3://${bucket}/site-a/tree`;
  const objects = await upload(path.join(dir, 'tree'), url);

  const report = await discover({ paths: [url], s3: rgwOptions() });
  const found = Object.fromEntries(report.assets.map((a) => [a.path.slice(url.length + 1), a]));
  assert.deepEqual(Object.keys(found).sort(), Object.keys(EXPECTED).sort());
  for (const [rel, want] of Object.entries(EXPECTED)) {
    assert.deepEqual([found[rel].kind, found[rel].format, found[rel].proposed_tier], [want.kind, want.format, want.proposed_tier], rel);
    if (want.files !== undefined) assert.equal(found[rel].files, want.files, `${rel}: files`);
    assert.equal(found[rel].covered_by, null);
  }
  assert.match(found['deploy-repo'].reason, /reachable remote → Tier 3: rebuilt from git \(.*remote\.git, not contacted\)/);
  assert.equal(report.summary.decoys, DECOYS.length);
  assert.equal(report.summary.files, objects, 'every object looked at once');
  assert.deepEqual(report.skipped, []);

  const { result, json } = await runCliJson<DiscoverReport>(['discover', url], { env: { ...RGW_CLI_ENV, LIFEBOAT_REPOSITORY: undefined, LIFEBOAT_CONFIG: undefined }, cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(json.assets.map((a) => a.path).sort(), report.assets.map((a) => a.path).sort());
});
