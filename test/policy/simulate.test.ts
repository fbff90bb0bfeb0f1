import { describe, expect, it } from 'vitest';
import { type InventoryItem, type PolicyRequest, buildPolicy, simulatePolicy } from '../../src/policy/index.js';

const request: PolicyRequest = {
  mirror: 'registry.internal:5000/mirror',
  allow: ['gcr.io/my-project/tools/*'],
  attestors: [],
  enforce: false,
  clusterRules: { 'us-central1-a.prod': 'REQUIRE_ATTESTATION' },
  namespaceRules: { 'kube-system': 'ALWAYS_ALLOW' },
  serviceAccountRules: { 'payments:legacy': 'ALWAYS_ALLOW' },
};

/** A mixed inventory: mirrored, allowlisted, system, third-party in several namespaces and service accounts. */
const inventory = (): InventoryItem[] => [
  { image: 'registry.internal:5000/mirror/docker.io/library/nginx:1.25', location: 'web.yaml:7', namespace: 'web' },
  { image: 'gcr.io/my-project/tools/kubectl:1.30', location: 'web.yaml:20', namespace: 'web' },
  { image: 'gcr.io/my-project/tools/sub/kubectl:1.30', location: 'web.yaml:21', namespace: 'web' },
  { image: 'gke.gcr.io/kube-proxy:v1.30', location: 'pod kube-system/kube-proxy-1', namespace: 'kube-system' },
  { image: 'nginx:1.25', location: 'web.yaml:30', namespace: 'web', serviceAccount: 'default' },
  { image: 'quay.io/prometheus/node-exporter:v1.8.0', location: 'pod kube-system/ne', namespace: 'kube-system' },
  { image: 'redis:7', location: 'pod payments/cache', namespace: 'payments', serviceAccount: 'legacy' },
  { image: 'redis:7', location: 'pod payments/worker', namespace: 'payments', serviceAccount: 'worker' },
  { image: 'Not/A/Ref', location: 'bad.yaml:1' },
];

describe('simulatePolicy', () => {
  it('gives every image a verdict and the rule that decided it', () => {
    const results = simulatePolicy(buildPolicy(request), inventory());
    expect(results.map((result) => [result.image, result.verdict, result.rule])).toEqual([
      ['registry.internal:5000/mirror/docker.io/library/nginx:1.25', 'allow', 'allowlist'],
      ['gcr.io/my-project/tools/kubectl:1.30', 'allow', 'allowlist'],
      ['gcr.io/my-project/tools/sub/kubectl:1.30', 'deny', 'defaultAdmissionRule'],
      ['gke.gcr.io/kube-proxy:v1.30', 'allow', 'global-policy'],
      ['nginx:1.25', 'deny', 'defaultAdmissionRule'],
      ['quay.io/prometheus/node-exporter:v1.8.0', 'allow', 'kubernetesNamespaceAdmissionRules.kube-system'],
      ['redis:7', 'allow', 'kubernetesServiceAccountAdmissionRules.payments:legacy'],
      ['redis:7', 'deny', 'defaultAdmissionRule'],
      ['Not/A/Ref', 'deny', 'defaultAdmissionRule'],
    ]);
    expect(results[0]?.reason).toBe('matches registry.internal:5000/mirror/**');
    expect(results[4]?.reason).toMatch(/dry-run: logged, not blocked/);
    expect(results[4]?.enforcement).toBe('DRYRUN_AUDIT_LOG_ONLY');
    expect(results[8]?.reason).toMatch(/not a valid image reference/);
  });

  it('applies the cluster rule for the given cluster, below namespace rules', () => {
    const policy = buildPolicy({ ...request, attestors: ['projects/my-project/attestors/ci'], enforce: true });
    const results = simulatePolicy(policy, inventory(), { clusterId: 'us-central1-a.prod' });
    const nginx = results[4];
    expect(nginx?.rule).toBe('clusterAdmissionRules.us-central1-a.prod');
    expect(nginx?.verdict).toBe('deny');
    expect(nginx?.reason).toMatch(/needs an attestation by projects\/my-project\/attestors\/ci.*enforced: blocked/);
    expect(results[5]?.rule).toBe('kubernetesNamespaceAdmissionRules.kube-system');
  });

  it('does not let the mirror prefix allow a sibling repository', () => {
    const [result] = simulatePolicy(buildPolicy(request), [
      { image: 'registry.internal:5000/mirror-old/nginx:1', location: 'x' },
    ]);
    expect(result?.verdict).toBe('deny');
  });
});
