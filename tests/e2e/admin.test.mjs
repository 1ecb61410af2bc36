// Contributions and their moderation in a real browser: a place proposed from the map, a
// correction suggested from a detail sheet, then the administration page (token from the
// command line) shows the diff, approves, and the map shows the change.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { launchBrowser, newPage, ready, screenshot, serverBinary, startServer } from './lib/harness.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const DESKTOP = { width: 1280, height: 900 };

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function axeViolations(page, context = 'document') {
  await page.addScriptTag({ path: AXE });
  const results = await page.evaluate(
    async (ctx) => window.axe.run(ctx === 'document' ? document : document.querySelector(ctx), { resultTypes: ['violations'] }),
    context,
  );
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`);
}

async function json(path) {
  const res = await fetch(`${server.url}${path}`);
  return { status: res.status, body: res.status === 200 ? await res.json() : null };
}

test('a place proposed and a correction suggested on the map are approved on /admin and then shown', async () => {
  const page = await newPage(browser, server, { viewport: DESKTOP });
  await page.goto(`${server.url}/`);
  await ready(page);

  // « Proposer un lieu » opens a labelled modal dialog.
  await page.getByRole('button', { name: 'Proposer un lieu' }).click();
  const dialog = page.getByRole('dialog', { name: 'Proposer un lieu' });
  await dialog.waitFor();
  assert.deepEqual(await axeViolations(page, '#contrib-dialog'), []);
  // Submitting empty lists the errors next to their fields.
  await dialog.getByRole('button', { name: 'Envoyer la proposition' }).click();
  await page.locator('#contrib-summary:not([hidden])').waitFor();
  assert.equal(await page.locator('#contrib-name').getAttribute('aria-invalid'), 'true');
  await dialog.getByLabel('Nom du lieu').fill('Ressourcerie des Essais');
  await dialog.getByLabel('Catégorie').selectOption('ressourcerie');
  await dialog.getByLabel('Statut').selectOption('association');
  await dialog.getByLabel('Adresse (numéro et rue)').fill('12 rue des Essais');
  await dialog.getByLabel('Code postal').fill('44000');
  await dialog.getByLabel(/^Commune/).fill('Nantes');
  await dialog.getByLabel('Votre courriel (facultatif)').fill('contributeur@example.org');
  await dialog.getByRole('button', { name: 'Envoyer la proposition' }).click();
  await page.locator('#contrib-done').waitFor();
  await screenshot(page, 'contribution-sent');
  await dialog.getByRole('button', { name: 'Fermer' }).click();
  await page.locator('#contrib-dialog').waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'propose', 'focus goes back to the button');
  const search = await json('/api/v1/actors?q=ressourcerie%20des%20essais');
  assert.equal(search.body.features.length, 0, 'not public before moderation');

  // A correction from a detail sheet sends only what changed.
  const first = (await json('/api/v1/actors?limit=1&demo=include')).body.features[0];
  const id = first.id;
  await page.goto(`${server.url}/?actor=${id}`);
  await ready(page);
  await page.locator('#detail-name').waitFor();
  await page.getByRole('button', { name: 'Suggérer une correction' }).click();
  const fix = page.locator('#contrib-dialog');
  await fix.waitFor();
  assert.equal(await fix.getByLabel('Nom du lieu').inputValue(), first.properties.name, 'the form starts from the current values');
  await fix.getByLabel('Nom du lieu').fill('Nom corrigé depuis la carte');
  await fix.getByRole('button', { name: 'Envoyer la proposition' }).click();
  await page.locator('#contrib-done').waitFor();
  assert.equal((await json(`/api/v1/actors/${id}`)).body.properties.name, first.properties.name);
  // The one error logged is the refused empty submission.
  assert.deepEqual(page.errors.filter((e) => !/status of 422/.test(e)), []);

  // A token from the command line, then the administration page.
  const secret = execFileSync(serverBinary(), ['--database-url', server.databaseUrl, 'admin', 'create-token', 'moderation'], {
    env: { ...process.env, RUST_LOG: 'error' },
  })
    .toString()
    .trim();
  const admin = await newPage(browser, server, { viewport: DESKTOP });
  await admin.goto(`${server.url}/admin`);
  await admin.waitForSelector('body[data-ready="1"]');
  assert.deepEqual(await axeViolations(admin), []);
  await admin.getByLabel('Jeton d’administration').fill('ancrage_faux');
  await admin.getByRole('button', { name: 'Se connecter' }).click();
  await admin.getByText('Ce jeton est inconnu ou a été révoqué.').waitFor();
  await admin.getByLabel('Jeton d’administration').fill(secret);
  await admin.getByRole('button', { name: 'Se connecter' }).click();
  await admin.locator('#queue-list > li').nth(1).waitFor();
  assert.equal(await admin.evaluate(() => document.cookie), '', 'no cookie');
  assert.equal(await admin.evaluate(() => sessionStorage.getItem('ancrage.admin.token')), secret);
  await screenshot(admin, 'admin-queue');
  assert.deepEqual(await axeViolations(admin), []);

  // The correction's diff: current and proposed names side by side.
  const correction = admin.locator('#queue-list > li').filter({ hasText: 'Correction proposée' });
  const nameRow = correction.locator('tr[data-field="name"]');
  assert.equal(await nameRow.locator('td.current').textContent(), first.properties.name);
  assert.equal(await nameRow.locator('td.proposed').textContent(), 'Nom corrigé depuis la carte');
  await correction.getByRole('button', { name: 'Approuver', exact: true }).click();
  await admin.getByText('Contribution approuvée.').waitFor();

  // The new place: edit, then approve.
  const proposal = admin.locator('#queue-list > li').filter({ hasText: 'Nouveau lieu proposé' });
  assert.match(await proposal.textContent(), /contributeur@example\.org/);
  await proposal.getByRole('button', { name: 'Modifier puis approuver' }).click();
  await admin.locator('#editor-title').waitFor();
  assert.deepEqual(await axeViolations(admin), []);
  await admin.locator('#edit-name').fill('Ressourcerie des Essais (vérifiée)');
  await admin.getByRole('button', { name: 'Approuver avec ces valeurs' }).click();
  await admin.getByText('Aucune contribution en attente.').waitFor();
  // The one error logged is the refused wrong token.
  assert.deepEqual(admin.errors.filter((e) => !/status of 401/.test(e)), []);

  // Public at once: the API and the map.
  assert.equal((await json(`/api/v1/actors/${id}`)).body.properties.name, 'Nom corrigé depuis la carte');
  const created = (await json('/api/v1/actors?q=ressourcerie%20des%20essais')).body.features;
  assert.equal(created.length, 1);
  const detail = (await json(`/api/v1/actors/${created[0].id}`)).body;
  assert.equal(detail.properties.name, 'Ressourcerie des Essais (vérifiée)');
  assert.equal(detail.properties.source, 'contribution');
  assert.doesNotMatch(JSON.stringify(detail), /contributeur@example\.org/);
  await page.goto(`${server.url}/?actor=${id}`);
  await ready(page);
  await page.locator('#detail-name').waitFor();
  assert.equal(await page.locator('#detail-name').textContent(), 'Nom corrigé depuis la carte');

  // The history of the corrected place, on the administration page.
  await admin.getByRole('button', { name: 'Lieux', exact: true }).click();
  await admin.getByLabel('Nom contient').fill('Nom corrigé depuis');
  await admin.getByRole('button', { name: 'Chercher' }).click();
  await admin.getByRole('button', { name: 'Modifier « Nom corrigé depuis la carte »' }).click();
  await admin.getByRole('button', { name: 'Historique' }).click();
  const history = admin.locator('#history');
  await history.locator('li').first().waitFor();
  assert.match(await history.textContent(), /moderation — modification/);
  assert.match(await history.textContent(), /Nom corrigé depuis la carte/);
  assert.deepEqual(await axeViolations(admin), []);

  // English, and signing out forgets the token.
  await admin.getByRole('button', { name: 'English' }).click();
  await admin.getByRole('button', { name: 'Sign out' }).click();
  assert.equal(await admin.evaluate(() => sessionStorage.getItem('ancrage.admin.token')), null);
  await admin.getByLabel('Administrator token').waitFor();
  await page.close();
  await admin.close();
});
