// A case's whole journey on the demo street, through the pages only: a
// resident reports a burst water pipe on a phone by typing an address (no
// map) in three steps with a photo; the grid worker of that grid verifies
// it; the street's centre accepts, registers and dispatches it to the water
// department, which signs for it and handles it with a photo; the grid
// worker checks the result; the centre closes the case; the resident rates
// it "satisfied" and finds every step on the case's timeline. Every page
// runs under the site's real CSP, is photographed (phone zh-CN, desktop
// en, large text) and checked with axe in a context that bypasses the CSP
// (axe is injected as a script).
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DESKTOP, PHONE, assertNoSidewaysScroll, launch, openAs, seriousA11yViolations } from '../lib/browser.mjs';
import { DEMO_PASSWORD, startDemo } from '../lib/server.mjs';

const outDir = fileURLToPath(new URL('../screenshots/', import.meta.url));
const localesDir = new URL('../../internal/i18n/locales/', import.meta.url);
const LANGS = ['zh-CN', 'en'];
const STEPS = ['report', 'verify', 'accept', 'register', 'dispatch', 'sign', 'handle', 'check', 'close', 'rate'];

let server;
let browser;
const catalogs = {};
// The case the journey files, shared by the tests that follow it.
const journey = { id: 0, number: '', url: '', worker: '', address: '' };

before(async () => {
  await mkdir(outDir, { recursive: true });
  for (const lang of LANGS) {
    catalogs[lang] = JSON.parse(await readFile(new URL(`${lang}.json`, localesDir), 'utf8'));
  }
  server = await startDemo();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A message in a language, formatted like the server's fmt verbs. */
function t(lang, key, ...args) {
  let msg = catalogs[lang][key] ?? key;
  for (const a of args) msg = msg.replace(/%[sd]/, String(a));
  return msg;
}

/** An action's name as the pages label it (first letter capitalised). */
function actionName(lang, action) {
  const s = t(lang, `case.action.${action}`);
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Opens a browser context as username; see openAs. */
function open(username, opts = {}) {
  return openAs(browser, server.url, username, DEMO_PASSWORD, { ...opts });
}

async function shoot(page, name) {
  await page.screenshot({ path: join(outDir, `${name}.png`), fullPage: true });
}

/** A small PNG photo (a colour gradient), as a phone would attach one. */
function photo(name) {
  const w = 48;
  const h = 36;
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0; // no filter
    for (let x = 0; x < w; x++) {
      const i = y * (w * 3 + 1) + 1 + x * 3;
      raw[i] = x * 5;
      raw[i + 1] = y * 7;
      raw[i + 2] = 160;
    }
  }
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  return { name, mimeType: 'image/png', buffer: png };
}

/**
 * Takes a step through its form on the case page: fills what fill does,
 * submits, and waits for the confirmation.
 */
async function act(page, lang, action, fill = async () => {}) {
  await page.goto(journey.url);
  const form = page.locator(`#act-${action}`);
  // Forms under "more actions" wait in a closed list.
  const more = page.locator('details.more-actions');
  if ((await more.count()) > 0 && !(await form.isVisible())) await more.locator('summary').click();
  await form.waitFor();
  await fill(form);
  await Promise.all([page.waitForURL((u) => u.searchParams.get('ok') === action), form.locator('button[type=submit]').click()]);
  assert.equal((await page.locator('.notice').textContent()).trim(), t(lang, 'cases.page.notice.done', actionName(lang, action)));
}

test('a resident reports a burst water pipe on a phone in three steps by typing an address', async () => {
  const lang = 'zh-CN';
  const { context, page, csp, errors } = await open('resident', { lang, viewport: PHONE });
  // A real address of the demo street, as the resident would read it off
  // the building's door plate.
  const res = await context.request.get(`${server.url}/report/addresses?q=${encodeURIComponent('中南一路')}`);
  assert.equal(res.status(), 200);
  const [first] = await res.json();
  assert.ok(first?.address, 'the demo street has addresses');
  journey.address = first.address;

  // Count the pages the resident goes through before the confirmation.
  const visited = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) visited.push(new URL(frame.url()).pathname);
  });

  // Step 1: what — the group, then the category.
  await page.goto(`${server.url}/report`);
  await shoot(page, 'report-what-phone-zh-CN');
  await assertNoSidewaysScroll(page, 'report step 1');
  const group = page.locator('details.cat-group', { hasText: '民生诉求' });
  await group.locator('summary').click();
  await shoot(page, 'report-what-open-phone-zh-CN');
  await Promise.all([page.waitForURL(/category=M92001/), group.locator('a.cat-link', { hasText: '水电气暖报修' }).click()]);

  // Step 2: where — typing the address is enough.
  await page.locator('#f-address').fill(journey.address);
  await shoot(page, 'report-where-phone-zh-CN');
  await assertNoSidewaysScroll(page, 'report step 2');
  await Promise.all([page.waitForURL(/step=3/), page.locator('form.where-form button[type=submit]').click()]);

  // Step 3: the details and a photo.
  assert.equal(await page.locator('.steps li[aria-current=step]').textContent(), t(lang, 'cases.page.step.details'));
  await page.locator('#f-description').fill('楼道里的自来水管爆裂，水流了一地，楼下也在渗水。');
  await page.setInputFiles('#f-photos', photo('水管.png'));
  await shoot(page, 'report-details-phone-zh-CN');
  await assertNoSidewaysScroll(page, 'report step 3');
  await Promise.all([page.waitForURL(/\/report\/done\/\d+$/), page.locator('.submit-bar button[type=submit]').click()]);

  const pagesBefore = visited.filter((p) => !p.startsWith('/report/done/'));
  assert.ok(pagesBefore.length <= 3, `the report took ${pagesBefore.length} pages: ${visited.join(' → ')}`);
  journey.number = (await page.locator('#case-number').textContent()).trim();
  assert.match(journey.number, /^\d{8}-\d+$/);
  assert.equal((await page.locator('#case-state').textContent()).trim(), t(lang, 'case.state.reported'));
  journey.id = Number(new URL(page.url()).pathname.split('/').pop());
  journey.url = `${server.url}/cases/${journey.id}`;
  await shoot(page, 'report-done-phone-zh-CN');
  await assertNoSidewaysScroll(page, 'report confirmation');

  // The case page shows the photo.
  await page.goto(journey.url);
  await page.locator('.case-facts .thumbs img').first().waitFor();
  const loaded = await page.locator('.case-facts .thumbs img').first().evaluate((img) => img.complete && img.naturalWidth > 0);
  assert.ok(loaded, 'the photo thumbnail loads');
  assert.deepEqual(csp, [], 'no CSP violations');
  assert.deepEqual(errors, [], 'no script errors');
  await context.close();
});

test('the case goes through every step on its page, and the resident rates it', async () => {
  assert.ok(journey.id, 'the report was filed');
  // The street's centre reads where the case lies, and the grid's worker
  // from the territory.
  const street = await open('street', { lang: 'en', viewport: DESKTOP });
  await street.page.goto(journey.url);
  const grid = await street.page.locator('[data-grid]').getAttribute('data-grid');
  assert.match(grid, /^\d{15}$/);
  const res = await street.context.request.get(`${server.url}/api/v1/territory/nodes/${grid}/staff`);
  assert.equal(res.status(), 200);
  journey.worker = (await res.json()).items.find((m) => m.duty === 'worker')?.username;
  assert.match(journey.worker ?? '', /^gw\d\d$/, `the grid ${grid} has a worker`);

  // The grid worker finds it in the verify queue and verifies it on site.
  const gw = await open(journey.worker, { lang: 'zh-CN', viewport: PHONE });
  // (The queue is sorted by deadline, so a busy grid may list the new case
  // on a later page; its tab counts it, and its page offers the step.)
  await gw.page.goto(`${server.url}/work?queue=verify`);
  assert.ok(Number(await gw.page.locator('.tabs a[aria-current=page] .count').textContent()) >= 1, 'the verify queue counts the case');
  await shoot(gw.page, 'work-phone-zh-CN');
  await assertNoSidewaysScroll(gw.page, 'workbench');
  await act(gw.page, 'zh-CN', 'verify', (f) => f.locator('textarea[name=note]').fill('现场查看属实，水管接口破裂。'));

  // The centre accepts, registers and dispatches it to the water department.
  await act(street.page, 'en', 'accept');
  await act(street.page, 'en', 'register');
  await street.page.goto(`${server.url}/work?queue=dispatch`);
  await shoot(street.page, 'work-dispatch-desktop-en');
  await act(street.page, 'en', 'dispatch', (f) => f.locator('select[name=target]').selectOption('department:water'));
  await shoot(street.page, 'case-dispatched-desktop-en');

  // The water department signs for it and handles it, with a photo.
  const water = await open('water', { lang: 'zh-CN', viewport: PHONE });
  await water.page.goto(`${server.url}/work`);
  assert.ok(Number(await water.page.locator('.tabs a[aria-current=page] .count').textContent()) >= 1, 'the sign queue counts the case');
  await act(water.page, 'zh-CN', 'sign');
  await act(water.page, 'zh-CN', 'handle', async (f) => {
    await f.locator('textarea[name=note]').fill('已更换破裂的水管接口，恢复供水。');
    await f.locator('input[type=file]').setInputFiles(photo('修好了.png'));
  });
  await shoot(water.page, 'case-handled-phone-zh-CN');
  await assertNoSidewaysScroll(water.page, 'case page');

  // The grid worker checks the result; the centre closes the case.
  await act(gw.page, 'zh-CN', 'check');
  await act(street.page, 'en', 'close');

  // The resident is told, and rates the result.
  const resident = await open('resident', { lang: 'zh-CN', viewport: PHONE });
  // The outbox delivers in-app messages every few seconds.
  const told = resident.page.locator('.message', { hasText: journey.number }).first();
  for (let i = 0; i < 60 && !(await told.isVisible()); i++) {
    await resident.page.goto(`${server.url}/inbox`);
    if (!(await told.isVisible())) await resident.page.waitForTimeout(500);
  }
  assert.ok(await told.isVisible(), 'the inbox tells of the case');
  // The count reads "99+" past 99 (the demo's resident has a year of messages).
  assert.ok(parseInt(await resident.page.locator('.nav a[href="/inbox"] .count [aria-hidden=true]').textContent(), 10) > 0, 'the header counts unread messages');
  await shoot(resident.page, 'inbox-phone-zh-CN');
  await resident.page.goto(`${server.url}/cases/mine`);
  const rateLink = resident.page.locator(`a[href="/cases/${journey.id}#act-rate"]`);
  assert.ok(await rateLink.isVisible(), 'my reports ask for a rating');
  await shoot(resident.page, 'mine-phone-zh-CN');
  await act(resident.page, 'zh-CN', 'rate', (f) => f.locator('input[name=rating][value="1"]').check());

  // Every step is on the resident's timeline.
  const shown = (await resident.page.locator('.timeline .event-action').allTextContents()).map((s) => s.trim());
  for (const step of STEPS) {
    assert.ok(shown.includes(actionName('zh-CN', step)), `the timeline shows ${step}: ${shown.join(', ')}`);
  }
  assert.equal((await resident.page.locator('#case-state').textContent()).trim(), t('zh-CN', 'case.state.closed'));
  await shoot(resident.page, 'case-phone-zh-CN');
  await assertNoSidewaysScroll(resident.page, 'case page');

  for (const s of [street, gw, water, resident]) {
    assert.deepEqual(s.csp, [], 'no CSP violations');
    assert.deepEqual(s.errors, [], 'no script errors');
    await s.context.close();
  }
});

test('the case pages fit a desktop in English and large text on a phone', async () => {
  assert.ok(journey.id, 'the report was filed');
  for (const [variant, user, viewport, large, lang] of [
    ['desktop-en', 'street', DESKTOP, false, 'en'],
    ['phone-large-zh-CN', 'resident', PHONE, true, 'zh-CN'],
    ['phone-large-en', 'street', PHONE, true, 'en'],
  ]) {
    const { context, page, csp } = await open(user, { lang, viewport, large });
    const paths = [['case', `/cases/${journey.id}`], ['inbox', '/inbox']];
    if (user === 'resident') paths.push(['report-what', '/report'], ['mine', '/cases/mine']);
    else paths.push(['work', '/work'], ['figures', '/cases/figures'], ['quick', '/cases/new']);
    for (const [name, path] of paths) {
      await page.goto(`${server.url}${path}`);
      if (large) assert.equal(await page.locator('html.large-text').count(), 1, 'large text is on');
      await shoot(page, `${name}-${variant}`);
      await assertNoSidewaysScroll(page, `${path} ${variant}`);
    }
    // The report's steps at this size.
    await page.goto(`${server.url}/report?category=M92001`);
    await shoot(page, `report-where-${variant}`);
    await assertNoSidewaysScroll(page, `report step 2 ${variant}`);
    const step3 = `/report?${new URLSearchParams({ category: 'M92001', address: journey.address, step: '3' })}`;
    await page.goto(`${server.url}${step3}`);
    await shoot(page, `report-details-${variant}`);
    await assertNoSidewaysScroll(page, `report step 3 ${variant}`);
    assert.deepEqual(csp, [], 'no CSP violations');
    await context.close();
  }
});

test('a grid worker’s quick report asks what was fixed on the spot', async () => {
  assert.ok(journey.worker, 'the journey found the grid worker');
  const { context, page, csp, errors } = await open(journey.worker, { lang: 'zh-CN', viewport: PHONE });
  await page.goto(`${server.url}/cases/new?${new URLSearchParams({ category: 'M92001', address: journey.address, step: '3' })}`);
  assert.equal(await page.locator('#f-result').isVisible(), false, 'the result waits for the box');
  await page.locator('#f-self_handled').check();
  assert.ok(await page.locator('#f-result').isVisible(), 'ticking the box asks what was done');
  await shoot(page, 'quick-patrol-phone-zh-CN');
  await assertNoSidewaysScroll(page, 'quick report');
  assert.deepEqual(csp, [], 'no CSP violations');
  assert.deepEqual(errors, [], 'no script errors');
  await context.close();
});

test('a refused report is shown again with its problems in the reporter’s language', async () => {
  for (const lang of LANGS) {
    const { context, page, csp } = await open('resident', { lang, viewport: PHONE });
    await page.goto(`${server.url}/report?${new URLSearchParams({ category: 'M92001', address: journey.address, step: '3' })}`);
    // Too short: the browser lets it through (no minlength), the server refuses.
    await page.locator('#f-description').fill('漏');
    await Promise.all([page.waitForLoadState('load'), page.locator('.submit-bar button[type=submit]').click()]);
    assert.equal((await page.locator('#f-description-error').textContent()).trim(), t(lang, 'case.error.description_short'));
    assert.equal(await page.locator('#f-description').inputValue(), '漏', 'what was typed is kept');
    await shoot(page, `report-error-phone-${lang}`);
    await assertNoSidewaysScroll(page, 'refused report');
    // An address that names no building is refused at the second step.
    await page.goto(`${server.url}/report?category=M92001`);
    await page.locator('#f-address').fill('火星路999号');
    await Promise.all([page.waitForURL(/step=3/), page.locator('form.where-form button[type=submit]').click()]);
    assert.equal((await page.locator('#f-address-error').textContent()).trim(), t(lang, 'case.error.address_unknown'));
    assert.deepEqual(csp, [], 'no CSP violations');
    await context.close();
  }
});

test('the case pages have no serious accessibility violations', async () => {
  assert.ok(journey.id, 'the report was filed');
  const step3 = `/report?${new URLSearchParams({ category: 'M91001', address: journey.address, step: '3' })}`;
  const pages = [
    ['resident', '/report'],
    ['resident', '/report?category=M92001'],
    ['resident', step3],
    ['resident', `/report/done/${journey.id}`],
    ['resident', `/cases/${journey.id}`],
    ['resident', '/cases/mine'],
    ['resident', '/inbox'],
    ['street', `/cases/${journey.id}`],
    ['street', '/work'],
    ['street', '/work?queue=dispatch'],
    ['street', '/cases/figures'],
    ['street', '/cases/new?category=M92001'],
    ['street', `/cases/new?${new URLSearchParams({ category: 'M92001', address: journey.address, step: '3' })}`],
    [journey.worker, `/cases/new?${new URLSearchParams({ category: 'M92001', address: journey.address, step: '3' })}`],
  ];
  for (const lang of LANGS) {
    const contexts = {};
    for (const [user, path] of pages) {
      if (!contexts[user]) contexts[user] = await open(user, { lang, viewport: PHONE, bypassCSP: true });
      const { page } = contexts[user];
      await page.goto(`${server.url}${path}`);
      if (path === '/report') await page.locator('details.cat-group summary').first().click();
      assert.deepEqual(await seriousA11yViolations(page), [], `${path} as ${user} (${lang})`);
    }
    for (const c of Object.values(contexts)) await c.context.close();
  }
});
