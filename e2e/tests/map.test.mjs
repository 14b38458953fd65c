// The map page on the demo street: boundaries drawn, a grid's card, search,
// boundary editing refused for an overlap and accepted for a harmless
// change, screenshots at phone and desktop width in both languages, and
// accessibility checks. Everything runs under the site's real CSP except
// the axe checks, which need to inject a script.
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DESKTOP, PHONE, launch, seriousA11yViolations, signIn, watchCSP } from '../lib/browser.mjs';
import { DEMO_PASSWORD, startDemo } from '../lib/server.mjs';

const outDir = fileURLToPath(new URL('../screenshots/', import.meta.url));
const localesDir = new URL('../../internal/i18n/locales/', import.meta.url);

// Grid 5 of Community Y lies in the middle of the bottom row of its 3×2
// grids; grid 6 is its eastern neighbour.
const GRID = '420106001001005';
const NEIGHBOUR = '420106001001006';
const MIN_GRIDS = 15;

let server;
let browser;
const catalogs = {};

before(async () => {
  await mkdir(outDir, { recursive: true });
  for (const lang of ['en', 'zh-CN']) {
    catalogs[lang] = JSON.parse(await readFile(new URL(`${lang}.json`, localesDir), 'utf8'));
  }
  server = await startDemo();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Opens a signed-in page of the district administrator in a language. */
async function districtPage({ viewport = DESKTOP, lang = 'en', large = false, bypassCSP = false } = {}) {
  const context = await browser.newContext({ viewport, locale: lang, bypassCSP });
  await context.addCookies([
    { name: 'lang', value: lang, url: server.url },
    { name: 'text', value: large ? 'large' : 'normal', url: server.url },
  ]);
  const page = await context.newPage();
  const csp = watchCSP(page);
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await signIn(page, server.url, 'district', DEMO_PASSWORD);
  return { context, page, csp, errors };
}

/** Goes to /map and waits until the boundaries are drawn. */
async function openMap(page) {
  await page.goto(`${server.url}/map`);
  await page.waitForFunction((min) => document.querySelectorAll('path.map-grid').length >= min, MIN_GRIDS);
}

/** Searches for a code and takes the first result, as a keyboard user would. */
async function searchAndOpen(page, code) {
  await page.locator('#map-q').fill(code);
  await page.locator('.map-result').first().waitFor();
  await page.locator('#map-q').press('Enter');
  await page.locator('.map-card-code', { hasText: code }).waitFor();
  await page.locator('.map-facts').waitFor();
}

test('the map draws the demo grids and a clicked grid opens its card', async () => {
  const { context, page, csp, errors } = await districtPage({ lang: 'en' });
  await openMap(page);
  const grids = await page.locator('path.map-grid').count();
  assert.ok(grids >= MIN_GRIDS, `only ${grids} grid boundaries drawn`);
  assert.match(await page.locator('#map-status').textContent(), /grids \d+/);

  await page.locator(`path.map-grid[data-code="${GRID}"]`).click();
  const card = page.locator('#map-card');
  await card.locator('.map-facts').waitFor();
  assert.equal(await card.locator('.map-card-code').textContent(), GRID);
  const name = (await card.locator('#map-card-title').textContent()).trim();
  assert.ok(name.length > 0, 'the card has no name');
  assert.match(await card.textContent(), new RegExp(`Code\\s*${GRID}`));
  assert.ok(await card.locator('.crumbs li').count() >= 2, 'no breadcrumb of ancestors');
  assert.equal(await page.locator(`path.map-grid[data-code="${GRID}"]`).getAttribute('class').then((c) => c.includes('is-selected')), true);
  assert.equal(await card.locator('.map-edit-start').isVisible(), true, 'the district administrator is not offered editing');

  assert.deepEqual(csp, [], 'CSP violations');
  assert.deepEqual(errors, [], 'script errors');
  await context.close();
});

test('search finds places by name and code, and buildings by address', async () => {
  const { context, page } = await districtPage({ viewport: PHONE, lang: 'zh-CN' });
  await openMap(page);
  await page.locator('#map-q').fill('丁字桥');
  await page.locator('.map-result').first().waitFor();
  assert.match(await page.locator('#map-results').textContent(), /丁字桥社区/);
  await searchAndOpen(page, GRID);
  assert.equal(await page.locator('#map-results .map-result').count(), 0, 'results stay open after choosing');

  // Addresses come from the building search; choosing one marks the
  // building and opens the card of its grid.
  await page.locator('#map-q').fill('丁字桥路1号');
  const building = page.locator('.map-result', { hasText: '武汉市武昌区丁字桥路1号' }).first();
  await building.waitFor();
  await page.screenshot({ path: `${outDir}map-search-phone-zh-CN.png` });
  await building.click();
  await page.locator('.leaflet-marker-icon').waitFor();
  await page.screenshot({ path: `${outDir}map-building-phone-zh-CN.png` });
  assert.match(await page.locator('.map-card-code').textContent(), /^420106001002\d{3}$/, 'not the card of a grid of the building\'s community');
  await context.close();
});

test('a community worker sees the map without editing', async () => {
  const context = await browser.newContext({ viewport: PHONE, locale: 'en' });
  const page = await context.newPage();
  await signIn(page, server.url, 'cs01', DEMO_PASSWORD);
  await page.goto(`${server.url}/map`);
  await page.waitForFunction(() => document.querySelectorAll('path.map-grid').length > 0);
  await page.locator('path.map-grid').first().click();
  await page.locator('#map-card .map-facts').waitFor();
  assert.equal(await page.locator('.map-edit-start').count(), 0);
  await context.close();
});

// Geoman's corner handles are plain elements: the test drags one with the
// mouse, as a person would, rather than reaching into the page's script.
async function cornerHandles(page) {
  const handles = page.locator('.leaflet-marker-pane .marker-icon:not(.marker-icon-middle)');
  await handles.first().waitFor();
  const boxes = [];
  for (const h of await handles.all()) {
    const b = await h.boundingBox();
    if (b) boxes.push({ x: b.x + b.width / 2, y: b.y + b.height / 2 });
  }
  return boxes;
}

/**
 * Waits until the map stops moving: starting to edit zooms to the grid
 * with an animation, and a handle measured mid-flight is not where the
 * mouse will find it.
 */
async function settled(page) {
  let last = '';
  for (let i = 0; i < 50; i++) {
    const now = JSON.stringify(await cornerHandles(page));
    if (now === last) return;
    last = now;
    await page.waitForTimeout(150);
  }
  throw new Error('the map kept moving');
}

/** Drags the corner of the selected grid on its east side, halfway down, by dx pixels. */
async function dragEastCorner(page, dx) {
  await settled(page);
  const area = await page.locator(`path.map-grid[data-code="${GRID}"]`).boundingBox();
  const middle = (await cornerHandles(page)).filter((p) => p.y > area.y + area.height / 3 && p.y < area.y + (2 * area.height) / 3);
  assert.ok(middle.length > 0, 'no corner handle on the east side');
  const corner = middle.reduce((a, b) => (b.x > a.x ? b : a));
  await page.mouse.move(corner.x, corner.y);
  await page.mouse.down();
  await page.mouse.move(corner.x + dx / 2, corner.y, { steps: 5 });
  await page.mouse.move(corner.x + dx, corner.y, { steps: 5 });
  await page.mouse.up();
}

for (const lang of ['en', 'zh-CN']) {
  test(`an overlapping boundary is refused with the reason shown (${lang})`, async () => {
    const { context, page, csp, errors } = await districtPage({ lang });
    await openMap(page);
    await searchAndOpen(page, GRID);
    await page.locator('.map-edit-start').click();
    await page.locator('.map-save').waitFor();

    // Far into the eastern neighbour.
    await dragEastCorner(page, 90);
    await page.locator('.map-save').click();
    const alert = page.locator('.map-problems[role=alert]');
    await alert.waitFor();
    const text = await alert.textContent();
    assert.ok(text.includes(catalogs[lang]['territory.problem.overlaps_sibling']), `alert without the overlap reason: ${text}`);
    assert.ok(text.includes(NEIGHBOUR), `alert does not name the neighbour ${NEIGHBOUR}: ${text}`);
    assert.equal(await page.locator('.map-save').isVisible(), true, 'the edit closed after a refusal');
    assert.equal(await page.locator(`path[data-code="${NEIGHBOUR}"].is-conflict`).count(), 1, 'the neighbour is not marked');
    await page.screenshot({ path: `${outDir}map-edit-refused-desktop-${lang}.png` });

    // Cancel puts the old boundary back and leaves editing.
    await page.locator('.map-cancel').click();
    await page.locator('.map-edit-start').waitFor();
    assert.equal(await page.locator('.map-problems:visible').count(), 0, 'the refusal stays after cancel');
    assert.equal(await page.locator('.leaflet-marker-pane .marker-icon').count(), 0, 'corner handles left after cancel');
    assert.deepEqual(csp, [], 'CSP violations');
    assert.deepEqual(errors, [], 'script errors');
    await context.close();
  });
}

test('a boundary moved inside its own area is saved', async () => {
  const { context, page, errors } = await districtPage({ lang: 'en' });
  await openMap(page);
  await searchAndOpen(page, GRID);
  await page.locator('.map-edit-start').click();
  await page.locator('.map-save').waitFor();
  await dragEastCorner(page, -15);
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().includes(`/nodes/${GRID}/boundary`)),
    page.locator('.map-save').click(),
  ]);
  assert.equal(res.status(), 200, `PUT boundary: ${res.status()} ${await res.text()}`);
  await page.locator('#map-status', { hasText: catalogs.en['map.edit.saved'] }).waitFor();
  await page.locator('.map-edit-start').waitFor();
  assert.equal(await page.locator('.map-card-code').textContent(), GRID, 'the card closed after saving');
  assert.deepEqual(errors, [], 'script errors');
  await context.close();
});

const viewports = { phone: PHONE, desktop: DESKTOP };
for (const [device, viewport] of Object.entries(viewports)) {
  for (const { lang, large } of [
    { lang: 'zh-CN', large: false },
    { lang: 'en', large: false },
    { lang: 'zh-CN', large: true },
  ]) {
    const name = `${device}-${lang}${large ? '-large' : ''}`;
    test(`map screenshots ${name}`, async () => {
      const { context, page } = await districtPage({ viewport, lang, large, bypassCSP: true });
      await openMap(page);
      await page.screenshot({ path: `${outDir}map-${name}.png` });
      assert.deepEqual(await seriousA11yViolations(page), [], 'map page accessibility');
      assert.ok(
        await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
        'the map page scrolls sideways'
      );

      await page.locator(`path.map-grid[data-code="${GRID}"]`).click();
      await page.locator('#map-card .map-facts').waitFor();
      await page.screenshot({ path: `${outDir}map-card-${name}.png` });
      assert.deepEqual(await seriousA11yViolations(page), [], 'map card accessibility');
      await context.close();
    });
  }
}
