/** The file splitters backup asks, in order; a file none of them plans is cut by FastCDC. */
import type { FileSplitter } from '../repo/chunker/chunker.js';
import { makeTensorSplitter } from '../repo/chunker/tensor-splitter.js';

export function defaultSplitters(): FileSplitter[] {
  return [makeTensorSplitter()];
}
