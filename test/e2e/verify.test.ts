import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../support/cli.js';
import { createNamespace, kubeConfig, kubeConfigPath } from './harness.js';

// `mirrorhook verify` against the real API server. There is no kubelet here, so the test writes what a kubelet
// would: Pod status (running containers) through the status subresource, and Pulling events.

const mirror = 'mirror.e2e.test/verify';

describe('verify', () => {
  let dir: string;
  let configFile: string;
  const core = (): k8s.CoreV1Api => kubeConfig().makeApiClient(k8s.CoreV1Api);

  /** Creates a Pod and marks its containers running, as the kubelet would report them. */
  async function runningPod(namespace: string, name: string, images: Record<string, string>, imageVolumes: Record<string, string> = {}): Promise<void> {
    const containers = Object.entries(images).map(([container, image]) => ({ name: container, image }));
    const volumes = Object.entries(imageVolumes).map(([volume, reference]) => ({ name: volume, image: { reference } }));
    await core().createNamespacedPod({ namespace, body: { metadata: { name }, spec: { containers, volumes, nodeName: 'node-1' } } });
    const pod = await core().readNamespacedPod({ namespace, name });
    const startedAt = new Date();
    await core().replaceNamespacedPodStatus({
      namespace,
      name,
      body: {
        ...pod,
        status: {
          phase: 'Running',
          containerStatuses: containers.map((container) => ({
            name: container.name,
            image: container.image,
            imageID: '',
            ready: true,
            restartCount: 0,
            state: { running: { startedAt } },
          })),
        },
      },
    });
  }

  async function pulling(namespace: string, pod: string, image: string, minutesAgo: number): Promise<void> {
    const at = new Date(Date.now() - minutesAgo * 60_000);
    await core().createNamespacedEvent({
      namespace,
      body: {
        metadata: { name: `${pod}.${minutesAgo}` },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace, name: pod },
        reason: 'Pulling',
        message: `Pulling image "${image}"`,
        type: 'Normal',
        count: 1,
        firstTimestamp: at,
        lastTimestamp: at,
      },
    });
  }

  const namespaces: string[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mirrorhook-e2e-verify-'));
    configFile = join(dir, 'mirrorhook.yaml');
    await writeFile(configFile, `mirror:\n  registry: ${mirror}\nsources:\n  exclude: ["registry.k8s.io/pause"]\nswap: always\ncopy: none\n`);
  });

  afterAll(async () => {
    for (const namespace of namespaces) await core().deleteNamespace({ name: namespace }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 0 when everything running and pulled recently is from the mirror (or excluded)', async () => {
    const namespace = await createNamespace();
    namespaces.push(namespace);
    await runningPod(namespace, 'web', { web: `${mirror}/docker.io/library/nginx:1.25.4`, pause: 'registry.k8s.io/pause:3.9' }, { model: `${mirror}/ghcr.io/e2e/model:1` });
    await pulling(namespace, 'web', `${mirror}/docker.io/library/nginx:1.25.4`, 5);
    // Before the migration, two hours ago: outside --since.
    await pulling(namespace, 'web', 'nginx:1.25.4', 120);
    const result = await runCommand(['verify', '--kubeconfig', kubeConfigPath(), '--config', configFile, '-n', namespace, '--since', '1h']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`all 2 running containers, 1 image volumes and 1 pulls since 1h ago come from ${mirror}`);
  });

  it('exits 1 and lists running containers and recent pulls from elsewhere', async () => {
    const namespace = await createNamespace();
    namespaces.push(namespace);
    await runningPod(namespace, 'api', { api: 'ghcr.io/e2e/api:2', proxy: `${mirror}/docker.io/library/envoy:1` }, { model: 'ghcr.io/e2e/model:1' });
    await pulling(namespace, 'api', 'ghcr.io/e2e/api:2', 10);
    // A Pod that is not running yet only counts through its pull.
    await core().createNamespacedPod({ namespace, body: { metadata: { name: 'pending' }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } } });
    await pulling(namespace, 'pending', 'busybox:1.36', 1);

    const result = await runCommand(['verify', '--kubeconfig', kubeConfigPath(), '--config', configFile, '-n', namespace]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('MH_VERIFY_NOT_MIRRORED');
    expect(result.stderr).toContain('1 of 2 running containers, 1 of 1 image volumes and 2 of 2 pulls since 1h ago');
    const rows = result.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^NAMESPACE\s+POD\s+WHAT\s+CONTAINER\s+IMAGE\s+LAST PULL$/);
    expect(rows.slice(1).map((row) => row.split(/\s+/).slice(1, 5))).toEqual([
      ['api', 'pulled', '-', 'ghcr.io/e2e/api:2'],
      ['api', 'running', 'api', 'ghcr.io/e2e/api:2'],
      ['api', 'running', 'volume/model', 'ghcr.io/e2e/model:1'],
      ['pending', 'pulled', '-', 'docker.io/library/busybox:1.36'],
    ]);

    const json = await runCommand(['verify', '--kubeconfig', kubeConfigPath(), '--config', configFile, '-n', namespace, '-o', 'json']);
    expect(json.code).toBe(1);
    expect(json.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { what: string }).what)).toEqual(['pulled', 'running', 'running', 'pulled']);
  });
});
