/**
 * Kubernetes objects as `lifeboat audit k8s` reads them: documents flattened (`kind: List` from
 * `kubectl get -o yaml`), and the inference workloads among them — Deployments, StatefulSets and
 * KServe InferenceServices — in one shape: their pod template, replicas and pod labels.
 */

export type Json = Record<string, unknown>;

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  raw: Json;
}

export interface Workload {
  /** "Kind/namespace/name", as findings name it. */
  id: string;
  kind: 'Deployment' | 'StatefulSet' | 'InferenceService';
  name: string;
  namespace: string;
  /** The replicas it runs at least (an HPA's minReplicas when one scales it). */
  replicas: number;
  /** Where the replica count and the pod spec are written, for the fixes. */
  replicasPath: string[];
  podPath: string[];
  podLabels: Record<string, string>;
  pod: PodSpec;
  /** KServe manages readiness and the model download itself. */
  managedModel: boolean;
}

export interface Container {
  name?: string;
  args?: unknown[];
  command?: unknown[];
  env?: Array<{ name?: string; value?: unknown }>;
  readinessProbe?: unknown;
  volumeMounts?: Array<{ name?: string; mountPath?: string }>;
  resources?: { limits?: Record<string, unknown>; requests?: Record<string, unknown> };
}

export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: Array<{ name?: string; hostPath?: { path?: string }; emptyDir?: unknown }>;
  affinity?: Json;
  topologySpreadConstraints?: Array<{ topologyKey?: string }>;
  nodeName?: string;
  nodeSelector?: Record<string, string>;
}

function obj(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}

function strings(v: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(obj(v)).map(([k, s]) => [k, String(s)]));
}

/** Every object in `docs`, list items included; `namespace` for those that name none. */
export function objectsOf(docs: unknown[], namespace = 'default'): K8sObject[] {
  const out: K8sObject[] = [];
  const add = (doc: unknown) => {
    const d = obj(doc);
    if (typeof d.kind !== 'string') return;
    if (d.kind === 'List' || (d.kind.endsWith('List') && Array.isArray(d.items))) return void (d.items as unknown[] | undefined)?.forEach(add);
    const meta = obj(d.metadata);
    out.push({
      apiVersion: String(d.apiVersion ?? ''),
      kind: d.kind,
      metadata: { name: String(meta.name ?? ''), namespace: String(meta.namespace ?? namespace), labels: strings(meta.labels) },
      raw: d,
    });
  };
  docs.forEach(add);
  return out;
}

export function objectId(o: { kind: string; metadata: { namespace: string; name: string } }): string {
  return `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
}

/** The inference workloads among `objects`. */
export function workloadsOf(objects: K8sObject[]): Workload[] {
  const out: Workload[] = [];
  for (const o of objects) {
    const spec = obj(o.raw.spec);
    const base = { id: objectId(o), name: o.metadata.name, namespace: o.metadata.namespace };
    if ((o.kind === 'Deployment' || o.kind === 'StatefulSet') && o.apiVersion.startsWith('apps/')) {
      const template = obj(spec.template);
      const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
      out.push({
        ...base,
        kind: o.kind,
        replicas: Math.max(replicas, scaledMinimum(objects, o) ?? 0),
        replicasPath: ['spec', 'replicas'],
        podPath: ['spec', 'template', 'spec'],
        podLabels: strings(obj(template.metadata).labels),
        pod: obj(template.spec) as PodSpec,
        managedModel: false,
      });
    } else if (o.kind === 'InferenceService' && o.apiVersion.startsWith('serving.kserve.io/')) {
      const predictor = obj(spec.predictor);
      const model = obj(predictor.model);
      const containers = [...(Object.keys(model).length ? [model as Container] : []), ...((predictor.containers as Container[] | undefined) ?? [])];
      out.push({
        ...base,
        kind: 'InferenceService',
        replicas: typeof predictor.minReplicas === 'number' ? predictor.minReplicas : 1,
        replicasPath: ['spec', 'predictor', 'minReplicas'],
        podPath: ['spec', 'predictor'],
        podLabels: { ...o.metadata.labels, 'serving.kserve.io/inferenceservice': o.metadata.name },
        pod: { ...(predictor as PodSpec), containers },
        managedModel: true,
      });
    }
  }
  return out;
}

/** The minReplicas of a HorizontalPodAutoscaler that scales `target`. */
function scaledMinimum(objects: K8sObject[], target: K8sObject): number | undefined {
  for (const o of objects) {
    if (o.kind !== 'HorizontalPodAutoscaler' || o.metadata.namespace !== target.metadata.namespace) continue;
    const spec = obj(o.raw.spec);
    const ref = obj(spec.scaleTargetRef);
    if (ref.kind === target.kind && ref.name === target.metadata.name) return typeof spec.minReplicas === 'number' ? spec.minReplicas : 1;
  }
  return undefined;
}

/** Does a label selector (matchLabels and matchExpressions) select pods with `labels`? */
export function selects(selector: unknown, labels: Record<string, string>): boolean {
  const s = obj(selector);
  const match = strings(s.matchLabels);
  const expressions = (s.matchExpressions as Array<{ key?: string; operator?: string; values?: string[] }> | undefined) ?? [];
  if (Object.keys(match).length === 0 && expressions.length === 0) return false; // an empty selector is refused by the API for a PDB's intent here
  for (const [k, v] of Object.entries(match)) if (labels[k] !== v) return false;
  for (const e of expressions) {
    const has = e.key !== undefined && e.key in labels;
    const value = e.key === undefined ? undefined : labels[e.key];
    if (e.operator === 'In' && !(has && (e.values ?? []).includes(value!))) return false;
    if (e.operator === 'NotIn' && has && (e.values ?? []).includes(value!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}
