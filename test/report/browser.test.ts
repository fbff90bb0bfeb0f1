import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactDir, launchChromium } from '../support/browser.js';
import { runCommand } from '../support/cli.js';
import { type StatusScene, startStatusScene } from '../support/status-scene.js';
import type { SyncStatusView } from '../../src/sync/record.js';

// The report page in real headless Chromium, opened from disk: same numbers as the JSON, nothing fetched,
// no CSP violation (the sort script runs under the page's own policy), no horizontal overflow on a phone.
const config = ['--config', 'examples/mirrorhook.yaml', '--offline'];
const inputs = ['--from-logs', 'examples/logs/gcloud-events.json', '--from-audit-logs', 'examples/logs/binauthz-dryrun.json', 'examples/'];

describe('report in Chromium', () => {
  let browser: Browser;
  const file = join(mkdtempSync(join(tmpdir(), 'mh-report-browser-')), 'report.html');
  let json: { images: { total: number; thirdParty: number; mirrored: number }; registries: { registry: string; pulls: number }[] };

  beforeAll(async () => {
    mkdirSync(artifactDir, { recursive: true });
    const written = await runCommand(['report', ...config, '--out', file, ...inputs]);
    expect(written.code, written.stderr).toBe(0);
    json = JSON.parse((await runCommand(['report', ...config, '-o', 'json', ...inputs])).stdout) as typeof json;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  for (const viewport of [{ name: 'phone', width: 375, height: 812 }, { name: 'desktop', width: 1280, height: 900 }]) {
    it(`shows the JSON's numbers at ${viewport.name} width, fetches nothing and does not overflow`, async () => {
      const page = await browser.newPage({ viewport: { width: viewport.width, height: viewport.height } });
      const requests: string[] = [];
      const violations: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      page.on('console', (message) => {
        if (/Content Security Policy|Refused/.test(message.text())) violations.push(message.text());
      });
      await page.goto(pathToFileURL(file).href);
      const text = async (key: string): Promise<string> => (await page.locator(`[data-key="${key}"]`).innerText()).trim();
      expect(await text('images.total')).toBe(String(json.images.total));
      expect(await text('images.thirdParty')).toBe(String(json.images.thirdParty));
      expect(await text('images.mirrored')).toBe(String(json.images.mirrored));
      for (const row of json.registries) expect(await text(`registries.${row.registry}.pulls`)).toBe(String(row.pulls));
      expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('mirrorhook migration report');

      // The image filter works without script; the sort button works under the page's CSP.
      await page.getByLabel('served from the mirror').check();
      const visible = await page.locator('#image-list tbody tr:visible').count();
      expect(visible).toBe(json.images.mirrored);
      await page.getByLabel('all').check();
      const header = page.locator('#image-list thead th').first();
      await header.getByRole('button').click();
      await header.getByRole('button').click();
      expect(await header.getAttribute('aria-sort')).toBe('descending');

      // Evaluated in the page; written as a string because the test compiles without the DOM library.
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      expect(overflow).toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(artifactDir, `report-${viewport.name}.png`), fullPage: true });
      expect(requests.filter((url) => !url.startsWith('file:') && !url.startsWith('data:'))).toEqual([]);
      expect(violations).toEqual([]);
      await page.close();
    });
  }
});

// With sync: entries the report reads the sync status records from the mirror (here left by a real sync run) and
// shows "Kept current by sync": the same rows as its JSON, a stale marker, still nothing fetched, no overflow.
describe('report with sync: entries in Chromium', () => {
  let browser: Browser;
  let scene: StatusScene;
  const folder = mkdtempSync(join(tmpdir(), 'mh-report-sync-'));
  const file = join(folder, 'report.html');
  let view: SyncStatusView;

  beforeAll(async () => {
    mkdirSync(artifactDir, { recursive: true });
    scene = await startStatusScene();
    const config = join(folder, 'mirrorhook.yaml');
    writeFileSync(config, `mirror:\n  registry: ${scene.mirror.host}/mirror\nsync:\n  - source: ${scene.source.host}/team/synced\n  - source: ${scene.source.host}/team/vanished\n`);
    writeFileSync(join(folder, 'pod.yaml'), `apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - {name: web, image: "${scene.source.host}/team/synced:1.0.0"}\n`);
    const written = await runCommand(['report', '--config', config, '--out', file, join(folder, 'pod.yaml')]);
    expect(written.code, written.stderr).toBe(0);
    expect(written.stdout).toContain('sync: 2 repositories recorded, 1 stale (no success for 48 h)');
    view = (JSON.parse((await runCommand(['report', '--config', config, '-o', 'json', join(folder, 'pod.yaml')])).stdout) as { sync: SyncStatusView }).sync;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await scene?.stop();
  });

  for (const viewport of [{ name: 'phone', width: 375, height: 812 }, { name: 'desktop', width: 1280, height: 900 }]) {
    it(`shows when each synced repository last succeeded at ${viewport.name} width`, async () => {
      const page = await browser.newPage({ viewport: { width: viewport.width, height: viewport.height } });
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(pathToFileURL(file).href);
      expect(view).toMatchObject({ checked: true, error: null, stale: 1, staleAfterHours: 48 });
      expect((await page.locator('[data-key="sync.stale"]').innerText()).trim()).toBe(String(view.stale));
      const rows = page.getByRole('table', { name: 'When each synced repository last succeeded' }).locator('tbody tr');
      expect(await rows.count()).toBe(view.repositories.length);
      for (const row of view.repositories) {
        const shown = await rows.filter({ hasText: row.source }).innerText();
        expect(shown).toContain(row.lastSuccess ?? 'never');
        expect(shown).toContain(row.lastAttempt);
        expect(shown.includes('⚠ stale'), row.source).toBe(row.stale);
      }
      expect(await page.locator('tbody tr[data-stale="true"]').count()).toBe(view.stale);
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      expect(overflow).toBeLessThanOrEqual(0);
      await page.locator('section[aria-labelledby="sync"]').screenshot({ path: join(artifactDir, `report-sync-${viewport.name}.png`) });
      expect(requests.filter((url) => !url.startsWith('file:') && !url.startsWith('data:'))).toEqual([]);
      await page.close();
    });
  }
});
