/**
 * The layers of src/ import only downward (DESIGN.md): storage < repo < engine < sources < control
 * < gateway < server < cli. A module may import its own layer and any layer below it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const ORDER = ['storage', 'repo', 'engine', 'sources', 'control', 'gateway', 'server', 'cli'];
const SRC = path.resolve('src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

const layerOf = (file: string) => path.relative(SRC, file).split(path.sep)[0];

test('every import in src/ points to the same layer or a lower one', () => {
  const violations: string[] = [];
  const files = sources(SRC);
  assert.ok(files.length > 20, 'found the source files');
  for (const file of files) {
    const from = ORDER.indexOf(layerOf(file));
    assert.ok(from >= 0, `${file} is in a known layer`);
    for (const m of readFileSync(file, 'utf8').matchAll(/from\s+'(\.[^']+)'/g)) {
      const target = path.resolve(path.dirname(file), m[1]);
      const to = ORDER.indexOf(layerOf(target));
      if (to > from) violations.push(`${path.relative(SRC, file)} imports ${path.relative(SRC, target)}`);
    }
  }
  assert.deepEqual(violations, []);
});
