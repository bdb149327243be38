/**
 * `lifeboat quickstart`: the DR loop on the embedded defaults, in one directory. It writes a
 * sample model, prompt templates and a lifeboat.yaml with the three tiers (a model in Tier 1, the
 * prompts in Tier 2, the deployment manifests in Tier 3 from git), a primary and a second-site
 * repository; backs up every asset and replicates it, fine-tunes the model and backs up again
 * (deduplicated), verifies everything, restores the model verified by SHA-256, and ends with the
 * DR loop: `lifeboat status`, then a drill of the model measured against its RTO, with its report. Everything it makes stays in --dir, ready for the commands it suggests.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { hostName, systemClock } from '../../base/clock.js';
import { backupAsset, type JobEnv } from '../../control/backup-job.js';
import { openCatalog } from '../../control/catalog.js';
import { fetchClient } from '../../control/http-client.js';
import { loadPlan } from '../../control/plan.js';
import { gatherStatus } from '../../control/status.js';
import { check } from '../../engine/check.js';
import { stats } from '../../engine/inspect.js';
import { restore } from '../../engine/restore.js';
import { initRepository } from '../../repo/repository.js';
import { openLocalStorage } from '../../storage/local.js';
import { LifeboatError } from '../errors.js';
import { formatBytes } from '../output.js';
import { planAccess } from '../plan-options.js';
import { writeSampleModel } from '../sample-model.js';
import { describeStatus } from './status.js';
import { readConfigFile } from '../../control/config-file.js';
import { runbooksOf } from '../../control/runbooks.js';
import { runDrill, type DrContext } from '../../control/runbook-run.js';
import { humanReport } from '../dr-report.js';

const LIFEBOAT_YAML = `# The DR plan of the quickstart (docs/config.md): what matters, and how much.
repositories:
  primary: { url: ./repo, role: primary, password_file: password }
  dr-site: { url: ./dr-site, role: replica, password_file: password }   # the second site
  archive: { url: ./archive, role: archive, password_file: password }   # expired: archive sends old snapshots here
tiers:
  1: { rpo: 24h, rto: 4h, keep: { last: 7, daily: 14, weekly: 8, monthly: 24, yearly: 5 } }
  2: { rpo: 7d, rto: 24h, keep: { last: 5, weekly: 8 }, expired: delete }
  3: {}                                     # rebuilt from git: listed, never backed up
assets:
  demo-llm:  { kind: model, tier: 1, source: { path: models/demo-llm, exclude: ["*.tmp"] }, owner: ml-platform }
  prompts:   { kind: config, tier: 2, source: { path: serving/prompts } }
  manifests: { kind: code, tier: 3, git_remote: https://git.example.internal/ml/deploy.git }
`;

export function registerQuickstart(program: Command): void {
  program
    .command('quickstart')
    .description('try the DR loop end to end on sample data: lifeboat.yaml with three tiers, backup, replication, verification, restore, status')
    .option('--dir <dir>', 'where to put the sample data, lifeboat.yaml and the repositories', 'lifeboat-quickstart')
    .action(async (flags: { dir: string }) => {
      const dir = path.resolve(flags.dir);
      const say = (s: string) => process.stdout.write(s + '\n');
      if (await fs.stat(path.join(dir, 'lifeboat.yaml')).catch(() => undefined)) throw new LifeboatError('ERROR', `${dir} has a quickstart already: remove it or pass another --dir`);
      const model = path.join(dir, 'models', 'demo-llm');
      await fs.mkdir(dir, { recursive: true });
      const password = randomBytes(18).toString('base64url');
      await fs.writeFile(path.join(dir, 'password'), password + '\n', { mode: 0o600 });

      say(`1. sample data: a bf16 safetensors model in ${model}, prompt templates in ${path.join(dir, 'serving', 'prompts')}`);
      await writeSampleModel(model, { seed: 1, layers: 4 });
      await writePrompts(path.join(dir, 'serving', 'prompts'));
      const file = path.join(dir, 'lifeboat.yaml');
      await fs.writeFile(file, LIFEBOAT_YAML);
      say(`2. the DR plan: ${file} — demo-llm in Tier 1, prompts in Tier 2, manifests in Tier 3 (git)`);
      for (const name of ['repo', 'dr-site', 'archive']) await initRepository(openLocalStorage(path.join(dir, name)), password);
      say(`3. encrypted repositories: ${path.join(dir, 'repo')} (primary), ${path.join(dir, 'dr-site')} (second site), ${path.join(dir, 'archive')} (archive); password in ${path.join(dir, 'password')}`);

      const plan = await loadPlan(file);
      const access = planAccess({ config: file, passwordFile: path.join(dir, 'password'), repo: path.join(dir, 'repo') }, plan);
      const env: JobEnv = { plan, access, clock: systemClock, host: hostName(), http: fetchClient, log: (m) => process.stderr.write(`note: ${m}\n`) };
      try {
        for (const asset of plan.assets.filter((a) => a.tier !== 3)) {
          const o = await backupAsset(env, asset);
          if (o.record.result !== 'ok') throw new LifeboatError(o.record.error!.code, o.record.error!.message);
          say(`4. backed up ${asset.name}: ${formatBytes(o.snapshot!.summary.totalBytes)} stored as ${formatBytes(o.snapshot!.summary.newStoredBytes)}, copied to ${o.replicated.map((r) => r.repository).join(', ')}`);
        }
        await writeSampleModel(model, { seed: 1, layers: 4, fineTuneTopLayers: 1 });
        const ft = await backupAsset(env, plan.assets[0]);
        say(`5. fine-tuned the top layer of demo-llm and backed up again: ${formatBytes(ft.snapshot!.summary.newStoredBytes)} added (the rest deduplicated), replicated`);
        const primary = await access.primary();
        const report = await check(primary, { readData: 1 });
        if (!report.ok) throw new LifeboatError('DAMAGE_FOUND', `check found errors: ${report.errors.join('; ')}`);
        say(`6. check --read-data: ${report.packsRead} pack(s), ${report.blobs} blob(s) read back and verified, no errors`);
        const target = path.join(dir, 'restored');
        const restored = await restore(primary, { snapshot: 'demo-llm@latest', target });
        if (restored.failed.length) throw new LifeboatError('DAMAGE_FOUND', `restore failed for ${restored.failed.map((f) => f.path).join(', ')}`);
        say(`7. restored demo-llm (${restored.files.length} file(s)) to ${target}, each verified by SHA-256`);
        const s = await stats(primary);
        say(`8. repository: ${formatBytes(s.logicalBytes)} of snapshots stored in ${formatBytes(s.storedBytes)} (${s.totalRatio.toFixed(2)}x)\n`);
        const catalog = openCatalog(path.join(dir, 'catalog.sqlite'));
        try {
          const status = await gatherStatus(plan, access, { clock: systemClock, view: (repo) => catalog.sync(repo) });
          say('$ lifeboat status');
          say(describeStatus(status));
        } finally {
          catalog.close();
        }
        // A backup without a tested recovery is a hope: drill the model, measured against its RTO.
        const reportDir = path.join(dir, 'reports');
        const ctx: DrContext = { plan, runbooks: runbooksOf(await readConfigFile(file, '')), openRepository: () => access.primary(), clock: systemClock, http: fetchClient, reportDir, stateDir: path.join(dir, 'runs') };
        say('\n$ lifeboat drill --asset demo-llm');
        const drill = await runDrill(ctx, 'demo-llm', {});
        say(humanReport(drill));
        say(`report: ${path.join(reportDir, `${drill.id}.html`)} (and .md, .json); "npx lifeboat drill report ${drill.id}" prints it again`);
        if (drill.verdict !== 'met') throw new LifeboatError(drill.verdict === 'missed' ? 'OBJECTIVE_NOT_MET' : 'STEP_FAILED', drill.error ?? `the drill of demo-llm was ${drill.verdict}`);
      } finally {
        await access.close();
      }
      say(`\nNext, in ${dir}: "npx lifeboat status", "npx lifeboat assets", "npx lifeboat serve" (dashboard and API on http://127.0.0.1:8080).`);
    });
}

async function writePrompts(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'support-agent.txt'), 'You are a support agent for {{product}}. Answer briefly and cite the knowledge base.\n');
  await fs.writeFile(path.join(dir, 'summarise.txt'), 'Summarise the ticket below in three bullet points.\n\n{{ticket}}\n');
}
