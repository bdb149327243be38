#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with Node's own test runner and, at the
// same time (that pass mostly waits for the RGW), the engine and CLI test files a second time with
// their repositories on S3 (the test Ceph RGW, in a bucket made for the run), so that one command
// specifies both backends. The S3 pass's report is printed after the first one.
// Usage: node scripts/run-tests.mjs [substring ...]   (only files whose path contains one of them)
// LIFEBOAT_TEST_BACKEND=local runs the first pass only, =s3 the second only.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const CONCURRENCY = 2;

/** The files whose repositories follow LIFEBOAT_TEST_BACKEND (test/helpers/test-backend.ts). */
const ON_BOTH_BACKENDS = ['dist/test/engine/', 'dist/test/cli/', 'dist/test/control/lease.test.js'];
/** Files there that the S3 pass leaves out, and why. */
const NOT_AGAIN_ON_S3 = {
  'copy-plan.test.js': 'plans copies in memory: no repository',
  'copy-resume.test.js': 'copies to a local and to an S3 destination itself',
  's3-commands.test.js': 'runs on S3 already',
  's3-faults.test.js': 'runs on S3 (through a fault proxy) already',
  'serve-hosts.test.js': 'its repository is on S3 already',
  'quickstart.test.js': 'makes local repositories of its own',
};

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return testFiles(p);
    return e.name.endsWith('.test.js') ? [p] : [];
  });
}

/** Runs `files` with Node's test runner; resolves to its exit status, and its output when `capture` (else it is printed as it comes). */
function runTests(files, env, capture = false) {
  const child = spawn(process.execPath, ['--test', `--test-concurrency=${CONCURRENCY}`, '--test-timeout=600000', ...files], {
    stdio: ['ignore', capture ? 'pipe' : 'inherit', capture ? 'pipe' : 'inherit'],
    env: { ...process.env, ...env },
  });
  const output = [];
  child.stdout?.on('data', (b) => output.push(b));
  child.stderr?.on('data', (b) => output.push(b));
  return new Promise((resolve) => child.on('close', (code) => resolve({ status: code ?? 1, output: Buffer.concat(output) })));
}

/** Runs `files` with LIFEBOAT_TEST_BACKEND=s3 in a bucket made for this run (or LIFEBOAT_TEST_S3_BUCKET), removed afterwards. */
async function runOnS3(files, capture) {
  const rgw = await import(pathToFileURL(path.resolve('dist/test/storage/rgw.js')).href);
  await rgw.requireRgw();
  const given = process.env.LIFEBOAT_TEST_S3_BUCKET;
  const bucket = given || (await rgw.createTestBucket('suite'));
  const title = `\n== ${files.length} engine and CLI test file(s) again, repositories on S3: s3://${bucket} at ${rgw.RGW.endpoint}\n`;
  if (!capture) console.error(title);
  try {
    const result = await runTests(files, { LIFEBOAT_TEST_BACKEND: 's3', LIFEBOAT_TEST_S3_BUCKET: bucket }, capture);
    return capture ? { ...result, output: Buffer.concat([Buffer.from(title), result.output]) } : result;
  } finally {
    if (!given) await rgw.removeTestBucket(bucket);
  }
}

const filters = process.argv.slice(2);
const files = testFiles('dist/test').filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ') || '(all)'} under dist/test: run "npm run build" first`);
  process.exit(1);
}
const backend = process.env.LIFEBOAT_TEST_BACKEND || 'both';
if (!['local', 's3', 'both'].includes(backend)) {
  console.error(`LIFEBOAT_TEST_BACKEND is "${backend}": use local or s3, or leave it unset for both`);
  process.exit(2);
}
const s3Files = files.filter((f) => ON_BOTH_BACKENDS.some((d) => f.startsWith(d)) && !(path.basename(f) in NOT_AGAIN_ON_S3));
const both = backend === 'both' && s3Files.length > 0;
const local = backend !== 's3' ? runTests(files, { LIFEBOAT_TEST_BACKEND: 'local' }) : undefined;
// Without the RGW the S3 pass fails (never skips), with requireRgw's message saying what to do.
const s3 = backend !== 'local' && s3Files.length > 0 ? runOnS3(s3Files, both).catch((err) => ({ status: 1, output: Buffer.from(`S3 pass: ${err.message}\n`) })) : undefined;
const results = [await local, await s3].filter((r) => r !== undefined);
if (s3) process.stdout.write((await s3).output);
process.exit(results.find((r) => r.status !== 0)?.status ?? 0);
