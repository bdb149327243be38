/** `lifeboat catalog rebuild`: the local catalog (a cache) deleted and loaded again from the repository alone. */
import type { Command } from 'commander';
import { systemClock } from '../../base/clock.js';
import { catalogFile, deleteCatalog, openCatalog } from '../../control/catalog.js';
import { cacheRoot } from '../../storage/object-cache.js';
import { withRepo, withRepoOptions, type RepoFlags } from '../repo-options.js';

export function registerCatalog(program: Command): void {
  const catalog = program.command('catalog').description('the local catalog: a cache of the repository\'s snapshots and job records');
  withRepoOptions(catalog.command('rebuild').description('delete the catalog and load it again from the repository (LIFEBOAT_CATALOG, default catalog.sqlite in the cache directory)'))
    .action(async (flags: RepoFlags) => {
      const file = catalogFile(process.env, cacheRoot(process.env));
      await withRepo(flags, async ({ repo, out }) => {
        const started = systemClock.now();
        deleteCatalog(file);
        const db = openCatalog(file);
        try {
          const view = await db.sync(repo, (what, err) => out.warn(`${what} cannot be read (${err.message}); left out`));
          const doc = { file, repository: repo.storage.location, snapshots: view.snapshots.length, jobs: view.jobs.length, durationMs: systemClock.now() - started };
          out.result(doc, () => `rebuilt ${file} from ${doc.repository}: ${doc.snapshots} snapshot(s), ${doc.jobs} job record(s) in ${(doc.durationMs / 1000).toFixed(1)} s`);
        } finally {
          db.close();
        }
      });
    });
}
