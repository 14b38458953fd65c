// Signing in: errors in the visitor's language, and the way to the home page.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { harness, signIn, watchCSP } from '../lib/browser.mjs';
import { ADMIN_PASSWORD, ADMIN_USER } from '../lib/server.mjs';

const h = harness();

test('a wrong password shows the error in the chosen language', async () => {
  const context = await h.browser.newContext({ locale: 'zh-CN' });
  const page = await context.newPage();
  const csp = watchCSP(page);
  await page.goto(`${h.server.url}/login`);
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');

  await page.locator('#f-username').fill(ADMIN_USER);
  await page.locator('#f-password').fill('not the password');
  const [res] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: '登录' }).click()]);
  assert.equal(res.status(), 401);
  await assert.doesNotReject(page.getByRole('alert').filter({ hasText: '用户名或密码错误。' }).waitFor());
  // The user name is kept, the password is not.
  assert.equal(await page.locator('#f-username').inputValue(), ADMIN_USER);
  assert.equal(await page.locator('#f-password').inputValue(), '');

  await Promise.all([page.waitForURL(`${h.server.url}/login`), page.getByRole('button', { name: 'English' }).click()]);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.locator('#f-username').fill(ADMIN_USER);
  await page.locator('#f-password').fill('still not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await assert.doesNotReject(page.getByRole('alert').filter({ hasText: 'Wrong user name or password.' }).waitFor());
  assert.deepEqual(csp, []);
  await context.close();
});

test('the right password reaches the home page', async () => {
  const context = await h.browser.newContext({ locale: 'zh-CN' });
  const page = await context.newPage();
  const csp = watchCSP(page);
  await signIn(page, h.server.url, ADMIN_USER, ADMIN_PASSWORD);
  assert.equal(new URL(page.url()).pathname, '/');
  await assert.doesNotReject(page.getByRole('heading', { level: 1, name: `您好，${ADMIN_USER}` }).waitFor());
  await assert.doesNotReject(page.getByText('系统管理员').first().waitFor());
  await assert.doesNotReject(page.getByRole('link', { name: '账号管理' }).first().waitFor());
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'gridhall_session');
  assert.ok(session, 'session cookie set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Lax');
  assert.deepEqual(csp, []);
  await context.close();
});
