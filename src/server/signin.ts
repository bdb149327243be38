/**
 * Signing in to the dashboard: the page a browser gets instead of a dashboard page while it has no
 * session (status 401, so nothing of the DR posture is served), the form POST that trades the
 * token for a session cookie, and signing out. The page is the same for everyone: it holds no
 * token and no data, only where to go back to.
 */
import { createHash } from 'node:crypto';
import type http from 'node:http';
import { LifeboatError } from '../base/errors.js';
import { authorised } from './auth.js';
import { sameOrigin, type Sessions } from './sessions.js';
import { isPagePath, SECURITY_HEADERS } from './static.js';

const MAX_FORM_BYTES = 8 * 1024;

const STYLE = [
  'body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f6f8;color:#16202a}',
  'main{max-width:26rem;margin:12vh auto;padding:2rem;background:#fff;border-radius:8px;box-shadow:0 1px 4px #0002}',
  'h1{font-size:1.4rem;margin:0 0 1rem}label{display:block;font-weight:600;margin-bottom:.25rem}',
  'input{width:100%;box-sizing:border-box;font:inherit;padding:.5rem;border:1px solid #8a96a3;border-radius:4px}',
  'button{margin-top:1rem;font:inherit;padding:.5rem 1.25rem;border:0;border-radius:4px;background:#1f5fa8;color:#fff;cursor:pointer}',
  ':focus-visible{outline:3px solid #f0a400;outline-offset:2px}.problem{color:#a4161a;font-weight:600}p{color:#3c4a57}',
].join('');
const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The sign-in page; `next` is where a successful sign-in goes (a dashboard page, else /). */
export function sendSignInPage(res: http.ServerResponse, next: string, problem?: string): void {
  const back = isPagePath(next) ? next : '/';
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in · Lifeboat</title><style>${STYLE}</style></head>
<body><main>
<h1>Lifeboat: sign in</h1>
<p>This dashboard needs the token of <code>lifeboat serve</code> (LIFEBOAT_SERVE_TOKEN or serve.token_file).</p>
${problem ? `<p class="problem" role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="/signin">
<input type="text" name="username" value="lifeboat" autocomplete="username" hidden>
<label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="${escapeHtml(back)}">
<button type="submit">Sign in</button>
</form>
</main></body></html>
`;
  res.writeHead(401, {
    ...SECURITY_HEADERS,
    'content-security-policy': `default-src 'none'; style-src ${STYLE_HASH}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'www-authenticate': 'Bearer realm="lifeboat"',
  });
  res.end(html);
}

/** POST /signin with the form's token: a session and back to the page, or the page again saying why not. */
export async function signIn(req: http.IncomingMessage, res: http.ServerResponse, token: string, sessions: Sessions): Promise<void> {
  const form = new URLSearchParams(await readForm(req));
  const next = form.get('next') ?? '/';
  if (!sameOrigin(req)) return sendSignInPage(res, next, 'That sign-in came from another site: open this page and sign in here.');
  const given = form.get('token') ?? '';
  if (!authorised(`Bearer ${given}`, token)) return sendSignInPage(res, next, 'That token is not the one this server was started with.');
  res.writeHead(303, { location: isPagePath(next) ? next : '/', 'set-cookie': sessions.create(req) });
  res.end();
}

/** POST /signout: the session ends and the browser goes to the sign-in page (or, with no token set, the overview). */
export function signOut(req: http.IncomingMessage, res: http.ServerResponse, sessions: Sessions | undefined): void {
  // Another site's page cannot sign a person out either.
  const end = sessions !== undefined && sameOrigin(req);
  res.writeHead(303, { location: '/', ...(end ? { 'set-cookie': sessions.end(req) } : {}) });
  res.end();
}

async function readForm(req: http.IncomingMessage): Promise<string> {
  if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
    throw new LifeboatError('USAGE', 'sign in with the form: POST /signin takes application/x-www-form-urlencoded (token=...)');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new LifeboatError('USAGE', `the sign-in form is larger than ${MAX_FORM_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
