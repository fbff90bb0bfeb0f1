import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { encodeDomain } from '../../src/mapping/index.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { createMirroring } from '../../src/mirroring/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { buildApp } from '../../src/server/app.js';
import { expectConsistentTag } from '../support/consistency.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { admissionReview, pod } from '../support/fixtures.js';
import { type TestImage, pushTestImage } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { skopeoRaw } from '../support/skopeo.js';

/**
 * The mirror down during background copies (issue 14, item 4): the webhook admits a Pod with several images the
 * mirror lacks, and the mirror (behind a fault proxy that drops every connection, as a registry whose Pods are gone)
 * goes down as soon as the first blob upload starts, for MIRRORHOOK_OUTAGE_SECONDS. The queue's retry schedule is
 * the production one (3 attempts, 5 s base, 10 min cap), and so is the registry client's circuit breaker (a 30-s rest
 * after 12 failures in a row), both scaled by outage / 30 s, so the short run in `npm test` is
 * the 30-s outage at a smaller time scale; `npm run soak:outage` runs 30 s at the production schedule. After the
 * outage, a Pod using the same images is admitted every second, as Deployments keep creating them: a copy that
 * finally failed is dropped by the queue and queued again by such a Pod. Every image must end byte-exact in the
 * mirror, no tag may ever point at an incomplete image, and the copy attempts during the outage are bounded.
 */
const outageSeconds = Number(process.env.MIRRORHOOK_OUTAGE_SECONDS ?? 3);
const scale = outageSeconds / 30;
const retry = { attempts: 3, baseBackoffMs: Math.round(5_000 * scale), maxBackoffMs: Math.round(600_000 * scale) };
// The registry client rests a host for 30 s after 12 failures in a row (registry/transport.ts): scaled alike.
const breaker = { cooldownMs: Math.round(30_000 * scale) };
const imageCount = 6;

let source: TestRegistry;
let mirror: TestRegistry;
let proxy: FaultProxy;
const images: TestImage[] = [];
const outage = { down: false, startedAt: 0, endedAt: 0 };

beforeAll(async () => {
  [source, mirror] = await Promise.all([startRegistry(), startRegistry()]);
  const client = new RegistryClient();
  for (let i = 0; i < imageCount; i++) {
    images.push(await pushTestImage(client, { domain: source.host, path: `outage/app${i}` }, 'v1', { signature: true, layerSize: 256 * 1024, seed: `outage${i}` }));
  }
  await client.close();
  proxy = await startFaultProxy(mirror.host, (request) => {
    if (outage.startedAt === 0 && request.method === 'POST' && request.path.endsWith('/blobs/uploads/')) {
      // The first upload: copies are in flight. The mirror goes down now, this request included.
      outage.down = true;
      outage.startedAt = Date.now();
      setTimeout(() => {
        outage.down = false;
        outage.endedAt = Date.now();
      }, outageSeconds * 1000);
    }
    return outage.down ? { drop: true } : undefined;
  });
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all([source?.stop(), mirror?.stop()]);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mirrorRepository = (i: number) => `mirror/${encodeDomain(source.host)}/outage/app${i}`;

describe(`the mirror down for ${outageSeconds} s during background copies`, () => {
  it('backs off, recovers, and ends with every image byte-exact in the mirror', async () => {
    const config = validateConfig(
      { mirror: { registry: `${proxy.host}/mirror` }, swap: 'exists', copy: 'background', catalog: { absentTtlSeconds: 1 } },
      'test',
    );
    const metrics = createMetrics({ processMetrics: false });
    const runtime = await createMirroring(config, metrics, pino({ level: 'silent' }), { env: {}, timing: { queue: retry, breaker } });
    const webhook = buildApp({ config, logger: false, metrics, mirroring: runtime.mirroring });
    await webhook.app.ready();
    const review = () =>
      admissionReview({ object: pod({ containers: images.map((_, i) => ({ name: `c${i}`, image: `${source.host}/outage/app${i}:v1` })) }) });
    const admit = async (): Promise<number> => {
      const answer = await request(webhook.app.server).post('/mutate').send(review()).expect(200);
      expect(answer.body.response.allowed).toBe(true);
      const patch = answer.body.response.patch;
      if (patch === undefined) return 0;
      const ops = JSON.parse(Buffer.from(patch, 'base64').toString()) as { path: string }[];
      return ops.filter((op) => /^\/spec\/containers\/\d+\/image$/.test(op.path)).length;
    };
    const failedAttempts = async () => (await metrics.copies.get()).values.filter((v) => v.labels.status === 'failed').reduce((sum, v) => sum + v.value, 0);
    try {
      // The first Pod: nothing in the mirror yet, every image queued, the Pod keeps its sources.
      expect(await admit()).toBe(0);
      for (let i = 0; i < 200 && outage.startedAt === 0; i++) await sleep(25);
      expect(outage.startedAt, 'the outage began while copies were in flight').toBeGreaterThan(0);
      while (outage.endedAt === 0) await sleep(50);
      const attemptsDuringOutage = await failedAttempts();
      const droppedDuringOutage = proxy.log.filter((entry) => entry.fault !== undefined).length;
      const status = runtime.mirroring.status();
      // Never a tag over an incomplete image, even right after the outage.
      for (let i = 0; i < imageCount; i++) await expectConsistentTag(mirror.host, mirrorRepository(i), 'v1');

      // Later Pods, one a second, until one is rewritten to the mirror for every image.
      let pods = 0;
      let rewritten = 0;
      const deadline = Date.now() + 60_000 + 2 * retry.maxBackoffMs;
      while (rewritten < imageCount && Date.now() < deadline) {
        await sleep(1_000);
        pods++;
        rewritten = await admit();
      }
      const recoveredAfterMs = Date.now() - outage.endedAt;
      for (let i = 0; i < 100 && runtime.mirroring.queueDepth > 0; i++) await sleep(50);
      const after = runtime.mirroring.status();
      const metricsText = (await request(webhook.app.server).get('/metrics')).text;
      console.log(
        `mirror outage ${outageSeconds} s (retry base ${retry.baseBackoffMs} ms): ${attemptsDuringOutage} failed copy attempts and ` +
          `${droppedDuringOutage} dropped mirror connections during the outage; ${after.queue.finished.failed} copies failed finally and were ` +
          `queued again by later Pods; all ${imageCount} images rewritten ${(recoveredAfterMs / 1000).toFixed(1)} s after the mirror came back ` +
          `(${pods} later Pods)`,
      );

      expect(rewritten, 'a later Pod gets every image from the mirror').toBe(imageCount);
      // Backoff, not a hot loop: each copy attempt after a failure waits for at least the base backoff, and no new
      // copy starts from a backed-off registry, so copyJobs copies make at most 1 + outage / base attempts each.
      expect(attemptsDuringOutage).toBeGreaterThan(0);
      expect(attemptsDuringOutage).toBeLessThanOrEqual(config.copyJobs * (1 + (outageSeconds * 1000) / retry.baseBackoffMs));
      // Connections: the client's breaker rests the mirror after 12 failures in a row, so an outage as long as its
      // rest sees at most two runs of 12, plus the requests in flight on each copy's connections when it opens.
      expect(droppedDuringOutage).toBeLessThanOrEqual(12 * (1 + (outageSeconds * 1000) / breaker.cooldownMs) + 4 * config.copyJobs);
      // Recovery: the doubled backoff never waits much longer than the failures have lasted; a Pod a second then
      // finds every image (copies here take well under a second each, 10 s is the margin for a busy machine).
      expect(recoveredAfterMs).toBeLessThanOrEqual(2 * outageSeconds * 1000 + 10_000);
      // The status page showed the failing copies while the mirror was down.
      expect([...status.queue.running, ...status.queue.waiting].some((copy) => copy.lastError !== null) || status.queue.recentFailures.length > 0).toBe(true);
      expect(after.queue.waiting).toEqual([]);
      expect(after.queue.running).toEqual([]);
      expect(after.queue.finished.copied).toBe(imageCount);
      expect(metricsText).toMatch(/mirrorhook_copies_total\{registry="[^"]+",status="failed"\} [1-9]/);
      expect(metricsText).toMatch(new RegExp(`mirrorhook_copies_total\\{registry="[^"]+",status="copied"\\} ${imageCount}\\b`));
      if (after.queue.finished.failed > 0) expect(metricsText).toMatch(/mirrorhook_copy_failures_total\{registry="[^"]+",code="[A-Z_]+"\} [1-9]/);

      for (let i = 0; i < imageCount; i++) {
        expect(await expectConsistentTag(mirror.host, mirrorRepository(i), 'v1')).toBe('present');
        const copied = await skopeoRaw(mirror, `${mirror.host}/${mirrorRepository(i)}:v1`);
        const original = await skopeoRaw(source, `${source.host}/outage/app${i}:v1`);
        expect(copied.digest, `image ${i}`).toBe(images[i]!.digest);
        expect(copied.bytes.equals(original.bytes), `image ${i}`).toBe(true);
        for (const digest of images[i]!.manifestDigests) expect((await skopeoRaw(mirror, `${mirror.host}/${mirrorRepository(i)}@${digest}`)).digest).toBe(digest);
      }
    } finally {
      await webhook.app.close();
      await runtime.close(2_000);
    }
  }, 120_000 + 4 * retry.maxBackoffMs);
});
