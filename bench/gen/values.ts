// What each version's tensors hold, as fillers for the safetensors writer. Every value is a
// pure function of (seed, version, tensor, element index), regenerated chunk by chunk:
// - base: fp32 master weights drawn from each tensor's own Gaussian stream;
// - ft-full-k / ft-partial-k: the same training run continued — k optimiser-like steps of
//   absolute size `ftStep` (Adam's update magnitude does not depend on the weight's) added to
//   the fp32 master weights, then stored in the model dtype. In bf16 most steps fall inside
//   one rounding interval, so only a small fraction of stored values change per checkpoint;
// - merged-k: the stored base values + (alpha/r) B_k A_k on q/v projections, as
//   merge_and_unload computes it, then rounded again.
import { roundInPlace, type Dtype } from './dtype.js';
import { addLowRank, loraFactors, type LoraFactors, type LoraOptions } from './lora.js';
import { addNormal, fillNormal, normalStream } from './normal.js';
import type { ChunkFiller, FillerFactory } from './safetensors.js';
import { initOf, type ModelShape, type TensorSpec } from './shape.js';

export type ModelVersion =
  | { kind: 'base' }
  | { kind: 'ft-full'; k: number }
  | { kind: 'ft-partial'; k: number }
  | { kind: 'merged'; k: number };

export interface ValueOptions {
  seed: number;
  dtype: Dtype;
  ftStep: number;
  partialLayers: number;
  lora: LoraOptions;
}

function baseFiller(o: ValueOptions, t: TensorSpec): ChunkFiller {
  const rng = normalStream(o.seed, `base/${t.name}`);
  const { mean, std } = initOf(t.kind);
  return (f32, _start, n) => fillNormal(rng, f32, n, mean, std);
}

/** Whether ft-partial trains this tensor: the top `partialLayers` layers, the final norm and lm_head. */
export function trainedInPartial(shape: ModelShape, partialLayers: number, t: TensorSpec): boolean {
  return t.layer >= shape.layers - partialLayers;
}

function fineTuneFiller(o: ValueOptions, t: TensorSpec, kind: 'ft-full' | 'ft-partial', k: number): ChunkFiller {
  const base = baseFiller(o, t);
  const steps = Array.from({ length: k }, (_, i) => normalStream(o.seed, `${kind}/${i + 1}/${t.name}`));
  return (f32, start, n) => {
    base(f32, start, n);
    for (const rng of steps) addNormal(rng, f32, n, o.ftStep);
  };
}

function mergedFiller(o: ValueOptions, t: TensorSpec, factors: LoraFactors): ChunkFiller {
  const base = baseFiller(o, t);
  return (f32, start, n) => {
    base(f32, start, n);
    const view = f32.subarray(0, n);
    roundInPlace(view, o.dtype);
    addLowRank(view, start, n, factors);
  };
}

export function fillerFactory(o: ValueOptions, shape: ModelShape, v: ModelVersion): FillerFactory {
  return (t) => {
    switch (v.kind) {
      case 'base':
        return baseFiller(o, t);
      case 'ft-full':
        return fineTuneFiller(o, t, 'ft-full', v.k);
      case 'ft-partial':
        return trainedInPartial(shape, o.partialLayers, t) ? fineTuneFiller(o, t, 'ft-partial', v.k) : baseFiller(o, t);
      case 'merged': {
        if (!t.loraTarget) return baseFiller(o, t);
        const outDim = t.shape[0];
        return mergedFiller(o, t, loraFactors(o.lora, v.k, t.layer, t.loraTarget, shape.hidden, outDim));
      }
    }
  };
}
