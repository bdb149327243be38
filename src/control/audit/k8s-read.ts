/**
 * Reading Kubernetes manifests for `lifeboat audit k8s`: files and directories (every .yaml,
 * .yml and .json under them), multi-document YAML (Helm's rendered output), `kind: List`
 * (`kubectl get -o yaml`). A Kustomize directory's kustomization.yaml is not an object: its
 * `namespace:` applies to the objects of its folder that name none.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { UsageError } from '../../base/errors.js';
import { ConfigError, parseSection, readConfigFile } from '../config-file.js';
import { objectsOf, type K8sObject } from './k8s-objects.js';
import { DEFAULT_FAILURE_DOMAIN } from './k8s-rules.js';

const MANIFEST = /\.(ya?ml|json)$/i;
const KUSTOMIZATION = /^kustomization\.ya?ml$/i;

export async function readManifests(inputs: string[]): Promise<{ objects: K8sObject[]; files: string[] }> {
  const objects: K8sObject[] = [];
  const files: string[] = [];
  for (const input of inputs) {
    const stats = await fs.stat(input).catch(() => undefined);
    if (!stats) throw new UsageError(`${input}: no such file or directory`);
    const list = stats.isDirectory() ? await manifestFiles(input) : [input];
    for (const file of list) {
      objects.push(...objectsOf(await documents(file), await namespaceFor(path.dirname(file))));
      files.push(file);
    }
  }
  return { objects, files };
}

async function manifestFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await manifestFiles(full)));
    else if (e.isFile() && MANIFEST.test(e.name) && !KUSTOMIZATION.test(e.name)) out.push(full);
  }
  return out;
}

async function documents(file: string): Promise<unknown[]> {
  const text = await fs.readFile(file, 'utf8');
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const bad = list.flatMap((d) => d.errors.map((e) => `${file}:${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`));
  if (bad.length) throw new ConfigError(`${file} is not valid YAML\n  ${bad.join('\n  ')}`);
  return list.map((d) => d.toJS()).filter((d) => d !== null && d !== undefined);
}

/** The namespace a kustomization.yaml in `dir` sets, else "default". */
async function namespaceFor(dir: string): Promise<string> {
  for (const name of ['kustomization.yaml', 'kustomization.yml']) {
    const text = await fs.readFile(path.join(dir, name), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const ns = (parseAllDocuments(text) as ReturnType<typeof parseAllDocuments>[number][])[0]?.toJS()?.namespace;
    if (typeof ns === 'string') return ns;
  }
  return 'default';
}

const auditSection = z.strictObject({
  k8s: z.strictObject({ failure_domain: z.string().min(1).regex(/^[A-Za-z0-9./_-]+$/, 'a node label key such as topology.kubernetes.io/zone or example.com/rack') }).partial().optional(),
});

/** lifeboat.yaml's `audit: { k8s: { failure_domain: LABEL } }`, else the default label. */
export async function failureDomainOf(configFile: string | undefined): Promise<string> {
  if (!configFile) return DEFAULT_FAILURE_DOMAIN;
  const config = await readConfigFile(configFile, 'pass the right path with --config or LIFEBOAT_CONFIG');
  return parseSection(config, 'audit', auditSection)?.k8s?.failure_domain ?? DEFAULT_FAILURE_DOMAIN;
}
