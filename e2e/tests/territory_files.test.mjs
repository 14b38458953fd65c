// The boundary files page: a district administrator uploads a file with
// problems and sees every one of them listed in their language, then
// downloads the current boundaries. Screenshots at phone width.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PHONE, launch, seriousA11yViolations, signIn, watchCSP } from '../lib/browser.mjs';
import { DEMO_PASSWORD, startDemo } from '../lib/server.mjs';

const outDir = fileURLToPath(new URL('../screenshots/', import.meta.url));

let server;
let browser;

before(async () => {
  await mkdir(outDir, { recursive: true });
  server = await startDemo();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const square = (a, b, c, d) => ({ type: 'Polygon', coordinates: [[[a, b], [c, b], [c, d], [a, d], [a, b]]] });

for (const [locale, overlap, badCode] of [
  ['en-US', 'overlaps a neighbouring place', '6, 9, 12, 15 or 18 digits'],
  ['zh-CN', '边界与同级相邻地点重叠', '代码须为 6、9、12、15 或 18 位数字'],
]) {
  test(`a rejected file lists every problem (${locale})`, async () => {
    const context = await browser.newContext({ locale, viewport: PHONE });
    const page = await context.newPage();
    const csp = watchCSP(page);
    await signIn(page, server.url, 'district', DEMO_PASSWORD);
    await page.goto(`${server.url}/territory`);
    const file = join(tmpdir(), `bad-${locale}.geojson`);
    await writeFile(file, JSON.stringify({
      type: 'FeatureCollection',
      features: [
        // Inside Community Y, across its first two grids.
        { type: 'Feature', properties: { code: '420106001001099', name: '重叠' }, geometry: square(114.3010, 30.5480, 114.3050, 30.5500) },
        { type: 'Feature', properties: { code: 'X1', name: '坏码' }, geometry: square(114.30, 30.54, 114.301, 30.541) },
      ],
    }));
    await page.setInputFiles('#f-file', file);
    await page.getByRole('button', { name: locale === 'en-US' ? 'Upload' : '上传' }).click();
    const list = page.locator('ol.problems');
    await list.waitFor();
    const text = await list.innerText();
    assert.ok(text.includes(overlap), `overlap reason shown: ${text}`);
    assert.ok(text.includes(badCode), `code reason shown: ${text}`);
    assert.ok(text.includes('420106001001001'), 'the overlapped grid is named');
    await page.screenshot({ path: join(outDir, `territory-files-phone-${locale}.png`), fullPage: true });
    assert.deepEqual(csp, [], 'no CSP violations');
    // Download the current boundaries.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('a[href="/territory/export"]').click()]);
    assert.equal(download.suggestedFilename(), 'territory.geojson');
    await context.close();

    // axe is injected as a script, which the real CSP forbids: check the
    // same page state in a context that bypasses it.
    const axeContext = await browser.newContext({ locale, viewport: PHONE, bypassCSP: true });
    const axePage = await axeContext.newPage();
    await signIn(axePage, server.url, 'district', DEMO_PASSWORD);
    await axePage.goto(`${server.url}/territory`);
    await axePage.setInputFiles('#f-file', file);
    await axePage.locator('form[action="/territory/import"] button[type=submit]').click();
    await axePage.locator('ol.problems').waitFor();
    assert.deepEqual(await seriousA11yViolations(axePage), []);
    await axeContext.close();
  });
}
