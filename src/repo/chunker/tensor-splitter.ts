/**
 * The tensor-aware FileSplitter for safetensors (single files and each shard of a sharded
 * model; the shards' model.safetensors.index.json is a small ordinary file) and GGUF.
 *
 * Which files it claims:
 * - GGUF: the "GGUF" magic; a file named *.gguf without it is reported.
 * - safetensors: a *.safetensors name, or (any name) a plausible header length followed by
 *   '{' whose header then parses; a file that only sniffed like one is left silently.
 * A claimed file whose header fails validation is not planned: `planTensorFile` says why
 * (`warning`), the splitter passes that to `onWarning` (or throws it as a TensorHeaderError),
 * and the engine falls back to FastCDC, which stores any bytes losslessly. I/O errors of the
 * reader propagate unchanged.
 */
import type { FileReader, FileSplitter, Segment } from './chunker.js';
import { hasGgufMagic, readGgufLayout } from './gguf.js';
import { looksLikeSafetensors, readSafetensorsLayout } from './safetensors.js';
import { TensorHeaderError, type TensorLayout } from './tensor-layout.js';
import { planTensorSegments } from './tensor-plan.js';

export type TensorPlanOutcome =
  | { segments: Segment[]; warning?: undefined }
  /** Not a tensor file (warning undefined), or a malformed one (warning says what is wrong). */
  | { segments: undefined; warning?: string };

export interface TensorSplitterOptions {
  /**
   * Called once per claimed file whose header is malformed, with a message for people; plan()
   * then returns undefined. Without it, plan() throws the TensorHeaderError instead, which an
   * engine that warns on a failing splitter and falls back to FastCDC turns into the same warning.
   */
  onWarning?: (fileName: string, warning: string) => void;
}

type Reader = (file: FileReader) => Promise<TensorLayout>;

/** Which parser applies, and whether a failure deserves a warning. */
function detect(head: Uint8Array, fileSize: number, fileName: string): { read: Reader; claimed: boolean } | { warning: string } | undefined {
  const lower = fileName.toLowerCase();
  if (hasGgufMagic(head)) return { read: readGgufLayout, claimed: true };
  if (lower.endsWith('.gguf')) return { warning: 'gguf: named .gguf but has no "GGUF" magic' };
  if (lower.endsWith('.safetensors')) return { read: readSafetensorsLayout, claimed: true };
  if (looksLikeSafetensors(head, fileSize)) return { read: readSafetensorsLayout, claimed: false };
  return undefined;
}

/** Plans one file, or says why not. Never throws for malformed content. */
export async function planTensorFile(file: FileReader, fileName: string): Promise<TensorPlanOutcome> {
  const head = file.size > 0 ? await file.read(0, Math.min(16, file.size)) : Buffer.alloc(0);
  const found = detect(head, file.size, fileName);
  if (found === undefined) return { segments: undefined };
  if ('warning' in found) return { segments: undefined, warning: found.warning };
  try {
    const layout = await found.read(file);
    return { segments: planTensorSegments(layout, file.size) };
  } catch (e) {
    if (!(e instanceof TensorHeaderError)) throw e;
    return { segments: undefined, warning: found.claimed ? e.message : undefined };
  }
}

export function makeTensorSplitter(options: TensorSplitterOptions = {}): FileSplitter {
  return {
    name: 'tensor',
    async plan(file, fileName) {
      const outcome = await planTensorFile(file, fileName);
      if (outcome.warning !== undefined) {
        if (!options.onWarning) throw new TensorHeaderError(outcome.warning);
        options.onWarning(fileName, `${outcome.warning}; backed up with content-defined chunking instead`);
      }
      return outcome.segments;
    },
  };
}
