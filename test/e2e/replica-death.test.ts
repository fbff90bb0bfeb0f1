import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeDomain } from '../../src/mapping/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { type TestImage, pushTestImage } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { skopeoRaw } from '../support/skopeo.js';
import { createNamespace, kubeConfig, kubeConfigPath, waitFor } from './harness.js';
import { applyWebhookConfiguration, deleteWebhookConfiguration, modeLabel, startMirrorhook, webhookConfiguration } from './mirrorhook.js';

// Issue 14, item 3: the replica holding an image's copy Lease dies (SIGKILL) in the middle of a large copy. The
// other replica, which the API server now calls, leaves the copy to the Lease holder until the Lease expires
// (60 s without renewal, as shipped), then takes it over and finishes; the mirror ends byte-exact; every Pod created
// meanwhile is admitted. The dying replica is caught mid-copy deterministically: the source's proxy stalls the first
// GET of the largest blob after 1 MiB, so that replica is inside a blob transfer, holding the Lease, when it is killed.

const configurationName = 'mirrorhook-e2e-replica-death';
const repository = 'team/large';
let source: TestRegistry;
let mirror: TestRegistry;
let proxy: FaultProxy;
let image: TestImage;
let largest: { digest: string; size: number };
let leaseNamespace: string;

const core = (): k8s.CoreV1Api => kubeConfig().makeApiClient(k8s.CoreV1Api);

beforeAll(async () => {
  [source, mirror] = await Promise.all([startRegistry(), startRegistry()]);
  const pusher = new RegistryClient();
  image = await pushTestImage(pusher, { domain: source.host, path: repository }, 'v1', { layerSize: 24 * 1024 * 1024, layersPerPlatform: 2, signature: true });
  await pusher.close();
  largest = [...image.blobs].sort((a, b) => b.size - a.size)[0]!;
  proxy = await startFaultProxy(source.host, (request) =>
    request.method === 'GET' && request.path.endsWith(`/blobs/${largest.digest}`) && request.seen === 1 ? { stallAfterBytes: 1024 * 1024 } : undefined,
  );
  leaseNamespace = await createNamespace({}, 'e2e-death-leases-');
});

afterAll(async () => {
  await deleteWebhookConfiguration(configurationName);
  await proxy?.stop();
  await Promise.all([source?.stop(), mirror?.stop()]);
});

describe('the replica holding the copy Lease dies mid-copy', () => {
  it('the other replica takes the Lease once it expires and finishes the copy byte-exact; no Pod is refused meanwhile', async () => {
    const config = {
      mirror: { registry: `${mirror.host}/mirror` },
      swap: 'exists',
      copy: 'background',
      catalog: { absentTtlSeconds: 1 },
      kubernetes: { enabled: true, kubeconfig: kubeConfigPath(), leaseNamespace },
    };
    const [dying, survivor] = await Promise.all([startMirrorhook({ config }), startMirrorhook({ config })]);
    const namespace = await createNamespace({ [modeLabel]: 'enforce' }, 'e2e-death-');
    const sourceImage = `${proxy.host}/${repository}:v1`;
    const target = { domain: mirror.host, path: `mirror/${encodeDomain(proxy.host)}/${repository}` };
    const mirrored = `${target.domain}/${target.path}:v1`;
    const pod = (name: string): k8s.V1Pod => ({ metadata: { name }, spec: { containers: [{ name: 'app', image: sourceImage }] } });
    const created: { name: string; image: string | undefined }[] = [];
    const createPod = async (name: string): Promise<string | undefined> => {
      const answer = await core().createNamespacedPod({ namespace, body: pod(name) });
      created.push({ name, image: answer.spec?.containers[0]?.image });
      return answer.spec?.containers[0]?.image;
    };
    const mirrorClient = new RegistryClient();
    try {
      // 1. The API server calls the dying replica; its first Pod queues the copy, which takes the Lease and stalls.
      await applyWebhookConfiguration(webhookConfiguration(configurationName, dying.url, dying.caPem), async () => {
        await core().createNamespacedPod({ namespace, body: pod(`probe-${Date.now()}`), dryRun: 'All' });
        return dying.output().includes(`"namespace":"${namespace}"`);
      });
      expect(await createPod('first')).toBe(sourceImage);
      await waitFor('the dying replica inside the largest blob', () => proxy.log.some((entry) => entry.fault !== undefined && entry.path.endsWith(largest.digest)), { timeoutMs: 60_000 });
      const leases = kubeConfig().makeApiClient(k8s.CoordinationV1Api);
      const held = (await leases.listNamespacedLease({ namespace: leaseNamespace })).items.filter((lease) => lease.metadata?.name?.startsWith('mirrorhook-copy-'));
      expect(held).toHaveLength(1);
      const holder = held[0]?.spec?.holderIdentity;
      expect(dying.output()).not.toContain('background copy done');

      // 2. It dies; the Service would now send every review to the survivor.
      const killedAt = Date.now();
      await dying.stop();
      await applyWebhookConfiguration(webhookConfiguration(configurationName, survivor.url, survivor.caPem), async () => {
        await core().createNamespacedPod({ namespace, body: pod(`probe-${Date.now()}`), dryRun: 'All' });
        return survivor.output().includes(`"namespace":"${namespace}"`);
      });
      expect(await mirrorClient.headManifest(target, 'v1')).toBeUndefined();

      // 3. A Pod a second, as a ReplicaSet retrying would create them, until one is rewritten to the mirror.
      let index = 0;
      const rewritten = await waitFor(
        'a Pod rewritten to the mirror by the survivor',
        async () => ((await createPod(`after-${index++}`)) === mirrored ? true : undefined),
        { timeoutMs: 150_000, intervalMs: 1_000 },
      );
      expect(rewritten).toBe(true);
      const recoveredSeconds = (Date.now() - killedAt) / 1000;
      // The Pod is rewritten as soon as the copy settles; the log line of that copy may reach stdout a moment later.
      const survivorLog = await waitFor('the survivor logging its copy', () => (/background copy done/.test(survivor.output()) ? survivor.output() : undefined), {
        timeoutMs: 10_000,
      });
      expect(survivorLog).toContain('background copy left to the replica holding its Lease');
      expect(survivorLog).toMatch(/"status":"copied"[^\n]*background copy done|background copy done[^\n]*"status":"copied"/);
      expect(survivorLog).not.toContain('copy Lease unavailable');
      // The copy waited for the dead replica's Lease to expire (60 s after its last renewal, at most 20 s before the kill).
      expect(recoveredSeconds).toBeGreaterThan(35);

      // 4. Byte-exact: the index, every child manifest and the signature tag, as skopeo reads them.
      expect((await skopeoRaw(mirror, mirrored)).digest).toBe(image.digest);
      for (const digest of image.manifestDigests) expect((await skopeoRaw(mirror, `${target.domain}/${target.path}@${digest}`)).digest).toBe(digest);
      expect(await mirrorClient.headManifest(target, image.signatureTag!)).toBeDefined();
      // Every Pod was admitted (each create above returned the Pod); none was created with a mirror image before the copy.
      expect(created.length).toBeGreaterThan(5);
      expect(created.slice(0, -1).every((entry) => entry.image === sourceImage)).toBe(true);
      // The survivor copied under its own Lease, then released it.
      const after = (await leases.listNamespacedLease({ namespace: leaseNamespace })).items.filter((lease) => lease.metadata?.name?.startsWith('mirrorhook-copy-'));
      expect(after).toHaveLength(0);
      console.log(
        `replica death: Lease held by ${String(holder)}, killed mid-blob; ${created.length} Pods admitted meanwhile; the survivor finished ${recoveredSeconds.toFixed(1)} s after the kill`,
      );
    } finally {
      await mirrorClient.close();
      await Promise.all([dying.stop(), survivor.stop()]);
    }
  }, 240_000);
});
