// The map's search box in a real browser (Debian's headless Chromium), against the real server:
// territories say why they match (postcode or INSEE code), categories apply their filter, and
// addresses come from a BAN-compatible geocoder — a local stand-in here, never the internet —
// or the box says that address search is unavailable.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { axeViolations, firstNumber, launchBrowser, listUpdate, newPage, ready, screenshot, startServer } from './lib/harness.mjs';

const DESKTOP = { width: 1280, height: 800 };
// Rue de la Paix in Nantes, as api-adresse.data.gouv.fr answers it (trimmed).
const PAIX = {
  type: 'Feature',
  geometry: { type: 'Point', coordinates: [-1.5585, 47.2133] },
  properties: {
    label: '2 Rue de la Paix 44000 Nantes',
    score: 0.97,
    housenumber: '2',
    id: '44109_5430_00002',
    name: '2 Rue de la Paix',
    postcode: '44000',
    citycode: '44109',
    city: 'Nantes',
    context: '44, Loire-Atlantique, Pays de la Loire',
    type: 'housenumber',
    street: 'Rue de la Paix',
  },
};

let plain; // no geocoder configured
let withGeocoder; // geocoder_url pointing at the stand-in
let geocoder;
let browser;

/**
 * A stand-in for the BAN API under `/ban/search/`: Rue de la Paix for any text with « paix »,
 * a 503 for « panne », no answer at all for « lente »; every request is kept in `requests`.
 */
function startGeocoder() {
  const requests = [];
  const server = createServer((req, res) => {
    const u = new URL(req.url, 'http://localhost');
    requests.push(u);
    const q = (u.searchParams.get('q') ?? '').toLowerCase();
    const headers = { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' };
    if (u.pathname !== '/ban/search/') {
      res.writeHead(404, headers).end('{}');
    } else if (q.includes('panne')) {
      res.writeHead(503, headers).end('{"code":503,"message":"indisponible"}');
    } else if (q.includes('lente')) {
      // Never answers: the page gives up after its timeout.
    } else {
      const features = q.includes('paix') ? [PAIX, { type: 'Feature', geometry: null, properties: { label: 'sans point' } }] : [];
      res.writeHead(200, headers).end(JSON.stringify({ type: 'FeatureCollection', version: 'draft', features, query: q, limit: 5 }));
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        origin: `http://127.0.0.1:${port}`,
        requests,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(r);
          }),
      });
    });
  });
}

before(async () => {
  geocoder = await startGeocoder();
  [plain, withGeocoder, browser] = await Promise.all([
    startServer(),
    startServer({ ANCRAGE_GEOCODER_URL: `${geocoder.origin}/ban/` }),
    launchBrowser(),
  ]);
});

after(async () => {
  await browser?.close();
  await plain?.stop();
  await withGeocoder?.stop();
  await geocoder?.close();
});

async function open(server, path = '/') {
  const page = await newPage(browser, server, { viewport: DESKTOP });
  // The stand-in geocoder is the one other origin the page may reach.
  await page.route(`${geocoder.origin}/**`, (route) => route.continue());
  await page.goto(`${server.url}${path}`);
  await ready(page);
  return page;
}




/** The suggestion list as lines: group headings as `# Name`, options as their text. */
async function suggestionLines(page) {
  return page.locator('#search-list li').evaluateAll((nodes) =>
    nodes.map((n) =>
      n.classList.contains('group')
        ? `# ${n.textContent}`
        : (n.children.length ? [...n.children].map((c) => c.textContent).join(' ') : n.textContent).replace(/\s+/g, ' ').trim(),
    ),
  );
}

/** Highlights `option` with the down arrow, as a keyboard user would. */
async function arrowTo(page, input, option) {
  const id = await option.getAttribute('id');
  const ids = await page.locator('#search-list [role="option"]:not([aria-disabled="true"])').evaluateAll((nodes) => nodes.map((n) => n.id));
  const steps = ids.indexOf(id) + 1;
  assert.ok(steps > 0, `${id} among ${ids}`);
  for (let i = 0; i < steps; i += 1) await input.press('ArrowDown');
  assert.equal(await input.getAttribute('aria-activedescendant'), id);
  assert.equal(await option.getAttribute('aria-selected'), 'true');
}

test('« 44150 » lists the communes of that postcode first, then Saint-Aignan-Grandlieu by its INSEE code, and says which is which', async () => {
  const page = await open(plain);
  const input = page.getByRole('combobox', { name: /Rechercher/ });
  await input.fill('44150');
  const ancenis = page.getByRole('option', { name: /^Ancenis-Saint-Géréon/ });
  await ancenis.waitFor();
  const lines = await suggestionLines(page);
  assert.deepEqual(lines.slice(0, 4), [
    '# Territoires',
    'Ancenis-Saint-Géréon Commune · 44 · 44150 (code postal)',
    'Vair-sur-Loire Commune · 44 · 44150 (code postal)',
    'Saint-Aignan-Grandlieu Commune · 44 · code INSEE 44150',
  ]);
  assert.ok(!lines.includes('# Adresses'), 'a postcode that names communes is not sent to address search');
  // A name shows the commune's postcodes.
  await input.fill('Nantes');
  await page.getByRole('option', { name: /^Nantes Commune · 44 · 44000 et 3 autres codes postaux$/ }).waitFor();
  // Enter on the first suggestion of « 44150 » goes to Ancenis-Saint-Géréon.
  await input.fill('44150');
  await ancenis.waitFor();
  await input.press('ArrowDown');
  await listUpdate(page, () => input.press('Enter'));
  assert.match(page.url(), /terr=commune:44003/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('« épicerie » suggests the Épicerie solidaire category, and choosing it with the keyboard applies that filter', async () => {
  const page = await open(plain);
  const allInView = firstNumber(await page.locator('#list-status').textContent());
  const input = page.getByRole('combobox', { name: /Rechercher/ });
  await input.fill('ÉPICERIE');
  const option = page.getByRole('option', { name: /^Épicerie solidaire Alimentation$/ });
  await option.waitFor();
  const lines = await suggestionLines(page);
  const at = lines.indexOf('# Catégories');
  assert.ok(at >= 0, lines.join('\n'));
  assert.equal(lines[at + 1], 'Épicerie solidaire Alimentation');
  assert.ok(!lines.includes('# Adresses'), 'a category is found: no address search');
  assert.deepEqual(await axeViolations(page), []);
  await arrowTo(page, input, option);
  await listUpdate(page, () => input.press('Enter'));
  assert.equal(await input.getAttribute('aria-expanded'), 'false');
  assert.match(page.url(), /cat=epicerie-solidaire/);
  assert.equal(await page.locator('input[data-category="epicerie-solidaire"]').isChecked(), true);
  assert.equal(await page.locator('#filters-active').textContent(), '1');
  assert.match(await page.locator('#search-status').textContent(), /Filtre « Épicerie solidaire » appliqué/);
  // The list now holds the places of that category only, fewer than before.
  assert.ok(firstNumber(await page.locator('#list-status').textContent()) < allInView);
  // Searching it again says the filter is already there.
  await input.fill('epicerie');
  await page.getByRole('option', { name: /filtre déjà appliqué/ }).waitFor();
  await input.press('Escape');
  assert.deepEqual(page.errors, []);
  await page.context().close();
  // English labels match too.
  const en = await open(plain, '/?lang=en');
  const box = en.getByRole('combobox', { name: /Search/ });
  await box.fill('solidarity groc');
  await en.getByRole('option', { name: /^Solidarity grocery Food$/ }).waitFor();
  await en.context().close();
});

test('without a geocoder, an address says « Recherche d’adresses indisponible » instead of nothing', async () => {
  const config = await (await fetch(`${plain.url}/api/v1/map/config`)).json();
  assert.equal(config.geocoder_url, null);
  const page = await open(plain);
  const input = page.getByRole('combobox', { name: /Rechercher/ });
  await input.fill('12 rue de la Paix');
  const note = page.locator('#search-list .address-note');
  await note.waitFor();
  assert.equal(await note.textContent(), 'Recherche d’adresses indisponible');
  const lines = await suggestionLines(page);
  assert.equal(lines.at(-2), '# Adresses');
  assert.match(await page.locator('#search-status').textContent(), /Recherche d’adresses indisponible/);
  // Text that matches nothing at all says so too.
  await input.fill('zzxqw');
  await page.locator('#search-list .empty', { hasText: 'Aucun résultat' }).waitFor();
  assert.equal(await note.textContent(), 'Recherche d’adresses indisponible');
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'search-address-unavailable');
  assert.deepEqual(page.errors, []);
  assert.equal(geocoder.requests.length, 0, 'nothing is sent anywhere');
  await page.context().close();
  const en = await open(plain, '/?lang=en');
  const box = en.getByRole('combobox', { name: /Search/ });
  await box.fill('12 rue de la Paix');
  await en.locator('#search-list .address-note', { hasText: 'Address search unavailable' }).waitFor();
  await en.context().close();
});

test('with a geocoder, an address is suggested in its own group and choosing it centres « Autour de moi » on it', async () => {
  const config = await (await fetch(`${withGeocoder.url}/api/v1/map/config`)).json();
  assert.equal(config.geocoder_url, `${geocoder.origin}/ban`);
  const page = await open(withGeocoder, '/?lat=47.22&lon=-1.55&z=12');
  const input = page.getByRole('combobox', { name: /Rechercher/ });
  geocoder.requests.length = 0;
  await input.fill('2 rue de la paix');
  const option = page.getByRole('option', { name: /^2 Rue de la Paix 44000 Nantes$/ });
  await option.waitFor();
  const lines = await suggestionLines(page);
  const at = lines.indexOf('# Adresses');
  assert.ok(at >= 0, lines.join('\n'));
  assert.deepEqual(lines.slice(at), ['# Adresses', '2 Rue de la Paix 44000 Nantes'], 'the feature without a point is left out');
  const asked = geocoder.requests.at(-1);
  assert.equal(asked.searchParams.get('q'), '2 rue de la paix');
  assert.equal(asked.searchParams.get('limit'), '5');
  assert.ok(Math.abs(Number(asked.searchParams.get('lat')) - 47.22) < 0.05, String(asked));
  assert.ok(Math.abs(Number(asked.searchParams.get('lon')) + 1.55) < 0.05, String(asked));
  assert.deepEqual(await axeViolations(page), []);
  await screenshot(page, 'search-address');
  await arrowTo(page, input, option);
  await listUpdate(page, () => input.press('Enter'));
  assert.equal(await input.getAttribute('aria-expanded'), 'false');
  assert.equal(await input.inputValue(), '2 Rue de la Paix 44000 Nantes');
  assert.equal(new URL(page.url()).searchParams.get('near'), '-1.55850,47.21330');
  await page.waitForFunction(() => !window.ancrage.map.isMoving());
  const centre = await page.evaluate(() => window.ancrage.map.getCenter());
  assert.ok(Math.abs(centre.lng + 1.5585) < 0.01 && Math.abs(centre.lat - 47.2133) < 0.01, JSON.stringify(centre));
  assert.match(await page.locator('#list-status').textContent(), /à moins de 5 km/);
  assert.equal(await page.locator('#near-clear').isVisible(), true);
  assert.match(await page.locator('#near-message').textContent(), /Lieux autour de « 2 Rue de la Paix 44000 Nantes »/);
  assert.deepEqual(page.errors, []);
  // Text that is no territory nor category goes to the geocoder too; nothing found is said.
  geocoder.requests.length = 0;
  await input.fill('Quai inconnu');
  await page.locator('#search-list .address-note', { hasText: 'Aucune adresse trouvée' }).waitFor();
  assert.equal(geocoder.requests.at(-1)?.searchParams.get('q'), 'Quai inconnu');
  // A territory name is not sent to it.
  geocoder.requests.length = 0;
  await input.fill('Nantes');
  await page.getByRole('option', { name: /^Nantes Commune/ }).waitFor();
  assert.equal(geocoder.requests.length, 0);
  await page.context().close();
});

test('a geocoder that fails or does not answer is reported in the address group, the other suggestions stay', async () => {
  const page = await open(withGeocoder);
  const input = page.getByRole('combobox', { name: /Rechercher/ });
  await input.fill('3 rue en panne');
  await page.locator('#search-list .address-note.error', { hasText: 'La recherche d’adresses a échoué, réessayez plus tard' }).waitFor();
  await input.fill('4 rue lente');
  await page.locator('#search-list .address-note', { hasText: 'Recherche des adresses…' }).waitFor();
  await page.locator('#search-list .address-note.error', { hasText: 'La recherche d’adresses ne répond pas' }).waitFor({ timeout: 15_000 });
  assert.match(await page.locator('#search-status').textContent(), /ne répond pas/);
  // The search box still works for the rest.
  await input.fill('épicerie');
  await page.getByRole('option', { name: /^Épicerie solidaire/ }).waitFor();
  await page.context().close();
});

test('suggestions that arrive after the list was closed do not reopen it', async () => {
  const page = await open(withGeocoder);
  const input = page.getByRole('combobox', { name: /Rechercher/ });
  await input.fill('6 rue lente');
  await page.locator('#search-list .address-note', { hasText: 'Recherche des adresses…' }).waitFor();
  await input.press('Escape');
  assert.equal(await input.getAttribute('aria-expanded'), 'false');
  await page.waitForTimeout(5_600);
  assert.equal(await page.locator('#search-list').isHidden(), true);
  assert.equal(await input.getAttribute('aria-expanded'), 'false');
  await page.context().close();
});
