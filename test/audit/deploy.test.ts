/**
 * Lifeboat's own deployment (deploy/): the Kubernetes manifests pass `lifeboat audit k8s` with no
 * finding at warn or above and are valid against the Kubernetes OpenAPI schemas (the validators
 * kubernetes-models generates from them, and prometheus-operator's CRD schema for the
 * ServiceMonitor, shipped in npm packages: nothing is downloaded) and name no field the schemas do
 * not know (the validators allow unknown fields, so TypeScript's excess-property check against
 * the same packages' types, generated from the same schemas, does that); the Kustomization lists every
 * manifest; the lifeboat.yaml it mounts is a valid plan and gateway configuration; the systemd
 * units pass `systemd-analyze verify`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { parse, parseAllDocuments } from 'yaml';
import { loadGatewayConfig } from '../../src/gateway/load-config.js';
import { loadPlan } from '../../src/control/plan.js';
import { runCliJson } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp-dir.js';

const DEPLOY = fileURLToPath(new URL('../../../deploy/', import.meta.url));
const K8S = path.join(DEPLOY, 'kubernetes');

/** The kubernetes-models class of an object's apiVersion and kind. */
async function modelOf(apiVersion: string, kind: string): Promise<{ new (data: unknown): { validate(): void } }> {
  return ((await import(modulePathOf(apiVersion, kind))) as Record<string, { new (data: unknown): { validate(): void } }>)[kind];
}

function modulePathOf(apiVersion: string, kind: string): string {
  return apiVersion === 'monitoring.coreos.com/v1' ? `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}` : `kubernetes-models/${apiVersion}/${kind}`;
}

async function manifests(): Promise<Array<{ file: string; doc: Record<string, unknown> }>> {
  const kustomization = parse(await fs.readFile(path.join(K8S, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
  const out = [];
  for (const file of kustomization.resources) {
    for (const d of parseAllDocuments(await fs.readFile(path.join(K8S, file), 'utf8'))) out.push({ file, doc: d.toJS() as Record<string, unknown> });
  }
  return out;
}

test('deploy/kubernetes passes its own audit: no finding at warn or above', async () => {
  const { result, json } = await runCliJson<{ findings: unknown[]; checked: string[] }>(['audit', 'k8s', K8S, '--fail-on', 'warn']);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.deepEqual(json.findings, []);
  assert.deepEqual(json.checked.sort(), ['Deployment/lifeboat/lifeboat-gateway', 'StatefulSet/lifeboat/lifeboat-serve']);
});

test('every manifest is valid against the Kubernetes OpenAPI schemas, and the validators do reject a broken one', async () => {
  const all = await manifests();
  const kinds = all.map((m) => `${m.doc.apiVersion} ${m.doc.kind}`).sort();
  assert.deepEqual(kinds, [
    'apps/v1 Deployment',
    'apps/v1 StatefulSet',
    'monitoring.coreos.com/v1 ServiceMonitor',
    'monitoring.coreos.com/v1 ServiceMonitor',
    'policy/v1 PodDisruptionBudget',
    'policy/v1 PodDisruptionBudget',
    'v1 Namespace',
    'v1 Service',
    'v1 Service',
  ]);
  for (const { file, doc } of all) {
    const Model = await modelOf(String(doc.apiVersion), String(doc.kind));
    assert.doesNotThrow(() => new Model(doc).validate(), `${file}: ${doc.kind} is valid`);
  }
  const statefulSet = all.find((m) => m.doc.kind === 'StatefulSet')!.doc as { spec: { replicas: unknown } };
  const broken = structuredClone(statefulSet);
  broken.spec.replicas = 'two';
  const Model = await modelOf('apps/v1', 'StatefulSet');
  assert.throws(() => new Model(broken).validate(), /replicas must be integer/);
});

/** What TypeScript says of `objects` typed as their kubernetes-models interfaces, in a program held in memory. */
function typeErrors(objects: Array<Record<string, unknown>>): string[] {
  const lines = objects.map((o, i) => {
    const module = modulePathOf(String(o.apiVersion), String(o.kind));
    return `import type { I${o.kind} as T${i} } from ${JSON.stringify(module)};\nexport const o${i}: T${i} = ${JSON.stringify(o)};`;
  });
  const file = fileURLToPath(new URL('../../../manifests-as-types.ts', import.meta.url)); // never written: beside node_modules for resolution
  const host = ts.createCompilerHost({});
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) => (name === file ? ts.createSourceFile(name, lines.join('\n'), language) : read(name, language, ...rest));
  const options = { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, skipLibCheck: true, types: [] };
  return ts.getPreEmitDiagnostics(ts.createProgram([file], options, host)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '));
}

test('no manifest names a field the Kubernetes schemas do not have, and a misspelt one is caught', async () => {
  const all = await manifests();
  assert.deepEqual(typeErrors(all.map((m) => m.doc)), []);
  const typo = structuredClone(all.find((m) => m.doc.kind === 'Deployment')!.doc) as { spec: Record<string, unknown> };
  typo.spec.replica = typo.spec.replicas;
  delete typo.spec.replicas;
  const [error] = typeErrors([typo]);
  assert.match(error, /'"?replica"?' does not exist in type 'IDeploymentSpec'/);
});

test('the Kustomization names every manifest of its folder, and the lifeboat.yaml it mounts is a valid plan and gateway', async () => {
  const kustomization = parse(await fs.readFile(path.join(K8S, 'kustomization.yaml'), 'utf8')) as { resources: string[]; configMapGenerator: Array<{ files: string[] }> };
  const files = (await fs.readdir(K8S)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml' && f !== 'lifeboat.yaml');
  assert.deepEqual([...kustomization.resources].sort(), files.sort());
  assert.deepEqual(kustomization.configMapGenerator[0].files, ['lifeboat.yaml']);
  const plan = await loadPlan(path.join(K8S, 'lifeboat.yaml'));
  assert.equal(plan.primary?.name, 'primary');
  const gateway = await loadGatewayConfig(path.join(K8S, 'lifeboat.yaml'));
  assert.ok(gateway.groups.length >= 2, 'a primary and a standby group');
  // What the pods run: serve on 0.0.0.0:8080 with its token from a Secret; the gateway with the mounted file.
  const all = await manifests();
  const serve = (all.find((m) => m.doc.kind === 'StatefulSet')!.doc as any).spec.template.spec.containers[0]; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.deepEqual(serve.args.slice(0, 3), ['serve', '--listen', '0.0.0.0:8080']);
  assert.deepEqual(serve.env.find((e: { name: string }) => e.name === 'LIFEBOAT_SERVE_TOKEN').valueFrom.secretKeyRef, { name: 'lifeboat-serve', key: 'token' });
  const monitor = (all.find((m) => m.doc.kind === 'ServiceMonitor' && (m.doc.metadata as { name: string }).name === 'lifeboat-serve')!.doc as any).spec.endpoints[0]; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(monitor.path, '/metrics');
  assert.equal(monitor.port, 'http');
});

test('the systemd units pass systemd-analyze verify', async (t) => {
  const dir = await tempDir(t, 'lifeboat-units-');
  const bin = fileURLToPath(new URL('../../../bin/lifeboat.js', import.meta.url));
  for (const unit of ['lifeboat-serve.service', 'lifeboat-gateway.service']) {
    const text = await fs.readFile(path.join(DEPLOY, 'systemd', unit), 'utf8');
    // verify wants ExecStart's program to exist: the package installs it as /usr/bin/lifeboat.
    await fs.writeFile(path.join(dir, unit), text.replaceAll('/usr/bin/lifeboat', bin));
  }
  const broken = path.join(dir, 'broken.service');
  await fs.writeFile(broken, '[Service]\nExecStart=/bin/true\nRestart=sometimes\n');
  const check = (file: string) => spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
  const probe = check(broken);
  assert.ok(!probe.error, 'systemd-analyze is installed (scripts/test.sh installs the systemd package)');
  assert.match(probe.stderr, /restart specifier/, 'verify reports a bad unit');
  for (const unit of ['lifeboat-serve.service', 'lifeboat-gateway.service']) {
    const r = check(path.join(dir, unit));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', `${unit}: no complaint`);
  }
  const serve = await fs.readFile(path.join(DEPLOY, 'systemd', 'lifeboat-serve.service'), 'utf8');
  assert.match(serve, /^ExecStart=\/usr\/bin\/lifeboat serve --listen 0\.0\.0\.0:8080 /m);
  assert.doesNotMatch(serve, /^[^#]*(LIFEBOAT_SERVE_TOKEN=|LIFEBOAT_PASSWORD=)/m, 'no secret in the unit itself');
});
