import { mkdirSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificateSet } from '../../src/certs/index.js';
import { type RunningServer, serve } from '../../src/server/listen.js';
import type { Status } from '../../src/status/model.js';
import { artifactDir, launchChromium } from '../support/browser.js';
import { type StatusScene, expectedNamespaces, startStatusScene } from '../support/status-scene.js';

// /status of a real `serve` (HTTPS, HTTP/2, port 0, a fresh certificate) after real admissions, in headless
// Chromium: every number marked on the page equals /status.json, the page fetches nothing but itself, runs
// under its CSP, fits a phone and a desktop, and is saved as a screenshot.

let scene: StatusScene;
let server: RunningServer;
let browser: Browser;
let ca: string;

function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${server.url}${path}`, { method, ca, agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const statusJson = async (): Promise<Status> => JSON.parse((await call('GET', '/status.json')).text) as Status;

/** `namespaces.shop.rewritten`, `registries.127.0.0.1:5000.thirdParty`: the middle part may hold dots. */
function valueAt(status: Status, key: string): unknown {
  const parts = key.split('.');
  const path = parts.length >= 3 ? [parts[0]!, parts.slice(1, -1).join('.'), parts.at(-1)!] : parts;
  return path.reduce<unknown>((value, part) => (value as Record<string, unknown> | undefined)?.[part], status);
}

/** The page writes a rate as a percentage. */
const pageValue = (text: string): string => (text.endsWith('%') ? String(Number(text.slice(0, -1)) / 100) : text);

beforeAll(async () => {
  mkdirSync(artifactDir, { recursive: true });
  scene = await startStatusScene();
  const set = generateCertificateSet({ service: 'mirrorhook', namespace: 'test', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  ca = set.ca.cert;
  server = await serve({ config: scene.config, host: '127.0.0.1', port: 0, tls: { pair: set.serving }, logger: false, env: {}, copyDrainMs: 1_000 });
  for (const { route, body } of scene.admissions) expect((await call('POST', route, body)).status).toBe(200);
  // Wait for the copy that succeeds, so that the page shows a settled queue (and one copy retrying).
  for (let i = 0; i < 200; i += 1) {
    const status = await statusJson();
    if (status.copies.enabled && status.copies.done === 1) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await scene?.stop();
});

describe('/status of a running webhook in Chromium', () => {
  for (const viewport of [{ name: 'phone', width: 375, height: 812 }, { name: 'desktop', width: 1280, height: 900 }]) {
    it(`shows the numbers of /status.json at ${viewport.name} width, fetches nothing else and does not overflow`, async () => {
      const context = await browser.newContext({ viewport: { width: viewport.width, height: viewport.height }, ignoreHTTPSErrors: true });
      const page = await context.newPage();
      const requests: string[] = [];
      const violations: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      page.on('console', (message) => {
        if (/Content Security Policy|Refused/.test(message.text())) violations.push(message.text());
      });
      const before = await statusJson();
      const response = await page.goto(`${server.url}/status`);
      const after = await statusJson();
      expect(response?.status()).toBe(200);
      expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('mirrorhook status');

      const keys = await page.evaluate<string[]>('Array.from(document.querySelectorAll("[data-key]"), (node) => node.getAttribute("data-key"))');
      expect(keys.length).toBeGreaterThan(20);
      for (const key of keys) {
        const shown = pageValue((await page.locator(`[data-key="${key}"]`).innerText()).trim());
        // A copy may retry between the two reads: the page must match one of them.
        expect([String(valueAt(before, key)), String(valueAt(after, key))], key).toContain(shown);
      }
      // Every namespace and registry of the JSON is on the page, with the scene's numbers.
      for (const [name, expected] of Object.entries(expectedNamespaces)) {
        expect(keys).toContain(`namespaces.${name}.rewritten`);
        expect(await page.locator(`[data-key="namespaces.${name}.kept"]`).innerText()).toBe(String(expected.kept));
      }
      for (const registry of Object.keys(after.registries)) expect(keys).toContain(`registries.${registry}.thirdParty`);
      expect(keys).toEqual(expect.arrayContaining(['copies.queued', 'copies.inFlight', 'copies.done', 'copies.failed', 'catalog.entries', 'catalog.hitRate', 'certificate.daysLeft']));
      expect(await page.getByRole('table', { name: 'Copies in flight' }).innerText()).toContain(scene.failing);
      // Kept current by sync: the records the scene's sync run left in the mirror, the vanished repository stale.
      expect(keys).toEqual(expect.arrayContaining(['sync.stale', 'sync.staleAfterHours']));
      expect(after.sync).toMatchObject({ enabled: true, checked: true, error: null, stale: 1 });
      const syncRows = page.getByRole('table', { name: 'When each synced repository last succeeded' }).locator('tbody tr');
      expect(await syncRows.count()).toBe(2);
      expect(await syncRows.filter({ hasText: 'team/synced' }).innerText()).toMatch(/✓\s+just now/);
      expect(await syncRows.filter({ hasText: 'team/vanished' }).innerText()).toMatch(/⚠ stale\s+never[\s\S]*MH_REGISTRY_NOT_FOUND/);

      // Sorting runs under the page's CSP (its one script is allowed by hash).
      const header = page.getByRole('table', { name: /Decisions per namespace/ }).locator('thead th').first();
      await header.getByRole('button').click();
      expect(await header.getAttribute('aria-sort')).toBe('ascending');

      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      expect(overflow).toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(artifactDir, `status-${viewport.name}.png`), fullPage: true });
      expect(requests).toEqual([`${server.url}/status`]);
      expect(violations).toEqual([]);
      await context.close();
    });
  }
});
