/**
 * The dashboard in a real browser (Debian's chromium, playwright-core) against a real
 * `lifeboat serve` with a token, on a site made through the CLI (site.ts): what a person sees.
 * The violated asset is at the top, in the violated style, with its age; the asset page shows
 * the snapshot timeline, the lineage graph and the restore commands; "back up now" shows the backup's live progress
 * and its new snapshot; the drills page says there is no drill data, then, once drills are
 * recorded, shows them by tier with the RTO chart's points and each report's step timeline; it reads on a phone, works
 * from the keyboard, loads under 300 KB gzipped from this server alone, and keeps the last status
 * on screen, marked stale, while the repository does not answer. No page or API response holds
 * the token or the repository password.
 *
 * LIFEBOAT_UPDATE_SCREENSHOTS=1 writes the screenshots to docs/screenshots/ (README, docs/dashboard.md).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { TEST_PASSWORD } from '../helpers/test-repo.js';
import { launchBrowser, LAPTOP, openPage, PHONE, signIn } from './browser.js';
import { FAILED_DRILL, makeSite, NEVER, OWNED, recordDrills, safetensors, startServe, TRAIN_COMMIT, TRAIN_REPO, VIOLATED, VIOLATED_RPO_MS, type Serve } from './site.js';

const TOKEN = `dashboard-test-${randomBytes(12).toString('hex')}`;
const SCREENSHOTS = process.env.LIFEBOAT_UPDATE_SCREENSHOTS ? fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url)) : undefined;

let dir: string;
let config: string;
let serve: Serve;
let browser: Browser;
let laptop: BrowserContext;
let page: Page;
const errors: string[] = [];
/** Every body the browser received, to look for secrets in. */
const bodies: string[] = [];

/** A laptop's whole page; a phone's first screen. */
async function screenshot(p: Page, name: string): Promise<void> {
  const file = path.join(SCREENSHOTS ?? dir, `${name}.png`);
  await p.screenshot({ path: file, fullPage: !name.endsWith('-phone') });
  assert.ok((await fs.stat(file)).size > 10_000, `${name}.png is a picture`);
}

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-dashboard-'));
  config = await makeSite(dir);
  serve = await startServe(config, '127.0.0.2:0', TOKEN);
  browser = await launchBrowser();
  laptop = await browser.newContext(LAPTOP);
  laptop.on('response', (r) => void r.text().then((t) => bodies.push(t), () => {}));
  page = await openPage(laptop, errors);
  await signIn(page, `${serve.url}/`, TOKEN);
});

after(async () => {
  await browser?.close();
  await serve?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

test('overview: the violated asset is at the top, in the violated style, with its age; every tier is shown', async () => {
  const first = page.locator('.attention-item').first();
  await first.waitFor();
  assert.equal(await first.getAttribute('data-asset'), VIOLATED);
  const badge = first.locator('.badge');
  assert.equal(await badge.getAttribute('data-state'), 'violated');
  assert.equal((await badge.innerText()).trim(), 'Violated', 'the state is a word, not only a colour');
  assert.equal(await badge.locator('svg.icon').count(), 1, 'and an icon');
  assert.equal(await first.evaluate((e) => getComputedStyle(e).backgroundColor), 'rgb(253, 232, 230)', 'the violated background');
  assert.equal(await badge.evaluate((e) => getComputedStyle(e).color), 'rgb(180, 35, 24)', 'the violated colour');
  const text = await first.innerText();
  const age = /the last good backup is (\d+)s old, the RPO is 5s/.exec(text);
  assert.ok(age, `its age against its RPO: ${text}`);
  assert.ok(Number(age[1]) >= VIOLATED_RPO_MS / 1000);
  assert.equal(await page.locator('.attention-item').nth(1).getAttribute('data-asset'), NEVER, 'never backed up comes next');

  const firstRow = page.locator('li.asset').first();
  assert.equal(await firstRow.getAttribute('data-asset'), VIOLATED, 'in its tier too, what fails comes first');
  assert.match(await firstRow.locator('.rpo-text').innerText(), /last good backup \d+s ago; RPO 5s/);
  assert.equal(await firstRow.locator('.bar-violated').count(), 1, 'its age bar in the violated colour');
  for (const [tier, names] of [[1, [VIOLATED, NEVER, OWNED]], [2, ['eval-suite', 'vllm-serving']], [3, ['k8s-manifests']]] as const) {
    const shown = await page.locator(`section[aria-labelledby="tier-${tier}"] li.asset`).evaluateAll((els) => els.map((e) => e.getAttribute('data-asset')));
    assert.deepEqual(shown, names, `Tier ${tier}`);
  }
  assert.equal(await page.locator('[data-asset="k8s-manifests"] .badge').innerText(), 'In git');
  assert.match(await page.locator('[data-asset="llama-ft"]').innerText(), /dr-site: in sync/, 'replica lag per site');
  assert.match(await page.locator('.status-age').innerText(), /Status \d+s old/, 'how old the status is');
  const tiers = await page.locator('.tier-usage tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-tier')));
  assert.deepEqual(tiers, ['1', '2', '3'], 'stored bytes per tier');
  assert.match(await page.locator('.tier-usage tr[data-tier="3"]').innerText(), /0 B/);
  assert.match(await page.locator('[data-total="stored"]').innerText(), /KiB/);
  await screenshot(page, 'overview-laptop');
});

test('initial load: under 300 KB gzipped, every file from this server, no web font', async () => {
  const context = await browser.newContext(LAPTOP);
  const p = await openPage(context, errors);
  await signIn(p, `${serve.url}/`, TOKEN);
  const loaded: Array<{ url: string; type: string; gzipped: number }> = [];
  p.on('response', (r) => {
    const type = r.request().resourceType();
    if (type === 'fetch' || type === 'eventsource') return;
    void r.body().then((b) => loaded.push({ url: r.url(), type, gzipped: gzipSync(b).length }), () => {});
  });
  await p.reload();
  await p.locator('li.asset').first().waitFor();
  await p.waitForLoadState('networkidle').catch(() => {}); // the event stream stays open
  assert.ok(loaded.some((l) => l.type === 'script') && loaded.some((l) => l.type === 'stylesheet'), JSON.stringify(loaded));
  const total = loaded.reduce((s, l) => s + l.gzipped, 0);
  assert.ok(total < 300 * 1024, `initial load ${total} bytes gzipped`);
  assert.deepEqual(loaded.filter((l) => !l.url.startsWith(serve.url)), [], 'no CDN');
  assert.deepEqual(loaded.filter((l) => l.type === 'font'), [], 'no web font');
  await context.close();
});

test('asset page: the snapshot timeline, the lineage graph (model ← dataset version ← annotations, and the code commit), replicas, restore commands', async () => {
  await page.goto(`${serve.url}/assets/${OWNED}`);
  const items = page.locator('ol.timeline > li');
  await items.first().waitFor();
  const api = (await (await page.request.get(`${serve.url}/api/v1/snapshots?asset=${OWNED}`)).json()) as Array<{ id: string; time: string }>;
  assert.equal(api.length, 2);
  const shown = await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-snapshot')));
  assert.deepEqual(shown, [...api].sort((a, b) => b.time.localeCompare(a.time)).map((s) => s.id), 'newest first');
  assert.match(await items.nth(0).innerText(), /v2[\s\S]*latest[\s\S]*640 KiB in 3 file\(s\); added 1\d\d KiB stored/);
  assert.match(await items.nth(1).innerText(), /v1[\s\S]*512 KiB in 2 file\(s\); added 51\d KiB stored/);
  const graph = page.locator('.lineage-graph');
  await graph.waitFor();
  const model = graph.locator(`li[data-node="${OWNED}@v2"]`);
  assert.match(await model.locator('.lineage-facts').first().innerText(), /lr 2e-5 · eval_loss 1.42/);
  // The dataset version under the model, and the annotations it was made from under the dataset.
  const dataset = model.locator('li[data-node="eval-suite@v1"]');
  assert.match(await dataset.locator('.lineage-head').first().innerText(), /^dataset\s+eval-suite@v1/);
  assert.match(await dataset.locator(`li[data-node="${VIOLATED}@v1"] .lineage-head`).innerText(), new RegExp(`^annotations\\s+${VIOLATED}@v1`));
  assert.match(await model.locator('li[data-input="git"]').innerText(), new RegExp(`code\\s+${TRAIN_REPO.replace(/[.]/g, '\\.')} at ${TRAIN_COMMIT.slice(0, 12)}`));
  await page.goto(`${serve.url}/assets/vllm-serving`);
  assert.match(await page.locator('[data-empty="lineage"]').innerText(), /No lineage recorded/, 'an asset with none says so');
  await page.goto(`${serve.url}/assets/${OWNED}`);
  await items.first().waitFor();
  assert.match(await page.locator('section[aria-labelledby="copies"]').innerText(), /dr-site\s+in sync/);
  const commands = await page.locator('.command code').allInnerTexts();
  assert.ok(commands.includes(`lifeboat restore -c ${path.join(dir, 'lifeboat.yaml')} ${OWNED}@latest --target /srv/restore/${OWNED}`), commands.join('\n'));
  assert.ok(commands.some((c) => c.includes(`-r dr-site ${OWNED}@latest`)), 'from the replica too');
  assert.match(await page.locator('section[aria-labelledby="asset-jobs"]').innerText(), /backup/);
  await screenshot(page, 'asset-laptop');
});

test('back up now: the button starts a backup, its progress shows live, and the new snapshot joins the timeline', async () => {
  await fs.writeFile(path.join(dir, 'data', OWNED, 'checkpoint-2.safetensors'), safetensors(48 * 1024 * 1024));
  await page.goto(`${serve.url}/assets/${OWNED}`);
  await page.locator('ol.timeline > li').first().waitFor();
  // Every value the progress bar takes, as the person watching would have seen it.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { seenProgress: string[] }).seenProgress = seen;
    new MutationObserver(() => {
      const bar = document.querySelector('.backup-live [role=progressbar]');
      const v = bar?.getAttribute('aria-valuenow');
      if (v && seen[seen.length - 1] !== v) seen.push(v);
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
  await page.getByRole('button', { name: `Back up ${OWNED} now` }).click();
  await page.locator('.backup-live .running-job').waitFor({ timeout: 60_000 });
  assert.match(await page.locator('.backup-live').innerText(), /Backup running since .* on gpu-01/);
  await page.locator('section[aria-labelledby="backup-now"]').screenshot({ path: path.join(SCREENSHOTS ?? dir, 'backup-now-laptop.png') });
  await page.locator('.backup-live [data-finished="ok"]').waitFor({ timeout: 120_000 });
  const seen = (await page.evaluate(() => (window as unknown as { seenProgress: string[] }).seenProgress)).map(Number);
  assert.ok(seen.some((v) => v > 0 && v < 100), `progress moved while it ran: ${seen.join(' ')}`);
  assert.deepEqual([...seen].sort((a, b) => a - b), seen, 'and only forward');
  assert.match(await page.locator('.backup-live').innerText(), /Backup finished: snapshot [0-9a-f]{12}/);
  await page.locator('ol.timeline > li:nth-child(3)').waitFor();
  assert.match(await page.locator('ol.timeline > li').first().innerText(), /v3[\s\S]*latest[\s\S]*in 4 file\(s\)/);
});

test('jobs page: recent jobs with their result, the backup started from the button among them', async () => {
  await page.goto(`${serve.url}/jobs`);
  const job = page.locator('li.job').first();
  await job.waitFor();
  assert.equal(await job.getAttribute('data-kind'), 'backup');
  assert.equal(await job.getAttribute('data-result'), 'ok');
  assert.match(await job.innerText(), new RegExp(`backup\\s+${OWNED}`));
  await job.locator('summary').click();
  assert.match(await job.locator('.job-details').innerText(), /snapshot\s+[0-9a-f]{12}/);
  assert.ok((await page.locator('li.job[data-kind="verify"]').count()) >= 1, 'serve verified the repository when it started');
  assert.match(await page.locator('section[aria-labelledby="running"]').innerText(), /Nothing is running|backup|verify|retention|prune/);
});

test('drills page: says plainly that there is no drill data yet', async () => {
  await page.goto(`${serve.url}/drills`);
  const empty = page.locator('[data-empty="drills"]');
  await empty.waitFor();
  assert.match(await empty.innerText(), /^No drill data yet/);
  assert.equal(await page.locator('table').count(), 0, 'no made-up drill');
});

test("drills page: each tier's drills, the RTO chart with its points, a failed drill's report with its step timeline", async () => {
  await recordDrills(config);
  await page.goto(`${serve.url}/drills`);
  // Recorded by another process: they show at serve's next status refresh (every 2 s here); the failed drill was the last.
  const failed = page.locator(`section[aria-labelledby="drills-2"] tr[data-asset="${FAILED_DRILL}"]`);
  await failed.waitFor({ timeout: 30_000 });
  const owned = page.locator(`section[aria-labelledby="drills-1"] tr[data-asset="${OWNED}"]`);
  assert.match(await owned.innerText(), /2 \(2 met, 0 missed, 0 failed\)[\s\S]*RTO met/);
  const chart = page.locator(`figure.rto-chart[data-asset="${OWNED}"]`);
  assert.equal(await chart.locator('circle[data-verdict="met"]').count(), 2, 'one point per met drill');
  assert.match((await chart.locator('.rto-target-label').textContent()) ?? '', /^RTO \d/);
  // Both drills met the RTO: on the chart their points lie under the dashed target line.
  const targetY = Number(/^M[\d.]+,([\d.]+)/.exec((await chart.locator('.rto-target').getAttribute('d'))!)![1]);
  for (const cy of await chart.locator('circle.point').evaluateAll((cs) => cs.map((c) => Number(c.getAttribute('cy'))))) {
    assert.ok(cy > targetY, `a met drill's point (y ${cy}) is below the RTO line (y ${targetY})`);
  }
  assert.match(await failed.innerText(), /1 \(0 met, 0 missed, 1 failed\)[\s\S]*Failed[\s\S]*failed at smoke, nothing measured/);
  assert.equal(await page.locator(`figure.rto-chart[data-asset="${FAILED_DRILL}"] path.point-failed`).count(), 1, 'a failed drill is a cross: nothing was measured');
  await screenshot(page, 'drills');

  await page.locator(`.asset-drills[data-asset="${FAILED_DRILL}"] .drill-runs a`).first().click();
  await page.waitForURL(/\/drills\/[^/]+$/);
  const heading = page.locator('main h1');
  await heading.filter({ hasText: 'Drill of' }).waitFor();
  assert.match(await heading.innerText(), new RegExp(`^Drill of ${FAILED_DRILL}: FAILED`));
  const bars = page.locator('.step-timeline g.step-bar');
  assert.deepEqual(await bars.evaluateAll((gs) => gs.map((g) => `${g.getAttribute('data-step')}:${g.getAttribute('data-status')}`)), ['restore:ok', 'verify:ok', 'smoke:failed']);
  assert.equal(await page.locator('.step-timeline rect').count(), 3, 'every step that ran is a bar');
  assert.equal(await page.locator('tr[data-step="smoke"]').getAttribute('data-status'), 'failed');
  await page.locator('summary', { hasText: 'Output of smoke' }).click();
  assert.match(await page.locator('main').innerText(), /no leaderboard\.json: the harness has nothing to serve/, "the smoke step's own words are on the report");
  await screenshot(page, 'drill-report');

  const missing = await page.request.get(`${serve.url}/api/v1/drills/20990101T000000Z-000000`);
  assert.equal(missing.status(), 404);
  assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'NOT_FOUND_REPORT');
});

test('keyboard: Tab reaches the violated asset, Enter opens its page, focus goes to its heading', async () => {
  await page.goto(`${serve.url}/`);
  await page.locator('.attention-item').first().waitFor();
  let reached = false;
  for (let i = 0; i < 30 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate((name) => document.activeElement?.textContent === name, VIOLATED);
  }
  assert.ok(reached, 'Tab reaches the first asset link');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
  assert.equal(outline, 'solid', 'focus is visible');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${serve.url}/assets/${VIOLATED}`);
  await page.waitForFunction((name) => document.activeElement?.tagName === 'H1' && document.activeElement.textContent === name, VIOLATED);
  assert.match(await page.title(), new RegExp(`^${VIOLATED} · Lifeboat$`));
});

test('phone: one column, nothing wider than the screen, the violated asset still first', async () => {
  const phone = await browser.newContext(PHONE);
  const p = await openPage(phone, errors);
  await signIn(p, `${serve.url}/`, TOKEN);
  await p.locator('.attention-item').first().waitFor();
  assert.equal(await p.locator('.attention-item').first().getAttribute('data-asset'), VIOLATED);
  const widths = await p.evaluate(() => ({ page: document.documentElement.scrollWidth, screen: window.innerWidth }));
  assert.ok(widths.page <= widths.screen, `no sideways scrolling: ${JSON.stringify(widths)}`);
  await screenshot(p, 'overview-phone');
  await p.goto(`${serve.url}/assets/${OWNED}`);
  await p.locator('ol.timeline > li').first().waitFor();
  assert.ok(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'the asset page fits too (long commands scroll inside their box)');
  await screenshot(p, 'asset-phone');
  await phone.close();
});

test('a repository that does not answer: the last status stays on screen, marked stale, with the reason', async () => {
  await page.goto(`${serve.url}/`);
  await page.locator('.status-age[data-stale]').waitFor();
  assert.equal(await page.locator('.status-age').getAttribute('data-stale'), 'false');
  // The snapshots' folder turns into a file: every listing of the repository fails, as with a storage that does not answer.
  const snapshots = path.join(dir, 'repo', 'snapshots');
  await fs.rename(snapshots, `${snapshots}.away`);
  await fs.writeFile(snapshots, '');
  try {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      await page.reload();
      await page.locator('.status-age[data-stale]').waitFor();
      if ((await page.locator('.status-age').getAttribute('data-stale')) === 'true') break;
      await page.waitForTimeout(1000);
    }
    assert.equal(await page.locator('.status-age').getAttribute('data-stale'), 'true');
    assert.match(await page.locator('.status-age').innerText(), /Status \d+s old: the repository did not answer the last refresh \(.+\)/);
    assert.equal(await page.locator('.attention-item').first().getAttribute('data-asset'), VIOLATED, 'the last status is still shown');
    assert.equal(await page.locator('li.asset').count(), 6);
  } finally {
    await fs.rm(snapshots);
    await fs.rename(`${snapshots}.away`, snapshots);
  }
});

test('no page and no API response holds the token or the repository password; the page script made no error', async () => {
  assert.ok(bodies.length > 20, `${bodies.length} responses seen`);
  for (const secret of [TOKEN, TEST_PASSWORD]) assert.ok(!bodies.some((b) => b.includes(secret)), 'a secret in a response');
  assert.ok(!serve.stderr().includes(TOKEN), 'nor in the log');
  assert.deepEqual(errors, []);
});
