// Screenshots of the main pages at phone and desktop width, in both
// languages and with large text, for people to look at; and axe-core
// accessibility checks that fail on serious or critical violations.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { before, test } from 'node:test';
import { DESKTOP, PHONE, harness, seriousA11yViolations, signIn } from '../lib/browser.mjs';
import { ADMIN_PASSWORD, ADMIN_USER } from '../lib/server.mjs';

const outDir = fileURLToPath(new URL('../screenshots/', import.meta.url));

const h = harness();

before(() => mkdir(outDir, { recursive: true }));

// Preferences are set as the /prefs form sets them, as cookies.
function prefCookies(lang, large) {
  const url = h.server.url;
  return [
    { name: 'lang', value: lang, url },
    { name: 'text', value: large ? 'large' : 'normal', url },
  ];
}

const viewports = { phone: PHONE, desktop: DESKTOP };
const variants = [
  { lang: 'zh-CN', large: false },
  { lang: 'en', large: false },
  { lang: 'zh-CN', large: true },
  { lang: 'en', large: true },
];

for (const [device, viewport] of Object.entries(viewports)) {
  for (const { lang, large } of variants) {
    const name = `${device}-${lang}${large ? '-large' : ''}`;
    test(`screenshots ${name}`, async () => {
      // bypassCSP only so that axe can be injected; other tests run under
      // the real policy.
      const context = await h.browser.newContext({ viewport, locale: lang, bypassCSP: true });
      await context.addCookies(prefCookies(lang, large));
      const page = await context.newPage();

      await page.goto(`${h.server.url}/login`);
      await page.screenshot({ path: `${outDir}login-${name}.png`, fullPage: true });
      assert.deepEqual(await seriousA11yViolations(page), [], 'login page accessibility');
      assert.ok(await noHorizontalScroll(page), 'login page scrolls sideways');

      await signIn(page, h.server.url, ADMIN_USER, ADMIN_PASSWORD);
      await page.screenshot({ path: `${outDir}home-${name}.png`, fullPage: true });
      assert.deepEqual(await seriousA11yViolations(page), [], 'home page accessibility');
      assert.ok(await noHorizontalScroll(page), 'home page scrolls sideways');

      await page.goto(`${h.server.url}/admin/users`);
      await page.screenshot({ path: `${outDir}users-${name}.png`, fullPage: true });
      assert.deepEqual(await seriousA11yViolations(page), [], 'accounts page accessibility');
      assert.ok(await noHorizontalScroll(page), 'accounts page scrolls sideways');

      await page.goto(`${h.server.url}/password`);
      await page.screenshot({ path: `${outDir}password-${name}.png`, fullPage: true });
      assert.deepEqual(await seriousA11yViolations(page), [], 'password page accessibility');

      // The API reference: long tables of routes and schemas must stay
      // inside a phone's width (tables scroll within themselves).
      await page.goto(`${h.server.url}/developers/api`);
      await page.screenshot({ path: `${outDir}apidoc-${name}.png` });
      assert.deepEqual(await seriousA11yViolations(page), [], 'API reference accessibility');
      assert.ok(await noHorizontalScroll(page), 'API reference scrolls sideways');
      await context.close();
    });
  }
}

// noHorizontalScroll reports whether the page fits the viewport's width: at
// 360px nothing may force sideways scrolling.
function noHorizontalScroll(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

// Pages in their error and warning states, at phone width, where messages
// must still sit next to their fields and nothing may overflow.
test('screenshots of error states on a phone', async () => {
  for (const lang of ['zh-CN', 'en']) {
    const context = await h.browser.newContext({ viewport: PHONE, locale: lang, bypassCSP: true });
    const page = await context.newPage();

    await page.goto(`${h.server.url}/login`);
    await page.locator('#f-username').fill(ADMIN_USER);
    await page.locator('#f-password').fill('not the password');
    await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.locator('form.stack button[type=submit]').click()]);
    await page.screenshot({ path: `${outDir}login-error-phone-${lang}.png`, fullPage: true });
    assert.deepEqual(await seriousA11yViolations(page), [], 'login error accessibility');

    await signIn(page, h.server.url, ADMIN_USER, ADMIN_PASSWORD);
    await page.goto(`${h.server.url}/admin/users`);
    const form = page.locator('form[method=post][action="/admin/users"]');
    await form.locator('#f-username').fill('Bad Name');
    await form.locator('#f-scope').fill('12ab');
    await form.locator('#f-password').fill('short');
    await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), form.locator('button[type=submit]').click()]);
    await page.screenshot({ path: `${outDir}users-error-phone-${lang}.png`, fullPage: true });
    assert.deepEqual(await seriousA11yViolations(page), [], 'create-account error accessibility');
    assert.ok(await noHorizontalScroll(page), 'create-account errors scroll sideways');

    // A new account lands on the password page with the must-change notice.
    const user = `newbie-${lang.toLowerCase()}`;
    const create = page.locator('form[method=post][action="/admin/users"]');
    await create.locator('#f-username').fill(user);
    await create.locator('#f-display_name').fill(lang === 'en' ? 'Wang Fang' : '王芳');
    await create.locator('#f-role').selectOption('grid_worker');
    await create.locator('#f-scope').fill('420106001002');
    await create.locator('#f-password').fill('temporary password');
    await Promise.all([page.waitForURL(/ok=created/), create.locator('button[type=submit]').click()]);
    await page.screenshot({ path: `${outDir}users-created-phone-${lang}.png`, fullPage: true });
    await context.close();

    const fresh = await h.browser.newContext({ viewport: PHONE, locale: lang, bypassCSP: true });
    const newbie = await fresh.newPage();
    await signIn(newbie, h.server.url, user, 'temporary password');
    assert.equal(new URL(newbie.url()).pathname, '/password');
    await newbie.screenshot({ path: `${outDir}password-must-change-phone-${lang}.png`, fullPage: true });
    assert.deepEqual(await seriousA11yViolations(newbie), [], 'must-change password accessibility');
    await fresh.close();
  }
});

// The auditor's journey: created by the administrator, forced to choose a
// password, then reading the audit log (a wide table) on a phone and a desktop.
test('screenshots of the audit log', async () => {
  const admin = await h.browser.newContext({ locale: 'zh-CN' });
  const page = await admin.newPage();
  await signIn(page, h.server.url, ADMIN_USER, ADMIN_PASSWORD);
  await page.goto(`${h.server.url}/admin/users`);
  const create = page.locator('form[method=post][action="/admin/users"]');
  await create.locator('#f-username').fill('auditor');
  await create.locator('#f-display_name').fill('审计员小刘');
  await create.locator('#f-role').selectOption('auditor');
  await create.locator('#f-password').fill('temporary password');
  await Promise.all([page.waitForURL(/ok=created/), create.locator('button[type=submit]').click()]);
  await admin.close();

  for (const [device, viewport] of Object.entries(viewports)) {
    const context = await h.browser.newContext({ viewport, locale: 'zh-CN', bypassCSP: true });
    const auditor = await context.newPage();
    if (device === 'phone') {
      await signIn(auditor, h.server.url, 'auditor', 'temporary password');
      assert.equal(new URL(auditor.url()).pathname, '/password');
      await auditor.locator('#f-current_password').fill('temporary password');
      await auditor.locator('#f-new_password').fill('auditor own password');
      await auditor.locator('#f-confirm_password').fill('auditor own password');
      await Promise.all([auditor.waitForURL(/\/\?ok=password$/), auditor.locator('form.stack button[type=submit]').click()]);
    } else {
      await signIn(auditor, h.server.url, 'auditor', 'auditor own password');
    }
    await Promise.all([auditor.waitForURL(`${h.server.url}/audit`), auditor.getByRole('navigation').getByRole('link', { name: '审计日志' }).click()]);
    await auditor.screenshot({ path: `${outDir}audit-${device}-zh-CN.png`, fullPage: true });
    assert.deepEqual(await seriousA11yViolations(auditor), [], 'audit page accessibility');
    assert.ok(await noHorizontalScroll(auditor), 'the audit page (outside its table) scrolls sideways');
    await context.close();
  }
});
