import { request as httpsRequest } from 'node:https';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeDomain } from '../../src/mapping/index.js';
import { RegistryClient, staticProvider } from '../../src/registry/index.js';
import { pushTestImage } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { createNamespace, kubeConfig, kubeConfigPath, waitFor } from './harness.js';
import { applyWebhookConfiguration, deleteWebhookConfiguration, modeLabel, startMirrorhook, webhookConfiguration } from './mirrorhook.js';

// Background mirroring with the real API server in the loop: two real registries (an htpasswd-protected source
// and a mirror), mirrorhook processes with a kubeconfig, Pods created through the API server.
// - the copy uses the Pod's imagePullSecrets and its ServiceAccount's (the webhook has no credentials of its own);
// - a failed copy posts a Warning Event in the Pod's namespace;
// - two replicas admitting the same new image copy it once (a Lease per image).

const configurationName = 'mirrorhook-e2e-mirroring';
let source: TestRegistry;
let mirror: TestRegistry;
let pusher: RegistryClient;
let mirrorClient: RegistryClient;
let leaseNamespace: string;

const core = (): k8s.CoreV1Api => kubeConfig().makeApiClient(k8s.CoreV1Api);

function hookConfig(): unknown {
  return {
    mirror: { registry: `${mirror.host}/mirror` },
    swap: 'exists',
    copy: 'background',
    catalog: { absentTtlSeconds: 1 },
    kubernetes: { enabled: true, kubeconfig: kubeConfigPath(), leaseNamespace },
  };
}

function mirrored(repository: string): { domain: string; path: string } {
  return { domain: mirror.host, path: `mirror/${encodeDomain(source.host)}/${repository}` };
}

async function pullSecret(namespace: string, name: string): Promise<void> {
  const { username, password } = source.credential!;
  const config = { auths: { [source.host]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } } };
  await core().createNamespacedSecret({
    namespace,
    body: { metadata: { name }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(JSON.stringify(config)).toString('base64') } },
  });
}

function podWith(name: string, image: string, extra: Partial<k8s.V1PodSpec> = {}): k8s.V1Pod {
  return { metadata: { name }, spec: { containers: [{ name: 'app', image }], ...extra } };
}

beforeAll(async () => {
  [source, mirror] = await Promise.all([startRegistry({ auth: 'htpasswd' }), startRegistry()]);
  pusher = new RegistryClient({ credentials: staticProvider({ [source.host]: { kind: 'basic', ...source.credential! } }) });
  mirrorClient = new RegistryClient();
  leaseNamespace = await createNamespace({}, 'e2e-leases-');
});

afterAll(async () => {
  await deleteWebhookConfiguration(configurationName);
  await pusher?.close();
  await mirrorClient?.close();
  await Promise.all([source?.stop(), mirror?.stop()]);
});

describe('background mirroring through the API server', () => {
  let hook: Awaited<ReturnType<typeof startMirrorhook>>;
  let namespace: string;

  beforeAll(async () => {
    hook = await startMirrorhook({ config: hookConfig() });
    namespace = await createNamespace({ [modeLabel]: 'enforce' });
    await pullSecret(namespace, 'source-creds');
    await pullSecret(namespace, 'sa-creds');
    await core().patchNamespacedServiceAccount(
      { name: 'default', namespace, body: [{ op: 'add', path: '/imagePullSecrets', value: [{ name: 'sa-creds' }] }] },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
    await applyWebhookConfiguration(webhookConfiguration(configurationName, hook.url, hook.caPem), async () => {
      const probe = await core().createNamespacedPod({ namespace, body: podWith(`probe-${Date.now()}`, 'quay.io/probe/x:1'), dryRun: 'All' });
      return hook.output().includes('"namespace":"' + namespace + '"') && probe.spec !== undefined;
    });
  });

  afterAll(async () => {
    await hook?.stop();
  });

  it("copies with the Pod's imagePullSecrets; the first Pod keeps its source image, the next one gets the mirror", async () => {
    const image = await pushTestImage(pusher, { domain: source.host, path: 'team/private' }, 'v1');
    const sourceImage = `${source.host}/team/private:v1`;
    const first = await core().createNamespacedPod({ namespace, body: podWith('first', sourceImage, { imagePullSecrets: [{ name: 'source-creds' }] }) });
    expect(first.spec?.containers[0]?.image).toBe(sourceImage);
    const head = await waitFor('the copy in the mirror', async () => mirrorClient.headManifest(mirrored('team/private'), 'v1'), { timeoutMs: 60_000 });
    expect(head.digest).toBe(image.digest);
    const second = await waitFor('a Pod rewritten to the mirror', async () => {
      const created = await core().createNamespacedPod({ namespace, body: podWith(`second-${Date.now()}`, sourceImage, { imagePullSecrets: [{ name: 'source-creds' }] }) });
      return created.spec?.containers[0]?.image === `${mirrored('team/private').domain}/${mirrored('team/private').path}:v1` ? created : undefined;
    }, { timeoutMs: 30_000, intervalMs: 1_000 });
    expect(JSON.parse(second.metadata?.annotations?.['mirrorhook.io/original-images'] ?? '{}')).toEqual({ app: sourceImage });
  });

  it("uses the ServiceAccount's imagePullSecrets when the Pod names none", async () => {
    const image = await pushTestImage(pusher, { domain: source.host, path: 'team/via-sa' }, 'v1');
    await core().createNamespacedPod({ namespace, body: podWith('via-sa', `${source.host}/team/via-sa:v1`) });
    const head = await waitFor('the copy in the mirror', async () => mirrorClient.headManifest(mirrored('team/via-sa'), 'v1'), { timeoutMs: 60_000 });
    expect(head.digest).toBe(image.digest);
  });

  it('posts a Warning Event in the namespace when a copy fails', async () => {
    const missing = `${source.host}/team/does-not-exist:v9`;
    await core().createNamespacedPod({ namespace, body: podWith('doomed', missing, { imagePullSecrets: [{ name: 'source-creds' }] }) });
    const event = await waitFor(
      'a MirrorCopyFailed Event',
      async () => (await core().listNamespacedEvent({ namespace })).items.find((item) => item.reason === 'MirrorCopyFailed'),
      { timeoutMs: 90_000, intervalMs: 1_000 },
    );
    expect(event.type).toBe('Warning');
    expect(event.involvedObject.name).toBe('doomed');
    expect(event.message).toContain(missing);
  });
});

describe('two replicas', () => {
  it('copy a new image once: the replica holding the Lease copies, the other leaves it', async () => {
    const [one, two] = await Promise.all([startMirrorhook({ config: hookConfig() }), startMirrorhook({ config: hookConfig() })]);
    try {
      const namespace = await createNamespace({}, 'e2e-replicas-');
      await pullSecret(namespace, 'source-creds');
      const image = await pushTestImage(pusher, { domain: source.host, path: 'team/shared' }, 'v1', { layerSize: 4 * 1024 * 1024, layersPerPlatform: 2 });
      const review = JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: {
          uid: 'a1b2c3d4-0000-4000-8000-00000000000a',
          kind: { group: '', version: 'v1', kind: 'Pod' },
          resource: { group: '', version: 'v1', resource: 'pods' },
          namespace,
          operation: 'CREATE',
          object: podWith('replicated', `${source.host}/team/shared:v1`, { imagePullSecrets: [{ name: 'source-creds' }] }),
        },
      });
      // Both replicas answer the same Pod at the same moment, as two API servers (or a retry) would make them.
      await Promise.all([post(one.url, one.caPem, review), post(two.url, two.caPem, review)]);
      const head = await waitFor('the copy in the mirror', async () => mirrorClient.headManifest(mirrored('team/shared'), 'v1'), { timeoutMs: 60_000 });
      expect(head.digest).toBe(image.digest);
      const logs = await waitFor('both replicas settled', () => {
        const all = one.output() + two.output();
        const settled = (all.match(/background copy (done|left to the replica holding its Lease)/g) ?? []).length;
        return settled >= 2 ? all : undefined;
      });
      expect(logs.match(/"status":"copied"/g) ?? []).toHaveLength(1);
      // The Lease did the deduplication (not luck): no replica fell back to copying without it.
      expect(logs).not.toContain('copy Lease unavailable');
      const leases = await kubeConfig().makeApiClient(k8s.CoordinationV1Api).listNamespacedLease({ namespace: leaseNamespace });
      expect(leases.items.filter((lease) => lease.metadata?.name?.startsWith('mirrorhook-copy-'))).toHaveLength(0);
    } finally {
      await Promise.all([one.stop(), two.stop()]);
    }
  });
});

function post(url: string, ca: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${url}/mutate`, { method: 'POST', ca, headers: { 'content-type': 'application/json' } }, (res) => {
      let data = '';
      res.on('data', (chunk: Buffer) => (data += chunk.toString()));
      res.on('end', () => resolve(data));
    });
    req.on('error', reject);
    req.end(body);
  });
}
