/**
 * `lifeboat audit k8s` as CI runs it: files and folders of manifests, the JSON document, exit 1
 * exactly when a finding at or above --fail-on exists, and the failure domain from lifeboat.yaml.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Finding } from '../../src/control/audit/k8s-rules.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { goodDeployment, pdbFor } from './k8s-fixtures.js';

const NO_CONFIG = { LIFEBOAT_CONFIG: undefined };

test('audit k8s: no finding exits 0; a warning fails only with --fail-on warn; the JSON names rule, severity, object, message and fix', async (t) => {
  const dir = await tempDir(t, 'lifeboat-audit-');
  const good = path.join(dir, 'good.yaml');
  await fs.writeFile(good, `# Source: llm/templates/deployment.yaml\n${stringify(goodDeployment())}---\n# Source: llm/templates/pdb.yaml\n${stringify(pdbFor())}`);
  const clean = await runCliJson<{ findings: Finding[]; checked: string[] }>(['audit', 'k8s', good], { cwd: dir, env: NO_CONFIG });
  assert.equal(clean.result.code, 0, clean.result.stderr);
  assert.deepEqual(clean.json.findings, []);
  assert.deepEqual(clean.json.checked, ['Deployment/inference/llm']);

  const noPdb = path.join(dir, 'manifests');
  await fs.mkdir(noPdb);
  await fs.writeFile(path.join(noPdb, 'deployment.yaml'), stringify({ apiVersion: 'v1', kind: 'List', items: [goodDeployment()] }));
  const warned = await runCliJson<{ findings: Finding[] }>(['audit', 'k8s', noPdb], { cwd: dir, env: NO_CONFIG });
  assert.equal(warned.result.code, 0, 'a warning does not fail at the default --fail-on error');
  assert.deepEqual(Object.keys(warned.json.findings[0]).sort(), ['fix', 'message', 'object', 'rule', 'severity']);
  assert.deepEqual([warned.json.findings[0].rule, warned.json.findings[0].severity, warned.json.findings[0].object], ['no-pdb', 'warn', 'Deployment/inference/llm']);

  const strict = await runCliJson<{ findings: Finding[] }>(['audit', 'k8s', noPdb, '--fail-on', 'warn'], { cwd: dir, env: NO_CONFIG });
  assert.equal(strict.result.code, 1);
  assert.equal(strict.json.findings.length, 1, 'the findings are printed, then the exit code says they fail');
  assert.match(strict.result.stderr, /1 finding\(s\) at or above warn/);

  const text = await runCli(['audit', 'k8s', noPdb], { cwd: dir, env: NO_CONFIG });
  assert.match(text.stdout, /warn: Deployment\/inference\/llm: no-pdb: .*\n  fix:\n    apiVersion: policy\/v1\n    kind: PodDisruptionBudget/);

  const bad = await runCli(['audit', 'k8s', noPdb, '--fail-on', 'info'], { cwd: dir, env: NO_CONFIG });
  assert.equal(bad.code, 2);
  const missing = await runCli(['audit', 'k8s', path.join(dir, 'nope.yaml')], { cwd: dir, env: NO_CONFIG });
  assert.equal(missing.code, 2);
});

test("audit k8s: lifeboat.yaml's audit.k8s.failure_domain names the label; --failure-domain overrides it", async (t) => {
  const dir = await tempDir(t, 'lifeboat-audit-');
  const file = path.join(dir, 'llm.yaml');
  await fs.writeFile(file, `${stringify(goodDeployment())}---\n${stringify(pdbFor())}`);
  await fs.writeFile(path.join(dir, 'lifeboat.yaml'), 'audit:\n  k8s: { failure_domain: example.com/power-feed }\n');
  const racks = await runCliJson<{ findings: Finding[]; failure_domain: string }>(['audit', 'k8s', file], { cwd: dir, env: NO_CONFIG });
  assert.equal(racks.result.code, 1, 'not spread across power feeds: an error');
  assert.equal(racks.json.failure_domain, 'example.com/power-feed');
  assert.deepEqual(racks.json.findings.map((f) => f.rule), ['no-spread']);
  const zones = await runCliJson<{ findings: Finding[] }>(['audit', 'k8s', file, '--failure-domain', 'topology.kubernetes.io/zone'], { cwd: dir, env: NO_CONFIG });
  assert.equal(zones.result.code, 0);
  await fs.writeFile(path.join(dir, 'lifeboat.yaml'), 'audit:\n  k8s: { failure_domian: x }\n');
  const typo = await runCli(['audit', 'k8s', file], { cwd: dir, env: NO_CONFIG });
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /lifeboat\.yaml:2: audit\.k8s\.failure_domian/);
});
