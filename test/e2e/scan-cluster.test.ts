import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMapper } from '../../src/mapping/index.js';
import { inventoryFromObjects } from '../../src/scan/cluster/inventory.js';
import { listWorkloads } from '../../src/scan/cluster/list.js';
import { runCommand } from '../support/cli.js';
import { createNamespace, kubeConfig, kubeConfigPath, waitFor } from './harness.js';

// `mirrorhook scan --cluster` against the real API server: Pods and workload templates of every namespace,
// including a Deployment scaled to zero and a suspended CronJob, whose images nothing runs right now.

const mirror = 'mirror.e2e.test/scan';
const podTemplate = (labels: Record<string, string>, containers: k8s.V1Container[], initContainers: k8s.V1Container[] = []): k8s.V1PodTemplateSpec => ({
  metadata: { labels },
  spec: { containers, initContainers, restartPolicy: labels.job === undefined ? 'Always' : 'Never' },
});

describe('scan --cluster', () => {
  let namespace: string;
  let dir: string;
  let configFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mirrorhook-e2e-scan-'));
    configFile = join(dir, 'mirrorhook.yaml');
    await writeFile(configFile, `mirror:\n  registry: ${mirror}\nswap: always\ncopy: none\n`);
    namespace = await createNamespace();
    const config = kubeConfig();
    const apps = config.makeApiClient(k8s.AppsV1Api);
    const batch = config.makeApiClient(k8s.BatchV1Api);
    const core = config.makeApiClient(k8s.CoreV1Api);
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'idle' },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: 'idle' } },
          template: podTemplate({ app: 'idle' }, [{ name: 'web', image: 'nginx:1.25.4' }], [{ name: 'migrate', image: 'quay.io/e2e/migrate:3' }]),
        },
      },
    });
    await batch.createNamespacedCronJob({
      namespace,
      body: {
        metadata: { name: 'nightly' },
        spec: { schedule: '17 3 * * *', suspend: true, jobTemplate: { spec: { template: podTemplate({ job: 'nightly' }, [{ name: 'backup', image: 'registry.k8s.io/kubectl:v1.30.2' }]) } } },
      },
    });
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'already-mirrored' },
        spec: { containers: [{ name: 'redis', image: `${mirror}/docker.io/library/redis:7.2` }, { name: 'tools', image: 'ghcr.io/e2e/tools:1' }] },
      },
    });
    // The controller manager makes a ReplicaSet for the Deployment: it must not be listed twice.
    await waitFor('the Deployment to get its ReplicaSet', async () => (await apps.listNamespacedReplicaSet({ namespace })).items.length > 0);
  });

  afterAll(async () => {
    await kubeConfig().makeApiClient(k8s.CoreV1Api).deleteNamespace({ name: namespace }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('lists every container of Pods and workload templates, scaled-to-zero and suspended ones too', async () => {
    const mapper = createMapper({ mirror: { registry: mirror, layout: 'host-path' }, sources: { include: ['**'], exclude: [] } });
    const occurrences = inventoryFromObjects(await listWorkloads(kubeConfig()), mapper).filter((occurrence) => occurrence.namespace === namespace);
    expect(occurrences.map((occurrence) => [occurrence.kind, occurrence.name, occurrence.container, occurrence.source, occurrence.standing])).toEqual([
      ['CronJob', 'nightly', 'backup', 'registry.k8s.io/kubectl:v1.30.2', 'third-party'],
      ['Deployment', 'idle', 'migrate', 'quay.io/e2e/migrate:3', 'third-party'],
      ['Deployment', 'idle', 'web', 'docker.io/library/nginx:1.25.4', 'third-party'],
      ['Pod', 'already-mirrored', 'redis', `${mirror}/docker.io/library/redis:7.2`, 'mirrored'],
      ['Pod', 'already-mirrored', 'tools', 'ghcr.io/e2e/tools:1', 'third-party'],
    ]);
  });

  it('prints an images.txt and JSON with namespace, kind and name through the CLI', async () => {
    const text = await runCommand(['scan', '--cluster', '--kubeconfig', kubeConfigPath(), '--config', configFile]);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.trim().split('\n');
    for (const expected of ['docker.io/library/nginx:1.25.4', 'quay.io/e2e/migrate:3', 'registry.k8s.io/kubectl:v1.30.2', 'ghcr.io/e2e/tools:1']) {
      expect(lines).toContain(expected);
    }
    expect(lines).not.toContain(`${mirror}/docker.io/library/redis:7.2`);

    const json = await runCommand(['scan', '--cluster', '--kubeconfig', kubeConfigPath(), '--config', configFile, '-o', 'json']);
    const records = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>).filter((record) => record.namespace === namespace);
    expect(records).toContainEqual({
      namespace,
      kind: 'CronJob',
      name: 'nightly',
      container: 'backup',
      image: 'registry.k8s.io/kubectl:v1.30.2',
      source: 'registry.k8s.io/kubectl:v1.30.2',
      standing: 'third-party',
    });
  });

  it('fails with MH_KUBE_CONFIG when the kubeconfig is missing', async () => {
    const result = await runCommand(['scan', '--cluster', '--kubeconfig', join(dir, 'absent'), '--config', configFile]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('MH_KUBE_CONFIG');
  });
});
