/**
 * `lifeboat doctor [--json]`: every preflight check for the whole of lifeboat.yaml — repositories
 * and their credentials, password files, the clock against each object store, free space at every
 * restore target, every runbook endpoint, command and gateway, the tools database sources need.
 * Each check says ok, warn or fail with what to do; exit 1 when any fails.
 */
import type { Command } from 'commander';
import { fetchClient } from '../../control/runbook-io.js';
import { loadDrContext, type DrFlags } from '../dr-context.js';
import { checksTable } from '../dr-report.js';
import { OutcomeError } from '../errors.js';
import { makeOutput } from '../output.js';
import { withRepoOptions } from '../repo-options.js';

export function registerDoctor(program: Command): void {
  withRepoOptions(program.command('doctor').description('check everything a recovery will need, before a disaster does: repositories, credentials, space, endpoints, commands, clocks')).action(async (flags: DrFlags) => {
    const out = makeOutput(!!flags.json, !!flags.quiet);
    const { ctx, close } = await loadDrContext(flags);
    try {
      const [{ doctor }, { defaultPreflightTools, worst }] = await Promise.all([import('../../control/preflight-doctor.js'), import('../../control/preflight.js')]);
      const checks = await doctor({ plan: ctx.plan, runbooks: ctx.runbooks, openRepository: ctx.openRepository, tools: defaultPreflightTools(ctx.clock, fetchClient, process.env) });
      const status = worst(checks);
      out.result({ status, checks }, () => `${checksTable(checks)}\n\n${summary(checks.length, checks.filter((c) => c.status === 'warn').length, checks.filter((c) => c.status === 'fail').length)}`);
      if (status === 'fail') throw new OutcomeError('PREFLIGHT_FAILED', `${checks.filter((c) => c.status === 'fail').length} check(s) failed: a recovery or drill would stop at them`);
    } finally {
      await close();
    }
  });
}

function summary(total: number, warns: number, fails: number): string {
  if (fails) return `${fails} of ${total} checks FAILED, ${warns} warning(s): fix the failures before you need a recovery`;
  if (warns) return `all ${total} checks passed, ${warns} with a warning`;
  return `all ${total} checks passed`;
}
