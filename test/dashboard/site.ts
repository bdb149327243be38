/**
 * A small DR site for the dashboard's tests, made only through the CLI: a primary and a replica
 * repository, a lifeboat.yaml with assets in all three tiers, backups of them, and `lifeboat serve`
 * on it. One asset breaks its RPO for real: its host (annot-01, not the serve's gpu-01) backed it
 * up once and its RPO (5s) is shorter than the time since; another (gpu-02's registry) has never
 * been backed up. Drills are recorded by `lifeboat drill` when a test asks (recordDrills), never on
 * serve's schedule: two that meet llama-ft's RTO and one of eval-suite whose smoke step fails.
 */
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { runCli, spawnCli } from '../helpers/cli.js';

export const VIOLATED = 'label-studio';
export const NEVER = 'mlflow-registry';
/** Backed up by the serve under test (host gpu-01). */
export const OWNED = 'llama-ft';
export const VIOLATED_RPO_MS = 5000;
export const TRAIN_REPO = 'https://git.example.internal/ml/train.git';
export const TRAIN_COMMIT = '4f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39';
/** Its drill fails at the smoke step. */
export const FAILED_DRILL = 'eval-suite';

const CONFIG = `# The dashboard tests' site.
repositories:
  primary: { url: ./repo, role: primary }
  dr-site: { url: ./dr-site, role: replica }
serve:
  status_every: 2s
  poll: 2s
tiers:
  1: { drill_every: 0s }
  2: { drill_every: 0s }
runbooks:
  eval-harness:
    description: the eval suite restored where the harness reads it, and its leaderboard served
    steps:
      - restore: { target: ./data/eval-suite }
      - verify: { format: true }
      - smoke:
          run: |
            test -s "$LIFEBOAT_RESTORE_DIR/leaderboard.json" || { echo 'no leaderboard.json: the harness has nothing to serve' >&2; exit 3; }
    drill:
      restore: { target: scratch }
assets:
  llama-ft: { kind: model, tier: 1, owner: ml-platform, host: gpu-01, source: { path: ./data/llama-ft } }
  label-studio: { kind: annotations, tier: 1, owner: labelling, host: annot-01, rpo: 5s, source: { path: ./data/label-studio } }
  mlflow-registry: { kind: registry, tier: 1, owner: ml-platform, host: gpu-02, source: { path: ./data/mlflow } }
  eval-suite: { kind: dataset, tier: 2, owner: research, host: gpu-01, source: { path: ./data/eval-suite }, runbook: eval-harness }
  vllm-serving: { kind: config, tier: 2, owner: inference, host: gpu-01, source: { path: ./data/vllm-serving } }
  k8s-manifests: { kind: code, tier: 3, owner: platform, git_remote: https://git.example.internal/platform/manifests.git }
`;

/** A real safetensors file (one bf16 tensor of random values): a drill's verify parses its header. */
export function safetensors(dataBytes: number): Buffer {
  let json = JSON.stringify({ 'model.weight': { dtype: 'BF16', shape: [dataBytes / 2], data_offsets: [0, dataBytes] } });
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, Buffer.from(json), randomBytes(dataBytes)]);
}

async function write(file: string, content: string | Buffer): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, content);
}

async function cli(args: string[], cwd: string, expectCode = 0): Promise<string> {
  const r = await runCli(args, { cwd, env: { LIFEBOAT_CONFIG: undefined } });
  if (r.code !== expectCode) throw new Error(`lifeboat ${args.join(' ')} exited ${r.code}, not ${expectCode}: ${r.stderr}`);
  return r.stdout;
}

/** Drills llama-ft twice (both meet its RTO) and eval-suite once (its smoke step fails: exit 1). */
export async function recordDrills(config: string): Promise<void> {
  const c = ['-c', config];
  const dir = path.dirname(config);
  await cli(['drill', ...c, '--asset', OWNED], dir);
  await cli(['drill', ...c, '--asset', OWNED], dir);
  await cli(['drill', ...c, '--asset', FAILED_DRILL], dir, 1);
}

/** Writes the site into `dir` and backs it up; returns the path of its lifeboat.yaml. */
export async function makeSite(dir: string): Promise<string> {
  const config = path.join(dir, 'lifeboat.yaml');
  await write(config, CONFIG);
  const data = (p: string) => path.join(dir, 'data', p);
  await write(data('label-studio/export.json'), JSON.stringify({ tasks: Array.from({ length: 200 }, (_, i) => ({ id: i, label: i % 3 ? 'cat' : 'dog' })) }));
  await write(data('mlflow/mlflow.db'), randomBytes(4096));
  await write(data('llama-ft/config.json'), JSON.stringify({ model_type: 'llama', hidden_size: 64 }));
  await write(data('llama-ft/model.safetensors'), safetensors(512 * 1024));
  await write(data('eval-suite/mmlu.jsonl'), 'question,answer\n'.repeat(4000));
  await write(data('eval-suite/gsm8k.jsonl'), '{"q": "2+2", "a": 4}\n'.repeat(3000));
  await write(data('vllm-serving/vllm.yaml'), 'model: /srv/models/llama-ft\nmax_model_len: 8192\ngpu_memory_utilization: 0.9\n');
  const c = ['-c', config];
  await cli(['init', ...c, '-r', 'primary'], dir);
  await cli(['init', ...c, '-r', 'dr-site'], dir);
  // The violated asset first, so that its 5s RPO runs out while the others are backed up.
  await cli(['backup', ...c, '--asset', VIOLATED, '--host', 'annot-01'], dir);
  const violatedBy = Date.now() + VIOLATED_RPO_MS + 1000; // its snapshot is older than this minus the RPO
  // Lineage: the eval suite was made from the annotations, the fine-tune from the eval suite and a training commit.
  await cli(['backup', ...c, '--asset', 'eval-suite', '--host', 'gpu-01', '--lineage', `annotations=${VIOLATED}@v1`], dir);
  await cli(['backup', ...c, '--asset', OWNED, '--host', 'gpu-01'], dir);
  await write(data('llama-ft/adapter.safetensors'), safetensors(128 * 1024));
  const lineage = ['--lineage', 'dataset=eval-suite@v1', '--lineage', `code=git:${TRAIN_REPO}@${TRAIN_COMMIT}`, '--param', 'lr=2e-5', '--metric', 'eval_loss=1.42'];
  await cli(['backup', ...c, '--asset', OWNED, '--host', 'gpu-01', ...lineage], dir);
  await cli(['backup', ...c, '--asset', 'vllm-serving', '--host', 'gpu-01'], dir);
  // On a fast machine the other backups take less than its RPO: wait until it has run out for real.
  await new Promise((r) => setTimeout(r, Math.max(0, violatedBy - Date.now())));
  return config;
}

export interface Serve {
  url: string;
  child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

/** `lifeboat serve` as gpu-01 on `listen` (port 0: any free one), with `token` when given; resolves once its first status is computed. */
export async function startServe(config: string, listen: string, token?: string): Promise<Serve> {
  const child = spawnCli(['serve', '-c', config, '--listen', listen, '--host', 'gpu-01'], {
    cwd: path.dirname(config),
    env: { LIFEBOAT_CONFIG: undefined, LIFEBOAT_SERVE_TOKEN: token },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdout!.resume();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start within 60 s: ${stderr}`)), 60_000);
    const look = () => {
      const m = /listening on (http:\/\/\S+?)[,;( ]/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stderr!.on('data', look);
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
  // The first status takes a moment (503 until then): a test starts from a computed one.
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  for (let i = 0; (await fetch(`${url}/api/v1/status`, { headers })).status !== 200; i++) {
    if (i === 120) throw new Error(`serve computed no status within 60 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    url,
    child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
