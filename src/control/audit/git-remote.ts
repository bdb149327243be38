/**
 * A git repository's remote, from `.git/config`: `origin` if there is one, else the first remote.
 * Credentials in a URL (https://user:token@host/…) are removed before anything shows it.
 */

export function remoteOf(gitConfig: string): string | undefined {
  const remotes: Array<{ name: string; url?: string }> = [];
  let current: { name: string; url?: string } | undefined;
  for (const raw of gitConfig.split('\n')) {
    const line = raw.trim();
    const section = /^\[\s*remote\s+"([^"]*)"\s*\]$/.exec(line);
    if (section) {
      current = { name: section[1] };
      remotes.push(current);
    } else if (line.startsWith('[')) {
      current = undefined;
    } else if (current && !current.url) {
      const url = /^url\s*=\s*(.+)$/.exec(line);
      if (url) current.url = url[1].trim().replace(/^"(.*)"$/, '$1');
    }
  }
  const withUrl = remotes.filter((r) => r.url);
  const chosen = withUrl.find((r) => r.name === 'origin') ?? withUrl[0];
  return chosen?.url === undefined ? undefined : redactUrl(chosen.url);
}

/** The URL without a password or token. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

/** The local directory a remote names (a path or file:// URL); undefined for a network remote. */
export function localRemotePath(url: string, repoDir: string): string | undefined {
  if (url.startsWith('file://')) return decodeURIComponent(url.slice('file://'.length));
  if (url.startsWith('/')) return url;
  if (url.startsWith('./') || url.startsWith('../')) return `${repoDir}/${url}`;
  return undefined;
}
