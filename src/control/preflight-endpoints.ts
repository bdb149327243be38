/**
 * Preflight checks of what a runbook reaches: every endpoint resolvable and answering, the
 * gateway's admin API accepting its token and knowing the group, every command on PATH, and the
 * tools a database source needs.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { messageOf } from '../base/error-codes.js';
import { shownUrl } from './runbook-io.js';
import { CHECK_TIMEOUT_MS, withinTime, type CheckResult, type CheckStatus, type PreflightTools } from './preflight.js';

/**
 * The host resolves and something answers at the URL (any HTTP status: a HEAD to a webhook may
 * well be 405). `unreachable` is what no answer counts as: a smoke test's endpoint may be the
 * very service being recovered, so there it is only a warning.
 */
export async function checkEndpoint(url: string, role: string, unreachable: CheckStatus, tools: PreflightTools, subject = shownUrl(url)): Promise<CheckResult> {
  const host = new URL(url).hostname;
  try {
    await withinTime(tools.clock, CHECK_TIMEOUT_MS, `DNS for ${host}`, tools.lookup(host));
  } catch (err) {
    return { check: 'endpoint', subject, status: 'fail', message: `the ${role} endpoint's host ${host} does not resolve (${messageOf(err)}): fix the URL or DNS` };
  }
  try {
    const res = await withinTime(tools.clock, CHECK_TIMEOUT_MS, subject, tools.http.request({ method: 'HEAD', url }));
    return { check: 'endpoint', subject, status: 'ok', message: `the ${role} endpoint answers (HTTP ${res.status} to HEAD)` };
  } catch (err) {
    const expected = unreachable === 'warn' ? ' (expected if it is the service being recovered)' : '';
    return { check: 'endpoint', subject, status: unreachable, message: `the ${role} endpoint does not answer: ${messageOf(err)}${expected}` };
  }
}

/** The admin API answers with the token from `tokenEnv`, and knows `group`. */
export async function checkGateway(url: string, group: string, tokenEnv: string, tools: PreflightTools): Promise<CheckResult> {
  const subject = url;
  const fail = (message: string): CheckResult => ({ check: 'gateway', subject, status: 'fail', message });
  const token = tools.env[tokenEnv];
  if (!token) return fail(`the switch step needs the gateway's admin token in ${tokenEnv}: set it (the same value the gateway was started with)`);
  let res;
  try {
    res = await withinTime(tools.clock, CHECK_TIMEOUT_MS, url, tools.http.request({ method: 'GET', url: adminUrl(url, '/admin/state'), headers: { authorization: `Bearer ${token}` } }));
  } catch (err) {
    return fail(`the gateway's admin API does not answer: ${messageOf(err)}; is lifeboat gateway running there?`);
  }
  if (res.status === 401) return fail(`the gateway refuses the token in ${tokenEnv}: give it the value the gateway was started with`);
  if (res.status === 403) return fail(`the gateway's admin API is off: start the gateway with its token variable set`);
  if (res.status !== 200) return fail(`GET /admin/state answered HTTP ${res.status}: ${res.body.slice(0, 200)}`);
  const order = (JSON.parse(res.body) as { order?: string[] }).order ?? [];
  if (!order.includes(group)) return fail(`the gateway has no group "${group}" (it has ${order.join(', ')}): fix the switch step's group`);
  return { check: 'gateway', subject, status: 'ok', message: `the gateway's admin API accepts the token and has group "${group}"` };
}

export function adminUrl(base: string, route: string): string {
  return base.replace(/\/+$/, '') + route;
}

/** Words a shell runs itself: nothing to find on PATH. */
const BUILTINS = new Set(['cd', 'echo', 'printf', 'test', '[', 'true', 'false', ':', 'export', 'set', 'if', 'for', 'while', 'until', 'case', '{', '(', 'exit', 'sleep', 'read', 'eval', '.', 'source']);

/** The command a shell line starts with (after `VAR=value` assignments and `exec`), unquoted. */
export function commandWord(line: string): string | undefined {
  const words = line.trim().split(/\s+/);
  let i = 0;
  while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i])) i++;
  if (words[i] === 'exec') i++;
  const word = words[i];
  return word === undefined ? undefined : word.replace(/^['"]|['"]$/g, '');
}

/** The command of a run step can be found: a builtin, a path that is executable, or a name on PATH. */
export async function checkCommand(line: string, role: string, cwd: string, tools: PreflightTools): Promise<CheckResult> {
  const word = commandWord(line);
  const subject = word ?? line;
  if (word === undefined || BUILTINS.has(word) || word.includes('$')) {
    return { check: 'command', subject, status: 'ok', message: `the ${role} step runs "${line}" (${word && word.includes('$') ? 'its command is a variable: not checked' : 'a shell builtin'})` };
  }
  const found = await findExecutable(word, cwd, tools.env.PATH ?? '');
  if (found) return { check: 'command', subject, status: 'ok', message: `the ${role} step's ${word} is ${found}` };
  const where = word.includes('/') ? `${path.resolve(cwd, word)} is not an executable file` : `it is in none of the ${(tools.env.PATH ?? '').split(':').filter(Boolean).length} directories of PATH`;
  return { check: 'command', subject, status: 'fail', message: `the ${role} step runs ${word}, but ${where}: install it, or give its full path` };
}

export async function findExecutable(word: string, cwd: string, searchPath: string): Promise<string | undefined> {
  const candidates = word.includes('/') ? [path.resolve(cwd, word)] : searchPath.split(':').filter(Boolean).map((d) => path.join(d, word));
  for (const c of candidates) {
    const ok = await fs.stat(c).then((s) => s.isFile(), () => false);
    if (ok && (await fs.access(c, fs.constants.X_OK).then(() => true, () => false))) return c;
  }
  return undefined;
}

/** What each database source kind needs on PATH: to dump it, and to restore it (any one of each list). */
export const SOURCE_TOOLS: Record<string, Array<{ purpose: string; any: string[]; package: string }>> = {
  postgres: [
    { purpose: 'back up', any: ['pg_dump'], package: 'postgresql-client' },
    { purpose: 'restore', any: ['pg_restore'], package: 'postgresql-client' },
  ],
  mysql: [
    { purpose: 'back up', any: ['mariadb-dump', 'mysqldump'], package: 'mariadb-client' },
    { purpose: 'restore', any: ['mariadb', 'mysql'], package: 'mariadb-client' },
  ],
  git: [{ purpose: 'back up and restore', any: ['git'], package: 'git' }],
};

/** The dump and restore tools of `kind`'s source, on PATH; none for a kind that needs none. */
export async function checkSourceTools(asset: string, kind: string, tools: PreflightTools): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const need of SOURCE_TOOLS[kind] ?? []) {
    let found: string | undefined;
    for (const t of need.any) found ??= await findExecutable(t, '/', tools.env.PATH ?? '');
    const subject = need.any.join(' or ');
    out.push(
      found
        ? { check: 'tool', subject, status: 'ok', message: `${asset} (${kind}) can ${need.purpose}: ${found}` }
        : { check: 'tool', subject, status: 'fail', message: `${asset} is a ${kind} source, and to ${need.purpose} it needs ${subject} on PATH: apt-get install ${need.package}` },
    );
  }
  return out;
}
