import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  type BinauthzPolicy,
  type PolicyRequest,
  buildPolicy,
  formatPolicyYaml,
  matchesNamePattern,
  namePatternProblem,
  parseEvaluationMode,
  policyProblems,
  ruleKeyProblem,
} from '../../src/policy/index.js';

const request = (overrides: Partial<PolicyRequest> = {}): PolicyRequest => ({
  mirror: 'us-docker.pkg.dev/my-project/mirror',
  allow: [],
  attestors: [],
  enforce: false,
  clusterRules: {},
  namespaceRules: {},
  serviceAccountRules: {},
  ...overrides,
});

describe('buildPolicy', () => {
  it('allows the mirror and denies the rest in dry-run by default', () => {
    const policy = buildPolicy(request({ allow: ['gcr.io/my-project/tools/*'] }));
    expect(parse(formatPolicyYaml(policy))).toEqual({
      globalPolicyEvaluationMode: 'ENABLE',
      admissionWhitelistPatterns: [
        { namePattern: 'us-docker.pkg.dev/my-project/mirror/**' },
        { namePattern: 'gcr.io/my-project/tools/*' },
      ],
      defaultAdmissionRule: { evaluationMode: 'ALWAYS_DENY', enforcementMode: 'DRYRUN_AUDIT_LOG_ONLY' },
    });
    expect(policyProblems(policy)).toEqual([]);
  });

  it('requires attestations when attestors are given, and blocks with --enforce', () => {
    const policy = buildPolicy(request({ attestors: ['projects/my-project/attestors/built-by-ci'], enforce: true }));
    expect(policy.defaultAdmissionRule).toEqual({
      evaluationMode: 'REQUIRE_ATTESTATION',
      enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG',
      requireAttestationsBy: ['projects/my-project/attestors/built-by-ci'],
    });
    expect(policyProblems(policy)).toEqual([]);
  });

  it('writes cluster, namespace and service account rules under their API keys, sorted', () => {
    const policy = buildPolicy(
      request({
        clusterRules: { 'us-central1-a.prod': 'ALWAYS_DENY' },
        namespaceRules: { 'kube-system': 'ALWAYS_ALLOW', batch: 'ALWAYS_DENY' },
        serviceAccountRules: { 'payments:deployer': 'ALWAYS_ALLOW' },
      }),
    );
    const yaml = parse(formatPolicyYaml(policy)) as Record<string, Record<string, unknown>>;
    expect(yaml.clusterAdmissionRules).toEqual({
      'us-central1-a.prod': { evaluationMode: 'ALWAYS_DENY', enforcementMode: 'DRYRUN_AUDIT_LOG_ONLY' },
    });
    expect(Object.keys(yaml.kubernetesNamespaceAdmissionRules ?? {})).toEqual(['batch', 'kube-system']);
    expect(yaml.kubernetesServiceAccountAdmissionRules).toEqual({
      'payments:deployer': { evaluationMode: 'ALWAYS_ALLOW', enforcementMode: 'DRYRUN_AUDIT_LOG_ONLY' },
    });
    expect(policyProblems(policy)).toEqual([]);
  });

  it('does not repeat the mirror pattern when --allow names it again', () => {
    const policy = buildPolicy(request({ mirror: 'localhost:5000/', allow: ['localhost:5000/**'] }));
    expect(policy.admissionWhitelistPatterns).toEqual([{ namePattern: 'localhost:5000/**' }]);
  });
});

describe('policyProblems', () => {
  it('refuses REQUIRE_ATTESTATION without attestors in a rule', () => {
    const policy = buildPolicy(request({ namespaceRules: { payments: 'REQUIRE_ATTESTATION' } }));
    expect(policyProblems(policy)).toEqual([
      'kubernetesNamespaceAdmissionRules.payments: REQUIRE_ATTESTATION needs at least one attestor in requireAttestationsBy (give --attestor)',
    ]);
  });

  it('refuses requireAttestationsBy on a rule that does not require attestation', () => {
    const policy: BinauthzPolicy = {
      ...buildPolicy(request()),
      defaultAdmissionRule: {
        evaluationMode: 'ALWAYS_DENY',
        enforcementMode: 'DRYRUN_AUDIT_LOG_ONLY',
        requireAttestationsBy: ['projects/my-project/attestors/a'],
      },
    };
    expect(policyProblems(policy)).toEqual(['defaultAdmissionRule: requireAttestationsBy is only allowed with REQUIRE_ATTESTATION']);
  });

  it('lists every bad pattern, key and attestor at once', () => {
    const policy = buildPolicy(
      request({
        allow: ['gcr.io/*/tools', 'gcr.*/x', 'quay.io/team?'],
        attestors: ['my-attestor'],
        clusterRules: { prod: 'ALWAYS_DENY' },
        serviceAccountRules: { deployer: 'ALWAYS_ALLOW' },
      }),
    );
    const problems = policyProblems(policy);
    expect(problems).toHaveLength(6);
    expect(problems.join('\n')).toMatch(/namePattern: "gcr.io\/\*\/tools": a wildcard is allowed only at the end/);
    expect(problems.join('\n')).toMatch(/"gcr.\*\/x": a wildcard cannot be in the registry host/);
    expect(problems.join('\n')).toMatch(/"quay.io\/team\?": "\?" is not a wildcard/);
    expect(problems.join('\n')).toMatch(/"my-attestor" is not an attestor resource name/);
    expect(problems.join('\n')).toMatch(/clusterAdmissionRules: "prod" is not location.clusterId/);
    expect(problems.join('\n')).toMatch(/kubernetesServiceAccountAdmissionRules: "deployer" is not namespace:serviceaccount/);
  });
});

describe('rule keys', () => {
  it.each([
    ['clusterAdmissionRules', 'us-central1-a.prod-cluster', true],
    ['clusterAdmissionRules', 'europe-west4.c1', true],
    ['clusterAdmissionRules', 'us-central1-a.Prod', false],
    ['clusterAdmissionRules', 'prod-cluster', false],
    ['kubernetesNamespaceAdmissionRules', 'kube-system', true],
    ['kubernetesNamespaceAdmissionRules', 'Kube', false],
    ['kubernetesNamespaceAdmissionRules', 'a'.repeat(64), false],
    ['kubernetesServiceAccountAdmissionRules', 'payments:ci.deployer', true],
    ['kubernetesServiceAccountAdmissionRules', 'payments:a:b', false],
    ['kubernetesServiceAccountAdmissionRules', ':deployer', false],
  ] as const)('%s key %s valid=%s', (ruleSet, key, valid) => {
    expect(ruleKeyProblem(ruleSet, key) === undefined).toBe(valid);
  });

  it('reads modes as aliases or API names and nothing else', () => {
    expect(parseEvaluationMode('attest')).toBe('REQUIRE_ATTESTATION');
    expect(parseEvaluationMode('ALWAYS_ALLOW')).toBe('ALWAYS_ALLOW');
    expect(parseEvaluationMode('toString')).toBeUndefined();
    expect(parseEvaluationMode('always_deny')).toBeUndefined();
  });
});

describe('name patterns', () => {
  const image = (repository: string, tag = '1') => ({ repository, full: `${repository}:${tag}` });

  it('* stays within the last path part, ** reaches any depth', () => {
    expect(matchesNamePattern('gcr.io/team/*', image('gcr.io/team/app'))).toBe(true);
    expect(matchesNamePattern('gcr.io/team/*', image('gcr.io/team/sub/app'))).toBe(false);
    expect(matchesNamePattern('gcr.io/team/**', image('gcr.io/team/sub/app'))).toBe(true);
    expect(matchesNamePattern('gcr.io/team/app', image('gcr.io/team/app'))).toBe(true);
    expect(matchesNamePattern('gcr.io/team/app', image('gcr.io/team/app2'))).toBe(false);
    expect(matchesNamePattern('gcr.io/team/app:1', image('gcr.io/team/app'))).toBe(true);
  });

  const part = fc.stringMatching(/^[a-z0-9]{1,8}$/);
  it('property: a single * never matches across a /', () => {
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 4 }), fc.array(part, { minLength: 2, maxLength: 4 }), (prefix, rest) => {
        const pattern = `registry.example/${prefix.join('/')}/*`;
        const repository = `registry.example/${prefix.join('/')}/${rest.join('/')}`;
        expect(matchesNamePattern(pattern, image(repository))).toBe(false);
        expect(matchesNamePattern(`registry.example/${prefix.join('/')}/**`, image(repository))).toBe(true);
      }),
    );
  });

  it('property: a wildcard anywhere but the end is refused', () => {
    fc.assert(
      fc.property(part, part, fc.constantFrom('*', '**'), (head, tail, star) => {
        expect(namePatternProblem(`gcr.io/${head}${star}/${tail}`)).toMatch(/only at the end/);
        expect(namePatternProblem(`gcr.io/${head}/${tail}${star}`)).toBeUndefined();
      }),
    );
  });
});
