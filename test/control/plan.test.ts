/**
 * lifeboat.yaml's tiers: and assets: as the DR plan: every value with its default and where it
 * came from, the kind rule for annotations and registries, Tier 3 listed but never backed up,
 * and every mistake reported at its line with what is expected.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../src/control/config-file.js';
import { ConfigError } from '../../src/control/config-error.js';
import { planOf, validatePlan } from '../../src/control/plan.js';
import { sourcePaths } from '../../src/sources/config.js';

const FILE = '/etc/lifeboat/lifeboat.yaml';
const plan = (text: string) => planOf(parseConfigText(text, FILE));
const errorsOf = (text: string) => {
  try {
    plan(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues.map((i) => `${i.line}: ${i.key}: ${i.message}`);
  }
  assert.fail('expected the plan to be refused');
};

const REPOS = `
repositories:
  primary: { url: /srv/backup, role: primary }
  dr-site: { url: s3://dr/lifeboat, role: replica }
  cold: { url: /srv/cold, role: archive }
`;

test("the issue's example: policies from defaults, tiers and assets, each with its origin", () => {
  const p = plan(`${REPOS}
tiers:
  1: { rpo: 24h, rto: 4h, replicate_to: [dr-site], retain_days: 30, verify_every: 24h, verify_subset: 5%,
       keep: { last: 7, daily: 14, weekly: 8, monthly: 24, yearly: 5 }, expired: archive, drill_every: 90d }
  2: { rpo: 7d, rto: 24h, replicate_to: [dr-site], keep: { last: 5, weekly: 8 }, expired: delete }
  3: {}
assets:
  llama-ft:      { kind: model, tier: 1, source: { path: /srv/models/llama-ft, exclude: ["*.tmp"] }, owner: ml-platform }
  label-studio:  { kind: annotations, tier: 1, rpo: 1h, source: { path: /var/lib/label-studio/export } }
  prompts:       { kind: config, tier: 2, source: { path: /srv/serving/prompts } }
  manifests:     { kind: code, tier: 3, git_remote: https://git.internal/ml/deploy.git }
`);
  const [llama, label, prompts, manifests] = p.assets;
  assert.equal(p.primary?.name, 'primary');
  assert.equal(p.archive?.name, 'cold');
  assert.deepEqual(llama.source, { kind: 'path', paths: ['/srv/models/llama-ft'], exclude: ['*.tmp'] });
  assert.equal(llama.policy.rpoMs, 24 * 3_600_000);
  assert.equal(llama.origin.rpoMs, 'tier');
  assert.deepEqual(llama.policy.keep, { last: 7, daily: 14, weekly: 8, monthly: 24, yearly: 5 });
  assert.equal(label.policy.rpoMs, 3_600_000);
  assert.equal(label.origin.rpoMs, 'asset');
  assert.equal(prompts.policy.expired, 'delete');
  assert.equal(prompts.policy.drillEveryMs, 0, 'Tier 2 is not drilled by default');
  assert.equal(prompts.origin.drillEveryMs, 'default');
  assert.equal(manifests.source, undefined, 'Tier 3 has nothing to back up');
  assert.equal(manifests.gitRemote, 'https://git.internal/ml/deploy.git');
});

test('built-in defaults: Tier 1 replicates to every replica; annotations and registries in Tier 1 default to an RPO of 1h, over the tier', () => {
  const p = plan(`${REPOS}
tiers:
  1: { rpo: 12h }
assets:
  weights: { kind: model, tier: 1, source: { path: /srv/w } }
  ls:      { kind: annotations, tier: 1, source: { path: /srv/ls } }
  mlflow:  { kind: registry, tier: 1, source: { path: /srv/mlflow } }
  mlflow2: { kind: registry, tier: 2, source: { path: /srv/mlflow2 } }
`);
  const by = Object.fromEntries(p.assets.map((a) => [a.name, a]));
  assert.deepEqual(by.weights.policy.replicateTo, ['dr-site']);
  assert.equal(by.weights.origin.replicateTo, 'default');
  assert.equal(by.weights.policy.rpoMs, 12 * 3_600_000);
  assert.equal(by.ls.policy.rpoMs, 3_600_000);
  assert.equal(by.ls.origin.rpoMs, 'kind');
  assert.equal(by.mlflow.policy.rpoMs, 3_600_000);
  assert.equal(by.mlflow2.policy.rpoMs, 7 * 86_400_000, 'the kind rule is for Tier 1 only');
  assert.equal(by.weights.policy.retainDays, 30);
  assert.equal(by.weights.policy.verifySubsetPercent, 5);
});

test('mistakes are errors at their line, all reported at once', () => {
  const errors = errorsOf(`${REPOS}
tiers:
  1: { rpo: soon, replicate_to: [dr-stie] }
  4: {}
  3: { rpo: 1h }
assets:
  a: { kind: modle, tier: 1, source: { path: /srv/a } }
  b: { kind: model, tier: 1 }
  c: { kind: model, tier: 2, source: { path: /srv/c }, verify_subset: 150% }
  d: { kind: dataset, tier: 1, source: { path: /srv/e } }
  e: { kind: model, tier: 1, source: { path: /srv/e }, replicate_to: [primary] }
  f: { kind: model, tier: 1, source: { path: /srv/f, exlude: ["*.tmp"] } }
`);
  const has = (re: RegExp) => assert.ok(errors.some((e) => re.test(e)), `expected ${re} in:\n${errors.join('\n')}`);
  has(/^8: tiers\.1\.rpo: "soon" is not a duration: write e\.g\. 30s, 15m, 1h or 7d/);
  has(/^9: tiers\.4: tiers are 1, 2 and 3/);
  has(/^10: tiers\.3: Tier 3 is rebuilt from git and never backed up/);
  has(/^12: assets\.a\.kind: .*model/);
  has(/^13: assets\.b\.tier: a Tier 1 asset needs a source/);
  has(/^14: assets\.c\.verify_subset: "150%" is not a percentage/);
  has(/^16: assets\.e\.source: \/srv\/e is also the source of asset "d": two assets must not back up the same path/);
  has(/^16: assets\.e\.replicate_to: "primary" is the primary itself/);
  has(/^17: assets\.f\.source.*exlude/);
});

test('an unknown repository in replicate_to is an error naming the ones there are', () => {
  const errors = errorsOf(`${REPOS}
tiers:
  1: { replicate_to: [dr-stie] }
`);
  assert.deepEqual(errors, ['8: tiers.1.replicate_to: "dr-stie" is not a repository of the repositories: section (primary, dr-site, cold)']);
});

test('warnings: a Tier 1 asset with no replica, nested sources, a model in Tier 3, a Tier 3 with a source, archive without an archive repository, an unknown section', () => {
  const v = validatePlan(
    parseConfigText(
      `
repositories:
  primary: { url: /srv/backup, role: primary }
assets:
  base:   { kind: model, tier: 1, source: { path: /srv/models } }
  inner:  { kind: adapter, tier: 1, source: { path: /srv/models/lora } }
  old:    { kind: model, tier: 3, git_remote: https://git/x.git, source: { path: /srv/old } }
asets: {}
`,
      FILE,
    ),
  );
  assert.deepEqual(v.errors, []);
  const warnings = v.warnings.map((w) => `${w.line}: ${w.key}: ${w.message}`);
  const has = (re: RegExp) => assert.ok(warnings.some((w) => re.test(w)), `expected ${re} in:\n${warnings.join('\n')}`);
  has(/^8: asets: unknown section/);
  has(/^5: assets\.base\.tier: a Tier 1 asset with no replica/);
  has(/assets\.inner\.source: \/srv\/models\/lora and the source of asset "base" \(\/srv\/models\) overlap/);
  has(/^7: assets\.old\.source: Tier 3 is rebuilt from git and never backed up: this source is ignored/);
  has(/^7: assets\.old\.tier: a model in Tier 3 is never backed up/);
  has(/^5: assets\.base\.tier: expired: archive needs a repository with role: archive; until there is one, snapshots past the keep policy are kept/);
});

test('expired: archive written explicitly without an archive repository is an error, not a warning', () => {
  const errors = errorsOf(`
repositories:
  primary: { url: /srv/backup, role: primary }
tiers:
  2: { expired: archive }
assets:
  p: { kind: config, tier: 2, source: { path: /srv/p } }
`);
  assert.deepEqual(errors, ['5: tiers.2.expired: expired: archive needs a repository with role: archive']);
});

test('relative source paths are taken from the folder of lifeboat.yaml', () => {
  const p = plan(`
repositories:
  primary: { url: backups, role: primary }
assets:
  m: { kind: model, tier: 2, source: { path: [models/a, ../shared/b] } }
`);
  assert.deepEqual(sourcePaths(p.assets[0].source!), ['/etc/lifeboat/models/a', '/etc/shared/b']);
});
