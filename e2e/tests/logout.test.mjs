// Signing out ends the session on the server, not only in the browser.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, signIn } from '../lib/browser.mjs';
import { ADMIN_PASSWORD, ADMIN_USER, startServer } from '../lib/server.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('logout ends the session', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await signIn(page, server.url, ADMIN_USER, ADMIN_PASSWORD);
  const old = (await context.cookies()).find((c) => c.name === 'gridhall_session');
  assert.ok(old, 'signed in with a session cookie');

  await Promise.all([page.waitForURL(`${server.url}/login`), page.getByRole('button', { name: 'Sign out' }).click()]);
  assert.equal((await context.cookies()).find((c) => c.name === 'gridhall_session'), undefined);

  await page.goto(`${server.url}/`);
  assert.equal(new URL(page.url()).pathname, '/login');

  // The old cookie, replayed by anyone who copied it, no longer works.
  const res = await fetch(`${server.url}/`, { headers: { Cookie: `gridhall_session=${old.value}` }, redirect: 'manual' });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/login');
  await context.close();
});
