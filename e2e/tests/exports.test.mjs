// Case exports through the pages, on the demo street: the street's centre
// exports its workbench as CSV on a phone, finds the file on /exports and
// downloads it. The pages run under the site's real CSP (the list offers a
// plain Refresh link, no script), fit a 360 px screen, are photographed and
// checked with axe in a context that bypasses the CSP (axe is injected as a
// script).
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PHONE, assertNoSidewaysScroll, launch, openAs, seriousA11yViolations } from '../lib/browser.mjs';
import { DEMO_PASSWORD, startDemo } from '../lib/server.mjs';

const outDir = fileURLToPath(new URL('../screenshots/', import.meta.url));
const localesDir = new URL('../../internal/i18n/locales/', import.meta.url);
const lang = 'zh-CN';

let server;
let browser;
let catalog;

before(async () => {
  await mkdir(outDir, { recursive: true });
  catalog = JSON.parse(await readFile(new URL(`${lang}.json`, localesDir), 'utf8'));
  server = await startDemo();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A message of the page's language. */
function t(key) {
  return catalog[key] ?? key;
}

async function shoot(page, name) {
  await page.screenshot({ path: join(outDir, `${name}.png`), fullPage: true });
}

test('street staff export the workbench as CSV on a phone and download it from /exports', async () => {
  const { context, page, csp, errors } = await openAs(browser, server.url, 'street', DEMO_PASSWORD,
    { lang, viewport: PHONE, acceptDownloads: true });
  await page.goto(`${server.url}/work`);
  const form = page.locator('#export');
  await form.locator('summary').click();
  await form.locator('#f-export-format').selectOption('csv');
  // The street's centre may not reveal residents' contacts: it is not even
  // asked, and the form says the file is masked.
  assert.equal(await form.locator('#f-export-unmasked').count(), 0);
  await form.getByText(t('exports.form.masked')).waitFor();
  await assertNoSidewaysScroll(page, 'the workbench with its export form');
  await shoot(page, 'exports-form-phone-zh-CN');
  await Promise.all([page.waitForURL(/\/exports\?ok=(ready|queued)$/), form.locator('button[type=submit]').click()]);

  // A large export is written in the background; the page offers a
  // Refresh link until it is ready.
  const card = page.locator('.export-card').first();
  for (let i = 0; i < 120 && (await card.locator('a[download]').count()) === 0; i++) {
    const refresh = page.getByRole('link', { name: t('exports.refresh') });
    assert.equal(await refresh.count(), 1, 'a page with an export being written offers a refresh');
    await sleep(1000);
    await Promise.all([page.waitForLoadState('load'), refresh.click()]);
  }
  await card.getByText(t('exports.state.ready'), { exact: true }).waitFor();
  await card.getByText(t('exports.format.csv'), { exact: true }).waitFor();
  await card.getByText(t('exports.masked'), { exact: true }).waitFor();
  assert.equal(await page.getByRole('link', { name: t('exports.refresh') }).count(), 0, 'no refresh once ready');
  await assertNoSidewaysScroll(page, '/exports');
  await shoot(page, 'exports-phone-zh-CN');

  const [download] = await Promise.all([page.waitForEvent('download'), card.locator('a[download]').click()]);
  assert.match(download.suggestedFilename(), /^cases-\d{8}-\d{6}-\d+\.csv$/);
  const text = await readFile(await download.path(), 'utf8');
  assert.ok(text.includes(t('export.column.number')), 'the file has its header in the page language');
  assert.ok(text.split('\n').length > 2, 'the file has cases');

  assert.deepEqual(csp, [], 'no CSP violations');
  assert.deepEqual(errors, [], 'no script errors');
  await context.close();

  const a11y = await openAs(browser, server.url, 'street', DEMO_PASSWORD, { lang, viewport: PHONE, bypassCSP: true });
  await a11y.page.goto(`${server.url}/exports`);
  assert.deepEqual(await seriousA11yViolations(a11y.page), [], '/exports');
  await a11y.page.goto(`${server.url}/work`);
  await a11y.page.locator('#export summary').click();
  assert.deepEqual(await seriousA11yViolations(a11y.page), [], '/work with the export form open');
  await a11y.context.close();
});
