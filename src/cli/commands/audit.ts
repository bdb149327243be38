/**
 * `lifeboat audit k8s FILE_OR_DIR... [--json] [--fail-on warn|error]`: check inference
 * deployments for what defeats a minutes-level RTO; exit 1 when a finding at or above --fail-on
 * exists, so it runs in CI.
 */
import type { Command } from 'commander';
import type { Finding, Severity } from '../../control/audit/k8s-rules.js';
import { OutcomeError, UsageError } from '../errors.js';
import { makeOutput } from '../output.js';
import { defaultConfigFile } from '../repo-options.js';

interface AuditK8sFlags {
  json?: boolean;
  failOn: string;
  failureDomain?: string;
  config?: string;
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('DR audits (k8s: inference deployments)');
  audit
    .command('k8s')
    .description('check Kubernetes manifests of inference services for what defeats a minutes-level RTO')
    .argument('<paths...>', 'manifest files and directories (multi-document YAML, Helm output, kubectl get -o yaml lists, Kustomize folders)')
    .option('--json', 'print one JSON document on stdout instead of text')
    .option('--fail-on <severity>', 'exit 1 when a finding at or above this severity exists: warn or error', 'error')
    .option('--failure-domain <label>', "the node label whose values are failure domains (default: lifeboat.yaml's audit.k8s.failure_domain, else topology.kubernetes.io/zone)")
    .option('-c, --config <file>', 'lifeboat.yaml (env LIFEBOAT_CONFIG; default ./lifeboat.yaml, else ~/.config/lifeboat/lifeboat.yaml)')
    .action(async (paths: string[], flags: AuditK8sFlags) => {
      if (flags.failOn !== 'warn' && flags.failOn !== 'error') throw new UsageError(`--fail-on takes warn or error, got "${flags.failOn}"`);
      const { readManifests, failureDomainOf } = await import('../../control/audit/k8s-read.js');
      const { auditK8s, atOrAbove } = await import('../../control/audit/k8s-rules.js');
      const { workloadsOf } = await import('../../control/audit/k8s-objects.js');
      const failureDomain = flags.failureDomain ?? (await failureDomainOf(flags.config ?? process.env.LIFEBOAT_CONFIG ?? defaultConfigFile()));
      const { objects } = await readManifests(paths);
      const findings = auditK8s(objects, { failureDomain });
      const workloads = workloadsOf(objects).map((w) => w.id);
      const out = makeOutput(!!flags.json);
      out.result({ findings, checked: workloads, failure_domain: failureDomain }, () => describe(findings, workloads, failureDomain));
      const failing = atOrAbove(findings, flags.failOn as Severity);
      if (failing.length > 0) throw new OutcomeError('AUDIT_FINDINGS', `${failing.length} finding(s) at or above ${flags.failOn}`);
    });
}

function describe(findings: Finding[], workloads: string[], failureDomain: string): string {
  const lines = findings.flatMap((f) => [`${f.severity}: ${f.object}: ${f.rule}: ${f.message}`, '  fix:', ...f.fix.trimEnd().split('\n').map((l) => `    ${l}`), '']);
  lines.push(`${workloads.length} workload(s) checked (failure domain: ${failureDomain}); ${findings.filter((f) => f.severity === 'error').length} error(s), ${findings.filter((f) => f.severity === 'warn').length} warning(s)`);
  return lines.join('\n');
}
