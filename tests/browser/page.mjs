// Opens the registry page at `/` in headless Chromium, as a policy officer
// would, and checks it against the seed's data files (not against the API the
// page itself reads): the map, hover and keyboard focus, the search, the date
// control, a download, the first view's size, WCAG 2.1 AA as axe-core checks
// it, and the layout at 360 px.
// Keeps a screenshot in $ARTEFACTS (default target/browser).
// Usage: node page.mjs http://127.0.0.1:8080
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

const base = process.argv[2];
if (!base) {
  console.error('usage: node page.mjs <service base url>');
  process.exit(2);
}
const repository = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const artefacts = process.env.ARTEFACTS ?? join(repository, 'target', 'browser');
mkdirSync(artefacts, { recursive: true });

// RFC 4180: quoted fields may hold commas, quotes ("") and line breaks.
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i += 1;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field || row.length) rows.push([...row, field]);
  return rows;
}
const seedTable = (file) => {
  const [header, ...rows] = parseCsv(readFileSync(join(repository, 'migration', 'seed', file), 'utf8').replace(/^(#.*\n)+/, ''));
  return rows.map((row) => Object.fromEntries(header.map((name, i) => [name, row[i]])));
};
// Every membership period of every municipality since 2015 (CBS), and the region names of 2025.
const memberships = seedTable('history/memberships.csv');
const regionNames = new Map(seedTable('regions.csv').map((r) => [r.code, r.name]));
const membersOn = (date) => memberships.filter((m) => m.valid_from <= date && (!m.valid_to || date < m.valid_to));
const today = new Date().toISOString().slice(0, 10);
const current = membersOn(today);
const regionOf = (code) => current.find((m) => m.municipality_code === code)?.region_code;

const failures = [];
const check = (condition, message) => {
  if (!condition) failures.push(message);
};

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium' });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const consoleErrors = [];
  const external = [];
  let transferred = 0;
  page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
  page.on('pageerror', (error) => consoleErrors.push(String(error)));
  page.on('request', (request) => request.url().startsWith(base) || external.push(request.url()));
  page.on('requestfinished', async (request) => {
    const sizes = await request.sizes().catch(() => null);
    if (sizes) transferred += sizes.responseBodySize + sizes.responseHeadersSize;
  });

  // The first view: a fresh browser, so nothing comes from its cache.
  await page.goto(base, { waitUntil: 'networkidle' });
  await page.waitForFunction(() => document.querySelectorAll('#kaart path.region').length > 0, null, { timeout: 15000 });
  const shapes = await page.locator('#kaart path.region').count();
  check(shapes === 42, `the map shows ${shapes} region shapes, not 42`);
  const firstView = transferred;
  check(firstView > 0 && firstView < 500 * 1024, `the first view transferred ${firstView} bytes (limit 500 KB)`);
  check(external.length === 0, `the page asked for something elsewhere: ${external.join(', ')}`);
  check((await page.getAttribute('html', 'lang')) === 'nl', 'the page is not marked lang="nl"');
  check((await page.locator('text=Bron: CBS').count()) > 0, 'the map has no "Bron: CBS" attribution');
  const municipalityRows = await page.locator('#gemeentetabel tbody tr').count();
  check(municipalityRows === current.length, `the table lists ${municipalityRows} municipalities today, the data ${current.length}`);
  const regionRows = await page.locator('#regiotabel tbody tr').count();
  check(regionRows === 42, `the region table has ${regionRows} rows`);

  // Hover and keyboard focus name a region.
  await page.hover('#vorm-JZ01');
  check((await page.textContent('#kaart-naam')).includes(`JZ01 ${regionNames.get('JZ01')}`), 'hovering JZ01 does not name it');
  await page.focus('#vorm-JZ39');
  check((await page.textContent('#kaart-naam')).includes('JZ39 Zuidoost-Brabant'), 'focusing JZ39 does not name it');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#regio h2:has-text("JZ39 Zuidoost-Brabant")', { timeout: 10000 });

  // The search finds names with accents, quotes and commas, and codes; the shown region is the data's.
  for (const [typed, code] of [
    ["'s-Gravenhage", 'GM0518'],
    ['s gravenhage', 'GM0518'],
    ['GM0772', 'GM0772'],
    ['Nuenen', 'GM0820'],
    ['Súdwest', 'GM1900'],
  ]) {
    await page.fill('#zoek', typed);
    const result = page.locator(`#zoekresultaten button[data-code="${code}"]`);
    await result.waitFor({ timeout: 5000 }).catch(() => {});
    const text = (await result.count()) ? await result.first().textContent() : '';
    const region = regionOf(code);
    check(text.includes(`${region} ${regionNames.get(region)}`), `searching ${typed} shows "${text}", not ${code} in ${region}`);
  }

  // A click opens a region; then searching Eindhoven shows JZ39 Zuidoost-Brabant with its 21 municipalities.
  await page.fill('#zoek', '');
  await page.click('#vorm-JZ01');
  await page.waitForSelector(`#regio h2:has-text("JZ01 ${regionNames.get('JZ01')}")`, { timeout: 10000 });
  await page.fill('#zoek', 'Eindhoven');
  await page.press('#zoek', 'Enter');
  await page.waitForSelector('#regio h2:has-text("JZ39 Zuidoost-Brabant")', { timeout: 10000 });
  const members = await page.locator('#regio section:has(h3:has-text("Gemeenten")) li').count();
  const expectedMembers = current.filter((m) => m.region_code === 'JZ39').length;
  check(members === 21 && expectedMembers === 21, `JZ39 shows ${members} municipalities, the data ${expectedMembers}`);
  check((await page.locator('#regio .source').count()) > 0, 'the region panel shows no sources');
  // WCAG 2.1 A and AA as axe-core checks them, with a region open and the full municipality table shown.
  await page.evaluate(() => { document.querySelector('#gemeenten').open = true; });
  // Evaluated through the DevTools protocol: the page's own policy allows no injected <script>.
  await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  const audit = await page.evaluate(() => axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }));
  check(audit.passes.length > 10, `axe-core checked only ${audit.passes.length} rules`);
  for (const violation of audit.violations) {
    const where = violation.nodes.slice(0, 3).map((node) => node.target.join(' ')).join(', ');
    check(false, `accessibility: ${violation.id} (${violation.impact}): ${violation.help} at ${where}`);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.hover('#vorm-JZ39');
  await page.screenshot({ path: join(artefacts, 'page.png'), fullPage: false });

  // The date control: the municipalities of 2018-06-01, including ones that no longer exist.
  const then = membersOn('2018-06-01');
  await page.fill('#peildatum', '2018-06-01');
  await page
    .waitForFunction((n) => document.querySelector('#gemeente-aantal').textContent === String(n), then.length, { timeout: 15000 })
    .catch(() => {});
  const thenRows = await page.locator('#gemeentetabel tbody tr').count();
  check(thenRows === then.length, `on 2018-06-01 the table lists ${thenRows} municipalities, the data ${then.length}`);
  const nuth = await page.locator('#gemeentetabel tbody tr[data-code="GM0951"]').textContent().catch(() => '');
  check(nuth.includes('Nuth') && nuth.includes('JZ41'), `Nuth (GM0951) on 2018-06-01: "${nuth}"`);
  check((await page.locator('#kaart path.region').count()) === 42, 'the 2018 map does not have 42 regions');
  check((await page.textContent('#kaart-bron')).includes('2018'), 'the 2018 map does not use the 2018 outlines');
  check(new URL(page.url()).searchParams.get('asOf') === '2018-06-01', 'the chosen date is not in the URL');

  // A download from the page parses with one row per municipality of that date.
  const [downloaded] = await Promise.all([page.waitForEvent('download'), page.click('a[data-export="municipalities.csv"]')]);
  const csv = parseCsv(readFileSync(await downloaded.path(), 'utf8'));
  check(csv[0].join(',') === 'code,name,region_code,region_name,province_code,province_name', `CSV header ${csv[0]}`);
  check(csv.length - 1 === then.length, `the CSV has ${csv.length - 1} rows, the data ${then.length}`);
  check(downloaded.suggestedFilename() === 'jeugdregio-municipalities-2018-06-01.csv', `file name ${downloaded.suggestedFilename()}`);

  // 360 px wide: nothing wider than the screen.
  await page.setViewportSize({ width: 360, height: 780 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  check(overflow <= 360, `at 360 px the page is ${overflow} px wide`);
  for (const table of ['#regiotabel', '#gemeentetabel']) {
    await page.evaluate(() => { document.querySelector('#gemeenten').open = true; });
    const [wide, room] = await page.$eval(table, (t) => [t.scrollWidth, t.parentElement.clientWidth]);
    check(wide <= room, `at 360 px ${table} is ${wide} px wide in ${room} px`);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(artefacts, 'page-360.png') });

  check(consoleErrors.length === 0, `console errors: ${consoleErrors.join(' | ')}`);
  if (failures.length) {
    console.error(`the registry page failed ${failures.length} checks (screenshots in ${artefacts}):`);
    for (const failure of failures) console.error(`- ${failure}`);
    process.exitCode = 1;
  } else {
    console.log(
      `the registry page works: 42 regions on the map, search, ${then.length} municipalities on 2018-06-01, ` +
        `a ${csv.length - 1}-row CSV, first view ${Math.round(firstView / 1024)} KB, ${audit.passes.length} WCAG rules passed; ` +
        `screenshot ${join(artefacts, 'page.png')}`,
    );
  }
} finally {
  await browser.close();
}
