import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';

const root = new URL('../../deploy/', import.meta.url).pathname;

function documents(file: string): Record<string, any>[] {
  return parseAllDocuments(readFileSync(join(root, file), 'utf8')).map((document) => document.toJS() as Record<string, any>);
}

// The base is applied to a real API server by the e2e suite; these checks pin the product contract in the files.
describe('deploy/base', () => {
  const kustomization = documents('base/kustomization.yaml')[0]!;

  it('lists files that exist', () => {
    const files = readdirSync(join(root, 'base'));
    for (const resource of kustomization.resources as string[]) expect(files).toContain(resource);
    for (const generator of kustomization.configMapGenerator as Array<{ files: string[] }>) {
      for (const file of generator.files) expect(files).toContain(file);
    }
  });

  it('ships a config the webhook accepts', () => {
    expect(() => parseConfigText(readFileSync(join(root, 'base/mirrorhook.yaml'), 'utf8'), 'deploy/base/mirrorhook.yaml')).not.toThrow();
  });

  it('has one MutatingWebhookConfiguration with the enforce and audit entries', () => {
    const [configuration] = documents('base/mutatingwebhookconfiguration.yaml');
    const webhooks = configuration!.webhooks as Array<Record<string, any>>;
    expect(webhooks.map((webhook) => [webhook.clientConfig.service.path, webhook.namespaceSelector.matchExpressions[0].values])).toEqual([
      ['/mutate', ['enforce']],
      ['/audit', ['audit']],
    ]);
    for (const webhook of webhooks) {
      expect(webhook).toMatchObject({
        failurePolicy: 'Ignore',
        sideEffects: 'NoneOnDryRun',
        reinvocationPolicy: 'IfNeeded',
        timeoutSeconds: 10,
        admissionReviewVersions: ['v1'],
      });
      expect(webhook.rules[0].resources).toEqual(['pods', 'pods/ephemeralcontainers']);
      expect(webhook.rules[0].operations).toEqual(['CREATE', 'UPDATE']);
      expect(webhook.namespaceSelector.matchExpressions[1]).toEqual({
        key: 'kubernetes.io/metadata.name',
        operator: 'NotIn',
        values: ['kube-system', 'mirrorhook'],
      });
      expect(webhook.clientConfig.service).toMatchObject({ name: 'mirrorhook', namespace: 'mirrorhook', port: 443 });
    }
  });

  it('runs two hardened replicas with probes, resources and a disruption budget', () => {
    const [deployment] = documents('base/deployment.yaml');
    const pod = deployment!.spec.template.spec;
    const container = pod.containers[0];
    expect(deployment!.spec.replicas).toBe(2);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(container.readinessProbe.httpGet).toMatchObject({ path: '/readyz', scheme: 'HTTPS' });
    expect(container.livenessProbe.httpGet).toMatchObject({ path: '/healthz', scheme: 'HTTPS' });
    expect(container.resources.requests).toBeDefined();
    expect(container.resources.limits.memory).toBeDefined();
    expect(pod.topologySpreadConstraints.length).toBeGreaterThan(0);
    expect(container.args).toContain('serve');
    expect(documents('base/poddisruptionbudget.yaml')[0]!.spec.minAvailable).toBe(1);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');

  it('is multi-stage, installs only production dependencies in the final image and runs as non-root', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "\/app\/dist\/cli\/main\.js"\]/);
  });

  it('matches the user deploy/ runs as', () => {
    const [deployment] = documents('base/deployment.yaml');
    expect(deployment!.spec.template.spec.securityContext.runAsUser).toBe(65532);
  });
});
