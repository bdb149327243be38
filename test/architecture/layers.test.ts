/**
 * The layers of src/ import only downward (DESIGN.md): base < storage < repo < engine < sources <
 * control < server < cli, with the gateway beside them: it knows nothing of backups and may use only
 * base and lifeboat.yaml's reader. Static imports, re-exports and dynamic import() are all read, so
 * a lazily loaded module cannot cross a layer unseen. And time is asked of the clock only.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const ORDER = ['base', 'storage', 'repo', 'engine', 'sources', 'control', 'server', 'cli'];
/** The gateway's allowed imports outside itself. */
const GATEWAY_MAY_IMPORT = ['base/', 'control/config-file.ts', 'control/config-error.ts'];
const SRC = path.resolve('src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

const layerOf = (file: string) => path.relative(SRC, file).split(path.sep)[0];

/** Every relative module a file names: `from '…'` (imports and re-exports) and `import('…')`. */
export function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/\bfrom\s+['"](\.[^'"]+)['"]|\bimport\s*\(\s*['"](\.[^'"]+)['"]\s*\)|^\s*import\s+['"](\.[^'"]+)['"]/gm)) {
    found.push(m[1] ?? m[2] ?? m[3]);
  }
  return found;
}

/** `import(` with anything but a string literal could load any module: not allowed in src/. */
function computedImports(text: string): string[] {
  return [...text.matchAll(/\bimport\s*\(\s*([^'"\s)][^)]*)\)/g)].map((m) => m[1]);
}

function allowed(fromLayer: string, target: string): boolean {
  const rel = path.relative(SRC, target).split(path.sep).join('/').replace(/\.js$/, '.ts');
  const toLayer = rel.split('/')[0];
  if (fromLayer === toLayer) return true;
  if (fromLayer === 'gateway') return GATEWAY_MAY_IMPORT.some((p) => rel === p || (p.endsWith('/') && rel.startsWith(p)));
  if (toLayer === 'gateway') return fromLayer === 'cli' || fromLayer === 'server';
  const from = ORDER.indexOf(fromLayer);
  const to = ORDER.indexOf(toLayer);
  return to >= 0 && to <= from;
}

test('the import scanner sees static imports, re-exports, side-effect imports and dynamic import()', () => {
  const text = [
    "import { a } from '../engine/a.js';",
    "export { b } from './b.js';",
    "import './side.js';",
    "const c = await import('../control/c.js');",
    "const d = (await import( \"../server/d.js\" )).d;",
    "import fs from 'node:fs';",
  ].join('\n');
  assert.deepEqual(importsOf(text), ['../engine/a.js', './b.js', './side.js', '../control/c.js', '../server/d.js']);
});

test('every import in src/ points to the same layer or a lower one; the gateway uses only base and the config reader', () => {
  const violations: string[] = [];
  const files = sources(SRC);
  assert.ok(files.length > 20, 'found the source files');
  for (const file of files) {
    const layer = layerOf(file);
    assert.ok(ORDER.includes(layer) || layer === 'gateway', `${file} is in a known layer`);
    const text = readFileSync(file, 'utf8');
    for (const spec of importsOf(text)) {
      const target = path.resolve(path.dirname(file), spec);
      if (!allowed(layer, target)) violations.push(`${path.relative(SRC, file)} imports ${path.relative(SRC, target)}`);
    }
    for (const expr of computedImports(text)) violations.push(`${path.relative(SRC, file)} has a computed import(${expr})`);
  }
  assert.deepEqual(violations, []);
});

test('time and the host name come from the clock module only (base/clock.ts)', () => {
  const banned = /\bDate\.now\b|\bnew Date\(\s*\)|\bos\.hostname\b|\bperformance\.now\b/;
  const offenders: string[] = [];
  for (const file of sources(SRC)) {
    if (path.relative(SRC, file) === path.join('base', 'clock.ts')) continue;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (banned.test(line.replace(/\/\/.*$/, ''))) offenders.push(`${path.relative(SRC, file)}:${i + 1}: ${line.trim()}`);
      });
  }
  assert.deepEqual(offenders, []);
});
