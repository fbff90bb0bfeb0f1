import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { encodeDomain } from '../../src/mapping/index.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { type MirroringRuntime, createMirroring } from '../../src/mirroring/index.js';
import { RegistryClient, staticProvider } from '../../src/registry/index.js';
import { type WebhookApp, buildApp } from '../../src/server/app.js';
import { admissionReview, pod } from '../support/fixtures.js';
import { pushTestImage } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { skopeoRaw } from '../support/skopeo.js';

// Background mirroring against two real registries: an htpasswd-protected source and a mirror, both Debian
// docker-registry on loopback, with the webhook app answering AdmissionReviews over HTTP (supertest).

let source: TestRegistry;
let mirror: TestRegistry;
let client: RegistryClient;
let dockerConfig: string;

beforeAll(async () => {
  [source, mirror] = await Promise.all([startRegistry({ auth: 'htpasswd' }), startRegistry()]);
  const credential = source.credential!;
  client = new RegistryClient({ credentials: staticProvider({ [source.host]: { kind: 'basic', ...credential } }) });
  dockerConfig = join(mkdtempSync(join(tmpdir(), 'mh-dockercfg-')), 'config.json');
  writeFileSync(
    dockerConfig,
    JSON.stringify({ auths: { [source.host]: { auth: Buffer.from(`${credential.username}:${credential.password}`).toString('base64') } } }),
  );
});

afterAll(async () => {
  await client?.close();
  await Promise.all([source?.stop(), mirror?.stop()]);
});

interface Harness {
  webhook: WebhookApp;
  runtime: MirroringRuntime;
  config: Config;
  close(): Promise<void>;
}

async function harness(overrides: Record<string, unknown>): Promise<Harness> {
  const config = validateConfig(
    {
      mirror: { registry: `${mirror.host}/mirror` },
      swap: 'exists',
      copy: 'background',
      credentials: { dockerConfig },
      ...overrides,
    },
    'test',
  );
  const metrics = createMetrics({ processMetrics: false });
  const runtime = await createMirroring(config, metrics, pino({ level: 'silent' }), { env: {} });
  const webhook = buildApp({ config, logger: false, metrics, mirroring: runtime.mirroring });
  await webhook.app.ready();
  return {
    webhook,
    runtime,
    config,
    async close() {
      await webhook.app.close();
      await runtime.close();
    },
  };
}

function reviewFor(image: string, options: { dryRun?: boolean } = {}) {
  return admissionReview({ object: pod({ containers: [{ name: 'app', image }] }), ...options });
}

function mirrorPathOf(repository: string): string {
  return `${mirror.host}/mirror/${encodeDomain(source.host)}/${repository}`;
}

async function untilIdle(runtime: MirroringRuntime): Promise<void> {
  for (let i = 0; i < 600 && runtime.mirroring.queueDepth > 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(runtime.mirroring.queueDepth).toBe(0);
}

describe('swap: exists with copy: background', () => {
  it('leaves the first Pod alone and queues the copy; the copy lands byte-identical; the next Pod is rewritten', async () => {
    const h = await harness({ catalog: { absentTtlSeconds: 1 } });
    try {
      const image = await pushTestImage(client, { domain: source.host, path: 'team/app' }, 'v1', { signature: true });
      const sourceImage = `${source.host}/team/app:v1`;

      const first = await request(h.webhook.app.server).post('/mutate').send(reviewFor(sourceImage)).expect(200);
      expect(first.body.response.patch).toBeUndefined();
      expect(first.body.response.warnings).toEqual([`mirrorhook: app: ${sourceImage} kept: not-in-mirror: copy queued; the next Pod gets the mirror`]);

      await untilIdle(h.runtime);
      const mirrored = await skopeoRaw(mirror, `${mirrorPathOf('team/app')}:v1`);
      const original = await skopeoRaw(source, sourceImage);
      expect(mirrored.digest).toBe(image.digest);
      expect(mirrored.bytes.equals(original.bytes)).toBe(true);
      // The signature came along.
      expect((await skopeoRaw(mirror, `${mirrorPathOf('team/app')}:${image.signatureTag}`)).digest).toBe(
        (await skopeoRaw(source, `${source.host}/team/app:${image.signatureTag}`)).digest,
      );

      const second = await request(h.webhook.app.server).post('/mutate').send(reviewFor(sourceImage)).expect(200);
      const patch = JSON.parse(Buffer.from(second.body.response.patch, 'base64').toString());
      expect(patch).toContainEqual({ op: 'replace', path: '/spec/containers/0/image', value: `${mirrorPathOf('team/app')}:v1` });

      const metrics = await request(h.webhook.app.server).get('/metrics');
      expect(metrics.text).toMatch(new RegExp(`mirrorhook_copies_total\\{registry="${source.host.replace(/\./g, '\\.')}",status="copied"\\} 1`));
      expect(metrics.text).toMatch(/mirrorhook_catalog_lookups_total\{result="miss",state="unknown"\} \d+/);
      expect(metrics.text).toMatch(/mirrorhook_image_decisions_total\{action="skip",reason="not-in-mirror"\} 1/);
    } finally {
      await h.close();
    }
  });

  it('copies nothing for dryRun requests, and audit copies only with prefetch', async () => {
    const h = await harness({});
    try {
      await pushTestImage(client, { domain: source.host, path: 'team/dry' }, 'v1');
      const dry = await request(h.webhook.app.server).post('/mutate').send(reviewFor(`${source.host}/team/dry:v1`, { dryRun: true })).expect(200);
      expect(dry.body.response.warnings[0]).toMatch(/not-in-mirror: dry run, nothing copied/);
      const audit = await request(h.webhook.app.server).post('/audit').send(reviewFor(`${source.host}/team/dry:v1`)).expect(200);
      expect(audit.body.response.warnings[0]).toMatch(/audit without prefetch, nothing copied/);
      expect(h.runtime.mirroring.queueDepth).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const mirrorClient = new RegistryClient();
      expect(await mirrorClient.headManifest({ domain: mirror.host, path: `mirror/${encodeDomain(source.host)}/team/dry` }, 'v1')).toBeUndefined();
      await mirrorClient.close();
    } finally {
      await h.close();
    }
    const prefetching = await harness({ audit: { prefetch: true } });
    try {
      const audit = await request(prefetching.webhook.app.server).post('/audit').send(reviewFor(`${source.host}/team/dry:v1`)).expect(200);
      expect(audit.body.response.patch).toBeUndefined();
      await untilIdle(prefetching.runtime);
      expect((await skopeoRaw(mirror, `${mirrorPathOf('team/dry')}:v1`)).digest).toBe((await skopeoRaw(source, `${source.host}/team/dry:v1`)).digest);
    } finally {
      await prefetching.close();
    }
  });

  it('stops targeting a mirror image deleted out of band, once revalidation notices', async () => {
    const h = await harness({ copy: 'none', catalog: { presentTtlSeconds: 1 } });
    try {
      const repo = { domain: mirror.host, path: `mirror/${encodeDomain(source.host)}/team/gone` };
      const mirrorClient = new RegistryClient();
      const pushed = await pushTestImage(mirrorClient, repo, 'v1');
      const sourceImage = `${source.host}/team/gone:v1`;
      const before = await request(h.webhook.app.server).post('/mutate').send(reviewFor(sourceImage)).expect(200);
      expect(before.body.response.patchType).toBe('JSONPatch');

      const deleted = await fetch(`http://${mirror.host}/v2/${repo.path}/manifests/${pushed.digest}`, { method: 'DELETE' });
      expect(deleted.status).toBe(202);
      await mirrorClient.close();
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      // The stale answer is served once while the catalog revalidates…
      await request(h.webhook.app.server).post('/mutate').send(reviewFor(sourceImage)).expect(200);
      await new Promise((resolve) => setTimeout(resolve, 200));
      // …and from then on the Pod keeps its source image.
      const after = await request(h.webhook.app.server).post('/mutate').send(reviewFor(sourceImage)).expect(200);
      expect(after.body.response.patch).toBeUndefined();
      expect(after.body.response.warnings[0]).toMatch(/not-in-mirror: copy: none/);
    } finally {
      await h.close();
    }
  });

  it('fails open when the mirror is down: allowed, unpatched, with the reason', async () => {
    const down = await startRegistry();
    const h = await harness({ mirror: { registry: `${down.host}/mirror` }, catalog: { budgetMilliseconds: 200 } });
    await down.stop();
    try {
      const response = await request(h.webhook.app.server).post('/mutate').send(reviewFor('quay.io/org/app:1')).expect(200);
      expect(response.body.response.allowed).toBe(true);
      expect(response.body.response.patch).toBeUndefined();
      expect(response.body.response.warnings[0]).toMatch(/mirror-unknown/);
    } finally {
      await h.close();
    }
  });
});

describe('swap: exists with copy: wait', () => {
  it('copies within the deadline and rewrites the first Pod', async () => {
    const h = await harness({ copy: 'wait', copyDeadlineSeconds: 20 });
    try {
      const image = await pushTestImage(client, { domain: source.host, path: 'team/waited' }, 'v2');
      const response = await request(h.webhook.app.server).post('/mutate').send(reviewFor(`${source.host}/team/waited:v2`)).expect(200);
      const patch = JSON.parse(Buffer.from(response.body.response.patch, 'base64').toString());
      expect(patch).toContainEqual({ op: 'replace', path: '/spec/containers/0/image', value: `${mirrorPathOf('team/waited')}:v2` });
      expect((await skopeoRaw(mirror, `${mirrorPathOf('team/waited')}:v2`)).digest).toBe(image.digest);
    } finally {
      await h.close();
    }
  });
});

describe('mutable tags', () => {
  it('re-mirrors a tag that moved at the source once the refresh interval has passed', async () => {
    let now = Date.now();
    const config = validateConfig(
      { mirror: { registry: `${mirror.host}/mirror` }, swap: 'exists', copy: 'background', credentials: { dockerConfig }, catalog: { presentTtlSeconds: 1, tagRefreshSeconds: 60 } },
      'test',
    );
    const { MirrorCatalog, CopyQueue, Mirroring } = await import('../../src/mirroring/index.js');
    const { copyImages } = await import('../../src/copy/executor.js');
    const sourceClient = new RegistryClient({ credentials: staticProvider({ [source.host]: { kind: 'basic', ...source.credential! } }) });
    const catalog = new MirrorCatalog(sourceClient, { now: () => now, presentTtlMs: 1_000 });
    const queue = new CopyQueue(async (job) => {
      const [result] = await copyImages(sourceClient, [job]);
      return result?.status === 'copied' || result?.status === 'up-to-date'
        ? { status: result.status, digest: result.digest, bytes: result.bytes, durationMs: 0 }
        : { status: 'failed', code: result?.error?.code ?? 'X', message: result?.error?.message ?? 'x', durationMs: 0 };
    });
    const mirroring = new Mirroring({ config, catalog, queue, sources: sourceClient, now: () => now });
    try {
      const repo = { domain: source.host, path: 'team/moving' };
      await pushTestImage(sourceClient, repo, 'stable');
      const jobs = [{ source: { domain: source.host, path: 'team/moving', tag: 'stable', digest: undefined }, target: { domain: mirror.host, path: `mirror/${encodeDomain(source.host)}/team/moving`, tag: 'stable', digest: undefined } }];
      await mirroring.prepare(jobs, { dryRun: false, audit: false });
      while (mirroring.queueDepth > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await mirroring.prepare(jobs, { dryRun: false, audit: false }))(jobs[0]!).rewrite).toBe(true);

      const moved = await pushTestImage(sourceClient, repo, 'stable');
      now += 61_000; // past tagRefreshSeconds and the present TTL
      await mirroring.prepare(jobs, { dryRun: false, audit: false });
      await new Promise((resolve) => setTimeout(resolve, 300));
      while (mirroring.queueDepth > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await skopeoRaw(mirror, `${mirrorPathOf('team/moving')}:stable`)).digest).toBe(moved.digest);
    } finally {
      await mirroring.close();
      await sourceClient.close();
    }
  });
});
