/**
 * Preflight checks of a repository: reachable, credentials accepted, the password file present
 * and opening it; the clock against the object store's; when the credentials expire.
 */
import fs from 'node:fs/promises';
import { codeOf, messageOf } from '../base/error-codes.js';
import type { Repository } from '../repo/repository.js';
import { resolveS3Options } from '../storage/s3-options.js';
import { CHECK_TIMEOUT_MS, withinTime, type CheckResult, type PreflightTools } from './preflight.js';
import type { NamedRepository } from './repositories.js';

export type RepositoryOpener = (named: NamedRepository) => Promise<Repository>;

function label(named: NamedRepository): string {
  return `${named.name}${named.role ? ` (${named.role})` : ''}`;
}

/** The repository's checks, and the repository itself when it opened. */
export async function checkRepository(named: NamedRepository, open: RepositoryOpener, tools: PreflightTools): Promise<{ results: CheckResult[]; repo?: Repository }> {
  const results: CheckResult[] = [];
  const subject = label(named);
  if (named.passwordFile) {
    const found = await passwordFileCheck(named.passwordFile, subject);
    results.push(found);
    if (found.status === 'fail') return { results };
  }
  try {
    const repo = await withinTime(tools.clock, CHECK_TIMEOUT_MS, named.url, open(named));
    results.push({ check: 'repository', subject, status: 'ok', message: `${named.url} is reachable, its credentials are accepted and the password opens it` });
    return { results, repo };
  } catch (err) {
    results.push(openFailure(err, named, subject));
    return { results };
  }
}

async function passwordFileCheck(file: string, subject: string): Promise<CheckResult> {
  const stat = await fs.stat(file).catch((err: NodeJS.ErrnoException) => err);
  if (stat instanceof Error) {
    return { check: 'password', subject, status: 'fail', message: `the password file ${file} cannot be read (${stat.code ?? stat.message}): restore it from your secret store, or fix password_file` };
  }
  if ((stat.mode & 0o077) !== 0) {
    return { check: 'password', subject, status: 'warn', message: `the password file ${file} is readable by other users (mode ${(stat.mode & 0o777).toString(8)}): chmod 600 ${file}` };
  }
  return { check: 'password', subject, status: 'ok', message: `the password file ${file} is present and private` };
}

function openFailure(err: unknown, named: NamedRepository, subject: string): CheckResult {
  const code = codeOf(err);
  const why = messageOf(err);
  const fail = (check: string, message: string): CheckResult => ({ check, subject, status: 'fail', message });
  switch (code) {
    case 'WRONG_PASSWORD':
      return fail('password', `${why}: the password (or password_file) for ${named.name} is not one of its keys; find the right one before a disaster needs it`);
    case 'USAGE':
      return fail('password', `${why} (for ${named.name}: set its password_file in lifeboat.yaml)`);
    case 'ACCESS_DENIED':
      return fail('credentials', `the store refuses the credentials: ${why}`);
    case 'NOT_A_REPOSITORY':
      return fail('repository', why);
    default:
      return fail('repository', `${named.url} is not reachable: ${why}; check the network path and the endpoint`);
  }
}

/** Seconds of skew the Date header cannot resolve (it has one-second resolution) plus a round trip. */
const SKEW_OK_S = 2;
const SKEW_WARN_S = 60;
/** S3 refuses signed requests more than 15 minutes off. */
const SKEW_FAIL_S = 14 * 60;

/** This host's clock against the object store's (its Date header); S3 repositories only. */
export async function checkClockSkew(named: NamedRepository, tools: PreflightTools): Promise<CheckResult | undefined> {
  if (!named.url.startsWith('s3://')) return undefined;
  const resolved = resolveS3Options(named.s3, tools.env);
  const endpoint = resolved.endpoint ?? `https://s3.${resolved.region}.amazonaws.com`;
  const subject = label(named);
  try {
    const before = tools.clock.now();
    const res = await withinTime(tools.clock, CHECK_TIMEOUT_MS, endpoint, tools.http.request({ method: 'HEAD', url: endpoint }));
    const after = tools.clock.now();
    const date = Date.parse(res.headers.date ?? '');
    if (Number.isNaN(date)) return { check: 'clock', subject, status: 'warn', message: `${endpoint} sent no Date header: the clock skew against it is unknown` };
    const skew = Math.round((date - (before + after) / 2) / 1000);
    const size = Math.abs(skew);
    const how = `this host's clock is ${size} s ${skew > 0 ? 'behind' : 'ahead of'} ${endpoint}`;
    if (size <= SKEW_OK_S) return { check: 'clock', subject, status: 'ok', message: `the clock agrees with ${endpoint} (within ${SKEW_OK_S} s)` };
    if (size < SKEW_WARN_S) return { check: 'clock', subject, status: 'ok', message: `${how}: fine for S3, but keep NTP running` };
    if (size < SKEW_FAIL_S) return { check: 'clock', subject, status: 'warn', message: `${how}: RPO ages and retention dates are off by as much; fix NTP (chronyc tracking)` };
    return { check: 'clock', subject, status: 'fail', message: `${how}: S3 refuses requests more than 15 minutes off; fix NTP (chronyc tracking) now` };
  } catch (err) {
    return { check: 'clock', subject, status: 'warn', message: `could not read the clock of ${endpoint}: ${messageOf(err)}` };
  }
}

/** Temporary credentials say when they end (AWS_CREDENTIAL_EXPIRATION, set by SSO and aws-vault): warn a week ahead. */
export function checkCredentialExpiry(tools: PreflightTools): CheckResult | undefined {
  const name = ['AWS_CREDENTIAL_EXPIRATION', 'AWS_SESSION_EXPIRATION'].find((n) => tools.env[n]);
  if (!name) return undefined;
  const at = Date.parse(tools.env[name]!);
  if (Number.isNaN(at)) return { check: 'credentials', subject: name, status: 'warn', message: `${name} is not a time (${tools.env[name]})` };
  const left = at - tools.clock.now();
  const days = left / 86_400_000;
  if (left <= 0) return { check: 'credentials', subject: name, status: 'fail', message: `the S3 credentials expired at ${new Date(at).toISOString()}: renew them` };
  const when = `the S3 credentials expire at ${new Date(at).toISOString()} (in ${days >= 1 ? `${days.toFixed(1)} days` : `${Math.round(left / 60_000)} minutes`})`;
  return { check: 'credentials', subject: name, status: days < 7 ? 'warn' : 'ok', message: days < 7 ? `${when}: renew them, or a drill or backup will fail then` : when };
}
