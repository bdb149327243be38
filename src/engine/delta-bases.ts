/** The delta bases blobs depend on: what copy must send and prune must keep along with them. */
import type { BlobIndex } from '../repo/blob-index.js';

/**
 * `ids` with the base chains of their delta blobs, each base before the blobs that need it and
 * every id once. Bases the index does not know are still listed (the caller reports them missing).
 */
export function withDeltaBases(index: BlobIndex, ids: Iterable<string>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    const base = index.get(Buffer.from(id, 'hex'))?.delta?.base;
    if (base) visit(base.toString('hex'));
    out.push(id);
  };
  for (const id of ids) visit(id);
  return out;
}
