// Llama-like model shapes: grouped-query attention with q/k/v biases (as Qwen2 and Llama with
// attention_bias=true), SwiGLU MLP, RMSNorm, untied embeddings. A parameter count is turned
// into (hidden, layers) with a realistic width/depth ratio.

export interface ModelShape {
  hidden: number;
  layers: number;
  intermediate: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  params: number;
}

export type TensorKind = 'embed' | 'linear' | 'bias' | 'norm';

export interface TensorSpec {
  name: string;
  shape: number[];
  numel: number;
  kind: TensorKind;
  /** decoder layer index; `layers` for the final norm and lm_head, -1 for the embedding */
  layer: number;
  /** set on q_proj / v_proj weights: the modules LoRA adapts */
  loraTarget?: 'q' | 'v';
}

const HEAD_DIM = 64;
const TARGET_ASPECT = 96; // hidden / layers of typical 0.1–7B decoders (TinyLlama 93, Llama-2-7B 128)

function intermediateFor(hidden: number): number {
  return Math.ceil((8 * hidden) / 3 / 256) * 256;
}

function kvHeadsFor(heads: number): number {
  return heads >= 8 && heads % 4 === 0 ? heads / 4 : heads;
}

export function shapeOf(hidden: number, layers: number, vocab: number): ModelShape {
  const heads = hidden / HEAD_DIM;
  const kvHeads = kvHeadsFor(heads);
  const kv = kvHeads * HEAD_DIM;
  const intermediate = intermediateFor(hidden);
  const perLayer = 2 * hidden * hidden + hidden + 2 * (kv * hidden + kv) + 3 * hidden * intermediate + 2 * hidden;
  const params = 2 * vocab * hidden + hidden + layers * perLayer;
  return { hidden, layers, intermediate, heads, kvHeads, headDim: HEAD_DIM, vocab, params };
}

/** The (hidden, layers) pair closest to `params`, hidden a multiple of 128, aspect near TARGET_ASPECT. */
export function solveShape(params: number, vocab: number): ModelShape {
  let best: ModelShape | null = null;
  let bestScore = Infinity;
  for (let layers = 2; layers <= 160; layers++) {
    for (let hidden = 128; hidden <= 16384; hidden += 128) {
      const s = shapeOf(hidden, layers, vocab);
      const err = Math.abs(s.params - params) / params;
      const score = err + 0.02 * Math.abs(Math.log2(hidden / layers / TARGET_ASPECT));
      if (score < bestScore) {
        bestScore = score;
        best = s;
      }
    }
  }
  return best as ModelShape;
}

function spec(name: string, shape: number[], kind: TensorKind, layer: number, loraTarget?: 'q' | 'v'): TensorSpec {
  return { name, shape, numel: shape.reduce((x, y) => x * y, 1), kind, layer, loraTarget };
}

/** Tensors in state-dict order (the order save_pretrained shards them in). */
export function tensorsOf(s: ModelShape): TensorSpec[] {
  const h = s.hidden;
  const kv = s.kvHeads * s.headDim;
  const out: TensorSpec[] = [spec('model.embed_tokens.weight', [s.vocab, h], 'embed', -1)];
  for (let i = 0; i < s.layers; i++) {
    const p = `model.layers.${i}.`;
    out.push(
      spec(`${p}self_attn.q_proj.weight`, [h, h], 'linear', i, 'q'),
      spec(`${p}self_attn.q_proj.bias`, [h], 'bias', i),
      spec(`${p}self_attn.k_proj.weight`, [kv, h], 'linear', i),
      spec(`${p}self_attn.k_proj.bias`, [kv], 'bias', i),
      spec(`${p}self_attn.v_proj.weight`, [kv, h], 'linear', i, 'v'),
      spec(`${p}self_attn.v_proj.bias`, [kv], 'bias', i),
      spec(`${p}self_attn.o_proj.weight`, [h, h], 'linear', i),
      spec(`${p}mlp.gate_proj.weight`, [s.intermediate, h], 'linear', i),
      spec(`${p}mlp.up_proj.weight`, [s.intermediate, h], 'linear', i),
      spec(`${p}mlp.down_proj.weight`, [h, s.intermediate], 'linear', i),
      spec(`${p}input_layernorm.weight`, [h], 'norm', i),
      spec(`${p}post_attention_layernorm.weight`, [h], 'norm', i),
    );
  }
  out.push(spec('model.norm.weight', [h], 'norm', s.layers), spec('lm_head.weight', [s.vocab, h], 'linear', s.layers));
  return out;
}

/** Mean and std of a tensor's initial values by kind (GPT-2/Llama-style init scales). */
export function initOf(kind: TensorKind): { mean: number; std: number } {
  switch (kind) {
    case 'norm':
      return { mean: 1, std: 0.02 };
    case 'bias':
      return { mean: 0, std: 0.002 };
    default:
      return { mean: 0, std: 0.02 };
  }
}

export function hfConfig(s: ModelShape, torchDtype: string): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: s.hidden,
    intermediate_size: s.intermediate,
    num_hidden_layers: s.layers,
    num_attention_heads: s.heads,
    num_key_value_heads: s.kvHeads,
    head_dim: s.headDim,
    vocab_size: s.vocab,
    hidden_act: 'silu',
    max_position_embeddings: 4096,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    attention_bias: true,
    tie_word_embeddings: false,
    torch_dtype: torchDtype,
    transformers_version: '4.44.2',
  };
}
