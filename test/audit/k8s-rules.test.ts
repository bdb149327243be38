/**
 * `lifeboat audit k8s` rules: a deployment without flaws has no finding; each flaw alone gives
 * exactly its finding, with a fix that is a manifest snippet; near misses give none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { objectsOf } from '../../src/control/audit/k8s-objects.js';
import { atOrAbove, auditK8s, DEFAULT_FAILURE_DOMAIN, type Finding } from '../../src/control/audit/k8s-rules.js';
import { copy, goodDeployment, goodInferenceService, objects, pdbFor, type Doc } from './k8s-fixtures.js';

const zone = { failureDomain: DEFAULT_FAILURE_DOMAIN };
const rules = (fs: Finding[]) => fs.map((f) => `${f.rule}:${f.severity}:${f.object}`);
const pod = (d: Doc) => d.spec.template.spec;

function withFlaw(change: (d: Doc) => void): Finding[] {
  const d = copy(goodDeployment());
  change(d);
  return auditK8s(objects(d, pdbFor()), zone);
}

test('a deployment with replicas spread across zones, a PDB, readiness and a restored model has no finding', () => {
  assert.deepEqual(auditK8s(objects(goodDeployment(), pdbFor()), zone), []);
  assert.deepEqual(auditK8s(objects(goodInferenceService(), pdbFor({ 'serving.kserve.io/inferenceservice': 'llama' }, 'kserve')), zone), []);
});

test('each flaw alone gives exactly its finding', () => {
  const D = 'Deployment/inference/llm';
  const cases: Array<[string, (d: Doc) => void, string[]]> = [
    ['one replica', (d) => (d.spec.replicas = 1), [`single-replica:error:${D}`]],
    ['replicas left out (the default is 1)', (d) => delete d.spec.replicas, [`single-replica:error:${D}`]],
    ['no spread', (d) => delete pod(d).topologySpreadConstraints, [`no-spread:error:${D}`]],
    ['spread across hosts only', (d) => (pod(d).topologySpreadConstraints[0].topologyKey = 'kubernetes.io/hostname'), [`no-spread:error:${D}`]],
    ['no readiness probe', (d) => delete pod(d).containers[0].readinessProbe, [`no-readiness-probe:error:${D}`]],
    ['model on emptyDir, no restore step', (d) => delete pod(d).initContainers, [`node-local-model:warn:${D}`]],
    ['model on a hostPath, no restore step', (d) => { delete pod(d).initContainers; pod(d).volumes[0] = { name: 'models', hostPath: { path: '/mnt/nvme/models' } }; }, [`node-local-model:error:${D}`]],
    ['GPU pods pinned by nodeName', (d) => (pod(d).nodeName = 'gpu-7'), [`gpu-pinned:error:${D}`]],
    ['GPU pods pinned by a hostname nodeSelector', (d) => (pod(d).nodeSelector = { 'kubernetes.io/hostname': 'gpu-7' }), [`gpu-pinned:error:${D}`]],
    ['GPU pods pinned by node affinity', (d) => (pod(d).affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['gpu-7'] }] }] } } }), [`gpu-pinned:error:${D}`]],
  ];
  for (const [name, change, expected] of cases) assert.deepEqual(rules(withFlaw(change)), expected, name);
  assert.deepEqual(rules(auditK8s(objects(goodDeployment()), zone)), [`no-pdb:warn:${D}`], 'no PodDisruptionBudget');
  assert.deepEqual(rules(auditK8s(objects(goodDeployment(), pdbFor({ app: 'llm' }, 'other')), zone)), [`no-pdb:warn:${D}`], 'a PDB in another namespace');
});

test('near misses are not flaws', () => {
  const none = (name: string, change: (d: Doc) => void, extra: Doc[] = []) => {
    const d = copy(goodDeployment());
    change(d);
    assert.deepEqual(auditK8s(objects(d, pdbFor(), ...extra), zone), [], name);
  };
  none('one replica scaled to 3 by an HPA', (d) => (d.spec.replicas = 1), [{ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'llm', namespace: 'inference' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'llm' }, minReplicas: 3, maxReplicas: 6 } }]);
  none('pod anti-affinity across zones instead of a spread constraint', (d) => {
    delete pod(d).topologySpreadConstraints;
    pod(d).affinity = { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: { app: 'llm' } } } }] } };
  });
  none('a hostPath model filled by an init step', (d) => (pod(d).volumes[0] = { name: 'models', hostPath: { path: '/mnt/nvme/models' } }));
  none('an emptyDir that holds no model', (d) => {
    delete pod(d).initContainers;
    pod(d).volumes = [{ name: 'tmp', emptyDir: {} }];
    pod(d).containers[0].volumeMounts = [{ name: 'tmp', mountPath: '/tmp' }];
  });
  none('a CPU pod pinned to a node', (d) => {
    pod(d).nodeName = 'cpu-1';
    delete pod(d).containers[0].resources;
  });
  none('GPU pods on a pool of nodes by label', (d) => (pod(d).nodeSelector = { 'node.kubernetes.io/instance-type': 'a100x8' }));
  const expr = copy(pdbFor());
  expr.spec.selector = { matchExpressions: [{ key: 'app', operator: 'In', values: ['llm', 'embedder'] }] };
  assert.deepEqual(auditK8s(objects(goodDeployment(), expr), zone), [], 'a PDB selecting by expression');
});

test('the failure domain is the label the config names: a spread across zones is not one across racks', () => {
  const rack = { failureDomain: 'example.com/rack' };
  const [finding] = auditK8s(objects(goodDeployment(), pdbFor()), rack);
  assert.equal(finding.rule, 'no-spread');
  assert.match(finding.message, /not spread across example\.com\/rack \(only across topology\.kubernetes\.io\/zone\)/);
  assert.equal(parse(finding.fix).spec.template.spec.topologySpreadConstraints[0].topologyKey, 'example.com/rack', 'the fix spreads across racks');
});

test('every fix is a manifest snippet at the right place; two GPU workloads pinned to one node name each other', () => {
  const flawed = copy(goodDeployment());
  flawed.spec.replicas = 1;
  delete pod(flawed).topologySpreadConstraints;
  delete pod(flawed).containers[0].readinessProbe;
  delete pod(flawed).initContainers;
  pod(flawed).nodeName = 'gpu-7';
  const standby = copy(flawed);
  standby.metadata.name = 'llm-standby';
  const findings = auditK8s(objects(flawed, standby), zone);
  for (const f of findings) assert.ok(typeof parse(f.fix) === 'object', `${f.rule}: the fix parses as YAML`);
  const byRule = Object.fromEntries(findings.filter((f) => f.object === 'Deployment/inference/llm').map((f) => [f.rule, parse(f.fix)]));
  assert.deepEqual(Object.keys(byRule).sort(), ['gpu-pinned', 'no-pdb', 'no-readiness-probe', 'no-spread', 'node-local-model', 'single-replica']);
  assert.equal(byRule['single-replica'].spec.replicas, 2);
  assert.equal(byRule['no-pdb'].kind, 'PodDisruptionBudget');
  assert.deepEqual(byRule['no-pdb'].spec.selector, { matchLabels: { app: 'llm' } });
  assert.equal(byRule['node-local-model'].spec.template.spec.initContainers[0].volumeMounts[0].mountPath, '/models');
  assert.ok(byRule['no-readiness-probe'].spec.template.spec.containers[0].readinessProbe);
  const pinned = findings.find((f) => f.rule === 'gpu-pinned' && f.object === 'Deployment/inference/llm')!;
  assert.match(pinned.message, /pinned to the node gpu-7, as are Deployment\/inference\/llm-standby/);
  assert.equal(atOrAbove(findings, 'error').length, findings.filter((f) => f.severity === 'error').length);
  assert.equal(atOrAbove(findings, 'warn').length, findings.length);
});

test('KServe: minReplicas is the replica count, the fix goes under spec.predictor; kubectl lists are read item by item', () => {
  const isvc = copy(goodInferenceService());
  delete isvc.spec.predictor.minReplicas;
  const list = { apiVersion: 'v1', kind: 'List', items: [isvc] };
  const findings = auditK8s(objectsOf([list]), zone);
  assert.deepEqual(rules(findings), ['single-replica:error:InferenceService/kserve/llama', 'no-pdb:warn:InferenceService/kserve/llama']);
  assert.equal(parse(findings[0].fix).spec.predictor.minReplicas, 2);
});
