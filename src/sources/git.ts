/**
 * Git repositories: `git bundle create - --all` streamed into the repository (every ref, the whole
 * history), with the refs the bundle holds and HEAD recorded. A remote (`url`) is mirrored into a
 * cache first and updated on later backups. Restore: `--to-git DIR` makes DIR a repository with
 * exactly those refs (bare when the source was), after `git bundle verify`; the bundle can also be
 * restored as a file and cloned from. Verify: `git bundle verify` and the refs against the backup's.
 * A working tree's uncommitted changes are not in a bundle: back those up as a path source.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { backupStreams } from '../engine/stream-backup.js';
import type { SnapshotReader } from '../engine/snapshot-files.js';
import { report, type Check, type SourceAdapter, type SourceContext } from './adapter.js';
import type { GitSourceConfig } from './config.js';
import { SourceError, redact } from './errors.js';
import { openSourceSnapshot, readManifest, sourceRecord } from './manifest.js';
import { checkExit, runText } from './process.js';
import { withPrivateDir } from './secrets.js';

interface GitManifest {
  kind: 'git';
  bundle: string;
  bare: boolean;
  head?: string;
  refs: Record<string, string>;
  gitVersion: string;
}

const BUNDLE = 'repository.bundle';
const HEADER_BYTES = 1024 * 1024;

const git = (ctx: SourceContext, args: string[], what: string, cwd?: string) => runText(ctx.runner, 'git', args, what, { cwd, signal: ctx.signal, env: { GIT_TERMINAL_PROMPT: '0' } });

/** The local repository to bundle: the path, or a mirror of the URL kept in the cache and fetched anew. */
async function localRepository(config: GitSourceConfig, ctx: SourceContext): Promise<string> {
  if (config.path) return config.path;
  const url = config.url!;
  if (URL.canParse(url) && new URL(url).password) throw new SourceError('SOURCE_AUTH', `${redact(url)}: a password in a git URL would show in the process list; use a credential helper or an SSH key instead`);
  const cache = ctx.cacheDir ?? path.join(ctx.tmpDir ?? os.tmpdir(), 'lifeboat-git-mirrors');
  const mirror = path.join(cache, createHash('sha256').update(url).digest('hex').slice(0, 32) + '.git');
  await fs.mkdir(cache, { recursive: true, mode: 0o700 });
  const exists = await fs.stat(path.join(mirror, 'HEAD')).then(() => true, () => false);
  if (exists) await git(ctx, ['-C', mirror, 'remote', 'update', '--prune'], `git fetch of ${url}`);
  else await git(ctx, ['clone', '--mirror', '--quiet', url, mirror], `git clone --mirror of ${url}`);
  return mirror;
}

/** Refs in a bundle's header ("<sha> <ref>" lines up to the first empty line; "-" lines are prerequisites). */
export function bundleRefs(header: string): Record<string, string> {
  const refs: Record<string, string> = {};
  for (const line of header.split('\n').slice(1)) {
    if (line === '') break;
    if (line.startsWith('-') || line.startsWith('@')) continue;
    const [sha, ref] = line.split(' ');
    if (sha && ref && ref !== 'HEAD') refs[ref] = sha;
  }
  return refs;
}

/** Passes the bundle through, keeping its header (for the refs). */
async function* withHeader(stream: AsyncIterable<Uint8Array>, header: { text: string }): AsyncGenerator<Uint8Array> {
  let kept = 0;
  const parts: Buffer[] = [];
  for await (const part of stream) {
    if (kept < HEADER_BYTES) {
      parts.push(Buffer.from(part.subarray(0, HEADER_BYTES - kept)));
      kept += Math.min(part.length, HEADER_BYTES - kept);
      header.text = Buffer.concat(parts).toString('latin1');
    }
    yield part;
  }
}

function compareRefs(expected: Record<string, string>, actual: Record<string, string>, where: string): Check[] {
  const missing = Object.entries(expected).filter(([ref, sha]) => actual[ref] !== sha);
  return [{ name: 'refs', ok: missing.length === 0, detail: missing.length === 0 ? `${Object.keys(expected).length} ref(s) as backed up` : `${where} differs at ${missing.map(([r]) => r).join(', ')}` }];
}

/** Writes the stored bundle to a private file (git reads bundles from files only). */
async function bundleFile(reader: SnapshotReader, manifest: GitManifest, dir: string, signal?: AbortSignal): Promise<string> {
  const file = path.join(dir, BUNDLE);
  const out = await fs.open(file, 'wx', 0o600);
  try {
    for await (const part of reader.stream(manifest.bundle, signal)) await out.write(part);
  } finally {
    await out.close();
  }
  return file;
}

export const gitSource: SourceAdapter<GitSourceConfig> = {
  kind: 'git',

  async backup(repo, config, options, ctx) {
    const location = config.path ?? redact(config.url!);
    const local = await localRepository(config, ctx);
    const gitVersion = (await git(ctx, ['--version'], 'git --version')).trim().replace(/^git version /, '');
    const bare = (await git(ctx, ['-C', local, 'rev-parse', '--is-bare-repository'], `${location} is not a git repository`).catch((err: SourceError) => {
      throw new SourceError('SOURCE_NOT_FOUND', `${location} is not a git repository (${err.message})`);
    })).trim() === 'true';
    const head = (await git(ctx, ['-C', local, 'symbolic-ref', '-q', 'HEAD'], 'git symbolic-ref HEAD').catch(() => '')).trim() || undefined;
    const record = sourceRecord('git', location, { gitVersion, bare });
    return backupStreams(repo, { ...options, location, record: { ...record, lineage: options.lineage }, workers: ctx.workers, signal: ctx.signal, onProgress: ctx.onProgress, onWarning: ctx.warn }, async (sink) => {
      const child = ctx.runner.spawn('git', ['-C', local, 'bundle', 'create', '--quiet', '-', '--all'], { signal: ctx.signal });
      const header = { text: '' };
      try {
        await sink.addStream(BUNDLE, withHeader(child.stdout, header));
        await checkExit(child, `git bundle of ${location}`);
      } finally {
        child.kill();
      }
      const manifest: GitManifest = { kind: 'git', bundle: BUNDLE, bare, head, refs: bundleRefs(header.text), gitVersion };
      await sink.addBytes('manifest.json', JSON.stringify(manifest, null, 2) + '\n');
    });
  },

  async restore(repo, spec, request, ctx) {
    const target = path.resolve(request.to);
    const entries = await fs.readdir(target).catch(() => []);
    if (entries.length > 0) throw new SourceError('SOURCE', `${target} is not empty: restore a git repository into a new or empty directory`);
    const reader = await openSourceSnapshot(repo, spec, 'git', ctx.workers);
    try {
      const manifest = await readManifest<GitManifest>(reader);
      return await withPrivateDir(ctx.tmpDir, async (dir) => {
        const bundle = await bundleFile(reader, manifest, dir, ctx.signal);
        await git(ctx, ['init', '--quiet', ...(manifest.bare ? ['--bare'] : []), target], `git init ${target}`);
        const verified = await git(ctx, ['bundle', 'verify', '--quiet', bundle], `git bundle verify of ${reader.id.slice(0, 12)}`, target);
        await git(ctx, ['fetch', '--quiet', '--update-head-ok', bundle, 'refs/*:refs/*'], `git fetch from the bundle into ${target}`, target);
        if (manifest.head) await git(ctx, ['symbolic-ref', 'HEAD', manifest.head], 'git symbolic-ref', target);
        if (!manifest.bare && manifest.head && manifest.refs[manifest.head]) await git(ctx, ['reset', '--hard', '--quiet'], `checkout in ${target}`, target);
        const refs = showRefs(await git(ctx, ['show-ref'], 'git show-ref', target).catch(() => ''));
        const checks = [{ name: 'git bundle verify', ok: true, detail: verified.trim() || 'the bundle is valid' }, ...compareRefs(manifest.refs, refs, target)];
        const size = (await reader.file(manifest.bundle)).size;
        return { snapshotId: reader.id, kind: 'git' as const, target, entries: Object.keys(refs).length, bytes: size, checks };
      });
    } finally {
      await reader.close();
    }
  },

  async verify(repo, spec, ctx) {
    const reader = await openSourceSnapshot(repo, spec, 'git', ctx.workers);
    try {
      const manifest = await readManifest<GitManifest>(reader);
      return await withPrivateDir(ctx.tmpDir, async (dir) => {
        const bundle = await bundleFile(reader, manifest, dir, ctx.signal);
        const scratch = path.join(dir, 'verify.git');
        await git(ctx, ['init', '--quiet', '--bare', scratch], 'git init');
        await git(ctx, ['bundle', 'verify', '--quiet', bundle], `git bundle verify of ${reader.id.slice(0, 12)}`, scratch);
        const heads = showRefs(await git(ctx, ['bundle', 'list-heads', bundle], 'git bundle list-heads', scratch));
        return report(reader.id, 'git', [{ name: 'git bundle verify', ok: true, detail: 'the bundle is valid' }, ...compareRefs(manifest.refs, heads, 'the bundle')]);
      });
    } finally {
      await reader.close();
    }
  },
};

function showRefs(text: string): Record<string, string> {
  const refs: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const [sha, ref] = line.trim().split(' ');
    if (sha && ref && ref !== 'HEAD') refs[ref] = sha;
  }
  return refs;
}
