import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { toJsonSchema } from './config-json-schema.js';

// The Helm chart (deploy/helm/mirrorhook) and the kustomize base (deploy/base) are two ways to install the same
// objects: both rendered by the pinned tools, then compared object by object. The differences allowed are listed
// in normalize() and nowhere else.

const run = promisify(execFile);
const repoRoot = new URL('../../', import.meta.url).pathname;
const chart = join(repoRoot, 'deploy/helm/mirrorhook');

type KubeObject = { apiVersion: string; kind: string; metadata: Record<string, any>; [key: string]: any };

function tool(name: string): string {
  const path = join(repoRoot, '.cache/bin', name);
  if (!existsSync(path)) throw new Error(`${path} is missing: run test/setup/install-tools.sh (it builds ${name})`);
  return path;
}

async function helm(...args: string[]): Promise<string> {
  return (await run(tool('helm'), args, { maxBuffer: 16 << 20 })).stdout;
}

function objects(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as KubeObject | null)
    .filter((object): object is KubeObject => object !== null);
}

const key = (object: KubeObject): string => `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;

/** Removes what legitimately differs: the labels each tool adds, and how each rolls Pods on a config change. */
function normalize(object: KubeObject): KubeObject {
  const copy = structuredClone(object);
  delete copy.metadata.labels;
  if (copy.kind === 'ConfigMap') {
    // kustomize's generator names it mirrorhook-config-<hash>; helm keeps the name and puts a checksum on the Pods.
    copy.metadata.name = String(copy.metadata.name).replace(/-[a-z0-9]{10}$/, '');
    copy.data = Object.fromEntries(Object.entries(copy.data as Record<string, string>).map(([file, text]) => [file, parseYaml(text)]));
  }
  if (copy.kind === 'Deployment') {
    const pod = copy.spec.template;
    delete pod.metadata.annotations?.['checksum/config'];
    if (pod.metadata.annotations !== undefined && Object.keys(pod.metadata.annotations).length === 0) delete pod.metadata.annotations;
    for (const volume of pod.spec.volumes) if (volume.configMap !== undefined) volume.configMap.name = String(volume.configMap.name).replace(/-[a-z0-9]{10}$/, '');
    // The API server's default for a tagged (not :latest) image; the chart states it so users can change it.
    for (const container of pod.spec.containers) if (container.imagePullPolicy === 'IfNotPresent') delete container.imagePullPolicy;
  }
  if (copy.kind === 'CronJob') {
    const pod = copy.spec.jobTemplate.spec.template;
    for (const volume of pod.spec.volumes) if (volume.configMap !== undefined) volume.configMap.name = String(volume.configMap.name).replace(/-[a-z0-9]{10}$/, '');
    for (const container of pod.spec.containers) if (container.imagePullPolicy === 'IfNotPresent') delete container.imagePullPolicy;
  }
  return copy;
}

describe('deploy/helm/mirrorhook', () => {
  it('has the version of package.json as chart version and appVersion', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const chartYaml = parseYaml(readFileSync(join(chart, 'Chart.yaml'), 'utf8')) as { version: string; appVersion: string };
    expect(chartYaml.version).toBe(pkg.version);
    expect(chartYaml.appVersion).toBe(pkg.version);
  });

  it('passes helm lint --strict', async () => {
    const output = await helm('lint', '--strict', chart);
    expect(output).toContain('0 chart(s) failed');
  });

  /** Renders the chart with `values` and the kustomization at `dir`, and compares them object by object. */
  async function expectSameObjects(values: string[], dir: string): Promise<KubeObject[]> {
    // --no-hooks: the pre-delete hook's objects exist only during `helm uninstall`; the base has no uninstall step.
    const fromHelm = objects(
      await helm('template', 'mirrorhook', chart, '--namespace', 'mirrorhook', '--set', 'namespace.create=true', '--no-hooks', ...values),
    );
    const kustomized = objects((await run(tool('kubectl'), ['kustomize', join(repoRoot, dir)], { maxBuffer: 16 << 20 })).stdout);
    // Every label kustomize puts on an object, helm puts there too (helm adds instance, version, chart, managed-by).
    const helmByKey = new Map(fromHelm.map((object) => [key(normalize(object)), object]));
    for (const object of kustomized) {
      const counterpart = helmByKey.get(key(normalize(object)));
      expect(counterpart, `helm renders no ${key(normalize(object))}`).toBeDefined();
      expect(counterpart!.metadata.labels).toMatchObject(object.metadata.labels ?? {});
    }
    const sorted = (list: KubeObject[]) => list.map(normalize).sort((a, b) => key(a).localeCompare(key(b)));
    const helmObjects = sorted(fromHelm);
    const kustomizeObjects = sorted(kustomized);
    expect(helmObjects.map(key)).toEqual(kustomizeObjects.map(key));
    for (const [index, object] of kustomizeObjects.entries()) expect(helmObjects[index], key(object)).toEqual(object);
    return kustomized;
  }

  it.each([
    ['provided', 'deploy/base'],
    ['self-managed', 'deploy/overlays/self-managed-certs'],
    ['cert-manager', 'deploy/overlays/cert-manager'],
  ])('with certificates.mode %s renders the same objects as %s, object by object', async (mode, folder) => {
    await expectSameObjects(['--set', `certificates.mode=${mode}`], folder);
  });

  it('renders the same monitoring objects as the kustomize component (ServiceMonitor, PrometheusRule, dashboard)', async () => {
    const kustomized = await expectSameObjects(
      ['--set', 'serviceMonitor.enabled=true', '--set', 'prometheusRule.enabled=true', '--set', 'grafanaDashboard.enabled=true'],
      'deploy/overlays/monitoring',
    );
    const kinds = kustomized.map((object) => object.kind);
    expect(kinds).toEqual(expect.arrayContaining(['ServiceMonitor', 'PrometheusRule']));
    const dashboard = kustomized.find((object) => object.metadata.name === 'mirrorhook-grafana-dashboard')!;
    expect(dashboard.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    expect(JSON.parse(dashboard.data['mirrorhook.json'] as string)).toMatchObject({ uid: 'mirrorhook-migration' });
  });

  it.each([
    [['--set', 'sync.cronJob.enabled=true'], 'deploy/overlays/sync', undefined],
    [['--set', 'sync.cronJob.enabled=true', '--set', 'sync.cronJob.shards=4'], 'deploy/overlays/sync-indexed', 'Indexed'],
  ])('renders the same sync CronJob as the kustomize component (%j, %s)', async (values, folder, completionMode) => {
    const kustomized = await expectSameObjects(values, folder);
    const cronJob = kustomized.find((object) => object.kind === 'CronJob')!;
    expect(cronJob.spec.concurrencyPolicy).toBe('Forbid');
    const job = cronJob.spec.jobTemplate.spec;
    expect(job.completionMode).toBe(completionMode);
    const pod = job.template.spec;
    // The webhook's identity, credentials and configuration.
    const deployment = kustomized.find((object) => object.kind === 'Deployment')!.spec.template.spec;
    expect(pod.serviceAccountName).toBe(deployment.serviceAccountName);
    expect(pod.volumes).toEqual(deployment.volumes.filter((volume: { name: string }) => volume.name !== 'tls'));
    expect(pod.containers[0].image).toBe(deployment.containers[0].image);
    const shards = pod.containers[0].env.find((variable: { name: string }) => variable.name === 'MIRRORHOOK_SYNC_SHARDS');
    expect(shards?.value).toBe(completionMode === undefined ? undefined : String(job.completions));
  });

  it("validates values.config with the webhook's own config schema (values.schema.json in step with src/config/schema.ts)", () => {
    const schema = JSON.parse(readFileSync(join(chart, 'values.schema.json'), 'utf8')) as { properties: { config: unknown } };
    // On a new config key: put the "Expected" side of this diff into values.schema.json under properties.config.
    expect(schema.properties.config).toEqual(toJsonSchema(ConfigSchema));
  });

  it.each([
    ['config.mirror.layout=bogus', "at '/config/mirror/layout': value must be one of 'host-path', 'path', 'name'"],
    ['config.mirorr.registry=x', "at '/config': additional properties 'mirorr' not allowed"],
    ['config.copyJobs=0', "at '/config/copyJobs': minimum: got 0, want 1"],
    ['certificates.mode=bogus', "at '/certificates/mode': value must be one of 'provided', 'self-managed', 'cert-manager'"],
    ['webhook.timeoutSeconds=31', "at '/webhook/timeoutSeconds': maximum: got 31, want 30"],
    ['replicaCont=3', "additional properties 'replicaCont' not allowed"],
    ['preDeleteHook.backoffLimit=-1', "at '/preDeleteHook/backoffLimit': minimum: got -1, want 0"],
    ['preDeleteHook.image.tag=', "at '/preDeleteHook/image/tag': minLength: got 0, want 1"],
  ])('refuses --set %s at install time, saying where', async (value, message) => {
    const failure = await helm('template', 'x', chart, '--set', value).then(
      () => 'rendered',
      (error: { stderr?: string }) => error.stderr ?? '',
    );
    expect(failure).toContain(message);
  });

  it('ships a config the webhook accepts, and values change what they name', async () => {
    const rendered = objects(
      await helm(
        'template', 'edge', chart, '--namespace', 'tools',
        '--set', 'image.digest=sha256:' + 'a'.repeat(64), '--set', 'replicaCount=3', '--set', 'webhook.failurePolicy=Fail',
        '--set', 'webhook.timeoutSeconds=5', '--set', 'priorityClassName=system-cluster-critical', '--set', 'podDisruptionBudget.enabled=false',
        '--set', 'config.mirror.registry=mirror.corp:5000/m',
      ),
    );
    const find = (kind: string) => rendered.find((object) => object.kind === kind);
    const deployment = find('Deployment')!;
    expect(deployment.metadata).toMatchObject({ name: 'edge-mirrorhook', namespace: 'tools' });
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.template.spec.priorityClassName).toBe('system-cluster-critical');
    expect(deployment.spec.template.spec.containers[0].image).toBe(`ghcr.io/mirrorhook/mirrorhook@sha256:${'a'.repeat(64)}`);
    expect(find('PodDisruptionBudget')).toBeUndefined();
    expect(find('Namespace')).toBeUndefined();
    const webhooks = find('MutatingWebhookConfiguration')!.webhooks as Array<Record<string, any>>;
    for (const webhook of webhooks) {
      expect(webhook).toMatchObject({ failurePolicy: 'Fail', timeoutSeconds: 5, clientConfig: { service: { name: 'edge-mirrorhook', namespace: 'tools' } } });
      expect(webhook.namespaceSelector.matchExpressions[1].values).toEqual(['kube-system', 'tools']);
    }
    const text = (find('ConfigMap')!.data as Record<string, string>)['mirrorhook.yaml']!;
    expect(parseConfigText(text, 'values.config').mirror.registry).toBe('mirror.corp:5000/m');
  });

  it('kustomize emits the MutatingWebhookConfiguration last, so `kubectl delete -k` deletes it after the Service (docs/deploy-helm.md)', async () => {
    const kinds = objects((await run(tool('kubectl'), ['kustomize', join(repoRoot, 'deploy/base')], { maxBuffer: 16 << 20 })).stdout).map((object) => object.kind);
    expect(kinds.at(-1)).toBe('MutatingWebhookConfiguration');
    expect(kinds.indexOf('Service')).toBeLessThan(kinds.indexOf('MutatingWebhookConfiguration'));
    expect(kinds[0]).toBe('Namespace');
  });

  describe('pre-delete hook (preDeleteHook)', () => {
    const hookObjects = (rendered: KubeObject[]) => rendered.filter((object) => object.metadata.annotations?.['helm.sh/hook'] !== undefined);

    it('is on by default: a ServiceAccount, a ClusterRole, its binding and a kubectl Job, all pre-delete hooks, RBAC first', async () => {
      const rendered = objects(await helm('template', 'rel', chart, '--namespace', 'tools'));
      const hooks = hookObjects(rendered);
      expect(hooks.map((object) => `${object.kind}/${object.metadata.name}`)).toEqual([
        'ServiceAccount/rel-mirrorhook-pre-delete',
        'ClusterRole/rel-mirrorhook-pre-delete',
        'ClusterRoleBinding/rel-mirrorhook-pre-delete',
        'Job/rel-mirrorhook-pre-delete',
      ]);
      for (const object of hooks) {
        expect(object.metadata.annotations['helm.sh/hook']).toBe('pre-delete');
        expect(object.metadata.annotations['helm.sh/hook-delete-policy']).toBe('before-hook-creation,hook-succeeded');
      }
      // Helm creates hooks by ascending weight and waits only for the Job: the RBAC must be there before it.
      const weights = hooks.map((object) => Number(object.metadata.annotations['helm.sh/hook-weight']));
      expect(weights).toEqual([...weights].sort((a, b) => a - b));
      expect(new Set(weights).size).toBe(4);
      const [serviceAccount, , binding, job] = hooks as [KubeObject, KubeObject, KubeObject, KubeObject];
      expect(serviceAccount.metadata.namespace).toBe('tools');
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'rel-mirrorhook-pre-delete' });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'rel-mirrorhook-pre-delete', namespace: 'tools' }]);

      const webhookName = rendered.find((object) => object.kind === 'MutatingWebhookConfiguration')!.metadata.name as string;
      const pod = job.spec.template.spec;
      expect(pod.serviceAccountName).toBe('rel-mirrorhook-pre-delete');
      expect(pod.restartPolicy).toBe('Never');
      const [container] = pod.containers;
      expect([...container.command, ...container.args]).toEqual([
        '/bin/kubectl', 'delete', 'mutatingwebhookconfiguration', webhookName, '--ignore-not-found', '--wait=true',
      ]);
      // A broken hook fails the uninstall within minutes instead of holding it.
      expect(job.spec.activeDeadlineSeconds).toBeLessThanOrEqual(300);
      expect(job.spec.backoffLimit).toBeLessThanOrEqual(2);
      // Helm deletes a succeeded Job; a failed one stays for its logs, not for ever.
      expect(job.spec.ttlSecondsAfterFinished).toBe(3600);
      // The Deployment's security settings; the only writable path is the emptyDir for kubectl's cache.
      const deployment = rendered.find((object) => object.kind === 'Deployment')!.spec.template.spec;
      expect(pod.securityContext).toEqual(deployment.securityContext);
      expect(container.securityContext).toEqual(deployment.containers[0].securityContext);
      expect(container.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
      expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: '16Mi' } }]);
      // Not one of the webhook's Pods (Service, PodDisruptionBudget), and never sent to it.
      expect(job.spec.template.metadata.labels).toEqual({ 'app.kubernetes.io/name': 'mirrorhook-pre-delete', 'mirrorhook.io/skip': 'true' });
    });

    it('grants delete and get on the release webhook configuration and nothing else', async () => {
      const rendered = objects(await helm('template', 'other', chart, '--namespace', 'x'));
      const role = hookObjects(rendered).find((object) => object.kind === 'ClusterRole')!;
      expect(role.rules).toEqual([
        {
          apiGroups: ['admissionregistration.k8s.io'],
          resources: ['mutatingwebhookconfigurations'],
          resourceNames: ['other-mirrorhook'],
          verbs: ['delete', 'get'],
        },
      ]);
      expect(role.aggregationRule).toBeUndefined();
    });

    it('uses the kubectl image of the Kubernetes version the e2e control plane runs (test/e2e/kube/go.mod)', async () => {
      const pin = /^\s*k8s\.io\/kubernetes (v\d+\.\d+\.\d+)$/m.exec(readFileSync(join(repoRoot, 'test/e2e/kube/go.mod'), 'utf8'))?.[1];
      expect(pin).toMatch(/^v\d+/);
      const image = (args: string[]) =>
        helm('template', 'r', chart, ...args).then((text) => hookObjects(objects(text)).find((object) => object.kind === 'Job')!.spec.template.spec.containers[0]);
      expect((await image([])).image).toBe(`registry.k8s.io/kubectl:${pin}`);
      const pinned = await image([
        '--set', 'preDeleteHook.image.repository=mirror.corp/k8s/kubectl', '--set', `preDeleteHook.image.digest=sha256:${'b'.repeat(64)}`,
        '--set', 'preDeleteHook.image.pullPolicy=Always',
      ]);
      expect([pinned.image, pinned.imagePullPolicy]).toEqual([`mirror.corp/k8s/kubectl@sha256:${'b'.repeat(64)}`, 'Always']);
    });

    it('takes nodeSelector, tolerations and priorityClassName from the main values', async () => {
      const rendered = objects(
        await helm(
          'template', 'r', chart, '--set', 'nodeSelector.pool=system', '--set', 'tolerations[0].key=dedicated',
          '--set', 'tolerations[0].operator=Exists', '--set', 'priorityClassName=system-cluster-critical',
        ),
      );
      const pod = hookObjects(rendered).find((object) => object.kind === 'Job')!.spec.template.spec;
      expect(pod).toMatchObject({
        nodeSelector: { pool: 'system' },
        tolerations: [{ key: 'dedicated', operator: 'Exists' }],
        priorityClassName: 'system-cluster-critical',
      });
      expect(pod.affinity).toBeUndefined();
    });

    it('renders none of it with preDeleteHook.enabled=false, nor with helm template --no-hooks', async () => {
      const withoutHooks = await helm('template', 'r', chart, '--namespace', 'n', '--no-hooks');
      const disabled = await helm('template', 'r', chart, '--namespace', 'n', '--set', 'preDeleteHook.enabled=false');
      for (const text of [withoutHooks, disabled]) {
        expect(hookObjects(objects(text))).toEqual([]);
        expect(text).not.toContain('pre-delete');
      }
      expect(objects(disabled)).toEqual(objects(withoutHooks));
    });
  });
});
