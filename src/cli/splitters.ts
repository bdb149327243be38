/** The file splitters backup asks, in order; a file none of them plans is cut by FastCDC. */
import type { FileSplitter } from '../repo/chunker/chunker.js';

export function defaultSplitters(): FileSplitter[] {
  return [];
}
