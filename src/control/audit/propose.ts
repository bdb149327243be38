/**
 * A proposed tier for each asset found, with the reason in words (FRAMEWORK.md's tiers: Tier 1 is
 * what is irreplaceable or extremely expensive to reproduce, Tier 2 what is reproducible but slow,
 * Tier 3 what git rebuilds). Pure: the candidate's kind, format, markers and path decide.
 */
import type { Tier } from '../policy.js';
import type { Candidate } from './candidate.js';

export interface Proposal {
  tier: Tier;
  reason: string;
}

const HF_CACHE_MODEL = /(^|\/)models--[^/]+--[^/]+(\/|$)/;
const HF_CACHE_DATASET = /(^|\/)datasets--[^/]+--[^/]+(\/|$)/;
const EVALUATION = /(^|[/_.-])(eval|evals|evaluation|benchmarks?|bench|golden|test[-_]?sets?)([/_.-]|$)/i;
const CHECKPOINT = /(^|\/)(checkpoint|ckpt)[-_]?\d+(\/|$)/i;

export function propose(c: Candidate): Proposal {
  const m = new Set(c.hints.markers);
  switch (c.kind) {
    case 'adapter':
      return { tier: 1, reason: 'PEFT adapter → Tier 1: fine-tuned, costly to reproduce' };
    case 'model':
      if (HF_CACHE_MODEL.test(c.path)) return { tier: 2, reason: 'a downloaded model (Hugging Face hub cache) → Tier 2: reproducible by downloading it again, slowly' };
      if (c.format.startsWith('onnx')) return { tier: 2, reason: 'an exported model (ONNX) → Tier 2: reproducible by exporting its source weights again' };
      if (m.has('trainer_state.json') || CHECKPOINT.test(c.path)) return { tier: 1, reason: 'a training checkpoint → Tier 1: GPU-hours of training to reproduce' };
      return { tier: 1, reason: `model weights (${c.format}) → Tier 1: weeks of GPU time to reproduce, and the data behind them may be gone` };
    case 'dataset':
      if (HF_CACHE_DATASET.test(c.path) || (m.has('dataset_info.json') && m.has('state.json'))) {
        return { tier: 2, reason: 'a downloaded Hugging Face dataset → Tier 2: reproducible by downloading it again, slowly' };
      }
      if (EVALUATION.test(c.path)) return { tier: 2, reason: 'an evaluation benchmark → Tier 2: reproducible but slow to rebuild' };
      if (c.hints.dvcTracked || m.has('.dvc')) return { tier: 1, reason: 'a DVC-tracked dataset → Tier 1: the exact data a model version was trained on' };
      return { tier: 1, reason: `a dataset (${c.format}) → Tier 1: the exact data a model was trained on is rarely reproducible` };
    case 'annotations':
      return { tier: 1, reason: 'Label Studio annotations → Tier 1: re-annotating costs far more than re-acquiring the data' };
    case 'registry':
      return { tier: 1, reason: `MLflow tracking data (${c.format}) → Tier 1: which data, hyperparameters and metrics made each model` };
    case 'config':
      return c.format === 'prompt-template'
        ? { tier: 2, reason: 'prompt templates → Tier 2: reproducible but slow and error-prone to recreate under pressure' }
        : { tier: 2, reason: `serving configuration (${c.format}) → Tier 2: months of tuning, slow and error-prone to recreate under pressure` };
    case 'code':
      return gitProposal(c);
    default:
      return { tier: 2, reason: 'unclassified' };
  }
}

function gitProposal(c: Candidate): Proposal {
  const remote = c.hints.gitRemote;
  if (!remote) return { tier: 2, reason: 'git repository with no remote → Tier 2: this clone is its only copy (push it to a remote to make it Tier 3)' };
  if (remote.reachable === false) return { tier: 2, reason: `git repository whose remote ${remote.url} is not there → Tier 2: this clone may be its only copy` };
  return {
    tier: 3,
    reason: `git repository with a reachable remote → Tier 3: rebuilt from git (${remote.url}${remote.reachable === undefined ? ', not contacted' : ''})`,
  };
}
