/** Reads lifeboat.yaml and validates its `gateway:` section, reporting each problem with its line and key. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { gatewaySectionSchema, normaliseGatewayConfig, type GatewayConfig } from './config.js';
import { GatewayConfigError, type ConfigIssue } from './errors.js';

type KeyPath = readonly (string | number | symbol)[];

/** Loads and validates the gateway section of `file`. Relative cache paths are resolved against the file's folder. */
export async function loadGatewayConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new GatewayConfigError(`cannot read ${file}: ${(cause as Error).message}; pass the right path with --config`, [], { cause });
  }
  return parseGatewayConfig(text, file, env);
}

/** Validates YAML text; `file` is only used in messages and to resolve relative paths. */
export function parseGatewayConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => ({ file, line: e.linePos?.[0]?.line, key: '', message: e.message.split('\n')[0] }));
    throw new GatewayConfigError(formatIssues(`${file} is not valid YAML`, issues), issues);
  }
  const root: unknown = doc.toJS();
  const section = root && typeof root === 'object' ? (root as Record<string, unknown>).gateway : undefined;
  if (section === undefined) {
    throw new GatewayConfigError(`${file} has no gateway: section; add one (see docs/gateway.md for an example)`);
  }
  const result = gatewaySectionSchema.safeParse(section);
  if (!result.success) {
    const issues = result.error.issues.map((i) => locate(doc, lineCounter, file, ['gateway', ...i.path], i.message));
    throw new GatewayConfigError(formatIssues(`${file}: the gateway section is invalid`, issues), issues);
  }
  // A key named in the file but missing from the environment would fail every request with 401: say so now.
  const missing: ConfigIssue[] = [];
  result.data.groups.forEach((g, gi) =>
    g.upstreams.forEach((u, ui) => {
      if (u.api_key_env && !env[u.api_key_env]) {
        missing.push(locate(doc, lineCounter, file, ['gateway', 'groups', gi, 'upstreams', ui, 'api_key_env'], `the environment variable ${u.api_key_env} is not set; export it with the upstream's API key`));
      }
    }),
  );
  if (missing.length > 0) throw new GatewayConfigError(formatIssues(`${file}: the gateway section names secrets that are not set`, missing), missing);
  const config = normaliseGatewayConfig(result.data, env);
  const dir = path.dirname(path.resolve(file));
  if (!config.cache) return config;
  const resolve = (p: string | undefined) => (p === undefined ? undefined : path.resolve(dir, p));
  return { ...config, cache: { ...config.cache, path: resolve(config.cache.path), warmFile: resolve(config.cache.warmFile) } };
}

function locate(doc: Document, lc: LineCounter, file: string, keyPath: KeyPath, message: string): ConfigIssue {
  const key = formatKey(keyPath);
  // A missing key has no node: report the line of the nearest parent that exists.
  for (let n = keyPath.length; n > 0; n--) {
    const node = doc.getIn(keyPath.slice(0, n) as (string | number)[], true);
    if (isNode(node) && node.range) return { file, line: lc.linePos(node.range[0]).line, key, message };
  }
  return { file, line: undefined, key, message };
}

function formatKey(keyPath: KeyPath): string {
  return keyPath.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${String(k)}`)).join('');
}

function formatIssues(headline: string, issues: readonly ConfigIssue[]): string {
  const lines = issues.map((i) => `  ${i.file}${i.line ? `:${i.line}` : ''}: ${i.key ? `${i.key}: ` : ''}${i.message}`);
  return [headline, ...lines].join('\n');
}
