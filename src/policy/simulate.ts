import { formatReference, repositoryName, tryParseReference } from '../reference/index.js';
import { type AdmissionRule, type BinauthzPolicy, EnforcementMode, EvaluationMode } from './binauthz.js';
import { matchesNamePattern } from './pattern.js';

/** One image as it is used somewhere: in a file, or by a Pod in a cluster. */
export interface InventoryItem {
  readonly image: string;
  /** Where it was found: `deploy/web.yaml:12`, `pod default/web-1`. */
  readonly location: string;
  readonly namespace?: string;
  readonly serviceAccount?: string;
}

export const Verdict = { allow: 'allow', deny: 'deny' } as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

export interface SimulationResult {
  readonly image: string;
  readonly location: string;
  readonly verdict: Verdict;
  /** Which part of the policy decided: `allowlist`, `global-policy`, `defaultAdmissionRule`, `kubernetesNamespaceAdmissionRules.kube-system`… */
  readonly rule: string;
  /** Whether the decision would block (enforced) or only be logged (dry-run); undefined for allowed images. */
  readonly enforcement: EnforcementMode | undefined;
  readonly reason: string;
}

/**
 * Google-maintained system images the global policy (`globalPolicyEvaluationMode: ENABLE`) lets through. Google
 * keeps the real list; these are the registries GKE's own components come from, so the simulation does not report
 * them as violations.
 */
export const globalPolicyPatterns: readonly string[] = ['gke.gcr.io/**', 'gcr.io/gke-release/**'];

export interface SimulationContext {
  /** `location.clusterId` of the cluster the Pods run in, to apply `clusterAdmissionRules`. */
  readonly clusterId?: string;
}

/**
 * Evaluates the policy for each image the way Binary Authorization does at admission: allowlist first, then the
 * global policy, then the most specific rule (service account, namespace, cluster, default). Attestations cannot be
 * checked here, so REQUIRE_ATTESTATION counts as deny with the attestors named.
 */
export function simulatePolicy(
  policy: BinauthzPolicy,
  inventory: readonly InventoryItem[],
  context: SimulationContext = {},
): SimulationResult[] {
  return inventory.map((item) => evaluate(policy, item, context));
}

function evaluate(policy: BinauthzPolicy, item: InventoryItem, context: SimulationContext): SimulationResult {
  const base = { image: item.image, location: item.location };
  const parsed = tryParseReference(item.image);
  if (!parsed.ok) {
    const { rule, name } = pickRule(policy, item, context);
    return {
      ...base,
      verdict: Verdict.deny,
      rule: name,
      enforcement: rule.enforcementMode,
      reason: `not a valid image reference (${parsed.error.message}); the kubelet cannot pull it either`,
    };
  }
  const image = { repository: repositoryName(parsed.reference), full: formatReference(parsed.reference) };
  const allowedBy = policy.admissionWhitelistPatterns.find(({ namePattern }) => matchesNamePattern(namePattern, image));
  if (allowedBy !== undefined) {
    return { ...base, verdict: Verdict.allow, rule: 'allowlist', enforcement: undefined, reason: `matches ${allowedBy.namePattern}` };
  }
  if (policy.globalPolicyEvaluationMode === 'ENABLE') {
    const system = globalPolicyPatterns.find((pattern) => matchesNamePattern(pattern, image));
    if (system !== undefined) {
      return {
        ...base,
        verdict: Verdict.allow,
        rule: 'global-policy',
        enforcement: undefined,
        reason: `Google-maintained system image (${system})`,
      };
    }
  }
  const { rule, name } = pickRule(policy, item, context);
  const mode = rule.enforcementMode === EnforcementMode.dryRun ? 'dry-run: logged, not blocked' : 'enforced: blocked';
  switch (rule.evaluationMode) {
    case EvaluationMode.alwaysAllow:
      return { ...base, verdict: Verdict.allow, rule: name, enforcement: undefined, reason: 'the rule allows every image' };
    case EvaluationMode.alwaysDeny:
      return {
        ...base,
        verdict: Verdict.deny,
        rule: name,
        enforcement: rule.enforcementMode,
        reason: `not in the allowlist and the rule denies (${mode})`,
      };
    case EvaluationMode.requireAttestation:
      return {
        ...base,
        verdict: Verdict.deny,
        rule: name,
        enforcement: rule.enforcementMode,
        reason: `needs an attestation by ${(rule.requireAttestationsBy ?? []).join(', ')}, which mirrorhook cannot check (${mode})`,
      };
  }
}

function pickRule(policy: BinauthzPolicy, item: InventoryItem, context: SimulationContext): { rule: AdmissionRule; name: string } {
  const candidates: [string, AdmissionRule | undefined][] = [];
  if (item.namespace !== undefined && item.serviceAccount !== undefined) {
    const key = `${item.namespace}:${item.serviceAccount}`;
    candidates.push([`kubernetesServiceAccountAdmissionRules.${key}`, policy.kubernetesServiceAccountAdmissionRules?.[key]]);
  }
  if (item.namespace !== undefined) {
    candidates.push([
      `kubernetesNamespaceAdmissionRules.${item.namespace}`,
      policy.kubernetesNamespaceAdmissionRules?.[item.namespace],
    ]);
  }
  if (context.clusterId !== undefined) {
    candidates.push([`clusterAdmissionRules.${context.clusterId}`, policy.clusterAdmissionRules?.[context.clusterId]]);
  }
  for (const [name, rule] of candidates) if (rule !== undefined) return { rule, name };
  return { rule: policy.defaultAdmissionRule, name: 'defaultAdmissionRule' };
}
