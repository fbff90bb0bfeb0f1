import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, kubeConfig, kubeConfigPath } from './harness.js';
import { runMirrorhook } from './mirrorhook.js';

// `mirrorhook policy binauthz --simulate --cluster` against the real API server: Pods in two namespaces, one of
// them under its own service account, evaluated with namespace and service-account rules; an image volume counts.

interface Verdict {
  image: string;
  verdict: string;
  rule: string;
  location: string;
}

describe('mirrorhook policy binauthz --simulate --cluster', () => {
  let dir: string;
  let config: string;
  let web: string;
  let batch: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mirrorhook-e2e-policy-'));
    config = join(dir, 'mirrorhook.yaml');
    await writeFile(config, 'mirror:\n  registry: mirror.e2e.test/mirror\nswap: always\ncopy: none\npolicy:\n  allow: ["gcr.io/vetted/**"]\n');
    [web, batch] = await Promise.all([createNamespace(), createNamespace()]);
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedServiceAccount({ namespace: batch, body: { metadata: { name: 'builder' } } });
    const pod = (namespace: string, name: string, images: string[], serviceAccountName?: string, volumes: Record<string, string> = {}) =>
      core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name },
          spec: {
            serviceAccountName,
            containers: images.map((image, index) => ({ name: `c${index}`, image })),
            // Image volumes are admitted like containers, so the simulation evaluates them too.
            volumes: Object.entries(volumes).map(([volume, reference]) => ({ name: volume, image: { reference } })),
          },
        },
      });
    await pod(web, 'web-1', ['mirror.e2e.test/mirror/docker.io/library/nginx:1.25', 'redis:7'], undefined, { model: 'ghcr.io/acme/models/tiny:v1' });
    await pod(web, 'web-2', ['redis:7']);
    await pod(batch, 'job-1', ['quay.io/team/job:1', 'gcr.io/vetted/tool:2'], 'builder');
    await pod(batch, 'job-2', ['quay.io/team/job:1']);
  });

  afterAll(async () => {
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    await Promise.all([web, batch].map((name) => core.deleteNamespace({ name })));
    await rm(dir, { recursive: true, force: true });
  });

  it('lists every image of the running Pods with its verdict and deciding rule', async () => {
    const result = await runMirrorhook([
      'policy', 'binauthz', '--config', config, '--simulate', '--cluster', '--kubeconfig', kubeConfigPath(),
      '--serviceaccount-rule', `${batch}:builder=allow`, '-o', 'json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const ours = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Verdict)
      .filter((verdict) => verdict.location.includes(web) || verdict.location.includes(batch))
      .map(({ image, verdict, rule, location }) => [image, verdict, rule, location])
      .sort((a, b) => (a.join() < b.join() ? -1 : 1));
    expect(ours).toEqual(
      [
        ['mirror.e2e.test/mirror/docker.io/library/nginx:1.25', 'allow', 'allowlist', `pod ${web}/web-1`],
        ['redis:7', 'deny', 'defaultAdmissionRule', `pod ${web}/web-1 (+1 more)`],
        ['ghcr.io/acme/models/tiny:v1', 'deny', 'defaultAdmissionRule', `pod ${web}/web-1`],
        ['quay.io/team/job:1', 'allow', `kubernetesServiceAccountAdmissionRules.${batch}:builder`, `pod ${batch}/job-1`],
        ['gcr.io/vetted/tool:2', 'allow', 'allowlist', `pod ${batch}/job-1`],
        ['quay.io/team/job:1', 'deny', 'defaultAdmissionRule', `pod ${batch}/job-2`],
      ].sort((a, b) => (a.join() < b.join() ? -1 : 1)),
    );
  });
});
