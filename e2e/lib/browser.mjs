// Browser helpers for the e2e tests: Debian's chromium through
// playwright-core, signing in, and accessibility checks with axe-core.
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';

const axePath = fileURLToPath(new URL('../node_modules/axe-core/axe.min.js', import.meta.url));

export const PHONE = { width: 360, height: 740 };
export const DESKTOP = { width: 1280, height: 800 };

/** Launches headless chromium (CHROMIUM_PATH, else /usr/bin/chromium). */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/**
 * Records Content-Security-Policy violations of a page, so that a test can
 * prove the pages need no inline script or style.
 * @returns {string[]} the violation messages, filled as they happen
 */
export function watchCSP(page) {
  const violations = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) {
      violations.push(msg.text());
    }
  });
  return violations;
}

/** Signs in through the login form and waits for the page that follows. */
export async function signIn(page, baseURL, username, password) {
  await page.goto(`${baseURL}/login`);
  await page.locator('#f-username').fill(username);
  await page.locator('#f-password').fill(password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.locator('form.stack button[type=submit]').click()]);
}

/**
 * Runs axe-core on the page and returns its serious and critical
 * violations. The page's context must be created with bypassCSP: axe is
 * injected as an inline script, which the site's CSP rightly forbids.
 */
export async function seriousA11yViolations(page) {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).join('\n  ')}`);
}

/**
 * Registers before/after hooks that start a fresh GridHall server and a
 * browser for the test file, and returns a handle whose `server` and
 * `browser` are set once the hooks have run.
 */
export function harness() {
  const h = { server: undefined, browser: undefined };
  before(async () => {
    h.server = await startServer();
    h.browser = await launch();
  });
  after(async () => {
    await h.browser?.close();
    await h.server?.stop();
  });
  return h;
}

/**
 * Opens a browser context as a user of the server at baseURL (signed in
 * when username is given), in a language, on a viewport, optionally in
 * large-text mode. It returns the page, the CSP violations it records and
 * the script errors it throws. bypassCSP is only for the axe checks.
 */
export async function openAs(browser, baseURL, username, password,
  { lang = 'zh-CN', viewport = PHONE, large = false, bypassCSP = false, acceptDownloads = false } = {}) {
  const context = await browser.newContext({ viewport, locale: lang, bypassCSP, acceptDownloads });
  await context.addCookies([
    { name: 'lang', value: lang, url: baseURL },
    { name: 'text', value: large ? 'large' : 'normal', url: baseURL },
  ]);
  const page = await context.newPage();
  const csp = watchCSP(page);
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  if (username) await signIn(page, baseURL, username, password);
  return { context, page, csp, errors };
}

/** Fails when the page scrolls sideways: everything must fit a phone. */
export async function assertNoSidewaysScroll(page, what) {
  const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
  if (!fits) throw new Error(`${what} scrolls sideways`);
}
