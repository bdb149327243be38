/**
 * Manifests of an inference service that keeps a minutes-level RTO (vLLM on GPUs: two replicas
 * spread across zones, a PodDisruptionBudget, a readiness probe, the model on a volume an init
 * container restores), and a way to give a copy one flaw at a time.
 */
import { parseAllDocuments, stringify } from 'yaml';
import { objectsOf, type K8sObject } from '../../src/control/audit/k8s-objects.js';

export type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function goodDeployment(): Doc {
  const labels = { app: 'llm' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'llm', namespace: 'inference' },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: labels } }],
          nodeSelector: { 'nvidia.com/gpu.present': 'true' },
          initContainers: [{ name: 'restore-model', image: 'lifeboat', args: ['restore', 'llama-ft@latest', '--target', '/models'], volumeMounts: [{ name: 'models', mountPath: '/models' }] }],
          containers: [{
            name: 'vllm',
            image: 'vllm/vllm-openai:v0.6.0',
            args: ['--model', '/models/llama-ft', '--tensor-parallel-size', '1'],
            resources: { limits: { 'nvidia.com/gpu': 1 } },
            readinessProbe: { httpGet: { path: '/health', port: 8000 } },
            volumeMounts: [{ name: 'models', mountPath: '/models' }],
          }],
          volumes: [{ name: 'models', emptyDir: {} }],
        },
      },
    },
  };
}

export function pdbFor(labels: Record<string, string> = { app: 'llm' }, namespace = 'inference'): Doc {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'llm', namespace }, spec: { minAvailable: 1, selector: { matchLabels: labels } } };
}

export function goodInferenceService(): Doc {
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: { name: 'llama', namespace: 'kserve' },
    spec: {
      predictor: {
        minReplicas: 2,
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule' }],
        model: { modelFormat: { name: 'huggingface' }, storageUri: 'pvc://models/llama-ft', resources: { limits: { 'nvidia.com/gpu': 1 } } },
      },
    },
  };
}

/** Docs as a multi-document YAML stream (as Helm renders), read back as objects. */
export function objects(...docs: Doc[]): K8sObject[] {
  const text = docs.map((d) => stringify(d)).join('---\n');
  return objectsOf(parseAllDocuments(text).map((d) => d.toJS()));
}

/** A deep copy to break. */
export function copy<T>(v: T): T {
  return structuredClone(v);
}
