import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeDomain } from '../../src/mapping/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { pushTestArtifact } from '../support/artifacts.js';
import { pushTestImage } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { skopeoRaw } from '../support/skopeo.js';
import { createNamespace, kubeConfig, kubeConfigPath, waitFor } from './harness.js';
import { applyWebhookConfiguration, deleteWebhookConfiguration, modeLabel, startMirrorhook, webhookConfiguration } from './mirrorhook.js';

// Image volumes (spec.volumes[].image.reference, on by default since Kubernetes 1.35) through the real API server:
// the webhook gates them like containers (swap: exists), copies the missing artifact in the background, and the
// next Pod is stored with the mirror reference and the original under `volume/<name>`. The artifact is an OCI
// artifact (artifactType, empty config, model-weight layers), copied byte-exact: skopeo compares the digests.

const configurationName = 'mirrorhook-e2e-image-volumes';
let source: TestRegistry;
let mirror: TestRegistry;
let client: RegistryClient;
let hook: Awaited<ReturnType<typeof startMirrorhook>>;
let namespace: string;
let appImage: string;

const core = (): k8s.CoreV1Api => kubeConfig().makeApiClient(k8s.CoreV1Api);
const mirroredPath = (repository: string): string => `mirror/${encodeDomain(source.host)}/${repository}`;

function podWithVolume(name: string, reference: string): k8s.V1Pod {
  return {
    metadata: { name },
    spec: {
      containers: [{ name: 'app', image: appImage, volumeMounts: [{ name: 'model', mountPath: '/model', readOnly: true }] }],
      volumes: [{ name: 'model', image: { reference, pullPolicy: 'IfNotPresent' } }],
    },
  };
}

beforeAll(async () => {
  [source, mirror] = await Promise.all([startRegistry(), startRegistry()]);
  client = new RegistryClient();
  // The container's image is already in the mirror: only the volume is left to decide.
  const app = await pushTestImage(client, { domain: mirror.host, path: mirroredPath('team/app') }, 'v1');
  appImage = `${mirror.host}/${mirroredPath('team/app')}:v1`;
  expect(app.digest).toMatch(/^sha256:/);
  hook = await startMirrorhook({
    config: {
      mirror: { registry: `${mirror.host}/mirror` },
      swap: 'exists',
      copy: 'background',
      catalog: { absentTtlSeconds: 1 },
      kubernetes: { enabled: true, kubeconfig: kubeConfigPath() },
    },
  });
  namespace = await createNamespace({ [modeLabel]: 'enforce' }, 'e2e-volumes-');
  await applyWebhookConfiguration(webhookConfiguration(configurationName, hook.url, hook.caPem), async () => {
    await core().createNamespacedPod({ namespace, body: podWithVolume(`probe-${Date.now()}`, 'quay.io/probe/x:1'), dryRun: 'All' });
    return hook.output().includes('"namespace":"' + namespace + '"');
  });
});

afterAll(async () => {
  await deleteWebhookConfiguration(configurationName);
  await hook?.stop();
  await client?.close();
  await Promise.all([source?.stop(), mirror?.stop()]);
});

describe('image volumes through the API server', () => {
  it('leaves the first Pod on the source, copies the artifact byte-exact, and stores the next Pod with the mirror', async () => {
    const artifact = await pushTestArtifact(client, { domain: source.host, path: 'models/tiny' }, 'v1');
    const sourceReference = `${source.host}/models/tiny:v1`;
    const mirrorReference = `${mirror.host}/${mirroredPath('models/tiny')}:v1`;

    const first = await core().createNamespacedPod({ namespace, body: podWithVolume('first', sourceReference) });
    expect(first.spec?.volumes?.[0]?.image?.reference).toBe(sourceReference);
    expect(first.metadata?.annotations?.['mirrorhook.io/original-images']).toBeUndefined();

    await waitFor('the artifact in the mirror', async () => client.headManifest({ domain: mirror.host, path: mirroredPath('models/tiny') }, 'v1'), { timeoutMs: 60_000 });
    const [from, to] = await Promise.all([skopeoRaw(source, sourceReference), skopeoRaw(mirror, mirrorReference)]);
    expect(to.digest).toBe(artifact.digest);
    expect(to.bytes.equals(from.bytes)).toBe(true);
    for (const blob of artifact.blobs) expect(await client.headBlob({ domain: mirror.host, path: mirroredPath('models/tiny') }, blob.digest)).toBe(blob.size);

    const second = await waitFor(
      'a Pod stored with the mirror reference',
      async () => {
        const created = await core().createNamespacedPod({ namespace, body: podWithVolume(`second-${Date.now()}`, sourceReference) });
        return created.spec?.volumes?.[0]?.image?.reference === mirrorReference ? created : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1_000 },
    );
    const stored = await core().readNamespacedPod({ namespace, name: second.metadata!.name! });
    expect(stored.spec?.volumes?.[0]?.image?.reference).toBe(mirrorReference);
    expect(stored.spec?.containers[0]?.image).toBe(appImage);
    expect(JSON.parse(stored.metadata?.annotations?.['mirrorhook.io/original-images'] ?? '{}')).toEqual({ 'volume/model': sourceReference });
  });

  it('copies an index of artifacts with its children, then rewrites Pods except those with the skip label', async () => {
    const artifact = await pushTestArtifact(client, { domain: source.host, path: 'models/variants' }, 'v1', { index: true });
    const sourceReference = `${source.host}/models/variants:v1`;
    await core().createNamespacedPod({ namespace, body: podWithVolume('variants-first', sourceReference) });
    await waitFor('the index in the mirror', async () => client.headManifest({ domain: mirror.host, path: mirroredPath('models/variants') }, 'v1'), { timeoutMs: 60_000 });
    expect((await skopeoRaw(mirror, `${mirror.host}/${mirroredPath('models/variants')}:v1`)).digest).toBe(artifact.digest);
    for (const child of artifact.children) expect((await skopeoRaw(mirror, `${mirror.host}/${mirroredPath('models/variants')}@${child}`)).digest).toBe(child);
    const mirrorReference = `${mirror.host}/${mirroredPath('models/variants')}:v1`;
    const rewritten = await waitFor(
      'a Pod stored with the mirror reference',
      async () => {
        const created = await core().createNamespacedPod({ namespace, body: podWithVolume(`variants-${Date.now()}`, sourceReference) });
        return created.spec?.volumes?.[0]?.image?.reference === mirrorReference ? created : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1_000 },
    );
    expect(JSON.parse(rewritten.metadata?.annotations?.['mirrorhook.io/original-images'] ?? '{}')).toEqual({ 'volume/model': sourceReference });
    // The skip label opts a Pod out, volumes included, even when the mirror has the artifact.
    const skipped = podWithVolume('variants-skipped', sourceReference);
    skipped.metadata!.labels = { 'mirrorhook.io/skip': 'true' };
    const kept = await core().createNamespacedPod({ namespace, body: skipped });
    expect(kept.spec?.volumes?.[0]?.image?.reference).toBe(sourceReference);
    expect(kept.metadata?.annotations?.['mirrorhook.io/original-images']).toBeUndefined();
  });

  it('in an audit namespace leaves the Pod unchanged and warns what would change for the volume', async () => {
    const audit = await createNamespace({ [modeLabel]: 'audit' }, 'e2e-volumes-audit-');
    const sourceReference = `${source.host}/models/tiny:v1`;
    const mirrorReference = `${mirror.host}/${mirroredPath('models/tiny')}:v1`;
    // The first test copied models/tiny: the catalog now finds it, so the audit says the volume would be rewritten.
    const response = await waitFor(
      'an audit warning for the volume',
      async () => {
        const created = await core().createNamespacedPodWithHttpInfo({ namespace: audit, body: podWithVolume(`audited-${Date.now()}`, sourceReference) });
        return (created.headers.warning ?? '').includes('volume/model') ? created : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1_000 },
    );
    expect(response.headers.warning).toContain(`mirrorhook audit: volume/model: ${sourceReference} -> ${mirrorReference}`);
    const stored = await core().readNamespacedPod({ namespace: audit, name: response.data.metadata!.name! });
    expect(stored.spec?.volumes?.[0]?.image?.reference).toBe(sourceReference);
    expect(stored.metadata?.annotations?.['mirrorhook.io/original-images']).toBeUndefined();
  });
});
