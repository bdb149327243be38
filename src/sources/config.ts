/**
 * The `source:` of an asset in lifeboat.yaml: where its bytes come from and go back to. Each form
 * is a mapping with exactly one key naming the source kind, parsed here into a normalised shape
 * (`kind` plus its settings). The control plane reads only `sourcePaths` and `describeSource`; the
 * adapters that back up and restore each kind live beside this file.
 *
 *   source: { path: /srv/models/llama-ft, exclude: ["*.tmp"] }     # files and directories
 *   source: { path: [/srv/a, /srv/b] }
 */
import path from 'node:path';
import { z } from 'zod';

/** Files and directories on this machine. */
export interface PathSourceConfig {
  kind: 'path';
  /** Absolute paths (relative ones are taken from lifeboat.yaml's folder). */
  paths: string[];
  /** Glob patterns (minimatch, matched against the path relative to the source root and against the base name). */
  exclude: string[];
}

export type SourceConfig = PathSourceConfig;
export type SourceKind = SourceConfig['kind'];

const pathForm = z.strictObject({
  path: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  exclude: z.array(z.string().min(1)).default([]),
});

/** Every form a `source:` may take; `baseDir` resolves relative paths. */
export function sourceSchema(baseDir: string): z.ZodType<SourceConfig> {
  return z
    .record(z.string(), z.unknown())
    .superRefine((value, ctx) => {
      const kinds = Object.keys(value).filter((k) => KINDS.includes(k));
      if (kinds.length === 0) ctx.addIssue({ code: 'custom', message: `a source needs one of ${KINDS.join(', ')} (e.g. source: { path: /srv/models/llama-ft })` });
      if (kinds.length > 1) ctx.addIssue({ code: 'custom', message: `a source has exactly one kind, not ${kinds.join(' and ')}` });
    })
    .pipe(pathForm)
    .transform((v): SourceConfig => ({ kind: 'path', paths: (Array.isArray(v.path) ? v.path : [v.path]).map((p) => path.resolve(baseDir, p)), exclude: v.exclude }));
}

const KINDS = ['path'];

/** The local filesystem paths a source reads (to find which host has it, and overlaps between assets). */
export function sourcePaths(source: SourceConfig): string[] {
  return source.paths;
}

/** One line for people: "/srv/models/llama-ft (excluding *.tmp)". */
export function describeSource(source: SourceConfig): string {
  return source.paths.join(', ') + (source.exclude.length ? ` (excluding ${source.exclude.join(', ')})` : '');
}
