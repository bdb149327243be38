/**
 * What one file is, from its name first and then from a few bytes at its start (and, for
 * Parquet and Arrow, at its end): never the whole file. A name that promises a format whose magic
 * bytes are not there is a decoy and is not an asset.
 */

/** The formats discovery recognises in a single file. */
export type FileFormat =
  | 'safetensors'
  | 'gguf'
  | 'pytorch-zip'
  | 'pytorch-pickle'
  | 'onnx'
  | 'jsonl'
  | 'parquet'
  | 'arrow'
  | 'csv'
  | 'image'
  | 'sqlite'
  | 'vllm-args'
  | 'tgi-args'
  | 'llama.cpp-args'
  | 'prompt-template';

export const WEIGHT_FORMATS: ReadonlySet<FileFormat> = new Set(['safetensors', 'gguf', 'pytorch-zip', 'pytorch-pickle', 'onnx']);
export const DATASET_FORMATS: ReadonlySet<FileFormat> = new Set(['jsonl', 'parquet', 'arrow', 'csv', 'image']);
export const CONFIG_FORMATS: ReadonlySet<FileFormat> = new Set(['vllm-args', 'tgi-args', 'llama.cpp-args', 'prompt-template']);

/** Bytes read from the start of a file that needs sniffing, and from its end when `needsTail`. */
export const HEAD_BYTES = 4096;
export const TAIL_BYTES = 8;

/** What the name alone says a file may be; undefined: nothing we sniff (counted by size only). */
export type Expectation = 'safetensors' | 'gguf' | 'pytorch' | 'onnx' | 'jsonl' | 'parquet' | 'arrow' | 'csv' | 'image' | 'sqlite' | 'text-config' | 'template';

const BY_EXTENSION: Record<string, Expectation> = {
  safetensors: 'safetensors',
  gguf: 'gguf',
  pt: 'pytorch',
  pth: 'pytorch',
  bin: 'pytorch',
  ckpt: 'pytorch',
  onnx: 'onnx',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  parquet: 'parquet',
  arrow: 'arrow',
  feather: 'arrow',
  csv: 'csv',
  tsv: 'csv',
  jpg: 'image',
  jpeg: 'image',
  png: 'image',
  webp: 'image',
  gif: 'image',
  db: 'sqlite',
  sqlite: 'sqlite',
  sqlite3: 'sqlite',
  args: 'text-config',
  yaml: 'text-config',
  yml: 'text-config',
  toml: 'text-config',
  env: 'text-config',
  conf: 'text-config',
  sh: 'text-config',
  jinja: 'template',
  jinja2: 'template',
  j2: 'template',
  prompt: 'template',
};

/** Text configurations are only sniffed when small: a serving argument file is a few KiB. */
const MAX_CONFIG_BYTES = 256 * 1024;

export function expectationOf(name: string, size: number): Expectation | undefined {
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
  const expected = BY_EXTENSION[ext];
  if ((expected === 'text-config' || expected === 'template') && size > MAX_CONFIG_BYTES) return undefined;
  if (expected === undefined && /^chat_template\./.test(name) && size <= MAX_CONFIG_BYTES) return 'template';
  return expected;
}

export function needsTail(expected: Expectation | undefined): boolean {
  return expected === 'parquet' || expected === 'arrow';
}

export type Sniffed = { format: FileFormat } | { decoy: string } | undefined;

/**
 * The format of a file named `name` of `size` bytes whose first bytes are `head` (and last bytes
 * `tail`, when `needsTail`). `{ decoy }` says why a file whose name promises a format is not one.
 */
export function sniff(name: string, size: number, head: Uint8Array, tail?: Uint8Array): Sniffed {
  const expected = expectationOf(name, size);
  if (expected === undefined) return undefined;
  const format = SNIFFERS[expected](head, size, tail);
  if (format) return { format };
  // A YAML or shell file that is no serving configuration is simply another file, not a decoy.
  if (expected === 'text-config') return undefined;
  return { decoy: `named like ${expected} but its first bytes are not` };
}

type Sniffer = (head: Uint8Array, size: number, tail?: Uint8Array) => FileFormat | undefined;

const SNIFFERS: Record<Expectation, Sniffer> = {
  safetensors: (h, size) => (isSafetensors(h, size) ? 'safetensors' : undefined),
  gguf: (h) => (ascii(h, 0, 4) === 'GGUF' && h.length >= 8 && u32(h, 4) >= 1 && u32(h, 4) <= 3 ? 'gguf' : undefined),
  pytorch: (h) => (isZip(h) ? 'pytorch-zip' : isPickle(h) ? 'pytorch-pickle' : undefined),
  onnx: (h) => (isOnnx(h) ? 'onnx' : undefined),
  jsonl: (h) => (isJsonLines(h) ? 'jsonl' : undefined),
  parquet: (h, size, t) => (size >= 12 && ascii(h, 0, 4) === 'PAR1' && t !== undefined && ascii(t, t.length - 4, 4) === 'PAR1' ? 'parquet' : undefined),
  arrow: (h, size, t) => (isArrow(h, size, t) ? 'arrow' : undefined),
  csv: (h) => (isDelimitedText(h) ? 'csv' : undefined),
  image: (h) => (isImage(h) ? 'image' : undefined),
  sqlite: (h) => (ascii(h, 0, 16) === 'SQLite format 3\0' ? 'sqlite' : undefined),
  'text-config': (h) => servingArgsOf(text(h)),
  template: (h) => (isText(h) && /\{\{|\{%/.test(text(h)) ? 'prompt-template' : undefined),
};

function ascii(b: Uint8Array, offset: number, length: number): string {
  if (offset < 0 || b.length < offset + length) return '';
  return String.fromCharCode(...b.subarray(offset, offset + length));
}

function u32(b: Uint8Array, offset: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(offset, true);
}

function text(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
}

/** 8 bytes of little-endian header length that fits the file, then a JSON object. */
function isSafetensors(h: Uint8Array, size: number): boolean {
  if (h.length < 9) return false;
  const length = new DataView(h.buffer, h.byteOffset, h.byteLength).getBigUint64(0, true);
  return length >= 2n && length <= BigInt(size - 8) && h[8] === 0x7b; // '{'
}

function isZip(h: Uint8Array): boolean {
  return h.length >= 4 && h[0] === 0x50 && h[1] === 0x4b && h[2] === 0x03 && h[3] === 0x04;
}

/** Pickle protocol 2 to 5 (torch.save before 1.6, and pickled state dicts). */
function isPickle(h: Uint8Array): boolean {
  return h.length >= 2 && h[0] === 0x80 && h[1] >= 2 && h[1] <= 5;
}

/** An ONNX ModelProto starts with field 1 (ir_version, a small varint), then another field's tag. */
function isOnnx(h: Uint8Array): boolean {
  if (h.length < 3 || h[0] !== 0x08) return false;
  const version = h[1];
  return version >= 1 && version <= 30 && [0x12, 0x1a, 0x22, 0x2a, 0x3a, 0x40, 0x42].includes(h[2]);
}

function isText(h: Uint8Array): boolean {
  return !h.includes(0);
}

function isJsonLines(h: Uint8Array): boolean {
  if (!isText(h)) return false;
  const s = text(h).replace(/^\uFEFF/, '');
  const newline = s.indexOf('\n');
  const first = (newline >= 0 ? s.slice(0, newline) : s).trim();
  if (!first.startsWith('{') && !first.startsWith('[')) return false;
  // A first line cut by the head's end cannot be parsed; its opening brace has to do.
  if (newline < 0 && h.length >= HEAD_BYTES) return true;
  try {
    JSON.parse(first);
    return true;
  } catch {
    return false;
  }
}

/** Arrow IPC file ("ARROW1" at both ends) or stream (Hugging Face datasets' cache: a continuation marker). */
function isArrow(h: Uint8Array, size: number, t?: Uint8Array): boolean {
  if (ascii(h, 0, 6) === 'ARROW1') return t !== undefined && ascii(t, t.length - 6, 6) === 'ARROW1';
  return size >= 8 && h.length >= 8 && u32(h, 0) === 0xffffffff && u32(h, 4) > 0 && u32(h, 4) < size;
}

function isDelimitedText(h: Uint8Array): boolean {
  if (!isText(h) || h.length === 0) return false;
  const firstLine = text(h).split('\n')[0];
  return /[,\t;|]/.test(firstLine);
}

function isImage(h: Uint8Array): boolean {
  if (h.length >= 3 && h[0] === 0xff && h[1] === 0xd8 && h[2] === 0xff) return true; // JPEG
  if (ascii(h, 1, 3) === 'PNG' && h[0] === 0x89) return true;
  if (ascii(h, 0, 4) === 'RIFF' && ascii(h, 8, 4) === 'WEBP') return true;
  return ascii(h, 0, 4) === 'GIF8';
}

/** Flags (as `--flag`, YAML `flag:` or `FLAG=` in an env file) that only one inference server takes. */
const SERVING_FLAGS: Array<[FileFormat, RegExp]> = [
  ['vllm-args', /(^|[\s"'-])(tensor[-_]parallel[-_]size|gpu[-_]memory[-_]utilization|max[-_]model[-_]len|served[-_]model[-_]name)\b/im],
  ['tgi-args', /(^|[\s"'-])(model[-_]id|max[-_]input[-_](length|tokens)|max[-_]total[-_]tokens|num[-_]shard|max[-_]batch[-_]prefill[-_]tokens)\b/im],
  ['llama.cpp-args', /(^|[\s"'])(--n[-_]gpu[-_]layers|-ngl|--ctx[-_]size|n_gpu_layers|--mmproj|--n-predict)\b/im],
];

export function servingArgsOf(s: string): FileFormat | undefined {
  for (const [format, pattern] of SERVING_FLAGS) if (pattern.test(s)) return format;
  return undefined;
}
