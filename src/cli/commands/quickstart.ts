/**
 * `lifeboat quickstart`: the main job on the embedded defaults, end to end, in one directory:
 * a small sample model and dataset, a local repository, two backups (base and a fine-tune),
 * a full verification, and a verified restore. Everything it makes stays in --dir.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { backup } from '../../engine/backup.js';
import { check } from '../../engine/check.js';
import { stats } from '../../engine/inspect.js';
import { restore } from '../../engine/restore.js';
import { initRepository, openRepository } from '../../repo/repository.js';
import { openLocalStorage } from '../../storage/local.js';
import { LifeboatError } from '../errors.js';
import { formatBytes } from '../output.js';
import { writeSampleModel } from '../sample-model.js';
import { defaultSplitters } from '../../repo/chunker/default-splitters.js';

export function registerQuickstart(program: Command): void {
  program
    .command('quickstart')
    .description('try Lifeboat end to end on sample data in a local directory')
    .option('--dir <dir>', 'where to put the sample data, repository and restore', 'lifeboat-quickstart')
    .action(async (flags: { dir: string }) => {
      const dir = path.resolve(flags.dir);
      const say = (s: string) => process.stdout.write(s + '\n');
      const model = path.join(dir, 'models', 'demo-llm');
      const repoDir = path.join(dir, 'repo');
      if (await fs.stat(repoDir).catch(() => undefined)) throw new LifeboatError('ERROR', `${repoDir} exists already: remove ${dir} or pass another --dir`);
      await fs.mkdir(dir, { recursive: true });
      const password = randomBytes(18).toString('base64url');
      const passwordFile = path.join(dir, 'password');
      await fs.writeFile(passwordFile, password + '\n', { mode: 0o600 });

      say(`1. writing a sample model (bf16 safetensors) and dataset to ${model}`);
      await writeSampleModel(model, { seed: 1, layers: 4 });
      say(`2. creating an encrypted repository in ${repoDir} (password in ${passwordFile})`);
      const repo = await initRepository(openLocalStorage(repoDir), password);
      const base = await backup(repo, { asset: 'demo-llm', paths: [model], tier: 1, tags: ['base'], splitters: defaultSplitters() });
      say(`3. backed up demo-llm: snapshot ${base.snapshotId.slice(0, 12)}, ${formatBytes(base.snapshot.summary.totalBytes)} stored as ${formatBytes(base.snapshot.summary.newStoredBytes)}`);
      await writeSampleModel(model, { seed: 1, layers: 4, fineTuneTopLayers: 1 });
      const ft = await backup(repo, { asset: 'demo-llm', paths: [model], tier: 1, tags: ['fine-tune'], splitters: defaultSplitters() });
      say(`4. fine-tuned the top layer and backed up again: ${formatBytes(ft.snapshot.summary.newStoredBytes)} added (the rest deduplicated)`);
      const report = await check(await openRepository(openLocalStorage(repoDir), password), { readData: 1 });
      if (!report.ok) throw new LifeboatError('DAMAGE_FOUND', `check found errors: ${report.errors.join('; ')}`);
      say(`5. check --read-data: ${report.packsRead} pack(s), ${report.blobs} blob(s) read back and verified, no errors`);
      const target = path.join(dir, 'restored');
      const restored = await restore(repo, { snapshot: 'demo-llm@latest', target });
      if (restored.failed.length) throw new LifeboatError('DAMAGE_FOUND', `restore failed for ${restored.failed.map((f) => f.path).join(', ')}`);
      say(`6. restored ${restored.files.length} file(s) to ${target}, each verified by SHA-256`);
      const s = await stats(repo);
      say(`7. repository: ${formatBytes(s.logicalBytes)} of snapshots stored in ${formatBytes(s.storedBytes)} (${s.totalRatio.toFixed(2)}x)`);
      say(`\nNext: export LIFEBOAT_REPOSITORY=${repoDir} LIFEBOAT_PASSWORD_FILE=${passwordFile}; then try "npx lifeboat snapshots", "npx lifeboat diff <a> <b>".`);
    });
}
