/**
 * The verify step of a files source: what is on disk now, read back, against the snapshot —
 * every file's size and SHA-256, every symlink's target, and (format: true) the header of every
 * safetensors and GGUF file parsed with its tensor offsets checked against the file's size, so a
 * truncated or mangled checkpoint is caught before a server loads it. Files the restore could not
 * write are named with the reason.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { messageOf } from '../base/error-codes.js';
import { ls, type Entry } from '../engine/inspect.js';
import { hasGgufMagic, readGgufLayout } from '../repo/chunker/gguf.js';
import { looksLikeSafetensors, readSafetensorsLayout } from '../repo/chunker/safetensors.js';
import type { RecoveryContext, VerifyOptions } from './runbook-recovery.js';
import { StepFailedError } from './runbook-errors.js';
import { formatSize } from './preflight-space.js';

/** Problems listed in the step's error; the count says how many more. */
const LISTED = 20;
const HASHING = 2;

export async function verifyFiles(ctx: RecoveryContext, options: VerifyOptions): Promise<string> {
  const { entries } = await ls(ctx.repo, ctx.snapshot.id, ctx.subpath ?? '');
  const damaged = new Map((options.restored?.damaged ?? []).map((d) => [path.resolve(d.path), d.error]));
  const problems: string[] = [];
  const formats = { safetensors: 0, gguf: 0 };
  let bytes = 0;
  let files = 0;
  const queue = entries.filter((e) => e.type === 'file' || e.type === 'symlink');
  const worker = async () => {
    for (let e = queue.shift(); e; e = queue.shift()) {
      ctx.signal.throwIfAborted();
      const file = path.join(ctx.target, e.path);
      const why = damaged.get(path.resolve(file));
      const problem = why !== undefined ? `not restored: ${why}` : await checkEntry(e, file, options, formats, ctx.signal);
      if (problem) problems.push(`${e.path}: ${problem}`);
      if (e.type === 'file') {
        files++;
        bytes += e.size;
      }
    }
  };
  await Promise.all(Array.from({ length: HASHING }, worker));
  ctx.signal.throwIfAborted();
  if (problems.length > 0) {
    problems.sort();
    const more = problems.length > LISTED ? `\n  … and ${problems.length - LISTED} more` : '';
    throw new StepFailedError(`${problems.length} of ${files} file(s) in ${ctx.target} do not match snapshot ${ctx.snapshot.id.slice(0, 12)}:\n  ${problems.slice(0, LISTED).join('\n  ')}${more}`);
  }
  const checked = [options.sha256 ? 'size and SHA-256 of every file match the snapshot' : 'every file has its size', options.format ? `${formats.safetensors} safetensors and ${formats.gguf} GGUF header(s) parse` : ''].filter(Boolean);
  return `${files} file(s), ${formatSize(bytes)} in ${ctx.target}: ${checked.join('; ')}`;
}

/** What is wrong with one restored entry, or undefined. */
async function checkEntry(e: Entry, file: string, options: VerifyOptions, formats: { safetensors: number; gguf: number }, signal: AbortSignal): Promise<string | undefined> {
  const stat = await fs.lstat(file).catch(() => undefined);
  if (!stat) return 'missing';
  if (e.type === 'symlink') {
    const target = await fs.readlink(file).catch(() => undefined);
    return target === e.target ? undefined : `symlink to ${target ?? '(not a symlink)'}, the snapshot says ${e.target}`;
  }
  if (!stat.isFile()) return 'not a regular file';
  if (stat.size !== e.size) return `${stat.size} bytes, the snapshot recorded ${e.size}`;
  if (options.sha256) {
    const digest = await sha256Of(file, signal);
    if (digest !== e.sha256) return `SHA-256 is ${digest}, the snapshot recorded ${e.sha256}`;
  }
  return options.format ? checkTensorHeader(file, stat.size, formats) : undefined;
}

async function sha256Of(file: string, signal: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024, signal })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A safetensors or GGUF file (by its first bytes) whose header does not parse; other files pass. */
async function checkTensorHeader(file: string, size: number, formats: { safetensors: number; gguf: number }): Promise<string | undefined> {
  const fh = await fs.open(file, 'r');
  try {
    const reader = {
      size,
      read: async (offset: number, length: number) => {
        const buf = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        return buf.subarray(0, bytesRead);
      },
    };
    const head = await reader.read(0, 16);
    const named = file.endsWith('.safetensors') ? 'safetensors' : file.endsWith('.gguf') ? 'gguf' : undefined;
    const kind = looksLikeSafetensors(head, size) ? 'safetensors' : hasGgufMagic(head) ? 'gguf' : named;
    if (!kind) return undefined;
    try {
      await (kind === 'safetensors' ? readSafetensorsLayout(reader) : readGgufLayout(reader));
    } catch (err) {
      return `its ${kind} header does not parse: ${messageOf(err)}`;
    }
    formats[kind]++;
    return undefined;
  } finally {
    await fh.close();
  }
}
