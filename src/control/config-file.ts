/**
 * lifeboat.yaml: reading it, and validating one of its sections (repositories:, gateway:, …) with a
 * zod schema, each problem reported with its line and key path (`lifeboat.yaml:7:
 * repositories.dr.url: …`). Each section is validated by the module that owns it, so a command
 * reads only what it uses and a mistake in one section does not stop the others.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { parseDurationMs } from '../base/duration.js';
import { ConfigError, type ConfigIssue } from './config-error.js';

export { ConfigError, type ConfigIssue };

export interface ConfigFile {
  readonly file: string;
  readonly doc: Document;
  readonly lines: LineCounter;
  /** The whole document as plain data. */
  readonly root: Record<string, unknown>;
}

type KeyPath = readonly (string | number | symbol)[];

/** A name in lifeboat.yaml (a repository, a gateway group or upstream): never mistaken for a path or a URL. */
export const CONFIG_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A duration as lifeboat.yaml writes it (`30s`, `15m`, `1h`, `7d`, or milliseconds), in ms; the message shows `examples`. */
export function durationSchema(examples = '30s, 15m, 1h or 7d') {
  return z.union([z.number(), z.string()]).transform((v, ctx) => {
    const ms = parseDurationMs(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration: write e.g. ${examples}` });
      return z.NEVER;
    }
    return ms;
  });
}

/** An http:// or https:// URL with a host; the message shows `example`. */
export function httpUrlSchema(example: string) {
  return z.string().refine((s) => /^https?:\/\/[^/]+/.test(s) && URL.canParse(s), `must be an http:// or https:// URL such as ${example}`);
}

/** Reads and parses `file`; `hint` says how to name another file (e.g. "pass the right path with --config"). */
export async function readConfigFile(file: string, hint: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read ${file}: ${(cause as Error).message}; ${hint}`, [], { cause });
  }
  return parseConfigText(text, file);
}

/** Parses YAML text; `file` is only used in messages. */
export function parseConfigText(text: string, file: string): ConfigFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => ({ file, line: e.linePos?.[0]?.line, key: '', message: e.message.split('\n')[0] }));
    throw new ConfigError(formatIssues(`${file} is not valid YAML`, issues), issues);
  }
  const root: unknown = doc.toJS();
  if (root !== null && root !== undefined && (typeof root !== 'object' || Array.isArray(root))) {
    throw new ConfigError(`${file} must be a mapping of sections (repositories:, gateway:, …), not a ${Array.isArray(root) ? 'list' : typeof root}`);
  }
  return { file, doc, lines, root: (root ?? {}) as Record<string, unknown> };
}

/** The `section` validated by `schema`; undefined when the file has no such section. */
export function parseSection<S extends z.ZodType>(config: ConfigFile, section: string, schema: S): z.output<S> | undefined {
  const value = config.root[section];
  if (value === undefined) return undefined;
  return parseValueAt(config, [section], value, schema, `${config.file}: the ${section} section is invalid`);
}

/** `value`, found at `keyPath` in the file, validated by `schema`; throws ConfigError with each issue at its line. */
export function parseValueAt<S extends z.ZodType>(config: ConfigFile, keyPath: KeyPath, value: unknown, schema: S, headline: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // An unknown key is reported at its own line, not at the line of the mapping it is in.
  const issues = result.error.issues.map((i) => locate(config, [...keyPath, ...i.path, ...(i.code === 'unrecognized_keys' ? i.keys.slice(0, 1) : [])], i.message));
  throw new ConfigError(formatIssues(headline, issues), issues);
}

/** An issue at `keyPath`; a missing key has no line of its own, so it gets its nearest parent's. */
export function locate(config: ConfigFile, keyPath: KeyPath, message: string): ConfigIssue {
  const key = formatKey(keyPath);
  for (let n = keyPath.length; n > 0; n--) {
    const node = nodeAt(config.doc, keyPath.slice(0, n));
    if (isNode(node) && node.range) return { file: config.file, line: config.lines.linePos(node.range[0]).line, key, message };
  }
  return { file: config.file, line: undefined, key, message };
}

/** The node at `keyPath`; a key written as a number (`1:` under tiers:) is found by its string too. */
function nodeAt(doc: Document, keyPath: KeyPath): unknown {
  let node: unknown = doc.contents;
  for (const k of keyPath) {
    if (isMap(node)) node = node.items.find((pair) => String(isScalar(pair.key) ? pair.key.value : pair.key) === String(k))?.value;
    else if (isSeq(node) && typeof k === 'number') node = node.items[k];
    else return undefined;
  }
  return node;
}

function formatKey(keyPath: KeyPath): string {
  return keyPath.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${String(k)}`)).join('');
}

/** A headline and one line per issue: `  file:line: key: message`. */
export function formatIssues(headline: string, issues: readonly ConfigIssue[]): string {
  const lines = issues.map((i) => `  ${i.file}${i.line ? `:${i.line}` : ''}: ${i.key ? `${i.key}: ` : ''}${i.message}`);
  return [headline, ...lines].join('\n');
}
