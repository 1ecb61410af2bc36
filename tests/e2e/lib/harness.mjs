// Test harness: the real server binary on a free port with a fresh SQLite store, and Debian's
// headless Chromium driven by playwright-core (no browser is ever downloaded).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..', '..', '..');

/** Where screenshots go: `ANCRAGE_E2E_ARTIFACTS`, else `tests/e2e/artifacts`. */
export const ARTIFACTS = process.env.ANCRAGE_E2E_ARTIFACTS ?? path.join(ROOT, 'tests', 'e2e', 'artifacts');

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** The server binary: `ANCRAGE_BIN` (set by `cargo test`), else the debug build. */
export function serverBinary() {
  const bin = process.env.ANCRAGE_BIN ?? path.join(ROOT, 'target', 'debug', 'ancrage');
  if (!existsSync(bin)) throw new Error(`server binary not found at ${bin}: run cargo build, or cargo test`);
  return bin;
}

/**
 * Starts `ancrage serve` on a free port with a store in a new temporary folder; resolves once
 * it logs its address. The first start seeds the store (5 000 demonstration actors).
 */
export async function startServer(env = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ancrage-e2e-'));
  const child = spawn(
    serverBinary(),
    ['serve', '--bind', '127.0.0.1:0', '--database-url', `sqlite://${path.join(dir, 'ancrage.db')}`],
    { env: { ...process.env, RUST_LOG: 'warn,ancrage=info', NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 180 s:\n${log}`)), 180_000);
    const onData = (chunk) => {
      log += chunk.toString();
      // eslint-disable-next-line no-control-regex
      const m = /serving (http:\/\/[^\s]+?:\d+)/.exec(log.replace(/\x1b\[[0-9;]*m/g, ''));
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace('localhost', '127.0.0.1'));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${log}`));
    });
  });
  return {
    url,
    /** The store's URL, for commands run against the same store (`ancrage admin …`). */
    databaseUrl: `sqlite://${path.join(dir, 'ancrage.db')}`,
    async stop() {
      child.removeAllListeners('exit');
      child.kill('SIGTERM');
      await new Promise((r) => {
        if (child.exitCode !== null) r();
        else child.once('exit', r);
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Launches headless Chromium with software WebGL and no network beyond the test server. */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
    ],
  });
}

/** A new page of a new context; requests to anything but the test server fail. */
export async function newPage(browser, server, options = {}) {
  const context = await browser.newContext({ locale: 'fr-FR', timezoneId: 'Europe/Paris', ...options });
  const origin = new URL(server.url).origin;
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.origin === origin || u.protocol === 'data:' || u.protocol === 'blob:') return route.continue();
    return route.abort('internetdisconnected');
  });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') page.errors.push(m.text());
  });
  return page;
}

/** Saves a screenshot under the artefacts folder. */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Waits until the page has started and the map has drawn its first frame. */
export async function ready(page) {
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
  await page.waitForFunction(() => Number(document.body.dataset.listVersion ?? 0) > 0, null, { timeout: 60_000 });
}

/** Waits for the map page's list to be redrawn after `action`. */
export async function listUpdate(page, action) {
  const before = await page.evaluate(() => Number(document.body.dataset.listVersion ?? 0));
  await action();
  await page.waitForFunction((v) => Number(document.body.dataset.listVersion ?? 0) > v, before, { timeout: 30_000 });
  // A second refresh may follow the map's move: let it settle.
  await page.waitForTimeout(700);
}

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** Serious and critical accessibility violations found by axe-core on the page. */
export async function axeViolations(page) {
  await page.addScriptTag({ path: AXE });
  const results = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`);
}

/** The first number written in a text, with its French or English thousands separators. */
export function firstNumber(text) {
  const m = /(\d[\d\s\u202f\u00a0]*)/.exec(text);
  return m ? Number(m[1].replace(/[\s\u202f\u00a0]/g, '')) : NaN;
}
