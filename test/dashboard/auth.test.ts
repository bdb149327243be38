/**
 * Signing in to the dashboard, over plain HTTP against a real `lifeboat serve` with a token on
 * 127.0.0.2: without the token every page, file and API route refuses and shows nothing of the
 * site; the sign-in form trades the token for a session cookie (HttpOnly, SameSite=Strict, not the
 * token) that pages and the event stream use; a request from another site is refused; signing out
 * ends the session. And serve will not listen off loopback without a token at all.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { makeSite, startServe, VIOLATED, type Serve } from './site.js';

const TOKEN = `auth-test-${'7'.repeat(24)}`;
let dir: string;
let config: string;
let serve: Serve;

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-dashboard-auth-'));
  config = await makeSite(dir);
  serve = await startServe(config, '127.0.0.2:0', TOKEN);
});

after(async () => {
  await serve?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

const get = (p: string, headers: Record<string, string> = {}) => fetch(serve.url + p, { headers, redirect: 'manual' });
const form = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(`${serve.url}/signin`, { method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, redirect: 'manual' });

test('without the token, pages answer with the sign-in page (401, no data) and files and the API refuse', async () => {
  for (const page of ['/', `/assets/${VIOLATED}`, '/jobs', '/drills']) {
    const res = await get(page);
    assert.equal(res.status, 401, page);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    const html = await res.text();
    assert.match(html, /<form method="post" action="\/signin">/);
    assert.ok(!html.includes(VIOLATED) || page.includes(VIOLATED), `${page}: the sign-in page names no asset`);
    assert.ok(!html.includes('/static/'), `${page}: not even the app's files are linked`);
  }
  const index = await get('/', { authorization: `Bearer ${TOKEN}` });
  const script = /src="(\/static\/[^"]+\.js)"/.exec(await index.text())?.[1];
  assert.ok(script, 'with the bearer token, / is the app');
  assert.equal((await get(script)).status, 401, 'the app\'s files need the token too');
  for (const route of ['/api/v1/status', '/api/v1/assets', '/api/v1/snapshots', '/api/v1/jobs', '/api/v1/stats', '/api/v1/events', '/metrics']) {
    const res = await get(route);
    assert.equal(res.status, 401, route);
    const body = (await res.json()) as { error: { code: string } };
    assert.equal(body.error.code, 'UNAUTHORIZED');
  }
  assert.equal((await get('/api/v1/status', { authorization: 'Bearer not-the-token-at-all' })).status, 401);
  assert.equal((await get('/healthz')).status, 200, '/healthz stays open for probes');
});

test('signing in: a wrong token is told so; the right one gives a session cookie that is not the token', async () => {
  const wrong = await form({ token: 'not-the-token-at-all', next: '/jobs' });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers.get('set-cookie'), null);
  assert.match(await wrong.text(), /That token is not the one this server was started with/);

  const right = await form({ token: TOKEN, next: `/assets/${VIOLATED}` });
  assert.equal(right.status, 303);
  assert.equal(right.headers.get('location'), `/assets/${VIOLATED}`);
  const cookie = right.headers.get('set-cookie') ?? '';
  assert.match(cookie, /^lifeboat_session_\d+=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
  assert.ok(!cookie.includes(TOKEN));
  const session = cookie.split(';')[0];

  const status = await get('/api/v1/status', { cookie: session });
  assert.equal(status.status, 200);
  assert.equal(((await status.json()) as { assets: unknown[] }).assets.length, 6);
  const events = await get('/api/v1/events', { cookie: session });
  assert.equal(events.status, 200, 'the event stream takes the cookie (an EventSource cannot send a header)');
  assert.match(events.headers.get('content-type') ?? '', /text\/event-stream/);
  await events.body?.cancel();
  assert.deepEqual(await (await get('/api/v1/session', { cookie: session })).json(), { auth: 'token', via: 'session' });

  const offsite = await fetch(`${serve.url}/api/v1/assets/llama-ft/backup`, { method: 'POST', headers: { cookie: session, origin: 'http://evil.example' } });
  assert.equal(offsite.status, 401, 'a POST from another site does not ride on the cookie');
  const sandboxed = await fetch(`${serve.url}/api/v1/assets/llama-ft/backup`, { method: 'POST', headers: { cookie: session, 'sec-fetch-site': 'cross-site' } });
  assert.equal(sandboxed.status, 401);
  const forged = await form({ token: TOKEN }, { origin: 'http://evil.example' });
  assert.equal(forged.status, 401, 'a sign-in posted from another site is refused');
  assert.equal(forged.headers.get('set-cookie'), null);
  assert.equal((await form({ token: TOKEN, next: 'https://evil.example/' })).headers.get('location'), '/', 'sign-in goes back only to a page of this dashboard');

  const forcedOut = await fetch(`${serve.url}/signout`, { method: 'POST', headers: { cookie: session, origin: 'http://evil.example' }, redirect: 'manual' });
  assert.equal(forcedOut.headers.get('set-cookie'), null, 'another site cannot sign a person out');
  assert.equal((await get('/api/v1/status', { cookie: session })).status, 200);
  const out = await fetch(`${serve.url}/signout`, { method: 'POST', headers: { cookie: session }, redirect: 'manual' });
  assert.equal(out.status, 303);
  assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
  assert.equal((await get('/api/v1/status', { cookie: session })).status, 401, 'the session is over');
  assert.equal((await get('/', { cookie: session })).status, 401);
});

test('serve refuses to listen off loopback without a token', async () => {
  const r = await runCli(['serve', '-c', config, '--listen', '0.0.0.0:0'], { cwd: dir, env: { LIFEBOAT_CONFIG: undefined, LIFEBOAT_SERVE_TOKEN: undefined } });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /refusing to listen on 0\.0\.0\.0:0 without a token/);
});
