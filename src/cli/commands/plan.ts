/** `validate` and `assets`: lifeboat.yaml checked whole, and each asset with its effective policy and where each value came from. */
import type { Command } from 'commander';
import { readConfigFile } from '../../control/config-file.js';
import { misclassificationHints, type Hint } from '../../control/misclassified.js';
import { validatePlan, type Asset } from '../../control/plan.js';
import { checkRunbooks } from '../../control/runbook-check.js';
import { assetsDocument, defaultsDocument, issueLine, yamlValue } from '../../control/assets-document.js';
import { DEFAULT_POLICIES, KIND_DEFAULTS, TIERS, YAML_KEY, type PolicyKey } from '../../control/policy.js';
import { describeSource } from '../../sources/config.js';
import { OutcomeError } from '../errors.js';
import { makeOutput, table } from '../output.js';
import { planFile, readPlan, withPlanOptions, type PlanFlags } from '../plan-options.js';

export function registerPlan(program: Command): void {
  withPlanOptions(program.command('validate').description('check lifeboat.yaml whole: every error and warning with its line'))
    .action(async (flags: PlanFlags) => {
      const out = makeOutput(!!flags.json, !!flags.quiet);
      const file = planFile(flags);
      const config = await readConfigFile(file, 'pass the right path with --config or LIFEBOAT_CONFIG');
      const v = validatePlan(config, [checkRunbooks]);
      const doc = { file, valid: v.errors.length === 0, errors: v.errors, warnings: v.warnings, assets: v.plan?.assets.length ?? 0, repositories: v.plan?.repositories.length ?? 0 };
      out.result(doc, () =>
        [
          ...v.errors.map((i) => `error: ${issueLine(i)}`),
          ...v.warnings.map((i) => `warning: ${issueLine(i)}`),
          doc.valid ? `${file}: valid — ${tierCounts(v.plan!.assets)}, ${doc.repositories} repositor${doc.repositories === 1 ? 'y' : 'ies'}${v.warnings.length ? `, ${v.warnings.length} warning(s)` : ''}` : `${file}: ${v.errors.length} error(s)`,
        ].join('\n'),
      );
      if (!doc.valid) throw new OutcomeError('CONFIG', `${file} is not valid: fix the error(s) above`);
    });

  withPlanOptions(program.command('assets').description('the assets of lifeboat.yaml with their effective policy, where each value comes from, and what looks misclassified'))
    .option('--defaults', 'show the built-in policy of each tier instead')
    .action(async (flags: PlanFlags & { defaults?: boolean }) => {
      const out = makeOutput(!!flags.json, !!flags.quiet);
      if (flags.defaults) return out.result(defaultsDocument(), describeDefaults);
      const plan = await readPlan(flags);
      const hints = await misclassificationHints(plan.assets);
      const doc = assetsDocument(plan, hints);
      out.result(doc, () => describeAssets(plan.assets, doc.warnings.map((w) => w.message), hints));
    });
}


function tierCounts(assets: readonly Asset[]): string {
  return `${assets.length} asset(s): ` + TIERS.map((t) => `${assets.filter((a) => a.tier === t).length} in Tier ${t}`).join(', ');
}

function describeAssets(assets: readonly Asset[], warnings: string[], hints: Hint[]): string {
  const lines: string[] = [];
  for (const a of assets) {
    lines.push(`${a.name}  (${a.kind}, Tier ${a.tier}${a.owner ? `, owner ${a.owner}` : ''})`);
    if (a.tier === 3) {
      lines.push(`  rebuilt from git${a.gitRemote ? `: ${a.gitRemote}` : ' (no git_remote)'}; not backed up`);
    } else {
      if (a.source) lines.push(`  source  ${describeSource(a.source)}`);
      const rows = (Object.keys(YAML_KEY) as PolicyKey[]).map((k) => [YAML_KEY[k], JSON.stringify(yamlValue(k, a.policy)).replace(/^"|"$/g, ''), a.origin[k]]);
      lines.push(...table(['key', 'value', 'from'], rows).split('\n').map((l) => `  ${l}`));
    }
    for (const h of hints.filter((x) => x.asset === a.name)) lines.push(`  hint: ${h.path}: ${h.message}`);
    lines.push('');
  }
  for (const w of warnings) lines.push(`warning: ${w}`);
  return lines.join('\n').trimEnd();
}

function describeDefaults(): string {
  const keys = Object.keys(YAML_KEY) as PolicyKey[];
  const rows = keys.map((k) => [YAML_KEY[k], ...[1, 2].map((t) => JSON.stringify(yamlValue(k, DEFAULT_POLICIES[t as 1 | 2])).replace(/^"|"$/g, '').replace('["*replicas"]', 'all replicas'))]);
  return [
    table(['key', 'Tier 1', 'Tier 2'], rows),
    '',
    'Tier 3: rebuilt from git, listed with its git_remote, never backed up.',
    `In Tier 1, ${Object.keys(KIND_DEFAULTS).join(' and ')} assets default to rpo 1h (re-annotating is the expensive loss).`,
    'replicate_to defaults to every repository with role: replica; any key can be set per tier (tiers:) and per asset.',
  ].join('\n');
}

