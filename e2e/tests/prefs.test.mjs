// The language switch and large-text mode stay chosen from page to page.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { harness, signIn, watchCSP } from '../lib/browser.mjs';
import { ADMIN_PASSWORD, ADMIN_USER } from '../lib/server.mjs';

const h = harness();

const rootFontSize = (page) => page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize));

test('language and large text persist across pages', async () => {
  const context = await h.browser.newContext({ locale: 'zh-CN' });
  const page = await context.newPage();
  const csp = watchCSP(page);
  await signIn(page, h.server.url, ADMIN_USER, ADMIN_PASSWORD);
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  const normal = await rootFontSize(page);

  await Promise.all([page.waitForURL(`${h.server.url}/`), page.getByRole('button', { name: 'English' }).click()]);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  const toggle = page.getByRole('button', { name: 'Large text' });
  assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
  await Promise.all([page.waitForURL(`${h.server.url}/`), toggle.click()]);
  assert.match((await page.getAttribute('html', 'class')) ?? '', /\blarge-text\b/);
  assert.equal(await page.getByRole('button', { name: 'Large text' }).getAttribute('aria-pressed'), 'true');
  const large = await rootFontSize(page);
  assert.ok(large >= normal * 1.25, `large text ${large}px is not ~1.3 × ${normal}px`);

  // Another page, reached through the navigation: still English, still large.
  await Promise.all([page.waitForURL(`${h.server.url}/admin/users`), page.getByRole('navigation').getByRole('link', { name: 'Accounts' }).click()]);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match((await page.getAttribute('html', 'class')) ?? '', /\blarge-text\b/);
  await assert.doesNotReject(page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor());

  // And after signing out and in again on a fresh browser: the account
  // remembers the language.
  const fresh = await h.browser.newContext({ locale: 'zh-CN' });
  const other = await fresh.newPage();
  await signIn(other, h.server.url, ADMIN_USER, ADMIN_PASSWORD);
  assert.equal(await other.getAttribute('html', 'lang'), 'en');
  await fresh.close();

  assert.deepEqual(csp, []);
  await context.close();
});
