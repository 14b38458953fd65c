// The people registry on the demo street: a search by name, a reveal with a
// reason, an import whose bad rows are reported through the mapping step, a
// visit recorded on a phone, the statistics with their charts, and a
// resident who signs up, confirms who they are and downloads their data.
// Every flow runs under the site's real CSP and is photographed at phone
// and desktop width in both languages; axe checks the same pages in a
// context that bypasses the CSP (axe is injected as a script).
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DESKTOP, PHONE, assertNoSidewaysScroll, launch, openAs, seriousA11yViolations } from '../lib/browser.mjs';
import { DEMO_PASSWORD, startDemo } from '../lib/server.mjs';

const outDir = fileURLToPath(new URL('../screenshots/', import.meta.url));
const localesDir = new URL('../../internal/i18n/locales/', import.meta.url);
const LANGS = ['zh-CN', 'en'];
const VIEWPORTS = { phone: PHONE, desktop: DESKTOP };

let server;
let browser;
const catalogs = {};

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

/** Opens a browser context as username; see openAs. */
function open(username, opts = {}) {
  return openAs(browser, server.url, username, DEMO_PASSWORD, { ...opts, acceptDownloads: true });
}

async function shoot(page, name) {
  await page.screenshot({ path: join(outDir, `${name}.png`), fullPage: true });
}

/** The check character of a mainland identity number (GB 11643). */
function idNumber(first17) {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, c, i) => s + Number(c) * weights[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

/** Searches the registry by a name prefix through the search form. */
async function searchByName(page, prefix) {
  await page.goto(`${server.url}/people`);
  await page.locator('#f-name').fill(prefix);
  await Promise.all([page.waitForURL(/\/people\?name=/), page.locator('form.search-form button[type=submit]').click()]);
}

/** Opens the first resident of the results, whichever layout is showing. */
async function openFirstResult(page) {
  await Promise.all([page.waitForURL(/\/people\/\d+$/), page.locator('.results a[href^="/people/"]:visible').first().click()]);
}

/** Reveals the identity number of the resident on the page. */
async function revealDocument(page, reason) {
  const details = page.locator('details.reveal').first();
  if ((await details.getAttribute('open')) === null) await details.locator('summary').click();
  await page.locator('#reason-document').fill(reason);
  await Promise.all([page.waitForLoadState('load'), details.locator('button[type=submit]').click()]);
}

test('a search by name prefix lists masked residents', async () => {
  for (const lang of LANGS) {
    for (const [device, viewport] of Object.entries(VIEWPORTS)) {
      const { context, page, csp, errors } = await open('cs01', { lang, viewport });
      await searchByName(page, '王');
      const rows = page.locator('.results a[href^="/people/"]:visible');
      assert.ok((await rows.count()) > 5, 'residents named 王… are listed');
      for (const name of await rows.allTextContents()) assert.ok(name.startsWith('王'), `${name} starts with 王`);
      const masked = await page.locator('.results .masked:visible').first().textContent();
      assert.match(masked, /^\d{4}\*{10}\d{3}[\dX]$/, 'identity numbers are masked');
      if (device === 'phone') assert.equal(await page.locator('.results table').isVisible(), false, 'cards, not a table, on a phone');
      else assert.equal(await page.locator('.results .cards').isVisible(), false, 'a table, not cards, on a desktop');
      await shoot(page, `people-search-${device}-${lang}`);
      await assertNoSidewaysScroll(page, `search ${device}`);
      // More results page by page.
      const more = page.locator('.pager a', { hasText: t(lang, 'registry.results.more') });
      assert.ok(await more.isVisible(), 'a link to more residents');
      assert.deepEqual(csp, [], 'no CSP violations');
      assert.deepEqual(errors, [], 'no script errors');
      await context.close();
    }
  }
});

test('a reveal needs a reason and shows the full number once', async () => {
  for (const lang of LANGS) {
    for (const [device, viewport] of Object.entries(VIEWPORTS)) {
      const { context, page, csp } = await open('cs01', { lang, viewport });
      await searchByName(page, '李');
      await openFirstResult(page);
      const residentURL = page.url();
      assert.match(await page.locator('.number-value.masked').first().textContent(), /\*{10}/);
      // Too short a reason: refused beside the field, in the user's language.
      await revealDocument(page, 'ab');
      assert.equal(await page.locator('#reason-document-error').textContent(), t(lang, 'people.reveal.reason'));
      assert.equal(await page.locator('#value-document').count(), 0, 'nothing revealed without a reason');
      if (device === 'phone') await shoot(page, `resident-reason-phone-${lang}`);
      await revealDocument(page, lang === 'en' ? 'Checking a pension application' : '核对养老金申请材料');
      const value = await page.locator('#value-document').textContent();
      assert.match(value, /^\d{17}[\dX]$/, 'the full identity number is shown');
      assert.equal(await page.locator('.notice').textContent(), t(lang, 'registry.reveal.done'));
      await shoot(page, `resident-revealed-${device}-${lang}`);
      await assertNoSidewaysScroll(page, `resident ${device}`);
      // Once: the resident's page masks it again.
      await page.goto(residentURL);
      assert.equal(await page.locator('#value-document').count(), 0, 'the number is hidden again');
      assert.ok(!(await page.content()).includes(value), 'the full number is not on the page any more');
      assert.deepEqual(csp, [], 'no CSP violations');
      await context.close();
    }
  }
});

test('an import with bad rows is reported row by row after the mapping step', async () => {
  const { context: api } = await open('cs01');
  const res = await api.request.get(`${server.url}/api/v1/buildings?limit=1`);
  assert.equal(res.status(), 200);
  const building = (await res.json()).items[0];
  await api.close();
  const birth = (n) => `420106198505${String(10 + n).padStart(2, '0')}${String(100 + n).padStart(3, '0')}`;
  const good = idNumber(birth(1));
  const wrongCheck = birth(2) + (idNumber(birth(2)).endsWith('0') ? '1' : '0');
  const rows = [
    ['居民', '公民身份号码', '联系电话', '楼栋', '单元', '门牌号', '与户主关系'],
    ['测试甲', good, '13800000001', building.name, '9', '901', '户主'],
    ['测试乙', wrongCheck, '', building.name, '9', '902', '户主'],
    ['测试丙', idNumber(birth(3)), '12345', building.name, '9', '903', '户主'],
    ['测试丁', good, '', building.name, '9', '904', '户主'],
    ['测试戊', idNumber(birth(5)), '', '不存在路99号', '9', '905', '户主'],
  ];
  const file = join(tmpdir(), '居民登记表.csv');
  await writeFile(file, rows.map((r) => r.join(',')).join('\r\n') + '\r\n');

  for (const lang of LANGS) {
    for (const [device, viewport] of Object.entries(VIEWPORTS)) {
      const { context, page, csp } = await open('cs01', { lang, viewport });
      await page.goto(`${server.url}/people/import`);
      await page.setInputFiles('#f-file', file);
      await Promise.all([page.waitForLoadState('load'), page.locator('button[value=columns]').click()]);
      // The mapping step: "居民" is not recognised as the name column.
      await page.locator('#map-name').waitFor();
      assert.equal(await page.locator('#map-document_number').inputValue(), '公民身份号码');
      assert.equal(await page.locator('#map-name').inputValue(), '');
      assert.ok((await page.locator('ol.problems').innerText()).includes(t(lang, 'sheet.column.missing')));
      await shoot(page, `import-columns-${device}-${lang}`);
      await page.locator('#map-name').selectOption('居民');
      await page.setInputFiles('#f-file', file);
      await Promise.all([page.waitForLoadState('load'), page.locator('button[value=check]').click()]);
      const report = await page.locator('#problems-heading + ol.problems, #problems-heading ~ ol.problems').first().innerText();
      for (const [line, key, ...args] of [
        [3, 'people.id.check'],
        [4, 'people.phone.format'],
        [5, 'people.import.duplicate_in_file', 2],
        [6, 'people.import.building_unknown'],
      ]) {
        assert.ok(report.includes(t(lang, 'registry.import.line', line)), `row ${line} listed: ${report}`);
        assert.ok(report.includes(t(lang, key, ...args)), `reason ${key} shown in ${lang}: ${report}`);
      }
      assert.ok(!report.includes(good) && !report.includes(wrongCheck), 'the report shows no identity number');
      await shoot(page, `import-report-${device}-${lang}`);
      await assertNoSidewaysScroll(page, `import report ${device}`);
      assert.deepEqual(csp, [], 'no CSP violations');
      await context.close();
    }
  }
});

test('a grid worker records a visit on a phone', async () => {
  for (const lang of LANGS) {
    const { context, page, csp, errors } = await open('gw01', { lang, viewport: PHONE });
    await page.goto(`${server.url}/visits/new`);
    const first = page.locator('.choices input[name=household]').first();
    await first.waitFor();
    await shoot(page, `visit-form-phone-${lang}`);
    await page.locator('.choices .choice').first().click();
    assert.ok(await first.isChecked(), 'a tap on the household ticks it');
    await page.locator('#finding-fire_hazard').check();
    const text = page.locator('#finding-fire_hazard-text');
    assert.ok(await text.isVisible(), 'the details box appears once the finding is ticked');
    await text.fill(lang === 'en' ? 'Bicycles block the stairwell' : '楼道堆放自行车');
    assert.equal(await page.locator('#finding-dispute-text').isVisible(), false, 'unticked findings keep their box hidden');
    await page.locator('#f-companions').fill(lang === 'en' ? 'Volunteer Chen' : '志愿者陈');
    await shoot(page, `visit-filled-phone-${lang}`);
    await Promise.all([page.waitForURL(/\/visits\?ok=recorded$/), page.locator('button[value=save]').click()]);
    assert.equal(await page.locator('.notice').textContent(), t(lang, 'visits.notice.recorded'));
    const visit = await page.locator('.card.visit').first().innerText();
    assert.ok(visit.includes(lang === 'en' ? 'Bicycles block the stairwell' : '楼道堆放自行车'), visit);
    assert.ok(visit.includes(t(lang, 'visits.finding.fire_hazard')), visit);
    await shoot(page, `visits-phone-${lang}`);
    await assertNoSidewaysScroll(page, 'visits');
    await page.goto(`${server.url}/care`);
    await page.locator('.card.care').first().waitFor();
    await shoot(page, `care-phone-${lang}`);
    await assertNoSidewaysScroll(page, 'care list');
    assert.deepEqual(csp, [], 'no CSP violations');
    assert.deepEqual(errors, [], 'no script errors');
    await context.close();
  }
});

test('the visit pages fit a desktop and large text on a phone', async () => {
  for (const lang of LANGS) {
    for (const [variant, viewport, large] of [['desktop', DESKTOP, false], ['phone-large', PHONE, true]]) {
      const { context, page, csp } = await open('gw01', { lang, viewport });
      await context.addCookies([{ name: 'text', value: large ? 'large' : 'normal', url: server.url }]);
      for (const [name, path] of [['visit-form', '/visits/new'], ['visits', '/visits'], ['care', '/care']]) {
        await page.goto(`${server.url}${path}`);
        if (large) assert.equal(await page.locator('html.large-text').count(), 1, 'large text is on');
        await shoot(page, `${name}-${variant}-${lang}`);
        await assertNoSidewaysScroll(page, `${path} ${variant}`);
      }
      await page.goto(`${server.url}/people?name=%E5%BC%A0`);
      await shoot(page, `people-search-${variant}-${lang}`);
      await assertNoSidewaysScroll(page, `search ${variant}`);
      assert.deepEqual(csp, [], 'no CSP violations');
      await context.close();
    }
  }
});

test('the statistics page draws its charts under the CSP', async () => {
  for (const lang of LANGS) {
    for (const [device, viewport] of Object.entries(VIEWPORTS)) {
      const { context, page, csp, errors } = await open('cs01', { lang, viewport });
      await page.goto(`${server.url}/stats`);
      for (const id of ['gender', 'ages', 'registration', 'tags']) {
        await page.locator(`#chart-${id} canvas`).first().waitFor();
      }
      assert.equal(await page.locator('#f-code').inputValue(), '420106001001', 'community staff start with their community');
      const residents = Number(await page.locator('.stats-facts dd').first().textContent());
      assert.ok(residents > 1000, `Community Y has ${residents} residents`);
      const ages = await page.locator('#h-ages ~ table tbody tr').count();
      assert.equal(ages, 6, 'six age bands');
      await shoot(page, `stats-${device}-${lang}`);
      await assertNoSidewaysScroll(page, `stats ${device}`);
      assert.deepEqual(csp, [], 'no CSP violations');
      assert.deepEqual(errors, [], 'no script errors');
      await context.close();
    }
  }
  // A grid worker sees one of their grids.
  const { context, page } = await open('gw01', { lang: 'en', viewport: DESKTOP });
  await page.goto(`${server.url}/stats`);
  await page.locator('#chart-gender canvas').waitFor();
  assert.equal(await page.locator('#f-code').inputValue(), '420106001001001');
  await context.close();
});

test('a resident signs up, confirms who they are and downloads their data', async () => {
  // Community staff look the resident's identity number up, as the
  // resident would read it off their card.
  const staff = await open('cs01', { lang: 'zh-CN', viewport: DESKTOP });
  await searchByName(staff.page, '张');
  await openFirstResult(staff.page);
  const name = (await staff.page.locator('h1').textContent()).trim();
  await revealDocument(staff.page, '协助居民核验身份');
  const number = await staff.page.locator('#value-document').textContent();
  await staff.context.close();

  for (const lang of LANGS) {
    const { context, page, csp } = await open(null, { lang, viewport: PHONE });
    await page.goto(`${server.url}/login`);
    await Promise.all([page.waitForURL(/\/signup$/), page.locator('a[href="/signup"]').click()]);
    await shoot(page, `signup-phone-${lang}`);
    const phone = lang === 'en' ? '13700001111' : '13700002222';
    await page.locator('#f-phone').fill(phone);
    await page.locator('#f-password').fill(DEMO_PASSWORD);
    await page.locator('#f-confirm_password').fill(DEMO_PASSWORD);
    await Promise.all([page.waitForURL(/\/me\?ok=welcome$/), page.locator('form.stack button[type=submit]').click()]);
    if (lang === 'en') {
      await page.locator('#f-name').fill(name);
      await page.locator('#f-document_number').fill(number);
      await Promise.all([page.waitForURL(/\/me\?ok=verified$/), page.locator('form.stack button[type=submit]').click()]);
      assert.equal(await page.locator('.notice').textContent(), t(lang, 'me.notice.verified'));
      assert.equal((await page.locator('main h2').first().textContent()).trim(), name);
      assert.ok(!(await page.content()).includes(number), 'the record page masks the identity number');
      await shoot(page, `me-phone-${lang}`);
      const [download] = await Promise.all([page.waitForEvent('download'), page.locator('a[href="/me/data"]').click()]);
      assert.equal(download.suggestedFilename(), 'my-data.json');
      const data = JSON.parse(await readFile(await download.path(), 'utf8'));
      assert.equal(data.record.document, number);
      assert.ok(data.access.some((a) => a.action === 'resident.reveal' && a.reason === '协助居民核验身份'), 'the reveal is in the access history');
    } else {
      // A wrong number is refused beside the field.
      await page.locator('#f-name').fill(name);
      await page.locator('#f-document_number').fill(idNumber('11010119900101123'));
      await Promise.all([page.waitForLoadState('load'), page.locator('form.stack button[type=submit]').click()]);
      assert.equal(await page.locator('#f-document_number-error').textContent(), t(lang, 'people.verify.no_match'));
      await shoot(page, `me-verify-phone-${lang}`);
    }
    assert.deepEqual(csp, [], 'no CSP violations');
    await context.close();
  }
});

test('the registry pages have no serious accessibility violations', async () => {
  const pages = [
    ['cs01', '/people?name=%E7%8E%8B'],
    ['cs01', '/people/import'],
    ['cs01', '/stats'],
    ['gw01', '/visits/new'],
    ['gw01', '/visits'],
    ['gw01', '/care'],
    [null, '/signup'],
  ];
  for (const lang of LANGS) {
    for (const [user, path] of pages) {
      const { context, page } = await open(user, { lang, viewport: PHONE, bypassCSP: true });
      await page.goto(`${server.url}${path}`);
      if (path === '/stats') await page.locator('#chart-tags canvas').waitFor();
      assert.deepEqual(await seriousA11yViolations(page), [], `${path} (${lang})`);
      await context.close();
    }
    // A resident's page with a reveal refused and one done.
    const { context, page } = await open('cs01', { lang, viewport: PHONE, bypassCSP: true });
    await searchByName(page, '刘');
    await openFirstResult(page);
    await revealDocument(page, 'ab');
    assert.deepEqual(await seriousA11yViolations(page), [], `resident with an error (${lang})`);
    await revealDocument(page, 'checking the record');
    assert.deepEqual(await seriousA11yViolations(page), [], `resident revealed (${lang})`);
    await context.close();
  }
});
