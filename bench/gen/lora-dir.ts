// A PEFT adapter directory: adapter_model.safetensors (lora_A / lora_B of every q_proj and
// v_proj, names as PEFT saves them) and adapter_config.json.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loraFactors, type LoraOptions } from './lora.js';
import { writeSafetensors, type Entry } from './safetensors.js';
import type { ModelShape, TensorSpec } from './shape.js';

interface LoraSpec extends TensorSpec {
  part: 'A' | 'B';
}

function loraSpecs(shape: ModelShape, rank: number): LoraSpec[] {
  const specs: LoraSpec[] = [];
  for (let layer = 0; layer < shape.layers; layer++) {
    for (const target of ['q', 'v'] as const) {
      const out = target === 'q' ? shape.hidden : shape.kvHeads * shape.headDim;
      const p = `base_model.model.model.layers.${layer}.self_attn.${target}_proj.`;
      specs.push(
        { name: `${p}lora_A.weight`, shape: [rank, shape.hidden], numel: rank * shape.hidden, kind: 'linear', layer, loraTarget: target, part: 'A' },
        { name: `${p}lora_B.weight`, shape: [out, rank], numel: out * rank, kind: 'linear', layer, loraTarget: target, part: 'B' },
      );
    }
  }
  return specs;
}

export async function writeLoraDir(dir: string, shape: ModelShape, o: LoraOptions, version: number): Promise<number> {
  await mkdir(dir, { recursive: true });
  const entries: Entry[] = loraSpecs(shape, o.rank).map((spec) => ({ spec, dtype: o.dtype }));
  const bytes = await writeSafetensors(path.join(dir, 'adapter_model.safetensors'), entries, { format: 'pt' }, (t) => {
    const s = t as LoraSpec;
    const outDim = s.loraTarget === 'q' ? shape.hidden : shape.kvHeads * shape.headDim;
    const f = loraFactors(o, version, s.layer, s.loraTarget ?? 'q', shape.hidden, outDim);
    const src = s.part === 'A' ? f.a : f.b;
    return (f32, start, n) => f32.set(src.subarray(start, start + n));
  });
  const config = JSON.stringify({
    base_model_name_or_path: '../base',
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    r: o.rank,
    lora_alpha: o.alpha,
    lora_dropout: 0.05,
    target_modules: ['q_proj', 'v_proj'],
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    modules_to_save: null,
    revision: null,
    use_dora: false,
    use_rslora: false,
  }, null, 2) + '\n';
  await writeFile(path.join(dir, 'adapter_config.json'), config);
  return bytes + Buffer.byteLength(config);
}
