/**
 * Hints that an asset is misclassified, for `lifeboat assets`: model weights or adapters inside
 * an asset that is not protected as one (a `config` folder that holds a checkpoint, weights in
 * Tier 3), and weights in a folder next to a model asset's source that no asset covers (the
 * second fine-tune nobody added). Names only, bounded walks: `lifeboat discover` is the full audit.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Asset } from './plan.js';
import { sourcePaths } from '../sources/config.js';

/** File names that are model weights or adapters whatever folder they are in. */
const WEIGHTS = /\.(safetensors|gguf|pt|pth|ckpt|onnx)$|^adapter_config\.json$|^pytorch_model.*\.bin$/i;
/** Entries looked at per walk: enough for a model folder, never a whole filesystem. */
const WALK_LIMIT = 5000;

export interface Hint {
  asset: string | null;
  path: string;
  message: string;
}

export async function misclassificationHints(assets: readonly Asset[]): Promise<Hint[]> {
  const hints: Hint[] = [];
  const covered = assets.flatMap((a) => (a.source ? sourcePaths(a.source) : []));
  for (const asset of assets) {
    const protectedAsWeights = (asset.kind === 'model' || asset.kind === 'adapter') && asset.tier !== 3;
    if (protectedAsWeights || !asset.source) continue;
    for (const root of sourcePaths(asset.source)) {
      const found = await firstWeights(root);
      if (found) {
        hints.push({ asset: asset.name, path: found, message: `holds model weights (${path.basename(found)}) but is a ${asset.kind} in Tier ${asset.tier}: weights are costly to reproduce (kind: model, Tier 1?)` });
      }
    }
  }
  // Siblings of model sources: /srv/models/llama-ft is an asset, is /srv/models/mistral-ft?
  const parents = new Set(assets.filter((a) => a.kind === 'model' || a.kind === 'adapter').flatMap((a) => (a.source ? sourcePaths(a.source) : [])).map((p) => path.dirname(p)));
  for (const parent of parents) {
    for (const entry of await fs.readdir(parent, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(parent, entry.name);
      if (!entry.isDirectory() || covered.some((c) => c === p || p.startsWith(c + path.sep) || c.startsWith(p + path.sep))) continue;
      const found = await firstWeights(p);
      if (found) hints.push({ asset: null, path: p, message: `holds model weights (${path.basename(found)}) and is in no asset's source: add it to assets: (lifeboat discover ${parent} proposes an entry)` });
    }
  }
  return hints;
}

/** The first weights file under `root` (breadth first, at most WALK_LIMIT entries), if any. */
async function firstWeights(root: string): Promise<string | undefined> {
  const queue = [root];
  let seen = 0;
  while (queue.length > 0 && seen < WALK_LIMIT) {
    const dir = queue.shift()!;
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (++seen > WALK_LIMIT) break;
      const p = path.join(dir, e.name);
      if (e.isFile() && WEIGHTS.test(e.name)) return p;
      if (e.isDirectory() && !e.name.startsWith('.')) queue.push(p);
    }
  }
  return undefined;
}
