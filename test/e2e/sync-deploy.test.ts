import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { repoRoot } from './control-plane.js';
import { createNamespace, kubeConfig, kubectl, waitFor } from './harness.js';

// The sync CronJob of deploy/sync (and its Indexed Job variant, deploy/sync/indexed) against the real API server:
// rendered by the pinned kubectl from the overlays users apply, its objects (the CronJob and what it runs with: the
// webhook's ServiceAccount and ConfigMap) server-side applied, then a Job made from the CronJob's template
// (`kubectl create job --from=cronjob/…`, what the CronJob controller does on schedule) and its Pods created by the
// Job controller. The e2e control plane has no kubelet: the Pods are created and stay Pending, so `sync` itself is
// not run here (test/sync/sync.test.ts runs it, shards as separate processes). The chart renders the same objects
// (test/deploy/helm.test.ts compares them object by object).

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}

async function render(path: string): Promise<KubeObject[]> {
  const result = await kubectl(['kustomize', join(repoRoot, path)]);
  if (result.code !== 0) throw new Error(`kubectl kustomize ${path} failed: ${result.stderr}`);
  return parseAllDocuments(result.stdout).map((document) => document.toJS() as KubeObject);
}

/** The CronJob and the namespaced objects it names, moved into `namespace` so this file shares nothing with others. */
function syncObjects(objects: readonly KubeObject[], namespace: string): KubeObject[] {
  const wanted = objects.filter(
    (object) =>
      object.kind === 'CronJob' ||
      (object.kind === 'ServiceAccount' && object.metadata.name === 'mirrorhook') ||
      (object.kind === 'ConfigMap' && object.metadata.name.startsWith('mirrorhook-config-')),
  );
  return wanted.map((object) => ({ ...object, metadata: { ...object.metadata, namespace } }));
}

describe.each([
  ['deploy/overlays/sync', 1],
  ['deploy/overlays/sync-indexed', 4],
])('%s applied to a real API server', (overlay, shards) => {
  it(`is accepted by server-side apply, and a Job from its CronJob gets ${shards} Pod(s) with the webhook's identity${shards > 1 ? ', one per shard' : ''}`, async () => {
    const namespace = await createNamespace({}, 'e2e-sync-');
    const objects = syncObjects(await render(overlay), namespace);
    expect(objects.map((object) => object.kind).sort()).toEqual(['ConfigMap', 'CronJob', 'ServiceAccount']);
    const text = objects.map((object) => stringify(object)).join('---\n');
    const applied = await kubectl(['apply', '--server-side', '--field-manager=mirrorhook-e2e', '-f', '-'], { input: text });
    expect(applied.code, applied.stderr).toBe(0);

    const batch = kubeConfig().makeApiClient(k8s.BatchV1Api);
    const cronJob = await batch.readNamespacedCronJob({ namespace, name: 'mirrorhook-sync' });
    expect(cronJob.spec?.concurrencyPolicy).toBe('Forbid');
    expect(cronJob.spec?.schedule).toBe('17 */6 * * *');
    const configMap = objects.find((object) => object.kind === 'ConfigMap') as { data: Record<string, string> } | undefined;
    // The webhook's configuration is one `sync` loads (its sync: list is empty until the user fills it).
    expect(parseConfigText(configMap?.data['mirrorhook.yaml'] ?? '', 'deploy/base/mirrorhook.yaml').sync).toEqual([]);

    const created = await kubectl(['-n', namespace, 'create', 'job', '--from=cronjob/mirrorhook-sync', 'mirrorhook-sync-now']);
    expect(created.code, created.stderr).toBe(0);
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    const pods = await waitFor(`the Job controller to create ${shards} Pod(s)`, async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: 'job-name=mirrorhook-sync-now' });
      return list.items.length === shards ? list.items : undefined;
    });
    const indexes: string[] = [];
    for (const pod of pods) {
      expect(pod.spec?.serviceAccountName).toBe('mirrorhook');
      expect(pod.metadata?.labels?.['mirrorhook.io/skip']).toBe('true');
      const container = pod.spec?.containers[0];
      expect(container?.image).toBe('ghcr.io/mirrorhook/mirrorhook:0.1.0');
      expect(container?.args).toEqual(['sync', '--config=/etc/mirrorhook/config/mirrorhook.yaml']);
      expect(pod.spec?.volumes?.find((volume) => volume.name === 'config')?.configMap?.name).toMatch(/^mirrorhook-config-/);
      expect(pod.spec?.volumes?.find((volume) => volume.name === 'registry-credentials')?.secret?.secretName).toBe('mirrorhook-registry-credentials');
      const env = new Map((container?.env ?? []).map((variable) => [variable.name, variable]));
      if (shards > 1) {
        expect(env.get('MIRRORHOOK_SYNC_SHARDS')?.value).toBe(String(shards));
        // The Job controller gives each Pod its index, which `mirrorhook sync` reads as its shard.
        expect(env.get('JOB_COMPLETION_INDEX')?.valueFrom?.fieldRef?.fieldPath).toContain('batch.kubernetes.io/job-completion-index');
        indexes.push(pod.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'] ?? '');
      } else {
        expect(env.has('MIRRORHOOK_SYNC_SHARDS')).toBe(false);
        expect(env.has('JOB_COMPLETION_INDEX')).toBe(false);
      }
    }
    if (shards > 1) expect(indexes.sort()).toEqual(Array.from({ length: shards }, (_, index) => String(index)));

    const deleted = await kubectl(['delete', 'namespace', namespace, '--wait=false']);
    expect(deleted.code, deleted.stderr).toBe(0);
  });
});
