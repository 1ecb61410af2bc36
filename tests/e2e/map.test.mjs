// The map page in a real browser (Debian's headless Chromium), against the real server with a
// fresh store. Screenshots of the main states go to tests/e2e/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { axeViolations, firstNumber, launchBrowser, listUpdate, newPage, ready, screenshot, startServer } from './lib/harness.mjs';

const REPORT_EMAIL = 'signalement@example.org';
const NANTES = { latitude: 47.2184, longitude: -1.5536 };
const DESKTOP = { width: 1280, height: 800 };

let server;
let browser;

before(async () => {
  server = await startServer({ ANCRAGE_REPORT_EMAIL: REPORT_EMAIL });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function open(path = '/', options = {}) {
  const page = await newPage(browser, server, { viewport: DESKTOP, ...options });
  await page.goto(`${server.url}${path}`);
  await ready(page);
  return page;
}


async function mapIdle(page) {
  await page.evaluate(
    () =>
      new Promise((resolve) => {
        const { map } = window.ancrage;
        if (map.loaded() && !map.isMoving()) resolve();
        else map.once('idle', resolve);
      }),
  );
}

/** Clicks the first cluster drawn on the map. */
async function clickFirstCluster(page) {
  const point = await page.evaluate(() => {
    const { map } = window.ancrage;
    const f = map.queryRenderedFeatures({ layers: ['clusters'] })[0];
    const p = map.project(f.geometry.coordinates);
    const r = map.getCanvas().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  });
  await page.mouse.click(point.x, point.y);
}



function metres(text) {
  const t = text.replace(/[\u202f\u00a0]/g, ' ').trim();
  const m = /^([\d ]+(?:[.,]\d+)?) (m|km)$/.exec(t);
  assert.ok(m, `distance text ${t}`);
  const v = Number(m[1].replace(/ /g, '').replace(',', '.'));
  return m[2] === 'km' ? v * 1000 : v;
}

test('the page loads offline with a drawn map, clusters, a legend and a list', async () => {
  const page = await open('/');
  await mapIdle(page);
  assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
  assert.match(await page.title(), /Ancrage/);
  const drawn = await page.evaluate(() => {
    const { map } = window.ancrage;
    return {
      clusters: map.queryRenderedFeatures({ layers: ['clusters'] }).length,
      departements: map.querySourceFeatures('departements').length,
    };
  });
  assert.ok(drawn.clusters > 10, `clusters drawn: ${drawn.clusters}`);
  assert.ok(drawn.departements > 50, 'offline basemap drawn from the département outlines');
  const status = await page.locator('#list-status').textContent();
  assert.match(status, /lieux dans la vue/);
  assert.equal(await page.locator('#list .item').count(), 100);
  await page.locator('#legend summary').click();
  assert.ok((await page.locator('#legend-list li').count()) >= 12);
  assert.match(await page.locator('.maplibregl-ctrl-attrib').textContent(), /IGN ADMIN EXPRESS.*INSEE|INSEE.*IGN ADMIN EXPRESS/s);
  assert.ok(await page.locator('.item .badge', { hasText: 'Donnée de démonstration' }).first().isVisible());
  await screenshot(page, 'desktop-france');
  // A cluster expands on click: the map zooms in.
  const zoom = await page.evaluate(() => window.ancrage.map.getZoom());
  await clickFirstCluster(page);
  await page.waitForFunction((z) => window.ancrage.map.getZoom() > z + 0.5, zoom, { timeout: 10_000 });
  assert.deepEqual(await axeViolations(page), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('while demonstration data is shown, the map says how many places are real and how many fictitious', async () => {
  const config = await (await fetch(`${server.url}/api/v1/map/config`)).json();
  const real = (await (await fetch(`${server.url}/api/v1/actors?limit=1&demo=exclude`)).json()).numberMatched;
  assert.ok(config.demo_actors > 0 && real > 0, JSON.stringify(config));
  const fr = new Intl.NumberFormat('fr-FR');
  const page = await open('/');
  const banner = page.locator('#demo-banner');
  assert.ok(await banner.isVisible(), 'the banner is shown with the demonstration data');
  const text = (await banner.locator('p').textContent()).replace(/[\u202f\u00a0]/g, ' ');
  assert.equal(text, `Données de démonstration : la base compte ${fr.format(real)} lieux réels et ${fr.format(config.demo_actors)} lieux fictifs.`.replace(/[\u202f\u00a0]/g, ' '));
  // One click hides them: the filter is ticked, the URL says so, the banner goes.
  await listUpdate(page, () => banner.getByRole('button', { name: 'Masquer les lieux fictifs' }).click());
  assert.equal(await page.locator('#hide-demo').isChecked(), true);
  assert.match(page.url(), /demo=0/);
  assert.equal(await banner.isVisible(), false);
  assert.equal(await page.locator('.item .badge', { hasText: 'Donnée de démonstration' }).count(), 0);
  assert.equal(firstNumber(await page.locator('#list-status').textContent()) <= real, true);
  assert.deepEqual(page.errors, []);
  await page.context().close();
  // In English too.
  const en = await open('/?lang=en');
  assert.match(await en.locator('#demo-banner p').textContent(), /^Demonstration data: the store holds [\d,]+ real places and [\d,]+ fictitious places\.$/);
  await en.context().close();
});

test('searching "Nantes" with the keyboard flies to it and outlines it', async () => {
  const page = await open('/');
  const input = page.getByRole('combobox', { name: /Rechercher/ });
  await input.fill('Nantes');
  const option = page.getByRole('option', { name: /^Nantes Commune/ });
  await option.waitFor();
  assert.equal(await input.getAttribute('aria-expanded'), 'true');
  assert.ok((await page.getByRole('option').count()) >= 2);
  assert.deepEqual(await axeViolations(page), []);
  await input.press('ArrowDown');
  assert.equal(await input.getAttribute('aria-activedescendant'), await page.getByRole('option').first().getAttribute('id'));
  await listUpdate(page, () => input.press('Enter'));
  await mapIdle(page);
  assert.equal(await input.getAttribute('aria-expanded'), 'false');
  await page.locator('#territory-chip').waitFor();
  assert.match(await page.locator('#territory-name').textContent(), /Nantes \(Commune\)/);
  assert.match(page.url(), /terr=commune:44109/);
  const view = await page.evaluate(() => {
    const { map } = window.ancrage;
    const c = map.getCenter();
    return { lon: c.lng, lat: c.lat, zoom: map.getZoom(), outline: map.querySourceFeatures('territory').length };
  });
  assert.ok(Math.abs(view.lon + 1.56) < 0.1 && Math.abs(view.lat - 47.24) < 0.1, JSON.stringify(view));
  assert.ok(view.zoom > 10, 'zoomed to the commune');
  assert.ok(view.outline > 0, 'the outline is drawn');
  await mapIdle(page);
  await screenshot(page, 'desktop-nantes');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('filtering one category updates the list, the counts and the URL', async () => {
  const page = await open('/?lat=47.2184&lon=-1.5536&z=10');
  await page.locator('#filters summary').click();
  const box = page.locator('input[data-category="alimentation"]');
  const countBefore = firstNumber(await page.locator('[data-count-for="alimentation"]').textContent());
  const totalBefore = firstNumber(await page.locator('#list-status').textContent());
  assert.ok(countBefore > 0 && countBefore < totalBefore, `${countBefore} of ${totalBefore}`);
  await listUpdate(page, () => box.check());
  assert.match(page.url(), /cat=alimentation/);
  const total = firstNumber(await page.locator('#list-status').textContent());
  assert.equal(total, countBefore, 'the list has as many places as the category count said');
  assert.equal(firstNumber(await page.locator('[data-count-for="alimentation"]').textContent()), total);
  const ids = await page.locator('#list .item').evaluateAll((nodes) => nodes.map((n) => Number(n.dataset.id)));
  assert.equal(ids.length, Math.min(total, 100));
  const expected = await page.evaluate(async () => {
    const b = window.ancrage.map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(',');
    const r = await fetch(`/api/v1/actors?bbox=${bbox}&category=alimentation&limit=1000`);
    return (await r.json()).features.map((f) => f.id);
  });
  for (const id of ids) assert.ok(expected.includes(id), `${id} is a food actor in view`);
  // The markers on the map are food actors only.
  await mapIdle(page);
  const colours = await page.evaluate(() =>
    window.ancrage.map.queryRenderedFeatures({ layers: ['actors'] }).map((f) => f.properties.category),
  );
  assert.ok(colours.length > 0, 'single markers are drawn');
  assert.deepEqual(colours.filter((c) => c !== 'alimentation'), []);
  await screenshot(page, 'desktop-filter-alimentation');
  // Back undoes the filter.
  await listUpdate(page, () => page.goBack());
  assert.equal(await box.isChecked(), false);
  assert.equal(firstNumber(await page.locator('#list-status').textContent()), totalBefore);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a detail sheet shows the fields, directions, share and report links', async () => {
  const page = await open('/?lat=47.2184&lon=-1.5536&z=12');
  const first = page.locator('#list .item').first();
  const name = (await first.locator('.item-name').textContent()).trim();
  const id = await first.getAttribute('data-id');
  await first.click();
  const heading = page.locator('#detail-name');
  await heading.waitFor();
  assert.equal((await heading.textContent()).trim(), name);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'detail-name', 'focus moves to the sheet');
  assert.match(page.url(), new RegExp(`actor=${id}`));
  const terms = await page.locator('#detail dt').allTextContents();
  for (const term of ['Catégories', 'Statut', 'Adresse', 'Précision de la localisation', 'Source', 'Dernière mise à jour'])
    assert.ok(terms.includes(term), `${term} in ${terms}`);
  const directions = page.getByRole('link', { name: /Itinéraire/ });
  assert.match(await directions.getAttribute('href'), /^https:\/\/www\.openstreetmap\.org\/directions\?route=%3B47\./);
  const report = page.getByRole('link', { name: 'Signaler une erreur' });
  assert.match(await report.getAttribute('href'), new RegExp(`^mailto:${REPORT_EMAIL}\\?subject=`));
  if (name.includes('(démo)')) assert.ok(await page.locator('.demo-note').isVisible(), 'demonstration data are marked');
  await mapIdle(page);
  assert.ok(await page.evaluate(() => window.ancrage.map.queryRenderedFeatures({ layers: ['selected-ring'] }).length > 0), 'the place is ringed');
  await screenshot(page, 'desktop-detail');
  assert.deepEqual(await axeViolations(page), []);
  // The back button of the browser closes the sheet; the sheet's own button too.
  await page.goBack();
  await page.locator('#results').waitFor();
  assert.equal(await page.locator('#detail').isHidden(), true);
  await page.goForward();
  await heading.waitFor();
  await page.getByRole('button', { name: /Retour à la liste/ }).click();
  assert.equal(await page.locator('#detail').isHidden(), true);
  assert.doesNotMatch(page.url(), /actor=/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a place with hours says whether it is open now, and the filter keeps open ones', async () => {
  const page = await open('/?lat=47.2184&lon=-1.5536&z=11');
  const withHours = page.locator('#list .item', { has: page.locator('.badge.open, .badge.closed') });
  assert.ok((await withHours.count()) > 0, 'demo actors have opening hours');
  await withHours.first().click();
  await page.locator('#detail .hours li').first().waitFor();
  assert.match(await page.locator('#detail .hours').textContent(), /lundi|mardi|mercredi|samedi|dimanche/);
  await page.getByRole('button', { name: /Retour à la liste/ }).click();
  await page.locator('#filters summary').click();
  await listUpdate(page, () => page.locator('#open-now').check());
  assert.match(page.url(), /open=1/);
  const badges = await page.locator('#list .item').evaluateAll((nodes) =>
    nodes.map((n) => (n.querySelector('.badge.open') ? 'open' : 'other')),
  );
  assert.ok(badges.every((b) => b === 'open'), 'only open places are listed');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('"Autour de moi" lists places by distance from a mocked position', async () => {
  const page = await open('/', { geolocation: NANTES, permissions: ['geolocation'] });
  await page.locator('#near-radius').selectOption('2');
  await listUpdate(page, () => page.getByRole('button', { name: 'Me localiser' }).click());
  assert.match(await page.locator('#list-status').textContent(), /à moins de 2 km/);
  assert.match(page.url(), /near=-1\.553\d*,47\.218\d*/);
  // Back leaves « Autour de moi », forward comes back to it.
  await listUpdate(page, () => page.goBack());
  assert.doesNotMatch(page.url(), /near=/);
  assert.match(await page.locator('#list-status').textContent(), /dans la vue/);
  await listUpdate(page, () => page.goForward());
  assert.match(await page.locator('#list-status').textContent(), /à moins de 2 km/);
  assert.match(page.url(), /r=2\b/);
  const distances = (await page.locator('#list .item-distance').allTextContents()).map(metres);
  assert.ok(distances.length > 3, `${distances.length} places`);
  for (let i = 1; i < distances.length; i++) assert.ok(distances[i - 1] <= distances[i], `sorted: ${distances}`);
  assert.ok(distances.at(-1) <= 2000);
  // The same order as the API's exact great-circle answer.
  const ids = await page.locator('#list .item').evaluateAll((nodes) => nodes.map((n) => Number(n.dataset.id)));
  const api = await page.evaluate(async () => {
    const r = await fetch('/api/v1/actors/nearby?lon=-1.55360&lat=47.21840&radius=2000&limit=100');
    return (await r.json()).features.map((f) => f.id);
  });
  assert.deepEqual(ids, api);
  await mapIdle(page);
  assert.ok(await page.evaluate(() => window.ancrage.map.querySourceFeatures('near').length > 0), 'circle drawn');
  await screenshot(page, 'desktop-near');
  await page.getByRole('button', { name: /Quitter/ }).click();
  await page.waitForFunction(() => !location.search.includes('near='));
  // Or a point picked on the map: the centre of the map, here.
  await page.getByRole('button', { name: 'Choisir un point sur la carte' }).click();
  assert.equal(await page.getByRole('button', { name: 'Choisir un point sur la carte' }).getAttribute('aria-pressed'), 'true');
  const centre = await page.evaluate(() => {
    const { map } = window.ancrage;
    const r = map.getCanvas().getBoundingClientRect();
    const c = map.getCenter();
    const p = map.project(c);
    return { x: r.left + p.x, y: r.top + p.y, lon: c.lng, lat: c.lat };
  });
  await listUpdate(page, () => page.mouse.click(centre.x, centre.y));
  const near = new URL(page.url()).searchParams.get('near').split(',').map(Number);
  assert.ok(Math.abs(near[0] - centre.lon) < 1e-3 && Math.abs(near[1] - centre.lat) < 1e-3, `${near} vs ${centre.lon},${centre.lat}`);
  assert.match(await page.locator('#list-status').textContent(), /à moins de 2 km/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a refused geolocation gives a clear French message', async () => {
  const page = await open('/');
  await page.evaluate(() => {
    navigator.geolocation.getCurrentPosition = (_ok, fail) => fail({ code: 1, message: 'denied' });
  });
  await page.getByRole('button', { name: 'Me localiser' }).click();
  await page.waitForFunction(() => document.querySelector('#near-message').textContent.length > 0);
  assert.match(await page.locator('#near-message').textContent(), /refusé l’accès à votre position/);
  await page.context().close();
});

test('a shared URL restores filters, view, territory, selected place and language', async () => {
  const first = await open('/?lat=47.2184&lon=-1.5536&z=12');
  const id = Number(await first.locator('#list .item').first().getAttribute('data-id'));
  await first.context().close();
  const shared = `/?lat=47.21840&lon=-1.55360&z=12.5&cat=reemploi&fam=association&demo=0&terr=epci:244400404&actor=${id}&lang=en`;
  const page = await open(shared);
  await page.locator('#detail-name').waitFor();
  await mapIdle(page);
  const view = await page.evaluate(() => {
    const { map } = window.ancrage;
    return { zoom: map.getZoom(), lon: map.getCenter().lng, lat: map.getCenter().lat };
  });
  assert.ok(Math.abs(view.zoom - 12.5) < 0.01 && Math.abs(view.lon + 1.5536) < 1e-3 && Math.abs(view.lat - 47.2184) < 1e-3);
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  assert.equal(await page.locator('input[data-category="reemploi"]').isChecked(), true);
  assert.equal(await page.locator('#family').inputValue(), 'association');
  assert.equal(await page.locator('#hide-demo').isChecked(), true);
  assert.match(await page.locator('#territory-name').textContent(), /Nantes Métropole/);
  assert.ok((await page.locator('#detail dt').allTextContents()).includes('Location precision'));
  // The URL is the same after restoring: it is the state.
  const params = new URL(page.url()).searchParams;
  for (const [k, v] of new URLSearchParams(shared.slice(1))) assert.equal(params.get(k), v, k);
  await screenshot(page, 'desktop-shared-url-en');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('switching to English translates the page and remembers it in the URL', async () => {
  const page = await open('/');
  await listUpdate(page, () => page.getByRole('button', { name: 'Switch to English' }).click());
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  assert.match(page.url(), /lang=en/);
  assert.equal(await page.locator('#near-title').textContent(), 'Near me');
  assert.match(await page.locator('#list-status').textContent(), /places in view/);
  assert.ok(await page.getByRole('button', { name: 'Find my location' }).isVisible());
  assert.ok(await page.locator('.item .badge', { hasText: 'Demonstration data' }).first().isVisible());
  await page.locator('#filters summary').click();
  assert.ok(await page.locator('#category-tree').getByText('Food', { exact: true }).isVisible());
  assert.deepEqual(await axeViolations(page), []);
  await page.getByRole('button', { name: 'Passer en français' }).click();
  assert.equal(await page.locator('#near-title').textContent(), 'Autour de moi');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the keyboard reaches the list through the skip link and every control', async () => {
  const page = await open('/?lat=47.2184&lon=-1.5536&z=12');
  await mapIdle(page);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'list-heading');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  const ids = await page.locator('#list .item').evaluateAll((nodes) => nodes.map((n) => n.dataset.id));
  assert.equal(await page.evaluate(() => document.activeElement.closest('.item')?.dataset.id), ids[1], 'Tab walks the list');
  // Focusing an item highlights its marker.
  await page.locator('#list .item').first().focus();
  const id = Number(await page.locator('#list .item').first().getAttribute('data-id'));
  const state = await page.evaluate((i) => window.ancrage.map.getFeatureState({ source: 'actors', id: i }), id);
  assert.equal(state.hover, true);
  await mapIdle(page);
  const ring = await page.evaluate(() => window.ancrage.map.queryRenderedFeatures({ layers: ['hover-ring'] }).length);
  assert.ok(ring > 0, 'a ring shows the focused place on the map, even inside a cluster');
  await screenshot(page, 'desktop-keyboard-focus');
  await page.keyboard.press('Enter');
  await page.locator('#detail-name').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'detail-name');
  // Escape closes the sheet and focus returns to the item.
  await page.keyboard.press('Escape');
  assert.equal(await page.evaluate(() => document.activeElement.closest('.item')?.dataset.id), String(id));
  // Filters work from the keyboard: open the panel, expand a category, tick a subcategory.
  await page.locator('#filters summary').focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#filters').getAttribute('open'), '');
  const expand = page.getByRole('button', { name: 'Sous-catégories d’Alimentation' });
  await expand.focus();
  await page.keyboard.press('Enter');
  assert.equal(await expand.getAttribute('aria-expanded'), 'true');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.category), 'epicerie-solidaire');
  await listUpdate(page, () => page.keyboard.press('Space'));
  assert.match(page.url(), /cat=epicerie-solidaire/);
  // The search box closes its suggestions on Escape and keeps the text.
  const input = page.getByRole('combobox', { name: /Rechercher/ });
  await input.fill('44000');
  await page.getByRole('option', { name: /^Nantes Commune/ }).waitFor();
  await input.press('Escape');
  assert.equal(await input.getAttribute('aria-expanded'), 'false');
  assert.equal(await input.inputValue(), '44000');
  await page.context().close();
});

test('on a 320 px phone the list is a bottom sheet and nothing overflows', async () => {
  const page = await open('/', { viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true });
  await mapIdle(page);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 320), 'no horizontal scroll');
  const toggle = page.locator('#panel-toggle');
  assert.ok(await toggle.isVisible());
  const sheet = await page.locator('#panel').boundingBox();
  assert.ok(sheet.y > 200 && sheet.width === 320, JSON.stringify(sheet));
  await screenshot(page, 'phone-320-france');
  assert.deepEqual(await axeViolations(page), []);
  // The handle goes round the sheet's heights: half, full, then the count line alone.
  assert.equal((await toggle.textContent()).trim(), 'Agrandir la liste');
  await toggle.click();
  assert.equal((await toggle.textContent()).trim(), 'Réduire la liste');
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  assert.ok(await page.locator('#list').isHidden());
  assert.ok(await page.locator('#list-status').isVisible(), 'the count line stays');
  await toggle.click();
  assert.equal(await page.locator('#panel').getAttribute('data-state'), 'half');
  const input = page.getByRole('combobox', { name: /Rechercher/ });
  await input.fill('Nantes');
  await page.getByRole('option', { name: /^Nantes Commune/ }).waitFor();
  await listUpdate(page, () => page.getByRole('option', { name: /^Nantes Commune/ }).click());
  await mapIdle(page);
  await page.locator('#territory-chip').waitFor();
  await page.locator('#list .item').first().waitFor();
  await page.locator('#list .item').first().click();
  await page.locator('#detail-name').waitFor();
  assert.ok(await page.getByRole('link', { name: /application de cartes/ }).isVisible(), 'geo: link on phones');
  assert.match(await page.getByRole('link', { name: /application de cartes/ }).getAttribute('href'), /^geo:47\./);
  await mapIdle(page);
  await screenshot(page, 'phone-320-detail');
  assert.deepEqual(await axeViolations(page), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the selected territory goes when the map moves to another city', async () => {
  const page = await open('/');
  const input = page.getByRole('combobox', { name: /Rechercher/ });
  await input.fill('Nantes');
  await listUpdate(page, () => page.getByRole('option', { name: /^Nantes Commune/ }).click());
  await mapIdle(page);
  const chip = page.locator('#territory-chip');
  const coverage = page.getByRole('link', { name: 'Voir la couverture du territoire' });
  assert.ok(await chip.isVisible());
  assert.ok(await coverage.isVisible());
  // Moving inside the commune keeps it.
  await page.evaluate(() => window.ancrage.map.jumpTo({ center: [-1.56, 47.23] }));
  await page.waitForTimeout(300);
  assert.ok(await chip.isVisible(), 'still in Nantes');
  assert.match(page.url(), /terr=commune:44109/);
  // Lyon is not Nantes: the chip, its link and the outline go, and so does the URL's territory.
  await page.evaluate(() => window.ancrage.map.jumpTo({ center: [4.835, 45.764], zoom: 12 }));
  await chip.waitFor({ state: 'hidden' });
  assert.equal(await coverage.isVisible(), false);
  assert.doesNotMatch(page.url(), /terr=/);
  await mapIdle(page);
  assert.equal(await page.evaluate(() => window.ancrage.map.querySourceFeatures('territory').length), 0, 'no outline');
  assert.deepEqual(page.errors, []);
  await page.context().close();

  // A link to a territory without a view (the coverage page's « Retour à la carte ») opens on
  // the territory, so the chip holds until the user leaves it.
  const linked = await open('/?terr=departement:44');
  await linked.locator('#territory-chip').waitFor();
  await mapIdle(linked);
  const { bbox } = await (await fetch(`${server.url}/api/v1/territories/departement/44`)).json();
  const shown = await linked.evaluate(() => window.ancrage.map.getBounds().toArray());
  assert.ok(shown[0][0] <= bbox[0] && shown[0][1] <= bbox[1] && shown[1][0] >= bbox[2] && shown[1][1] >= bbox[3], `${JSON.stringify(shown)} holds ${bbox}`);
  assert.match(linked.url(), /terr=departement:44/);
  await linked.context().close();
});

test('on a 360 × 740 phone the header is one row with a menu, and the sheet has three heights', async () => {
  const page = await open('/', { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, geolocation: NANTES, permissions: ['geolocation'] });
  await mapIdle(page);
  const header = await page.locator('header').boundingBox();
  assert.ok(header.height <= 64, `header ${header.height} px high`);
  assert.ok(await page.getByRole('combobox', { name: /Rechercher/ }).isVisible(), 'the search box is in the bar');
  // The secondary links sit in the menu, reachable by keyboard; Escape closes it.
  const menu = page.getByRole('button', { name: 'Menu' });
  assert.equal(await menu.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.getByRole('button', { name: 'Intégrer cette carte' }).isVisible(), false);
  await menu.focus();
  await page.keyboard.press('Enter');
  assert.equal(await menu.getAttribute('aria-expanded'), 'true');
  for (const name of ['English', 'Intégrer cette carte', 'Proposer un lieu']) assert.ok(await page.getByRole('button', { name }).isVisible(), name);
  assert.ok(await page.getByRole('link', { name: 'API' }).isVisible());
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'lang-switch', 'Tab goes into the menu');
  assert.deepEqual(await axeViolations(page), []);
  await page.keyboard.press('Escape');
  assert.equal(await menu.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'menu-toggle', 'focus back on the menu button');
  assert.equal(await page.getByRole('button', { name: 'Proposer un lieu' }).isVisible(), false);
  // A dialog opened from the menu gives focus back to the menu button.
  await menu.click();
  await page.getByRole('button', { name: 'Intégrer cette carte' }).click();
  await page.getByRole('dialog', { name: 'Intégrer cette carte sur un autre site' }).waitFor();
  assert.equal(await menu.getAttribute('aria-expanded'), 'false');
  await page.keyboard.press('Escape');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'menu-toggle');

  // Three heights, from the handle: arrows, taps and a drag.
  const panel = page.locator('#panel');
  const handle = page.locator('#panel-toggle');
  const height = async () => {
    await page.waitForTimeout(350); // the sheet's transition
    return (await panel.boundingBox()).height;
  };
  assert.equal(await panel.getAttribute('data-state'), 'half');
  const half = await height();
  await handle.focus();
  await page.keyboard.press('ArrowUp');
  assert.equal(await panel.getAttribute('data-state'), 'full');
  const full = await height();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  assert.equal(await panel.getAttribute('data-state'), 'peek');
  assert.equal(await handle.getAttribute('aria-expanded'), 'false');
  const peek = await height();
  assert.ok(peek < half && half < full, `peek ${peek} < half ${half} < full ${full}`);
  assert.ok(peek <= 0.25 * 740, `a peek of ${peek} px leaves the map free`);
  assert.ok(await page.locator('#list-status').isVisible(), 'the peek shows the count');
  assert.equal(await page.getByRole('button', { name: 'Me localiser' }).isVisible(), false);
  await handle.click();
  assert.equal(await panel.getAttribute('data-state'), 'half');
  const box = await handle.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2, box.y - 250, { steps: 8 });
  await page.mouse.up();
  assert.equal(await panel.getAttribute('data-state'), 'full', 'dragged up to full');
  await page.mouse.move(box.x + box.width / 2, 740 - full + 20);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2, 720, { steps: 8 });
  await page.mouse.up();
  assert.equal(await panel.getAttribute('data-state'), 'peek', 'dragged down to the count line');
  assert.ok(Math.abs((await height()) - peek) < 2);
  await handle.click();

  // After « Me localiser » the count of the places around is in sight, not below the fold.
  await listUpdate(page, () => page.getByRole('button', { name: 'Me localiser' }).click());
  const status = page.locator('#list-status');
  assert.match(await status.textContent(), /à moins de 5 km/);
  const seen = await status.evaluate((node) => {
    const r = node.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + Math.min(20, r.width / 2), r.top + r.height / 2);
    return { top: r.top, bottom: r.bottom, visible: node.contains(hit) };
  });
  assert.ok(seen.top >= 0 && seen.bottom <= 740 && seen.visible, JSON.stringify(seen));
  await screenshot(page, 'phone-360-near');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('with more actors than the page loads at once, the map reads the actor tiles; a remote basemap is used, or replaced when it fails', async () => {
  const big = await startServer({
    ANCRAGE_DEMO_ACTORS: '25000',
    // Unreachable from the tests (every request off the test server is blocked).
    ANCRAGE_BASEMAP_STYLE: 'https://tiles.example.invalid/styles/positron',
  });
  try {
    const page = await newPage(browser, big, { viewport: DESKTOP });
    const clusterRequest = page.waitForRequest((r) => r.url().includes('/tiles/actors/'), { timeout: 60_000 });
    await page.goto(`${big.url}/`);
    await ready(page);
    await clusterRequest;
    await page.locator('#map-message').waitFor();
    assert.match(await page.locator('#map-message').textContent(), /fond de carte hors ligne/);
    assert.deepEqual(await axeViolations(page), []);
    await mapIdle(page);
    const drawn = await page.evaluate(() => {
      const { map } = window.ancrage;
      return {
        clusters: map.queryRenderedFeatures({ layers: ['clusters'] }).map((f) => f.properties.point_count),
        departements: map.querySourceFeatures('departements').length,
      };
    });
    assert.ok(drawn.departements > 50, 'the offline basemap replaced the remote one');
    assert.ok(drawn.clusters.length > 10, `server clusters drawn: ${drawn.clusters.length}`);
    const total = firstNumber(await page.locator('#list-status').textContent());
    assert.ok(total > 20_000, `${total} actors in view`);
    await screenshot(page, 'desktop-server-clusters');
    await page.getByRole('button', { name: 'Fermer le message' }).click();
    assert.equal(await page.locator('#map-message').isHidden(), true);
    // A server cluster expands on click.
    const zoom = await page.evaluate(() => window.ancrage.map.getZoom());
    await clickFirstCluster(page);
    await page.waitForFunction((z) => window.ancrage.map.getZoom() > z + 0.5, zoom, { timeout: 10_000 });
    // Stepping in from the France view asks the server each thing once.
    await mapIdle(page);
    await page.waitForTimeout(800);
    const asked = [];
    const record = (r) => {
      const u = new URL(r.url());
      if (/^\/api\/v1\/(map\/(clusters|facets|points)|actors)$|^\/tiles\//.test(u.pathname)) asked.push(u.pathname + u.search);
    };
    page.on('request', record);
    await page.evaluate(() => window.ancrage.map.jumpTo({ center: [2.4, 46.6], zoom: 5 }));
    await mapIdle(page);
    await page.waitForTimeout(800);
    // Wheel zooms, as a user does: each ends with two moveend at the same view.
    const box = await page.locator('#map').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let i = 0; i < 6; i++) {
      await page.mouse.wheel(0, -300);
      await page.waitForTimeout(i % 2 ? 1500 : 300);
    }
    await mapIdle(page);
    await page.waitForTimeout(1500);
    page.off('request', record);
    const repeated = asked.filter((u, i) => asked.indexOf(u) !== i);
    assert.ok(asked.length >= 10, JSON.stringify(asked));
    assert.deepEqual(repeated, [], `requests sent twice: ${JSON.stringify(repeated)}`);
    // Zoomed in on a city, single actors appear, and filters still apply.
    await page.goto(`${big.url}/?lat=47.2184&lon=-1.5536&z=14&cat=alimentation`);
    await ready(page);
    await page.waitForFunction(
      () => window.ancrage.map.queryRenderedFeatures({ layers: ['actors'] }).length > 0,
      null,
      { timeout: 30_000 },
    );
    const categories = await page.evaluate(() =>
      window.ancrage.map.queryRenderedFeatures({ layers: ['actors'] }).map((f) => f.properties.category),
    );
    assert.deepEqual(categories.filter((c) => c !== 'alimentation'), []);
    // Without a configured address there is no « Signaler une erreur » link.
    await page.locator('#list .item').first().click();
    await page.locator('#detail-name').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Signaler une erreur' }).count(), 0);
    // The only errors are the blocked remote style, once per page load.
    assert.deepEqual(page.errors.filter((e) => !e.includes('ERR_INTERNET_DISCONNECTED')), []);
    await page.context().close();

    // When the remote style answers, it is the basemap, with its own credits.
    const remote = await newPage(browser, big, { viewport: DESKTOP });
    await remote.context().route('https://tiles.example.invalid/**', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        headers: { 'Access-Control-Allow-Origin': '*' },
        body: JSON.stringify({
          version: 8,
          name: 'remote test style',
          sources: {
            land: { type: 'geojson', data: { type: 'FeatureCollection', features: [] }, attribution: '© Fond distant de test' },
          },
          layers: [
            { id: 'remote-background', type: 'background', paint: { 'background-color': '#e3ecd9' } },
            { id: 'remote-land', type: 'fill', source: 'land' },
          ],
        }),
      }),
    );
    await remote.goto(`${big.url}/`);
    await ready(remote);
    await mapIdle(remote);
    assert.equal(await remote.locator('#map-message').isHidden(), true, 'no fallback message');
    const style = await remote.evaluate(() => {
      const { map } = window.ancrage;
      return {
        layers: map.getStyle().layers.map((l) => l.id),
        clusters: map.queryRenderedFeatures({ layers: ['clusters'] }).length,
      };
    });
    assert.ok(style.layers.includes('remote-background') && !style.layers.includes('departements-fill'), style.layers.join());
    assert.ok(style.clusters > 10, 'actors drawn over the remote basemap');
    assert.match(await remote.locator('.maplibregl-ctrl-attrib').textContent(), /Fond distant de test/);
    assert.match(await remote.locator('.maplibregl-ctrl-attrib').textContent(), /INSEE/);
    assert.match(await remote.locator('.maplibregl-ctrl-attrib').textContent(), /IGN ADMIN EXPRESS/);
    assert.deepEqual(remote.errors, []);
    await remote.context().close();
  } finally {
    await big.stop();
  }
});

// ---------- actors sharing one point, marker colours, cluster labels ----------

/** The published actor of that exact name, from the API. */
async function actorNamed(base, name) {
  const r = await fetch(`${base}/api/v1/actors?q=${encodeURIComponent(name)}&limit=20`);
  const found = (await r.json()).features.find((f) => f.properties.name === name);
  assert.ok(found, `${name} is in the seed`);
  return found;
}

/** Clicks the map at a `[lon, lat]`. */
async function clickAt(page, lngLat) {
  const point = await page.evaluate((c) => {
    const { map } = window.ancrage;
    const p = map.project(c);
    const r = map.getCanvas().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }, lngLat);
  await page.mouse.click(point.x, point.y);
}

/** A point of the map, away from `lngLat`, where no marker or cluster is drawn. */
async function emptySpot(page, lngLat) {
  return page.evaluate((c) => {
    const { map } = window.ancrage;
    const p = map.project(c);
    const r = map.getCanvas().getBoundingClientRect();
    for (const [dx, dy] of [[-320, -220], [320, -220], [-320, 220], [320, 220], [0, -300]]) {
      const x = p.x + dx;
      const y = p.y + dy;
      if (x < 20 || y < 20 || x > r.width - 20 || y > r.height - 60) continue;
      const hits = map.queryRenderedFeatures([[x - 15, y - 15], [x + 15, y + 15]], { layers: ['actors', 'clusters'] });
      if (!hits.length) return { x: r.left + x, y: r.top + y };
    }
    return null;
  }, lngLat);
}

/** The labels MapLibre draws on the clusters in view, with their counts. */
async function clusterLabels(page) {
  return page.evaluate(() => {
    const { map } = window.ancrage;
    const text = map.getLayer('cluster-count').layout.get('text-field');
    return map.queryRenderedFeatures({ layers: ['clusters'] }).map((f) => ({ n: f.properties.point_count, label: String(text.evaluate(f, {})) }));
  });
}

const activeText = (page) => page.evaluate(() => document.activeElement?.textContent ?? '');

test('actors sharing one point spread out on a click, each opens, and they say the position is the commune', async () => {
  const solilab = await actorNamed(server.url, 'Le Solilab');
  const lngLat = solilab.geometry.coordinates;
  const page = await open(`/?lat=${lngLat[1]}&lon=${lngLat[0]}&z=16`);
  await mapIdle(page);
  await clickAt(page, lngLat);
  const spread = page.getByRole('group', { name: '2 lieux à ce point' });
  await spread.waitFor();
  const legs = spread.locator('.spider-item');
  assert.deepEqual((await legs.allTextContents()).sort(), ['CRESS Pays de la Loire', 'Le Solilab']);
  assert.match(await spread.textContent(), /Position : la commune — le point est celui de la commune, pas l’adresse de ces lieux\./);
  // Each leg stands apart from the other, on a line from the point.
  const [a, b] = [await legs.nth(0).boundingBox(), await legs.nth(1).boundingBox()];
  assert.ok(a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y, `${JSON.stringify(a)} ${JSON.stringify(b)}`);
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'desktop-spread');
  // The keyboard is in the spread: arrows go from one actor to the other, Enter opens it.
  assert.equal(await activeText(page), await legs.nth(0).textContent());
  await page.keyboard.press('ArrowDown');
  const second = await legs.nth(1).textContent();
  assert.equal(await activeText(page), second);
  await page.keyboard.press('ArrowDown');
  assert.equal(await activeText(page), await legs.nth(0).textContent(), 'the arrows go round');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Enter');
  await page.waitForFunction((n) => document.querySelector('#detail-name')?.textContent === n, second);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'detail-name');
  assert.equal(await page.locator('#detail-position').textContent(), 'Position : la commune — le point sur la carte est celui de la commune, pas l’adresse du lieu.');
  assert.equal(await legs.nth(1).getAttribute('aria-current'), 'true');
  assert.equal(await legs.nth(0).getAttribute('aria-current'), null);
  // The sheet's back button returns to the leg; Escape folds the spread and gives the map focus.
  await page.getByRole('button', { name: /Retour à la liste/ }).click();
  assert.equal(await activeText(page), second);
  await page.keyboard.press('Escape');
  await spread.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement.classList.contains('maplibregl-canvas')), true);
  // A click elsewhere on the map folds it too; the other leg opens with the mouse.
  await clickAt(page, lngLat);
  await spread.waitFor();
  const elsewhere = await emptySpot(page, lngLat);
  assert.ok(elsewhere, 'an empty spot of the map');
  await page.mouse.click(elsewhere.x, elsewhere.y);
  await spread.waitFor({ state: 'detached' });
  await clickAt(page, lngLat);
  await spread.getByRole('button', { name: 'Le Solilab' }).click();
  await page.waitForFunction(() => document.querySelector('#detail-name')?.textContent === 'Le Solilab');
  assert.match(page.url(), new RegExp(`actor=${solilab.id}\\b`));
  assert.deepEqual(page.errors, []);
  await page.context().close();

  // In English, the spread and the sheet say it too.
  const en = await open(`/?lat=${lngLat[1]}&lon=${lngLat[0]}&z=16&lang=en&actor=${solilab.id}`);
  await en.waitForFunction(() => document.querySelector('#detail-name')?.textContent === 'Le Solilab');
  assert.match(await en.locator('#detail-position').textContent(), /^Location: the commune — the point on the map is the commune’s, not the place’s address\.$/);
  await mapIdle(en);
  await clickAt(en, lngLat);
  const enSpread = en.getByRole('group', { name: '2 places at this point' });
  await enSpread.waitFor();
  assert.match(await enSpread.textContent(), /Location: the commune — the point is the commune’s/);
  assert.ok(await enSpread.getByRole('button', { name: 'Close the list of places at this point' }).isVisible());
  assert.deepEqual(en.errors, []);
  await en.context().close();
});

test('a cluster of actors of one point spreads them at once, and their sheets lead the keyboard to them', async () => {
  const coorace = await actorNamed(server.url, 'COORACE');
  const lngLat = coorace.geometry.coordinates;
  const page = await open(`/?lat=${lngLat[1]}&lon=${lngLat[0]}&z=12&demo=0`);
  await mapIdle(page);
  const counts = await page.evaluate(() => window.ancrage.map.queryRenderedFeatures({ layers: ['clusters'] }).map((f) => f.properties.point_count));
  assert.ok(counts.includes(4), `the four Paris actors are one cluster: ${counts}`);
  const zoom = await page.evaluate(() => window.ancrage.map.getZoom());
  await clickAt(page, lngLat);
  const spread = page.getByRole('group', { name: '4 lieux à ce point' });
  await spread.waitFor();
  assert.deepEqual((await spread.locator('.spider-item').allTextContents()).sort(), ['COORACE', 'ESS France', 'Enercoop', 'MGEN']);
  assert.equal(await page.evaluate(() => window.ancrage.map.getZoom()), zoom, 'no zooming in that could not separate them');
  await mapIdle(page);
  await screenshot(page, 'desktop-spread-cluster');
  // The legs do not overlap.
  const boxes = await spread.locator('.spider-item').evaluateAll((nodes) => nodes.map((n) => n.getBoundingClientRect().toJSON()));
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const [p, q] = [boxes[i], boxes[j]];
      assert.ok(p.right <= q.left || q.right <= p.left || p.bottom <= q.top || q.bottom <= p.top, `legs ${i} and ${j} overlap`);
    }
  await page.keyboard.press('Escape');
  await spread.waitFor({ state: 'detached' });
  // From the list, with the keyboard: the sheet of one offers the others of its point.
  const item = page.locator('#list .item', { hasText: 'MGEN' });
  await item.focus();
  await page.keyboard.press('Enter');
  const offer = page.getByRole('button', { name: 'Voir les 4 lieux à ce point' });
  await offer.waitFor();
  await offer.focus();
  await page.keyboard.press('Enter');
  await spread.waitFor();
  assert.equal(await activeText(page), await spread.locator('.spider-item').first().textContent());
  await page.keyboard.press('End');
  assert.equal(await activeText(page), await spread.locator('.spider-item').last().textContent());
  assert.equal(await spread.getByRole('button', { name: 'MGEN' }).getAttribute('aria-current'), 'true');
  await page.keyboard.press('Escape');
  await spread.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'detail-spread', 'focus back on the button');
  // A place alone at its point offers nothing.
  const darwin = await actorNamed(server.url, 'Darwin');
  await page.goto(`${server.url}/?lat=${darwin.geometry.coordinates[1]}&lon=${darwin.geometry.coordinates[0]}&z=15&actor=${darwin.id}`);
  await ready(page);
  await page.waitForFunction(() => document.querySelector('#detail-name')?.textContent === 'Darwin');
  await page.waitForTimeout(500);
  assert.equal(await page.locator('#detail-spread').count(), 0);
  assert.equal(await page.locator('#detail-position').count(), 0, 'its address is known');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a marker takes the colour of the category filter that shows it', async () => {
  const api = async (q) => (await (await fetch(`${server.url}/api/v1/${q}`)).json());
  const { categories } = await api('categories');
  const roots = categories.filter((c) => !c.parent);
  const unfiltered = new Map((await api('map/points')).points.map(([id, lon, lat, cat]) => [id, { lon, lat, cat }]));
  // An actor whose first category lies under another top-level category than the filter's.
  let found = null;
  for (const root of roots.slice().reverse()) {
    const shown = (await api(`map/points?category=${root.slug}`)).points;
    const other = shown.find(([id]) => categories[unfiltered.get(id).cat].slug !== root.slug);
    if (other) {
      found = { id: other[0], root, first: categories[unfiltered.get(other[0]).cat] };
      break;
    }
  }
  assert.ok(found, 'the seed has actors of several top-level categories');
  const { lon, lat } = unfiltered.get(found.id);
  const colourOf = async (page) => {
    await page.waitForFunction((id) => window.ancrage.map.queryRenderedFeatures({ layers: ['actors'] }).some((f) => f.properties.id === id), found.id, { timeout: 30_000 });
    return page.evaluate((id) => window.ancrage.map.queryRenderedFeatures({ layers: ['actors'] }).find((f) => f.properties.id === id).properties.category, found.id);
  };
  const page = await open(`/?lat=${lat}&lon=${lon}&z=17`);
  assert.equal(await colourOf(page), found.first.slug, 'without a filter, its first category');
  await page.locator('#filters summary').click();
  await listUpdate(page, () => page.locator(`input[data-category="${found.root.slug}"]`).check());
  assert.equal(await colourOf(page), found.root.slug, `with the ${found.root.slug} filter, its colour`);
  // The list's swatch says the same colour as the marker.
  const swatch = await page.locator(`#list .item[data-id="${found.id}"]`).getAttribute('style');
  assert.equal(swatch, `--item-colour:${found.root.colour}`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('cluster counts are written in the page language and follow a switch of language', async () => {
  const fr = new Intl.NumberFormat('fr-FR', { notation: 'compact', maximumFractionDigits: 1 });
  const en = new Intl.NumberFormat('en-GB', { notation: 'compact', maximumFractionDigits: 1 });
  const page = await open('/?lat=46.6&lon=2.4&z=3');
  await mapIdle(page);
  const labels = await clusterLabels(page);
  assert.ok(labels.some((l) => l.n >= 1000), `a cluster of a thousand or more: ${JSON.stringify(labels)}`);
  for (const { n, label } of labels) assert.equal(label, fr.format(n));
  assert.ok(labels.some((l) => /^\d+,\d\u00a0k$/.test(l.label)), JSON.stringify(labels));
  await listUpdate(page, () => page.getByRole('button', { name: 'Switch to English' }).click());
  await page.waitForFunction(
    () => {
      const { map } = window.ancrage;
      const text = map.getLayer('cluster-count').layout.get('text-field');
      return map.queryRenderedFeatures({ layers: ['clusters'] }).some((f) => /k$/.test(String(text.evaluate(f, {}))) && !/\s/.test(String(text.evaluate(f, {}))));
    },
    null,
    { timeout: 10_000 },
  );
  for (const { n, label } of await clusterLabels(page)) assert.equal(label, en.format(n));
  await screenshot(page, 'desktop-cluster-labels-en');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('with actor tiles, actors of one point are one cluster that spreads them and counts are localised', async () => {
  const big = await startServer({ ANCRAGE_DEMO_ACTORS: '25000' });
  try {
    const coorace = await actorNamed(big.url, 'COORACE');
    const lngLat = coorace.geometry.coordinates;
    const page = await newPage(browser, big, { viewport: DESKTOP });
    await page.goto(`${big.url}/?lat=${lngLat[1]}&lon=${lngLat[0]}&z=18`);
    await ready(page);
    await page.waitForFunction(() => window.ancrage.map.queryRenderedFeatures({ layers: ['clusters'] }).length > 0, null, { timeout: 30_000 });
    await mapIdle(page);
    await clickAt(page, lngLat);
    const spread = page.getByRole('group', { name: '4 lieux à ce point' });
    await spread.waitFor();
    assert.deepEqual((await spread.locator('.spider-item').allTextContents()).sort(), ['COORACE', 'ESS France', 'Enercoop', 'MGEN']);
    await page.keyboard.press('Escape');
    await spread.waitFor({ state: 'detached' });
    // The server's counts are drawn in the page's language too.
    await page.evaluate(() => window.ancrage.map.jumpTo({ center: [2.4, 46.6], zoom: 4 }));
    await page.waitForFunction(() => window.ancrage.map.queryRenderedFeatures({ layers: ['clusters'] }).some((f) => f.properties.point_count >= 1000), null, { timeout: 30_000 });
    await mapIdle(page);
    const fr = new Intl.NumberFormat('fr-FR', { notation: 'compact', maximumFractionDigits: 1 });
    const labels = await clusterLabels(page);
    for (const { n, label } of labels) assert.equal(label, fr.format(n));
    assert.ok(labels.some((l) => /\u00a0k$/.test(l.label)), JSON.stringify(labels));
    assert.deepEqual(page.errors, []);
    await page.context().close();
  } finally {
    await big.stop();
  }
});
