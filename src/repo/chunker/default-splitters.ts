/** The file splitters backup asks, in order; a file none of them plans is cut by FastCDC. */
import type { FileSplitter } from './chunker.js';
import { makeTensorSplitter } from './tensor-splitter.js';

export function defaultSplitters(): FileSplitter[] {
  return [makeTensorSplitter()];
}
