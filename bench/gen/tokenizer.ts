// A BPE-shaped tokenizer.json (vocab + merges) of the model's vocabulary size: ~1 MB of JSON
// that is byte-identical in every model version, as real checkpoints ship it.
import { makeWords } from './words.js';

export function tokenizerJson(vocabSize: number, seed: number): string {
  const words = makeWords(seed, 6000).list;
  const vocab: Record<string, number> = {};
  const merges: string[] = [];
  let id = 0;
  for (const special of ['<unk>', '<s>', '</s>']) vocab[special] = id++;
  for (let b = 0; b < 256 && id < vocabSize; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = id++;
  for (let i = 0; id < vocabSize; i++) {
    const w = words[i % words.length];
    const token = (i < words.length ? '▁' : '') + w + (i >= words.length ? String(Math.floor(i / words.length)) : '');
    if (token in vocab) continue;
    vocab[token] = id++;
    merges.push(`${token.slice(0, Math.ceil(token.length / 2))} ${token.slice(Math.ceil(token.length / 2))}`);
  }
  return JSON.stringify({
    version: '1.0',
    added_tokens: [0, 1, 2].map((i) => ({ id: i, content: ['<unk>', '<s>', '</s>'][i], special: true })),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', byte_fallback: true, vocab, merges },
  }) + '\n';
}
