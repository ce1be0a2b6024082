// webui.mjs - the web page end to end in headless Chromium (Debian's, driven by playwright-core):
// log in, see the running executor, pause and resume it behind the typed confirmation, open an
// instance log, see a task's run chart, stop the scheduler and see the red banner, and check
// that a viewer gets no controls. Prints one "ok - " or "FAIL - " line per check.
// Usage: node webui.mjs BASE_URL EXECUTOR_ID TASK_NAME MARKER SHOT_DIR (env NORC_PW_DIR: the
// folder holding node_modules/playwright-core).
import { createRequire } from 'node:module';

const require = createRequire(process.env.NORC_PW_DIR + '/');
const { chromium } = require('playwright-core');
const [base, eid, taskName, marker, shots] = process.argv.slice(2);
let failed = 0;
const ok = (d) => console.log(`ok   - ${d}`);
const bad = (d, e) => { failed++; console.log(`FAIL - ${d}${e ? `: ${String(e).split('\n')[0]}` : ''}`); };
let shotNo = 0;
async function check(desc, fn) {
  try { await fn(); ok(desc); } catch (e) {
    bad(desc, e.message || e);
    for (const p of pages) await p.screenshot({ path: `${shots}/fail-${++shotNo}.png`, fullPage: true }).catch(() => {});
  }
}
const pages = [];
function expect(cond, msg) { if (!cond) throw new Error(msg); }

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const problems = [];
async function newPage() {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(10000);
  pages.push(page);
  // 401 and 403 answers are expected (before login, a wrong password); the browser logs them
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[13]/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('requestfailed', (r) => { // a reload aborts what was in flight: not a failure
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()}`);
  });
  page.on('request', (r) => { if (!r.url().startsWith(base)) problems.push(`outside request: ${r.url()}`); });
  return page;
}
async function login(page, user, password) {
  await page.goto(base + '/');
  await page.locator('#login-form').waitFor({ state: 'visible' });
  await page.fill('#login-user', user);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
  await page.locator('#app').waitFor({ state: 'visible' });
}
// Poll the API (with the page's session) until fn(json) holds.
async function until(page, path, fn, secs = 10) {
  for (let i = 0; i < secs * 10; i++) {
    const r = await page.request.get(base + path);
    if (r.ok() && fn(await r.json())) return;
    await page.waitForTimeout(100);
  }
  throw new Error(`timed out waiting on ${path}`);
}
const execRow = (page) => page.locator(`#executors tr[data-id="${eid}"]`).first();

const page = await newPage();
await check('the login form comes first, and a wrong password is refused on the page', async () => {
  await page.goto(base + '/');
  await page.locator('#login-form').waitFor({ state: 'visible' });
  expect(await page.locator('#app').isHidden(), 'the app shows before login');
  await page.fill('#login-user', 'root');
  await page.fill('#login-password', 'not-the-password');
  await page.click('#login-submit');
  await page.locator('#login-error').waitFor({ state: 'visible' });
  expect(/wrong user name or password/.test(await page.textContent('#login-error')), 'no error text');
});
await check('log in as admin', async () => {
  await login(page, 'root', 'admin-secret-1');
  expect(/root/.test(await page.textContent('#user-info')), 'user not shown');
});
await check('the running executor is listed, green', async () => {
  const row = execRow(page);
  await row.waitFor();
  const st = row.locator('td.status');
  expect(/RUNNING/.test(await st.textContent()), `status ${await st.textContent()}`);
  expect(await st.evaluate((e) => e.classList.contains('status_good')), 'not status_good');
  expect(await page.locator('#no-scheduler-banner').isHidden(), 'banner shown with a scheduler alive');
  expect(/Last updated at: \d/.test(await page.textContent('#last-updated')), 'no last-updated stamp');
});
await check('pause needs the typed confirmation, then the executor is PAUSED', async () => {
  await execRow(page).locator('button.control[data-request="pause"]').click();
  await page.locator('#confirm-dialog').waitFor({ state: 'visible' });
  expect(/type "pause" below/.test(await page.textContent('#confirm-text')), 'no typed-confirmation text');
  expect(await page.locator('#confirm-ok').isDisabled(), 'OK enabled before typing');
  await page.fill('#confirm-input', 'paus');
  expect(await page.locator('#confirm-ok').isDisabled(), 'OK enabled for a wrong word');
  await page.fill('#confirm-input', 'pause');
  await page.click('#confirm-ok');
  await page.locator('#flash').waitFor({ state: 'visible' });
  await until(page, `/api/executors`, (j) => j.data.some((r) => r.id == eid && r.status === 'PAUSED'));
  await page.reload();
  await page.locator('#app').waitFor({ state: 'visible' });
  await page.waitForFunction((id) => /PAUSED/.test(document.querySelector(`#executors tr[data-id="${id}"] td.status`)?.textContent || ''), eid);
});
await check('resume it the same way', async () => {
  await execRow(page).locator('button.control[data-request="resume"]').click();
  await page.fill('#confirm-input', 'resume');
  await page.click('#confirm-ok');
  await until(page, `/api/executors`, (j) => j.data.some((r) => r.id == eid && r.status === 'RUNNING'));
});
await check('expand the executor and open an instance log', async () => {
  await page.reload();
  await page.locator('#app').waitFor({ state: 'visible' });
  await execRow(page).locator('td').first().click();
  const nested = page.locator(`#executors tr.nested[data-for="${eid}"]`);
  await nested.waitFor();
  const st = nested.locator('tr[data-id]', { hasText: taskName }).locator('td.status').first();
  await st.waitFor();
  await st.click();
  await page.locator('#log-viewer').waitFor({ state: 'visible' });
  await page.waitForFunction((m) => document.querySelector('#log-text').textContent.includes(m), marker);
  expect(/local/.test(await page.textContent('#log-source')), 'no log source');
  await page.keyboard.press('Escape');
  await page.locator('#log-viewer').waitFor({ state: 'hidden' });
});
await check('a task shows its run chart: green runs and a red one', async () => {
  const row = page.locator('#tasks tr[data-id]', { hasText: taskName }).first();
  await row.locator('td').first().click();
  const chart = page.locator('#tasks svg.run-chart');
  await chart.waitFor();
  const okRuns = await chart.locator('circle.run.ok').count();
  const failRuns = await chart.locator('circle.run.fail').count();
  expect(okRuns >= 2 && failRuns >= 1, `ok ${okRuns}, fail ${failRuns}`);
  await page.screenshot({ path: `${shots}/chart.png`, fullPage: true });
});
await check('stop the scheduler from the page: the red banner appears', async () => {
  const row = page.locator('#schedulers tr[data-id]').first();
  await row.locator('button.control[data-request="stop"]').click();
  await page.fill('#confirm-input', 'stop');
  await page.click('#confirm-ok');
  await page.locator('#no-scheduler-banner').waitFor({ state: 'visible', timeout: 25000 });
  expect(await page.evaluate(() => document.body.classList.contains('no-scheduler')), 'body not marked');
  await page.screenshot({ path: `${shots}/banner.png`, fullPage: true });
});
const viewer = await newPage();
await check('a viewer sees the executors but no controls', async () => {
  await login(viewer, 'val', 'viewer-secret-1');
  await execRow(viewer).waitFor();
  expect(await viewer.locator('button.control').count() === 0, 'controls shown to a viewer');
});
await check('no script errors, no request outside the server', async () => {
  expect(problems.length === 0, problems.join(' | '));
});
await browser.close();
process.exit(failed ? 1 : 0);
