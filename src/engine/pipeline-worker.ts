/**
 * A pipeline worker: the CPU-heavy part of backup and restore, on its own core.
 * Backup batches arrive as transferred buffers with their chunk spans; the worker hashes them,
 * keeps the buffer until the main thread says which chunks are new, then encodes and seals
 * those into one transferred buffer. Restore ranges arrive sealed and leave as plaintext.
 */
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { isZero } from '../repo/chunker/fastcdc.js';
import { makeCodecSet } from '../repo/codec/all.js';
import { encodeBlob, openBlob } from '../repo/blob.js';
import { SEAL_OVERHEAD, sealInto } from '../repo/crypto.js';
import type { ChunkSpan, WorkerInit, WorkerReply, WorkerRequest } from './pipeline-protocol.js';

const init = workerData as WorkerInit;
const key = Buffer.from(init.key);
const codecs = makeCodecSet(init.zstdLevel);
const batches = new Map<number, { data: Buffer; chunks: ChunkSpan[] }>();
const port = parentPort!;

type Reply = WorkerReply extends infer R ? (R extends unknown ? Omit<R, 'requestId'> : never) : never;

port.on('message', (msg: WorkerRequest & { requestId: number }) => {
  try {
    const { reply, transfer } = handle(msg);
    port.postMessage({ ...reply, requestId: msg.requestId }, transfer);
  } catch (err) {
    const e = err as Error & { code?: string };
    port.postMessage({ op: 'error', name: e.name, code: e.code, message: e.message, requestId: msg.requestId });
  }
});

function handle(msg: WorkerRequest): { reply: Reply; transfer: ArrayBuffer[] } {
  switch (msg.op) {
    case 'hash': {
      const data = Buffer.from(msg.buffer);
      batches.set(msg.batch, { data, chunks: msg.chunks });
      const ids = new Uint8Array(msg.chunks.length * 32);
      const zero = new Uint8Array(msg.chunks.length);
      msg.chunks.forEach((c, i) => {
        if (isZero(data, c.start, c.start + c.length)) zero[i] = 1;
        else ids.set(createHash('sha256').update(data.subarray(c.start, c.start + c.length)).digest(), i * 32);
      });
      return { reply: { op: 'hashed', ids: ids.buffer, zero }, transfer: [ids.buffer] };
    }
    case 'seal': {
      const batch = batches.get(msg.batch)!;
      batches.delete(msg.batch);
      const encoded = msg.select.map((i, k) => {
        const c = batch.chunks[i];
        const base = msg.bases[k];
        return encodeBlob(codecs, batch.data.subarray(c.start, c.start + c.length), { dtype: c.dtype, base: base ? new Uint8Array(base) : undefined });
      });
      // Seal every blob straight into one transferable buffer: no per-blob copies to concatenate.
      const out = Buffer.from(new ArrayBuffer(encoded.reduce((n, e) => n + e.bytes.length + SEAL_OVERHEAD, 0)));
      let at = 0;
      const lengths = encoded.map((e) => {
        const n = sealInto(key, 'blob', e.bytes, out, at);
        at += n;
        return n;
      });
      const input = batch.data.buffer as ArrayBuffer;
      return {
        reply: { op: 'sealed', buffer: out.buffer as ArrayBuffer, lengths, codecs: encoded.map((e) => e.codec), input },
        transfer: [out.buffer as ArrayBuffer, input],
      };
    }
    case 'drop': {
      const input = batches.get(msg.batch)!.data.buffer as ArrayBuffer;
      batches.delete(msg.batch);
      return { reply: { op: 'dropped', input }, transfer: [input] };
    }
    case 'open': {
      const data = Buffer.from(msg.buffer);
      const plain = msg.blobs.map((b) =>
        openBlob(key, codecs, data.subarray(b.start, b.start + b.length), b.codec, b.rawLength, b.id, msg.verify, b.base && new Uint8Array(b.base)),
      );
      const out = concat(plain);
      return { reply: { op: 'opened', buffer: out, lengths: plain.map((p) => p.length) }, transfer: [out] };
    }
  }
}

/** One fresh ArrayBuffer holding all parts, so it can be transferred without copying again. */
function concat(parts: Uint8Array[]): ArrayBuffer {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(new ArrayBuffer(total));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out.buffer;
}
