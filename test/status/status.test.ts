import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { type MirroringRuntime, createMirroring } from '../../src/mirroring/index.js';
import { type WebhookApp, buildApp } from '../../src/server/app.js';
import type { Status } from '../../src/status/model.js';
import { type StatusScene, expectedNamespaces, startStatusScene } from '../support/status-scene.js';

// GET /status and /status.json on the webhook app, after real admissions through /mutate and /audit against
// real source and mirror registries: the numbers add up, they equal the Prometheus metrics they are read from,
// the copy queue shows a copy done and one failing with its reason and next retry, and no secret leaks.

let scene: StatusScene;
let webhook: WebhookApp;
let runtime: MirroringRuntime;

async function statusJson(): Promise<Status> {
  return (await request(webhook.app.server).get('/status.json').expect(200)).body as Status;
}

async function until(check: (status: Status) => boolean, what: string): Promise<Status> {
  for (let i = 0; i < 200; i += 1) {
    const status = await statusJson();
    if (check(status)) return status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`status never showed ${what}: ${JSON.stringify((await statusJson()).copies)}`);
}

/** Sums the samples of one metric whose labels include `match`. */
function metricSum(text: string, name: string, match: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const parsed = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (parsed?.[1] !== name) continue;
    const labels = Object.fromEntries([...(parsed[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(match).every(([key, value]) => labels[key] === value)) sum += Number(parsed[3]);
  }
  return sum;
}

beforeAll(async () => {
  scene = await startStatusScene();
  const metrics = createMetrics({ processMetrics: false });
  runtime = await createMirroring(scene.config, metrics, pino({ level: 'silent' }), { env: {} });
  webhook = buildApp({ config: scene.config, logger: false, metrics, mirroring: runtime.mirroring });
  await webhook.app.ready();
  for (const { route, body } of scene.admissions) await request(webhook.app.server).post(route).send(body).expect(200);
});

afterAll(async () => {
  await webhook?.app.close();
  // The failing copy sleeps out its backoff; shutdown does not wait for it here (serve bounds it the same way).
  await Promise.race([runtime?.close(), new Promise((resolve) => setTimeout(resolve, 1_000))]);
  await scene?.stop();
});

describe('GET /status.json', () => {
  it('counts decisions by namespace and mode, kept images with their reasons', async () => {
    const status = await statusJson();
    for (const [name, expected] of Object.entries(expectedNamespaces)) {
      expect(status.namespaces[name], name).toMatchObject(expected);
      expect(status.namespaces[name]?.byMode[expected.mode], name).toMatchObject({ rewritten: expected.rewritten, wouldRewrite: expected.wouldRewrite });
    }
    expect(status.totals).toMatchObject({ pods: 3, rewritten: 1, wouldRewrite: 1, kept: 3, invalid: 1 });
    expect(status.registries[scene.source.host]).toEqual({ thirdParty: 2 + 1, rewritten: 2 });
    expect(status.registries['quay.io']).toEqual({ thirdParty: 1, rewritten: 0 });
    expect(status.requests.mutate).toEqual({ unchanged: 1, rewritten: 1 });
    expect(status.certificate).toEqual({ notAfter: null, daysLeft: null });
    expect(status.replica.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('shows the copy queue: the missing image copied, the absent one failing with its reason and next retry', async () => {
    const status = await until((s) => s.copies.enabled && s.copies.done === 1 && s.copies.running.some((copy) => copy.lastError !== null), 'a copy done and one retrying');
    if (!status.copies.enabled) throw new Error('copies off');
    const failing = status.copies.running.find((copy) => copy.source === scene.failing)!;
    expect(failing.lastError).toMatch(/^MH_[A-Z_]+: /);
    expect(failing.attempt).toBe(1);
    expect(Date.parse(failing.nextRetry!)).toBeGreaterThan(Date.parse(status.replica.generatedAt));
    expect(status.copies).toMatchObject({ queued: 0, inFlight: 1, done: 1, failed: 0, failedAttempts: 1 });
    expect(status.catalog).toMatchObject({ enabled: true });
    if (!status.catalog.enabled) return;
    expect(status.catalog.entries).toBeGreaterThanOrEqual(3);
    // base (shop), app, missing, then base again from staging: answered from the catalog.
    expect(status.catalog).toMatchObject({ lookups: 4, hits: 1, hitRate: 0.25 });
  });

  it('equals the Prometheus metrics it is read from', async () => {
    const status = await statusJson();
    const metrics = (await request(webhook.app.server).get('/metrics').expect(200)).text;
    for (const [name, ns] of Object.entries(status.namespaces)) {
      expect(metricSum(metrics, 'mirrorhook_decisions_total', { pod_namespace: name, outcome: 'rewritten' })).toBe(ns.rewritten);
      expect(metricSum(metrics, 'mirrorhook_decisions_total', { pod_namespace: name, outcome: 'would-rewrite' })).toBe(ns.wouldRewrite);
      expect(metricSum(metrics, 'mirrorhook_decisions_total', { pod_namespace: name, outcome: 'kept' })).toBe(ns.kept);
      for (const [reason, count] of Object.entries(ns.keptBy)) {
        expect(metricSum(metrics, 'mirrorhook_decisions_total', { pod_namespace: name, outcome: 'kept', reason })).toBe(count);
      }
    }
    for (const [registry, row] of Object.entries(status.registries)) {
      expect(metricSum(metrics, 'mirrorhook_third_party_images_total', { registry })).toBe(row.thirdParty);
    }
    if (!status.catalog.enabled) throw new Error('catalog off');
    expect(metricSum(metrics, 'mirrorhook_catalog_lookups_total', {})).toBe(status.catalog.lookups);
    expect(metrics).toMatch(/^mirrorhook_copies_in_flight \d+$/m);
    expect(metrics).toMatch(/^mirrorhook_copy_last_progress_timestamp_seconds \d/m);
  });

  it('never shows a secret: not the credential file, not what is in it', async () => {
    const json = (await request(webhook.app.server).get('/status.json').expect(200)).text;
    const html = (await request(webhook.app.server).get('/status').expect(200)).text;
    for (const secret of scene.secrets) {
      expect(json).not.toContain(secret);
      expect(html).not.toContain(secret);
    }
    expect((JSON.parse(json) as Status).config).toMatchObject({ credentials: { dockerConfig: 'set' }, swap: 'exists' });
  });
});

describe('GET /status', () => {
  it('is one HTML page under a strict CSP, with the JSON numbers marked by their path', async () => {
    const response = await request(webhook.app.server).get('/status').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(response.text).toContain('<meta http-equiv="Content-Security-Policy"');
    expect(response.text).not.toMatch(/<(link|img|iframe)\b|src="http|url\(/);
    expect(response.text).toContain(`data-key="namespaces.shop.rewritten">${expectedNamespaces.shop.rewritten}<`);
    expect(response.text).toContain('<h2 id="copies">Copy queue</h2>');
  });

  it('says copies and catalog are off when the webhook neither asks the mirror nor copies', async () => {
    const plain = buildApp({ config: { ...scene.config, swap: 'always', copy: 'none' }, logger: false, metrics: createMetrics({ processMetrics: false }) });
    await plain.app.ready();
    try {
      await request(plain.app.server).post('/mutate').send(scene.admissions[0]!.body).expect(200);
      const status = (await request(plain.app.server).get('/status.json').expect(200)).body as Status;
      expect(status.copies).toMatchObject({ enabled: false, reason: expect.stringMatching(/swap: always/) });
      expect(status.catalog).toMatchObject({ enabled: false });
      expect(status.namespaces.shop).toMatchObject({ mode: 'enforce', rewritten: 2, kept: 0 });
      const html = (await request(plain.app.server).get('/status').expect(200)).text;
      expect(html).toContain('Off: swap: always');
    } finally {
      await plain.app.close();
    }
  });

  it('is off with status.enabled: false: 404 on both routes, metrics still served', async () => {
    const config = validateConfig({ ...structuredClone(scene.config), status: { enabled: false } }, 'test');
    const off = buildApp({ config: { ...config, swap: 'always', copy: 'none' }, logger: false, metrics: createMetrics({ processMetrics: false }) });
    await off.app.ready();
    try {
      for (const path of ['/status', '/status.json']) {
        const response = await request(off.app.server).get(path).expect(404);
        expect(response.body.error.code).toBe('MH_NOT_FOUND');
      }
      await request(off.app.server).get('/metrics').expect(200);
    } finally {
      await off.app.close();
    }
  });
});
