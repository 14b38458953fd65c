// Signing out ends the session on the server, not only in the browser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { harness, signIn } from '../lib/browser.mjs';
import { ADMIN_PASSWORD, ADMIN_USER } from '../lib/server.mjs';

const h = harness();

test('logout ends the session', async () => {
  const context = await h.browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await signIn(page, h.server.url, ADMIN_USER, ADMIN_PASSWORD);
  const old = (await context.cookies()).find((c) => c.name === 'gridhall_session');
  assert.ok(old, 'signed in with a session cookie');

  await Promise.all([page.waitForURL(`${h.server.url}/login`), page.getByRole('button', { name: 'Sign out' }).click()]);
  assert.equal((await context.cookies()).find((c) => c.name === 'gridhall_session'), undefined);

  await page.goto(`${h.server.url}/`);
  assert.equal(new URL(page.url()).pathname, '/login');

  // The old cookie, replayed by anyone who copied it, no longer works.
  const res = await fetch(`${h.server.url}/`, { headers: { Cookie: `gridhall_session=${old.value}` }, redirect: 'manual' });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/login');
  await context.close();
});
