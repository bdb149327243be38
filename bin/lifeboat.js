#!/usr/bin/env node
// The package's bin: the compiled CLI lives in dist/ (built by `npm ci` through "prepare").
import v8 from 'node:v8';

// V8 counts every ArrayBuffer allocated since the last full GC against the old generation's
// limit, and sets that limit only about twice the live heap (~11 MB with the S3 client). An S3
// restore receives its data as 64 KiB socket buffers, so it ran a full GC every 16 MB read: 70
// of them for 670 MB, a third of the main thread. A limit of five times the live heap lets the
// short-lived buffers die in young-generation collections (2 full GCs); the heap stays small.
v8.setFlagsFromString('--heap-growing-percent=400');

const { main } = await import('../dist/src/cli/main.js');
process.exitCode = await main(process.argv);
