/**
 * The command line of the sources and of lineage, registered on `backup` and `restore`:
 *
 *   backup --asset NAME --postgres URL | --mysql URL | --sqlite FILE | --git PATH|URL | --from-s3 URL
 *          | --stdin-from-command CMD [--stdin-filename NAME]   [--source-password-file FILE]
 *          [--lineage ROLE=REF ...] [--lineage-file run.json] [--param K=V ...] [--metric K=V ...]
 *   restore SNAP --to-postgres URL | --to-mysql URL [--clean] | --to-git DIR | --to-s3 URL
 *   restore SNAP --with-lineage --target DIR
 *
 * Each form parses its flags and calls one function of sources/ or control/.
 */
import fs from 'node:fs/promises';
import { addFlags, emptyLineageRequest, parseLineageFile, resolveLineage, type LineageRequest } from '../control/lineage-input.js';
import { retentionUntil, withRetention } from '../engine/copy-retention.js';
import { defaultSplitters } from '../repo/chunker/default-splitters.js';
import type { Repository } from '../repo/repository.js';
import type { Snapshot } from '../repo/snapshot.js';
import type { RestoreOutcome, RestoreRequest } from '../sources/adapter.js';
import { OutcomeError, UsageError } from './errors.js';
import { formatBytes, formatRate } from './output.js';
import { startProgress } from './progress.js';
import { withRepo, SNAPSHOTS_AND_INDEX } from './repo-options.js';
import { hasLineage, sourceFromFlags, type RestoreTargetFlags, type SourceFlags } from './source-flags.js';
import { splitSpec } from './snapshot-spec.js';

/** The lineage the flags give (--lineage-file first, then --lineage, --param, --metric on top). */
export async function lineageRequestOf(flags: SourceFlags): Promise<LineageRequest> {
  return addFlags(flags.lineageFile ? parseLineageFile(await fs.readFile(flags.lineageFile, 'utf8'), flags.lineageFile) : emptyLineageRequest(), flags);
}

/**
 * `backup` with a source flag, or paths with lineage: backs up and prints the snapshot as `backup
 * --json` does. Returns false when neither is given (the paths and lifeboat.yaml forms of
 * backup.ts apply; lineage with no paths goes with the asset's source from lifeboat.yaml).
 */
export async function backupFromFlags(paths: string[], flags: SourceFlags): Promise<boolean> {
  const source = sourceFromFlags(flags, paths);
  if (!source && (!hasLineage(flags) || paths.length === 0)) return false;
  if (!flags.asset) throw new UsageError('a source backup needs --asset NAME (the asset the snapshot belongs to)');
  const meta = Object.fromEntries((flags.meta ?? []).map((kv) => {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--meta takes key=value, got "${kv}"`);
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  }));
  const request = await lineageRequestOf(flags);
  const { allSources } = await import('../sources/all.js');
  const { systemRunner } = await import('../sources/process.js');
  await withRepo(flags, async ({ repo: opened, out }) => {
    const repo = flags.retainDays === undefined ? opened : withRetention(opened, { until: retentionUntil(flags.retainDays) });
    const lineage = await resolveLineage(repo, request);
    const bar = startProgress('backup', !flags.json && !flags.quiet);
    const options = { asset: flags.asset!, tier: flags.tier, tags: flags.tag, meta, host: flags.host, lineage };
    const ctx = { runner: systemRunner, splitters: defaultSplitters(), warn: (m: string) => out.warn(m), onProgress: (n: number) => bar.update(n, 0) };
    const { snapshotId, snapshot } = source
      ? await allSources().get(source.kind).backup(repo, source as never, options, ctx).finally(() => bar.stop())
      : await (await import('../engine/backup.js'))
          .backup(repo, { ...options, paths, parent: flags.force ? null : flags.parent, record: lineage ? { lineage } : undefined, splitters: ctx.splitters, onWarning: ctx.warn, onProgress: (p) => bar.update(p.bytesDone, p.bytesTotal) })
          .finally(() => bar.stop());
    out.result({ id: snapshotId, ...snapshot }, () => describeBackup(snapshotId, snapshot));
    if (snapshot.incomplete.length) throw new OutcomeError('INCOMPLETE', `${snapshot.incomplete.length} file(s) could not be read completely; the snapshot is marked incomplete`);
  }, { prefetch: SNAPSHOTS_AND_INDEX });
  return true;
}

function describeBackup(id: string, s: Snapshot): string {
  const version = s.assetVersion === undefined ? '' : ` (${s.asset}@v${s.assetVersion})`;
  const lines = [
    `snapshot ${id.slice(0, 12)} of ${s.asset}${version} saved from ${s.source ? `${s.source.kind} ${s.source.location}` : s.paths.join(', ')}`,
    `  ${s.summary.files} file(s), ${formatBytes(s.summary.totalBytes)}; ${formatBytes(s.summary.newStoredBytes)} new stored, in ${(s.summary.durationMs / 1000).toFixed(1)} s (${formatRate(s.summary.readBytes, s.summary.durationMs)})`,
  ];
  for (const [k, v] of Object.entries(s.source?.details ?? {})) lines.push(`  ${k}: ${v}`);
  for (const i of s.lineage?.inputs ?? []) lines.push(`  lineage ${i.role}: ${i.kind === 'version' ? `${i.asset}@v${i.assetVersion}` : i.kind === 'git' ? `git ${i.url} @ ${i.commit}` : i.uri}`);
  return lines.join('\n');
}

/** `restore` to a database, a git directory, a bucket, or with lineage. Returns false for a plain --target restore. */
export async function restoreFromFlags(spec: string, flags: RestoreTargetFlags): Promise<boolean> {
  const targets = [flags.toPostgres && 'postgres', flags.toMysql && 'mysql', flags.toGit && 'git', flags.toS3 && 's3'].filter((k): k is 'postgres' | 'mysql' | 'git' | 's3' => !!k);
  if (targets.length > 1) throw new UsageError(`give one target: --to-${targets.join(' and --to-')} were both given`);
  if (targets.length === 1 && flags.target) throw new UsageError(`--to-${targets[0]} and --target are two targets: give one`);
  if (flags.clean && !flags.toPostgres && !flags.toMysql) throw new UsageError('--clean goes with --to-postgres or --to-mysql');
  if (flags.withLineage) {
    if (!flags.target) throw new UsageError('--with-lineage restores into --target DIR');
    await restoreLineage(spec, flags, flags.target);
    return true;
  }
  if (targets.length === 0) return false;
  const kind = targets[0];
  const to = (flags.toPostgres ?? flags.toMysql ?? flags.toGit ?? flags.toS3)!;
  const request: RestoreRequest = { to, clean: flags.clean, passwordFile: flags.targetPasswordFile, s3: kind === 's3' ? { endpoint: flags.toS3Endpoint, profile: flags.toS3Profile } : undefined };
  const { allSources } = await import('../sources/all.js');
  const { systemRunner } = await import('../sources/process.js');
  await withRepo(flags, async ({ repo, out }) => {
    const { systemClock } = await import('../base/clock.js');
    const started = systemClock.now();
    // --skip-damaged: the newest readable snapshot is picked here, and the source restores it by id.
    const chosen = flags.skipDamaged ? await byIdSkippingDamaged(repo, spec, (m) => out.warn(m)) : spec;
    const outcome = await allSources().get(kind).restore(repo, chosen, request, { runner: systemRunner, warn: (m) => out.warn(m) });
    const durationMs = systemClock.now() - started;
    out.result({ ...outcome, durationMs }, () => describeRestore(outcome, durationMs));
    const failed = outcome.checks.filter((c) => !c.ok);
    if (failed.length) throw new OutcomeError('SOURCE_VERIFY', `restored, but ${failed.length} check(s) failed:\n${failed.map((c) => `  ${c.name}: ${c.detail}`).join('\n')}`);
  }, { prefetch: SNAPSHOTS_AND_INDEX });
  return true;
}

async function byIdSkippingDamaged(repo: Repository, spec: string, onWarning: (m: string) => void): Promise<string> {
  const { resolveSnapshot } = await import('../engine/snapshots.js');
  const { snapshot, subpath } = splitSpec(spec);
  const { id } = await resolveSnapshot(repo, snapshot, { skipDamaged: true, onWarning });
  return subpath ? `${id}:${subpath}` : id;
}

function describeRestore(o: RestoreOutcome, ms: number): string {
  return [`restored ${o.snapshotId.slice(0, 12)} (${o.kind}) to ${o.target}: ${o.entries} item(s), ${formatBytes(o.bytes)} in ${(ms / 1000).toFixed(1)} s`, ...o.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`)].join('\n');
}

async function restoreLineage(spec: string, flags: RestoreTargetFlags, target: string): Promise<void> {
  const { restoreWithLineage } = await import('../control/lineage-graph.js');
  await withRepo(flags, async ({ repo, out }) => {
    const result = await restoreWithLineage(repo, spec, target, { skipDamaged: flags.skipDamaged, onWarning: (m) => out.warn(m) });
    out.result(result, () =>
      result.restored.map((r) => `${r.role ? `${r.role}: ` : ''}${r.asset}${r.version === undefined ? '' : `@v${r.version}`} -> ${r.path} (${r.files} file(s), ${formatBytes(r.bytes)}, verified)`).join('\n') + `\nwrote ${target}/lineage.json`,
    );
    if (result.failed.length) throw new OutcomeError('DAMAGE_FOUND', `${result.failed.length} file(s) were NOT restored:\n${result.failed.map((f) => `  ${f.path}: ${f.error}`).join('\n')}`);
  }, { prefetch: SNAPSHOTS_AND_INDEX });
}
