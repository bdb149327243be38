// Exclude patterns of a backup (restic's --exclude), shared by backup and by discovery's coverage.
import path from 'node:path';
import picomatch from 'picomatch';

/**
 * Whether a path is excluded: patterns match the path relative to `root` (the one source
 * directory; with several sources, the base name), and patterns without a slash match a base name
 * anywhere (restic's --exclude).
 */
export function excluder(patterns: readonly string[], root: string | undefined): (abs: string) => boolean {
  if (patterns.length === 0) return () => false;
  // `cache/` names a directory: matched by name, its contents are then never walked.
  const matches = picomatch(patterns.map((p) => p.replace(/\/+$/, '')), { basename: true, dot: true });
  return (abs) => matches((root === undefined ? path.basename(abs) : path.relative(root, abs)).split(path.sep).join('/'));
}

