/**
 * The tree of AI assets discovery must find exactly, generated: Hugging Face model folders (single
 * and sharded safetensors), a GGUF file, a PEFT adapter, a PyTorch zip checkpoint, JSONL splits and
 * Parquet shards (real Parquet, hyparquet-writer), Label-Studio-like and MLflow-like SQLite
 * databases (better-sqlite3), a serving configuration with a prompt template, a git repository
 * with a reachable remote, a model in a Hugging Face hub cache, decoys with the right extension and the wrong magic, and a symlink loop.
 * `EXPECTED` lists what discovery must report for it, path by path.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { buildGguf, buildSafetensors, realisticWeights, rng } from '../repo/tensor-fixtures.js';

export interface Expected {
  kind: string;
  format: string;
  proposed_tier: number;
  files?: number;
}

/** Relative path → what discovery reports for it. */
export const EXPECTED: Record<string, Expected> = {
  'models/llama-ft': { kind: 'model', format: 'safetensors', proposed_tier: 1, files: 4 },
  'models/llama-70b': { kind: 'model', format: 'safetensors-sharded', proposed_tier: 1, files: 4 },
  'models/qwen-q4.gguf': { kind: 'model', format: 'gguf', proposed_tier: 1, files: 1 },
  'adapters/support-lora': { kind: 'adapter', format: 'peft', proposed_tier: 1, files: 2 },
  'checkpoints/run-7.pt': { kind: 'model', format: 'pytorch-zip', proposed_tier: 1, files: 1 },
  'datasets/support-chats': { kind: 'dataset', format: 'jsonl', proposed_tier: 1, files: 4 },
  'datasets/web-crawl': { kind: 'dataset', format: 'parquet', proposed_tier: 1, files: 2 },
  'annotations/label-studio.sqlite3': { kind: 'annotations', format: 'label-studio-sqlite', proposed_tier: 1, files: 1 },
  'mlflow/mlflow.db': { kind: 'registry', format: 'mlflow-sqlite', proposed_tier: 1, files: 1 },
  serving: { kind: 'config', format: 'vllm-args', proposed_tier: 2, files: 2 },
  'deploy-repo': { kind: 'code', format: 'git', proposed_tier: 3 },
  'hf-home/hub/models--Qwen--Qwen2.5-0.5B': { kind: 'model', format: 'hf-cache', proposed_tier: 2, files: 3 },
};

/** Files whose names promise a format their bytes do not have. */
export const DECOYS = ['models/decoy.safetensors', 'checkpoints/broken.pt', 'datasets/fake.parquet', 'models/notes.gguf'];

const next = rng(19);

function tensors(prefix: string, count: number) {
  return Array.from({ length: count }, (_, i) => ({ name: `${prefix}.${i}.weight`, dtype: 'BF16', shape: [8, 16], data: realisticWeights(next, 'bf16', 128) }));
}

async function write(root: string, rel: string, data: string | Uint8Array): Promise<void> {
  const file = path.join(root, rel);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, data);
}

function sqlite(file: string, tables: string[]): void {
  const db = new Database(file);
  for (const t of tables) db.exec(`CREATE TABLE "${t}" (id INTEGER PRIMARY KEY, data TEXT)`);
  db.prepare(`INSERT INTO "${tables[0]}" (data) VALUES (?)`).run('x');
  db.close();
}

/** Writes the tree under `root`, and a bare repository (the git remote) at `remoteDir`, outside it. */
export async function writeFixtureTree(root: string, remoteDir: string): Promise<void> {
  const config = JSON.stringify({ architectures: ['LlamaForCausalLM'], hidden_size: 16, num_hidden_layers: 2 });
  await write(root, 'models/llama-ft/config.json', config);
  await write(root, 'models/llama-ft/model.safetensors', buildSafetensors(tensors('model.layers', 4)));
  await write(root, 'models/llama-ft/tokenizer.json', '{"version":"1.0"}');
  await write(root, 'models/llama-ft/generation_config.json', '{"do_sample":true}');
  await write(root, 'models/llama-70b/config.json', config);
  await write(root, 'models/llama-70b/model-00001-of-00002.safetensors', buildSafetensors(tensors('a', 2)));
  await write(root, 'models/llama-70b/model-00002-of-00002.safetensors', buildSafetensors(tensors('b', 2)));
  await write(root, 'models/llama-70b/model.safetensors.index.json', JSON.stringify({ metadata: {}, weight_map: { 'a.0.weight': 'model-00001-of-00002.safetensors' } }));
  await write(root, 'models/qwen-q4.gguf', buildGguf([{ name: 'tok_embd.weight', ggmlType: 1, dims: [16, 8], data: realisticWeights(next, 'fp16', 128) }]));
  await write(root, 'models/decoy.safetensors', Buffer.from('this is not a model, only a file with a promising name\n'));
  await write(root, 'models/notes.gguf', Buffer.from('GGUG not quite'));
  await write(root, 'adapters/support-lora/adapter_config.json', JSON.stringify({ peft_type: 'LORA', r: 8, lora_alpha: 16, target_modules: ['q_proj', 'v_proj'] }));
  await write(root, 'adapters/support-lora/adapter_model.safetensors', buildSafetensors(tensors('base_model.model.lora_A', 2)));
  // A PyTorch ≥ 1.6 checkpoint is a zip archive: the local file header's signature is what sniffing reads.
  await write(root, 'checkpoints/run-7.pt', Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0]), Buffer.alloc(600, 7)]));
  await write(root, 'checkpoints/broken.pt', 'torch.save was interrupted here\n');
  await write(root, 'checkpoints/notes.txt', 'run 7: lr 2e-5\n');
  const chats = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `question ${i}` }, { role: 'assistant', content: `answer ${i}` }] })).join('\n') + '\n';
  await write(root, 'datasets/support-chats/train/part-0000.jsonl', chats(20));
  await write(root, 'datasets/support-chats/train/part-0001.jsonl', chats(20));
  await write(root, 'datasets/support-chats/validation/part-0000.jsonl', chats(5));
  await write(root, 'datasets/support-chats/README.md', '# support chats\n');
  for (const shard of ['00000', '00001']) {
    const parquet = parquetWriteBuffer({ columnData: [{ name: 'text', data: Array.from({ length: 30 }, (_, i) => `page ${shard} ${i}`), type: 'STRING' }] });
    await write(root, `datasets/web-crawl/data-${shard}.parquet`, new Uint8Array(parquet));
  }
  await write(root, 'datasets/fake.parquet', Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(64, 1)]));
  await fs.mkdir(path.join(root, 'annotations'), { recursive: true });
  sqlite(path.join(root, 'annotations/label-studio.sqlite3'), ['project', 'task', 'task_completion', 'prediction', 'htx_user', 'organization']);
  await fs.mkdir(path.join(root, 'mlflow'), { recursive: true });
  sqlite(path.join(root, 'mlflow/mlflow.db'), ['experiments', 'runs', 'metrics', 'params', 'tags', 'registered_models', 'model_versions', 'alembic_version']);
  sqlite(path.join(root, 'mlflow/scratch.db'), ['todo']);
  await write(root, 'serving/vllm.yaml', 'model: /srv/models/llama-ft\ntensor-parallel-size: 2\ngpu-memory-utilization: 0.9\nmax-model-len: 8192\n');
  await write(root, 'serving/chat.jinja', '{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}\n');
  await gitRepo(path.join(root, 'deploy-repo'), remoteDir);
  await hfCache(path.join(root, 'hf-home/hub/models--Qwen--Qwen2.5-0.5B'));
  await fs.mkdir(path.join(root, 'loop'), { recursive: true });
  await fs.symlink('..', path.join(root, 'loop/up'));
}

/** A model downloaded by huggingface_hub: content-addressed blobs, and a snapshot of links to them. */
async function hfCache(dir: string): Promise<void> {
  const blobs: Array<[string, string | Uint8Array]> = [
    ['config.json', '{"architectures":["Qwen2ForCausalLM"]}'],
    ['model.safetensors', buildSafetensors(tensors('model.embed', 2))],
  ];
  for (const [name, data] of blobs) {
    const hash = createHash('sha256').update(data).digest('hex');
    await write(dir, `blobs/${hash}`, data);
    await fs.mkdir(path.join(dir, 'snapshots/0123abcd'), { recursive: true });
    await fs.symlink(`../../blobs/${hash}`, path.join(dir, 'snapshots/0123abcd', name));
  }
  await write(dir, 'refs/main', '0123abcd');
}

async function gitRepo(dir: string, remote: string): Promise<void> {
  await write(dir, 'kustomization.yaml', 'resources: [deployment.yaml]\n');
  await write(dir, 'deployment.yaml', 'apiVersion: apps/v1\nkind: Deployment\n');
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, stdio: 'pipe', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' } });
  await fs.mkdir(remote, { recursive: true });
  git(remote, 'init', '-q', '--bare');
  git(dir, 'init', '-q');
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'manifests');
  git(dir, 'remote', 'add', 'origin', remote);
}
