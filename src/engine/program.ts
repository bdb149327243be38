/** The program name and version recorded in every snapshot. */
import { createRequire } from 'node:module';

const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };
export const PROGRAM = `lifeboat ${pkg.version}`;
