/**
 * A small, realistic sample for the quickstart: a Llama-shaped bf16 safetensors checkpoint
 * (normal(0, 0.02) weights), its config.json and a JSONL dataset. `fineTuneTopLayers` perturbs the
 * top layers only, as a partial fine-tune does, so the second backup shows deduplication.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export interface SampleOptions {
  seed: number;
  layers: number;
  hidden?: number;
  fineTuneTopLayers?: number;
}

export async function writeSampleModel(dir: string, o: SampleOptions): Promise<void> {
  const hidden = o.hidden ?? 512;
  await fs.mkdir(dir, { recursive: true });
  const tensors: Array<{ name: string; shape: number[]; layer: number }> = [{ name: 'model.embed_tokens.weight', shape: [4096, hidden], layer: -1 }];
  for (let l = 0; l < o.layers; l++) {
    for (const p of ['q_proj', 'k_proj', 'v_proj', 'o_proj']) tensors.push({ name: `model.layers.${l}.self_attn.${p}.weight`, shape: [hidden, hidden], layer: l });
    for (const p of ['gate_proj', 'up_proj']) tensors.push({ name: `model.layers.${l}.mlp.${p}.weight`, shape: [hidden * 2, hidden], layer: l });
    tensors.push({ name: `model.layers.${l}.mlp.down_proj.weight`, shape: [hidden, hidden * 2], layer: l });
  }
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.shape[0] * t.shape[1] * 2;
    header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const file = await fs.open(path.join(dir, 'model.safetensors'), 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    await file.write(Buffer.concat([len, Buffer.from(json)]));
    for (const [i, t] of tensors.entries()) {
      const tuned = o.fineTuneTopLayers !== undefined && t.layer >= o.layers - o.fineTuneTopLayers;
      await file.write(bf16Normal(t.shape[0] * t.shape[1], o.seed * 1000 + i + (tuned ? 500 : 0)));
    }
  } finally {
    await file.close();
  }
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ architectures: ['LlamaForCausalLM'], hidden_size: hidden, num_hidden_layers: o.layers, torch_dtype: 'bfloat16' }, null, 2));
  const records = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ id: i, text: `sample prompt ${i}`, label: i % 3 === 0 ? 'positive' : 'neutral' }));
  await fs.writeFile(path.join(dir, 'train.jsonl'), records.join('\n') + '\n');
}

/** n bf16 values ~ normal(0, 0.02) from a seeded xorshift PRNG and Box-Muller. */
function bf16Normal(n: number, seed: number): Buffer {
  let s = (seed * 2654435761) >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const out = Buffer.alloc(n * 2);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  for (let i = 0; i < n; i++) {
    f32[0] = 0.02 * Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next());
    out.writeUInt16LE(u32[0] >>> 16, i * 2);
  }
  return out;
}
