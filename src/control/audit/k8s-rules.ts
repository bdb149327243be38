/**
 * What defeats a minutes-level RTO in an inference deployment (FRAMEWORK.md: warm replicas on
 * other hardware, pods spread across failure domains, rescheduling within minutes). Each rule is a
 * pure function of the workload and the other objects; each finding says why it matters and
 * shows the fix as a manifest snippet.
 */
import { stringify } from 'yaml';
import { selects, workloadsOf, type Container, type K8sObject, type PodSpec, type Workload } from './k8s-objects.js';

export type Severity = 'warn' | 'error';
export const SEVERITIES: readonly Severity[] = ['warn', 'error'];

export interface Finding {
  rule: string;
  severity: Severity;
  object: string;
  message: string;
  /** A manifest snippet that fixes it. */
  fix: string;
}

export interface AuditOptions {
  /** The node label whose values are failure domains (rack, power feed, zone). */
  failureDomain: string;
}

export const DEFAULT_FAILURE_DOMAIN = 'topology.kubernetes.io/zone';
const HOSTNAME = 'kubernetes.io/hostname';

interface Context {
  objects: K8sObject[];
  workloads: Workload[];
  options: AuditOptions;
}

type Rule = (w: Workload, c: Context) => Array<Omit<Finding, 'object'>>;

export function auditK8s(objects: K8sObject[], options: AuditOptions): Finding[] {
  const workloads = workloadsOf(objects);
  const context = { objects, workloads, options };
  return workloads.flatMap((w) => RULES.flatMap((rule) => rule(w, context).map((f) => ({ rule: f.rule, severity: f.severity, object: w.id, message: f.message, fix: f.fix }))));
}

/** `value` at `path` as a YAML snippet. */
function snippet(path: string[], value: unknown): string {
  return stringify(path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value));
}

const selectorOf = (w: Workload) => ({ matchLabels: Object.keys(w.podLabels).length ? w.podLabels : { app: w.name } });

const singleReplica: Rule = (w) =>
  w.replicas >= 2
    ? []
    : [{
        rule: 'single-replica',
        severity: 'error',
        message: `runs ${w.replicas} replica: when its node fails, inference is down until a new pod is scheduled and has loaded the model again; run at least 2 (a warm standby)`,
        fix: snippet(w.replicasPath, 2),
      }];

const noSpread: Rule = (w, { options }) => {
  const key = options.failureDomain;
  const spreads = (w.pod.topologySpreadConstraints ?? []).map((t) => t.topologyKey);
  const anti = antiAffinityKeys(w.pod);
  if (spreads.includes(key) || anti.includes(key)) return [];
  const others = [...new Set([...spreads, ...anti].filter((k): k is string => !!k))];
  return [{
    rule: 'no-spread',
    severity: 'error',
    message: `its pods are not spread across ${key}${others.length ? ` (only across ${others.join(', ')})` : ''}: one rack, power feed or zone failing can take every replica at once`,
    fix: snippet([...w.podPath, 'topologySpreadConstraints'], [{ maxSkew: 1, topologyKey: key, whenUnsatisfiable: 'DoNotSchedule', labelSelector: selectorOf(w) }]),
  }];
};

function antiAffinityKeys(pod: PodSpec): Array<string | undefined> {
  const anti = (pod.affinity?.podAntiAffinity ?? {}) as { requiredDuringSchedulingIgnoredDuringExecution?: Array<{ topologyKey?: string }>; preferredDuringSchedulingIgnoredDuringExecution?: Array<{ podAffinityTerm?: { topologyKey?: string } }> };
  return [...(anti.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => t.topologyKey), ...(anti.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => t.podAffinityTerm?.topologyKey)];
}

const noPdb: Rule = (w, { objects }) => {
  const covered = objects.some((o) => o.kind === 'PodDisruptionBudget' && o.metadata.namespace === w.namespace && selects((o.raw.spec as { selector?: unknown } | undefined)?.selector, w.podLabels));
  if (covered) return [];
  return [{
    rule: 'no-pdb',
    severity: 'warn',
    message: 'no PodDisruptionBudget selects its pods: a node drain or cluster upgrade may evict every replica at once',
    fix: stringify({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: w.name, namespace: w.namespace }, spec: { minAvailable: 1, selector: selectorOf(w) } }),
  }];
};

const noReadiness: Rule = (w) => {
  if (w.managedModel) return [];
  const missing = (w.pod.containers ?? []).filter((c) => !c.readinessProbe);
  if (missing.length === 0) return [];
  return [{
    rule: 'no-readiness-probe',
    severity: 'error',
    message: `container(s) ${missing.map((c) => c.name ?? '?').join(', ')} have no readiness probe: a replacement pod gets traffic while its model is still loading, and a failover answers with errors`,
    fix: snippet([...w.podPath, 'containers'], missing.map((c) => ({ name: c.name, readinessProbe: { httpGet: { path: '/health', port: 8000 }, periodSeconds: 5, failureThreshold: 3 } }))),
  }];
};

const MODEL_PATH = /model|weight|checkpoint|ckpt|huggingface|hf[-_]?home|gguf|safetensors|adapter|lora/i;

const nodeLocalModel: Rule = (w) => {
  const findings: Array<Omit<Finding, 'object'>> = [];
  const restored = new Set((w.pod.initContainers ?? []).flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name)));
  for (const v of w.pod.volumes ?? []) {
    const type = v.hostPath ? 'hostPath' : v.emptyDir !== undefined ? 'emptyDir' : undefined;
    if (!type || !v.name || restored.has(v.name)) continue;
    const mounts = (w.pod.containers ?? []).flatMap((c) => (c.volumeMounts ?? []).filter((m) => m.name === v.name).map((m) => ({ c, path: m.mountPath ?? '' })));
    const model = mounts.find(({ c, path }) => MODEL_PATH.test(v.name!) || MODEL_PATH.test(path) || (v.hostPath?.path !== undefined && MODEL_PATH.test(v.hostPath.path)) || mentions(c, path));
    if (!model) continue;
    const where = type === 'hostPath' ? `the node-local path ${v.hostPath?.path ?? '?'}` : 'an emptyDir';
    findings.push({
      rule: 'node-local-model',
      severity: type === 'hostPath' ? 'error' : 'warn',
      message: `loads its model from ${where} (volume ${v.name} at ${model.path}) with no init step that restores it: a pod rescheduled to another node ${type === 'hostPath' ? 'finds no model' : 'starts empty and must fetch the model from wherever it came from'}`,
      fix: snippet(w.podPath, {
        initContainers: [{
          name: 'restore-model',
          image: 'lifeboat:latest',
          args: ['restore', 'MODEL-ASSET@latest', '--target', model.path],
          envFrom: [{ secretRef: { name: 'lifeboat-repository' } }],
          volumeMounts: [{ name: v.name, mountPath: model.path }],
        }],
        volumes: [{ name: v.name, persistentVolumeClaim: { claimName: `${w.name}-model` } }],
      }),
    });
  }
  return findings;
};

/** Does the container's command, args or env name a path under `mountPath`? */
function mentions(c: Container, mountPath: string): boolean {
  if (!mountPath) return false;
  const words = [...(c.command ?? []), ...(c.args ?? []), ...(c.env ?? []).map((e) => e.value)].map(String);
  return words.some((s) => s === mountPath || s.includes(`${mountPath.replace(/\/$/, '')}/`) || s.includes(`=${mountPath}`));
}

const GPU = /(^|\/)gpu$|^nvidia\.com\/|^amd\.com\/gpu|^gpu\.intel\.com\//;

function usesGpu(pod: PodSpec): boolean {
  return (pod.containers ?? []).some((c) => [...Object.keys(c.resources?.limits ?? {}), ...Object.keys(c.resources?.requests ?? {})].some((k) => GPU.test(k)));
}

/** The one node a pod is pinned to, if it is. */
function pinnedNode(pod: PodSpec): string | undefined {
  if (pod.nodeName) return pod.nodeName;
  if (pod.nodeSelector?.[HOSTNAME]) return pod.nodeSelector[HOSTNAME];
  const terms = ((pod.affinity?.nodeAffinity as Record<string, { nodeSelectorTerms?: Array<{ matchExpressions?: Array<{ key?: string; operator?: string; values?: string[] }> }> }> | undefined)?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms) ?? [];
  const nodes = terms.map((t) => (t.matchExpressions ?? []).find((e) => e.key === HOSTNAME && e.operator === 'In')?.values);
  if (nodes.length > 0 && nodes.every((v) => v?.length === 1) && new Set(nodes.map((v) => v![0])).size === 1) return nodes[0]![0];
  return undefined;
}

const gpuPinned: Rule = (w, { workloads }) => {
  if (!usesGpu(w.pod)) return [];
  const node = pinnedNode(w.pod);
  if (!node) return [];
  const alsoThere = workloads.filter((o) => o !== w && usesGpu(o.pod) && pinnedNode(o.pod) === node).map((o) => o.id);
  return [{
    rule: 'gpu-pinned',
    severity: 'error',
    message: `its GPU pods are pinned to the node ${node}${alsoThere.length ? `, as are ${alsoThere.join(', ')}` : ''}: when that node fails nothing can take over; select a pool of GPU nodes by label instead`,
    fix: snippet(w.podPath, { nodeSelector: { 'nvidia.com/gpu.present': 'true' } }),
  }];
};

const RULES: Rule[] = [singleReplica, noSpread, noPdb, noReadiness, nodeLocalModel, gpuPinned];

/** Findings at or above `threshold`. */
export function atOrAbove(findings: Finding[], threshold: Severity): Finding[] {
  return findings.filter((f) => SEVERITIES.indexOf(f.severity) >= SEVERITIES.indexOf(threshold));
}
