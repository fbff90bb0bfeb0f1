import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, createNamespace, kubeConfig, kubectl, waitFor } from './harness.js';
import {
  type MirrorhookProcess,
  applyWebhookConfiguration,
  deleteWebhookConfiguration,
  modeLabel,
  startMirrorhook,
  webhookConfiguration,
} from './mirrorhook.js';
import type { KeyPair } from './pki.js';
import { type TestWebhookServer, startBlackHoleWebhook, startSidecarWebhook } from './sidecar-webhook.js';

// The webhook as the real API server calls it: TLS with the caBundle, AdmissionReview v1, JSON Patch applied by
// the API server, namespace selection by label, subresources, dry-run, reinvocation and failing open.

const mirror = 'mirror.e2e.test/mirror';
const config = { mirror: { registry: mirror }, swap: 'always', copy: 'none' };
const configurationName = 'mirrorhook-e2e';
const originalImagesAnnotation = 'mirrorhook.io/original-images';

const core = (): k8s.CoreV1Api => kubeConfig().makeApiClient(k8s.CoreV1Api);

interface PodImages {
  containers: Record<string, string>;
  initContainers?: Record<string, string>;
  labels?: Record<string, string>;
}

function pod(name: string, images: PodImages): k8s.V1Pod {
  const list = (entries: Record<string, string>): k8s.V1Container[] => Object.entries(entries).map(([container, image]) => ({ name: container, image }));
  return {
    metadata: { name, labels: images.labels ?? {} },
    spec: {
      containers: list(images.containers),
      ...(images.initContainers === undefined ? {} : { initContainers: list(images.initContainers) }),
    },
  };
}

function imagesOf(stored: k8s.V1Pod): Record<string, string> {
  const spec = stored.spec;
  const all = [...(spec?.initContainers ?? []), ...(spec?.containers ?? []), ...(spec?.ephemeralContainers ?? [])];
  return Object.fromEntries(all.map((container) => [container.name, container.image ?? '']));
}

function originalImages(stored: k8s.V1Pod): unknown {
  const value = stored.metadata?.annotations?.[originalImagesAnnotation];
  return value === undefined ? undefined : JSON.parse(value);
}

async function readPod(namespace: string, name: string): Promise<k8s.V1Pod> {
  return core().readNamespacedPod({ namespace, name });
}

describe('mirrorhook under a real kube-apiserver', () => {
  let hook: MirrorhookProcess & { ca: KeyPair | undefined };
  let enforce: string;
  let audit: string;
  let plain: string;

  beforeAll(async () => {
    hook = await startMirrorhook({ config });
    [enforce, audit, plain] = await Promise.all([
      createNamespace({ [modeLabel]: 'enforce' }),
      createNamespace({ [modeLabel]: 'audit' }),
      createNamespace(),
    ]);
    await applyWebhookConfiguration(webhookConfiguration(configurationName, hook.url, hook.caPem), async () => {
      const answer = await core().createNamespacedPod({ namespace: enforce, body: pod('probe', { containers: { app: 'nginx:1.25' } }), dryRun: 'All' });
      return imagesOf(answer).app === `${mirror}/docker.io/library/nginx:1.25`;
    });
  });

  afterAll(async () => {
    await deleteWebhookConfiguration(configurationName);
    await hook?.stop();
  });

  it('rewrites every image of a Pod in an enforce namespace and records the originals', async () => {
    await core().createNamespacedPod({
      namespace: enforce,
      body: pod('web', {
        containers: { app: 'nginx:1.25', exporter: 'quay.io/prometheus/node-exporter:v1.7.0' },
        initContainers: { init: 'busybox:1.36' },
      }),
    });

    const stored = await readPod(enforce, 'web');
    expect(imagesOf(stored)).toEqual({
      app: `${mirror}/docker.io/library/nginx:1.25`,
      exporter: `${mirror}/quay.io/prometheus/node-exporter:v1.7.0`,
      init: `${mirror}/docker.io/library/busybox:1.36`,
    });
    expect(originalImages(stored)).toEqual({ app: 'nginx:1.25', exporter: 'quay.io/prometheus/node-exporter:v1.7.0', init: 'busybox:1.36' });
  });

  it('leaves a Pod in an audit namespace unchanged and tells the client what would change', async () => {
    const response = await core().createNamespacedPodWithHttpInfo({ namespace: audit, body: pod('web', { containers: { app: 'nginx:1.25' } }) });

    const stored = await readPod(audit, 'web');
    expect(imagesOf(stored)).toEqual({ app: 'nginx:1.25' });
    expect(originalImages(stored)).toBeUndefined();
    const warning = response.headers.warning ?? '';
    expect(warning).toContain(`mirrorhook audit: app: nginx:1.25 -> ${mirror}/docker.io/library/nginx:1.25`);
    // The API server files the webhook's auditAnnotations under its name in the audit log.
    const [event] = await waitFor('the audit event of the Pod creation', async () => {
      const found = await auditEvents(
        (entry) => entry.stage === 'ResponseComplete' && entry.verb === 'create' && entry.objectRef?.namespace === audit && entry.objectRef.name === 'web',
      );
      return found.length > 0 ? found : undefined;
    });
    const rewrites = event?.annotations?.['audit.mirrorhook.io/rewrites'];
    expect(JSON.parse(rewrites ?? 'null')).toEqual([{ container: 'app', from: 'nginx:1.25', to: `${mirror}/docker.io/library/nginx:1.25` }]);
  });

  it('does not touch Pods in namespaces without the mode label', async () => {
    const response = await core().createNamespacedPodWithHttpInfo({ namespace: plain, body: pod('web', { containers: { app: 'nginx:1.25' } }) });

    const stored = await readPod(plain, 'web');
    expect(imagesOf(stored)).toEqual({ app: 'nginx:1.25' });
    expect(originalImages(stored)).toBeUndefined();
    expect(response.headers.warning ?? '').not.toContain('mirrorhook');
  });

  it('honours the Pod label mirrorhook.io/skip=true in an enforce namespace', async () => {
    await core().createNamespacedPod({
      namespace: enforce,
      body: pod('opted-out', { containers: { app: 'nginx:1.25' }, labels: { 'mirrorhook.io/skip': 'true' } }),
    });

    const stored = await readPod(enforce, 'opted-out');
    expect(imagesOf(stored)).toEqual({ app: 'nginx:1.25' });
    expect(originalImages(stored)).toBeUndefined();
  });

  it('rewrites an ephemeral container added through pods/ephemeralcontainers', async () => {
    await core().createNamespacedPod({ namespace: enforce, body: pod('debug-me', { containers: { app: 'nginx:1.25' } }) });
    const current = await readPod(enforce, 'debug-me');
    current.spec = {
      ...current.spec,
      containers: current.spec?.containers ?? [],
      ephemeralContainers: [{ name: 'debugger', image: 'busybox:1.36', stdin: true, tty: true }],
    };

    await core().replaceNamespacedPodEphemeralcontainers({ namespace: enforce, name: 'debug-me', body: current });

    const stored = await readPod(enforce, 'debug-me');
    expect(imagesOf(stored)).toEqual({
      app: `${mirror}/docker.io/library/nginx:1.25`,
      debugger: `${mirror}/docker.io/library/busybox:1.36`,
    });
    // Through this subresource the API server keeps only spec.ephemeralContainers of the change (it resets
    // metadata), so the annotation cannot gain the debugger's original image; the rewrite itself goes through.
    expect(originalImages(stored)).toEqual({ app: 'nginx:1.25' });
  });

  it('on UPDATE rewrites only the image that changes, so untouched containers are not restarted', async () => {
    // Created before its namespace opted in, then edited once it has.
    const namespace = await createNamespace();
    await core().createNamespacedPod({ namespace, body: pod('edited', { containers: { app: 'nginx:1.25', cache: 'redis:7' } }) });
    await core().patchNamespace(
      { name: namespace, body: [{ op: 'add', path: `/metadata/labels/${modeLabel.replace('/', '~1')}`, value: 'enforce' }] },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
    // The API server sees namespace labels through an informer: wait until it routes this namespace to mirrorhook.
    await waitFor('the new namespace label to reach the webhook plugin', async () => {
      const answer = await core().createNamespacedPod({ namespace, body: pod('probe', { containers: { app: 'nginx:1.25' } }), dryRun: 'All' });
      return imagesOf(answer).app !== 'nginx:1.25';
    });
    const current = await readPod(namespace, 'edited');
    const app = current.spec?.containers.find((container) => container.name === 'app');
    if (app === undefined) throw new Error('the stored Pod has no app container');
    app.image = 'nginx:1.26';

    await core().replaceNamespacedPod({ namespace, name: 'edited', body: current });

    const stored = await readPod(namespace, 'edited');
    expect(imagesOf(stored)).toEqual({ app: `${mirror}/docker.io/library/nginx:1.26`, cache: 'redis:7' });
    expect(originalImages(stored)).toEqual({ app: 'nginx:1.26' });
  });

  it('never sends kube-system, even when it carries the enforce label', async () => {
    const label = `/metadata/labels/${modeLabel.replace('/', '~1')}`;
    const patchKubeSystem = (op: 'add' | 'remove'): Promise<k8s.V1Namespace> =>
      core().patchNamespace(
        { name: 'kube-system', body: [op === 'add' ? { op, path: label, value: 'enforce' } : { op, path: label }] },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
      );
    await patchKubeSystem('add');
    try {
      // Meanwhile a labelled namespace created afterwards is handled: the label change has reached the plugin.
      const later = await createNamespace({ [modeLabel]: 'enforce' });
      await waitFor('a namespace labelled after kube-system to be handled', async () => {
        const answer = await core().createNamespacedPod({ namespace: later, body: pod('probe', { containers: { app: 'nginx:1.25' } }), dryRun: 'All' });
        return imagesOf(answer).app !== 'nginx:1.25';
      });
      const answer = await core().createNamespacedPod({ namespace: 'kube-system', body: pod('system', { containers: { app: 'nginx:1.25' } }), dryRun: 'All' });
      expect(imagesOf(answer)).toEqual({ app: 'nginx:1.25' });
    } finally {
      await patchKubeSystem('remove');
    }
  });

  it('shows the audit warnings to kubectl users', async () => {
    const manifest = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', ...pod('from-kubectl', { containers: { app: 'busybox:1.36' } }) });
    const result = await kubectl(['create', '--namespace', audit, '-f', '-'], { input: manifest });

    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`Warning: mirrorhook audit: app: busybox:1.36 -> ${mirror}/docker.io/library/busybox:1.36`);
    expect(imagesOf(await readPod(audit, 'from-kubectl'))).toEqual({ app: 'busybox:1.36' });
  });

  it('answers a dryRun=All create with the rewrite and stores nothing', async () => {
    const answer = await core().createNamespacedPod({ namespace: enforce, body: pod('dry', { containers: { app: 'redis:7' } }), dryRun: 'All' });

    expect(imagesOf(answer)).toEqual({ app: `${mirror}/docker.io/library/redis:7` });
    expect(originalImages(answer)).toEqual({ app: 'redis:7' });
    const read = await readPod(enforce, 'dry').then(
      () => 'stored',
      (error: unknown) => (error instanceof k8s.ApiException ? error.code : error),
    );
    expect(read).toBe(404);
  });

  it('rewrites Pods that a Deployment creates through the controller manager', async () => {
    const apps = kubeConfig().makeApiClient(k8s.AppsV1Api);
    const labels = { app: 'deployed' };
    await apps.createNamespacedDeployment({
      namespace: enforce,
      body: {
        metadata: { name: 'deployed' },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'ghcr.io/example/app:2.0' }] } },
        },
      },
    });

    const pods = await waitFor('the Deployment to create 2 Pods', async () => {
      const list = await core().listNamespacedPod({ namespace: enforce, labelSelector: 'app=deployed' });
      return list.items.length === 2 ? list.items : undefined;
    });
    for (const created of pods) {
      expect(imagesOf(created)).toEqual({ app: `${mirror}/ghcr.io/example/app:2.0` });
      expect(originalImages(created)).toEqual({ app: 'ghcr.io/example/app:2.0' });
    }
    // The template stays as written: the webhook acts on Pods only.
    const deployment = await apps.readNamespacedDeployment({ namespace: enforce, name: 'deployed' });
    expect(deployment.spec?.template.spec?.containers[0]?.image).toBe('ghcr.io/example/app:2.0');
  });

  describe('reinvoked after a later webhook adds a sidecar', () => {
    const sidecarConfiguration = 'zz-mirrorhook-e2e-sidecar'; // sorts after mirrorhook-e2e: called second
    const sidecarLabel = 'e2e.mirrorhook.io/sidecar';
    let sidecar: TestWebhookServer;
    let namespace: string;

    beforeAll(async () => {
      sidecar = await startSidecarWebhook({ name: 'proxy', image: 'docker.io/envoyproxy/envoy:v1.29.0' });
      namespace = await createNamespace({ [modeLabel]: 'enforce', [sidecarLabel]: 'true' });
      await applyWebhookConfiguration(
        {
          metadata: { name: sidecarConfiguration },
          webhooks: [
            {
              name: 'sidecar.e2e.mirrorhook.io',
              admissionReviewVersions: ['v1'],
              clientConfig: { url: `${sidecar.url}/inject`, caBundle: Buffer.from(sidecar.caPem).toString('base64') },
              rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
              namespaceSelector: { matchLabels: { [sidecarLabel]: 'true' } },
              failurePolicy: 'Fail',
              sideEffects: 'None',
              reinvocationPolicy: 'Never',
              timeoutSeconds: 10,
            },
          ],
        },
        async () => {
          const answer = await core().createNamespacedPod({ namespace, body: pod('probe', { containers: { app: 'nginx:1.25' } }), dryRun: 'All' });
          return imagesOf(answer).proxy !== undefined;
        },
      );
      sidecar.received.length = 0;
    });

    afterAll(async () => {
      await deleteWebhookConfiguration(sidecarConfiguration);
      await sidecar?.close();
    });

    it('rewrites the sidecar once, and nothing twice', async () => {
      await core().createNamespacedPod({ namespace, body: pod('meshed', { containers: { app: 'nginx:1.25' } }) });

      const stored = await readPod(namespace, 'meshed');
      expect(imagesOf(stored)).toEqual({
        app: `${mirror}/docker.io/library/nginx:1.25`,
        proxy: `${mirror}/docker.io/envoyproxy/envoy:v1.29.0`,
      });
      expect(originalImages(stored)).toEqual({ app: 'nginx:1.25', proxy: 'docker.io/envoyproxy/envoy:v1.29.0' });
      // mirrorhook ran before the sidecar existed, so only its reinvocation can have rewritten the sidecar.
      expect(sidecar.received).toHaveLength(1);
      expect(sidecar.received[0]?.spec?.containers?.map((container) => container.image)).toEqual([`${mirror}/docker.io/library/nginx:1.25`]);
    });
  });

  describe('when the webhook cannot answer (failurePolicy Ignore)', () => {
    it('stops on SIGTERM within the default grace period while the API server holds its connection', async () => {
      // The API server keeps its HTTP/2 connection to the webhook open between requests; a graceful stop must not
      // wait for it to go idle, or the kubelet's SIGKILL after terminationGracePeriodSeconds (30 s) ends it instead.
      await core().createNamespacedPod({ namespace: enforce, body: pod('before-stop', { containers: { app: 'nginx:1.25' } }) });
      const stopping = hook;

      const stopped = await stopping.terminate(30_000);

      hook = await startMirrorhook({ config, port: stopping.port, ...(stopping.ca === undefined ? {} : { ca: stopping.ca }) });
      expect(stopped, stopping.output().slice(-1500)).toEqual({ exitedInTime: true, exit: 'exited with code 0' });
    });

    it('admits Pods unchanged while mirrorhook is down', async () => {
      const port = hook.port;
      const ca = hook.ca;
      await hook.stop();
      expect(ca).toBeDefined();

      await core().createNamespacedPod({ namespace: enforce, body: pod('while-down', { containers: { app: 'nginx:1.25' } }) });
      expect(imagesOf(await readPod(enforce, 'while-down'))).toEqual({ app: 'nginx:1.25' });

      // Back on the same address with the same CA: the registered configuration works again unchanged.
      hook = await startMirrorhook({ config, port, ...(ca === undefined ? {} : { ca }) });
      await core().createNamespacedPod({ namespace: enforce, body: pod('after-restart', { containers: { app: 'nginx:1.25' } }) });
      expect(imagesOf(await readPod(enforce, 'after-restart'))).toEqual({ app: `${mirror}/docker.io/library/nginx:1.25` });
    });

    it('admits Pods unchanged after the timeout when the webhook never answers', async () => {
      const blackHole = await startBlackHoleWebhook();
      const hangingConfiguration = 'mirrorhook-e2e-hanging';
      const namespace = await createNamespace({ [modeLabel]: 'enforce' });
      try {
        await applyWebhookConfiguration(webhookConfiguration(hangingConfiguration, blackHole.url, blackHole.caPem, 2), async () => {
          await core().createNamespacedPod({ namespace, body: pod('probe', { containers: { app: 'nginx:1.25' } }), dryRun: 'All' });
          return blackHole.requests() > 0;
        });

        const before = blackHole.requests();
        await core().createNamespacedPod({ namespace, body: pod('timed-out', { containers: { app: 'nginx:1.25' } }) });

        expect(blackHole.requests()).toBeGreaterThan(before);
        // mirrorhook itself (the other configuration) still rewrote it; the hanging webhook only cost its timeout.
        expect(imagesOf(await readPod(namespace, 'timed-out'))).toEqual({ app: `${mirror}/docker.io/library/nginx:1.25` });
      } finally {
        await deleteWebhookConfiguration(hangingConfiguration);
        await blackHole.close();
      }
    });
  });
});
