import { stringify } from 'yaml';
import { namePatternProblem } from './pattern.js';

/**
 * The Binary Authorization policy, in the YAML form `gcloud container binauthz policy import` reads. Field names
 * and enum values are the API's own; see docs/adr/0040-binauthz-policy-generation.md for what mirrorhook chooses.
 */
export const EvaluationMode = {
  alwaysAllow: 'ALWAYS_ALLOW',
  alwaysDeny: 'ALWAYS_DENY',
  requireAttestation: 'REQUIRE_ATTESTATION',
} as const;
export type EvaluationMode = (typeof EvaluationMode)[keyof typeof EvaluationMode];

export const EnforcementMode = {
  enforced: 'ENFORCED_BLOCK_AND_AUDIT_LOG',
  dryRun: 'DRYRUN_AUDIT_LOG_ONLY',
} as const;
export type EnforcementMode = (typeof EnforcementMode)[keyof typeof EnforcementMode];

export const GlobalPolicyEvaluationMode = { enable: 'ENABLE', disable: 'DISABLE' } as const;
export type GlobalPolicyEvaluationMode = (typeof GlobalPolicyEvaluationMode)[keyof typeof GlobalPolicyEvaluationMode];

export interface AdmissionRule {
  readonly evaluationMode: EvaluationMode;
  readonly enforcementMode: EnforcementMode;
  readonly requireAttestationsBy?: readonly string[];
}

export interface BinauthzPolicy {
  readonly globalPolicyEvaluationMode: GlobalPolicyEvaluationMode;
  readonly admissionWhitelistPatterns: readonly { readonly namePattern: string }[];
  readonly defaultAdmissionRule: AdmissionRule;
  /** Keyed `location.clusterId`, e.g. `us-central1-a.prod`. */
  readonly clusterAdmissionRules?: Readonly<Record<string, AdmissionRule>>;
  /** Keyed by namespace. */
  readonly kubernetesNamespaceAdmissionRules?: Readonly<Record<string, AdmissionRule>>;
  /** Keyed `namespace:serviceaccount`. */
  readonly kubernetesServiceAccountAdmissionRules?: Readonly<Record<string, AdmissionRule>>;
}

export const ruleSets = [
  'clusterAdmissionRules',
  'kubernetesNamespaceAdmissionRules',
  'kubernetesServiceAccountAdmissionRules',
] as const;
export type RuleSet = (typeof ruleSets)[number];

/** What the user asks for; everything here comes from flags and the `policy:` config block. */
export interface PolicyRequest {
  /** The mirror as `host[:port][/path]`; its `/**` is always allowed. */
  readonly mirror: string;
  /** Extra allowlist patterns. */
  readonly allow: readonly string[];
  /** Attestor resource names; non-empty makes the default rule REQUIRE_ATTESTATION instead of ALWAYS_DENY. */
  readonly attestors: readonly string[];
  readonly enforce: boolean;
  readonly clusterRules: Readonly<Record<string, EvaluationMode>>;
  readonly namespaceRules: Readonly<Record<string, EvaluationMode>>;
  readonly serviceAccountRules: Readonly<Record<string, EvaluationMode>>;
}

/**
 * Builds the policy: the mirror and the extras allowlisted, everything else denied (or attestation required), in
 * dry-run unless enforcing. Does not validate; `policyProblems` does.
 */
export function buildPolicy(request: PolicyRequest): BinauthzPolicy {
  const enforcementMode = request.enforce ? EnforcementMode.enforced : EnforcementMode.dryRun;
  const rule = (evaluationMode: EvaluationMode): AdmissionRule =>
    evaluationMode === EvaluationMode.requireAttestation
      ? { evaluationMode, enforcementMode, requireAttestationsBy: [...request.attestors] }
      : { evaluationMode, enforcementMode };
  const rules = (entries: Readonly<Record<string, EvaluationMode>>): Record<string, AdmissionRule> | undefined => {
    const keys = Object.keys(entries).sort();
    if (keys.length === 0) return undefined;
    return Object.fromEntries(keys.map((key) => [key, rule(entries[key] as EvaluationMode)]));
  };
  const patterns = unique([`${request.mirror.replace(/\/+$/, '')}/**`, ...request.allow]);
  const policy: Record<string, unknown> = {
    globalPolicyEvaluationMode: GlobalPolicyEvaluationMode.enable,
    admissionWhitelistPatterns: patterns.map((namePattern) => ({ namePattern })),
    defaultAdmissionRule: rule(request.attestors.length > 0 ? EvaluationMode.requireAttestation : EvaluationMode.alwaysDeny),
  };
  const clusterRules = rules(request.clusterRules);
  const namespaceRules = rules(request.namespaceRules);
  const serviceAccountRules = rules(request.serviceAccountRules);
  if (clusterRules) policy.clusterAdmissionRules = clusterRules;
  if (namespaceRules) policy.kubernetesNamespaceAdmissionRules = namespaceRules;
  if (serviceAccountRules) policy.kubernetesServiceAccountAdmissionRules = serviceAccountRules;
  return policy as unknown as BinauthzPolicy;
}

const attestorName = /^projects\/[a-z][-a-z0-9]{4,28}[a-z0-9]\/attestors\/[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A GCP zone or region (`us-central1`, `europe-west4-b`) then a GKE cluster name. */
const clusterKey = /^[a-z]+-[a-z]+[0-9]+(-[a-z])?\.[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/;

/** Why a rule key is not valid for its rule set, or undefined. */
export function ruleKeyProblem(ruleSet: RuleSet, key: string): string | undefined {
  switch (ruleSet) {
    case 'clusterAdmissionRules':
      return clusterKey.test(key)
        ? undefined
        : `"${key}" is not location.clusterId (a zone or region, a dot, a cluster name: us-central1-a.prod-cluster)`;
    case 'kubernetesNamespaceAdmissionRules':
      return dnsLabel.test(key) && key.length <= 63
        ? undefined
        : `"${key}" is not a Kubernetes namespace name (lowercase letters, digits and '-', at most 63)`;
    case 'kubernetesServiceAccountAdmissionRules': {
      const [namespace = '', serviceAccount, ...rest] = key.split(':');
      const valid =
        rest.length === 0 &&
        serviceAccount !== undefined &&
        dnsLabel.test(namespace) &&
        namespace.length <= 63 &&
        dnsSubdomain.test(serviceAccount) &&
        serviceAccount.length <= 253;
      return valid ? undefined : `"${key}" is not namespace:serviceaccount (e.g. payments:deployer)`;
    }
  }
}

export function attestorProblem(name: string): string | undefined {
  return attestorName.test(name) ? undefined : `"${name}" is not an attestor resource name projects/PROJECT/attestors/ATTESTOR`;
}

/**
 * Every reason the policy would be refused, checked against the API's rules: known enums, patterns wildcarded only
 * at the end, `requireAttestationsBy` present exactly when the mode is REQUIRE_ATTESTATION, valid rule keys.
 */
export function policyProblems(policy: BinauthzPolicy): string[] {
  const problems: string[] = [];
  if (!Object.values(GlobalPolicyEvaluationMode).includes(policy.globalPolicyEvaluationMode)) {
    problems.push(`globalPolicyEvaluationMode: "${String(policy.globalPolicyEvaluationMode)}" is not ENABLE or DISABLE`);
  }
  policy.admissionWhitelistPatterns.forEach(({ namePattern }, index) => {
    const problem = namePatternProblem(namePattern);
    if (problem !== undefined) problems.push(`admissionWhitelistPatterns[${index}].namePattern: ${problem}`);
  });
  problems.push(...ruleProblems('defaultAdmissionRule', policy.defaultAdmissionRule));
  for (const ruleSet of ruleSets) {
    for (const [key, rule] of Object.entries(policy[ruleSet] ?? {})) {
      const keyProblem = ruleKeyProblem(ruleSet, key);
      if (keyProblem !== undefined) problems.push(`${ruleSet}: ${keyProblem}`);
      problems.push(...ruleProblems(`${ruleSet}.${key}`, rule));
    }
  }
  return problems;
}

function ruleProblems(where: string, rule: AdmissionRule): string[] {
  const problems: string[] = [];
  if (!Object.values(EvaluationMode).includes(rule.evaluationMode)) {
    problems.push(`${where}.evaluationMode: "${String(rule.evaluationMode)}" is not one of ${Object.values(EvaluationMode).join(', ')}`);
  }
  if (!Object.values(EnforcementMode).includes(rule.enforcementMode)) {
    problems.push(`${where}.enforcementMode: "${String(rule.enforcementMode)}" is not one of ${Object.values(EnforcementMode).join(', ')}`);
  }
  const attestors = rule.requireAttestationsBy ?? [];
  if (rule.evaluationMode === EvaluationMode.requireAttestation && attestors.length === 0) {
    problems.push(`${where}: REQUIRE_ATTESTATION needs at least one attestor in requireAttestationsBy (give --attestor)`);
  }
  if (rule.evaluationMode !== EvaluationMode.requireAttestation && rule.requireAttestationsBy !== undefined) {
    problems.push(`${where}: requireAttestationsBy is only allowed with REQUIRE_ATTESTATION`);
  }
  attestors.forEach((attestor, index) => {
    const problem = attestorProblem(attestor);
    if (problem !== undefined) problems.push(`${where}.requireAttestationsBy[${index}]: ${problem}`);
  });
  return problems;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** The policy as YAML for `gcloud container binauthz policy import`. */
export function formatPolicyYaml(policy: BinauthzPolicy): string {
  return stringify(policy, { lineWidth: 0 });
}

const modeAliases: Readonly<Record<string, EvaluationMode>> = {
  allow: EvaluationMode.alwaysAllow,
  deny: EvaluationMode.alwaysDeny,
  attest: EvaluationMode.requireAttestation,
  ALWAYS_ALLOW: EvaluationMode.alwaysAllow,
  ALWAYS_DENY: EvaluationMode.alwaysDeny,
  REQUIRE_ATTESTATION: EvaluationMode.requireAttestation,
};

/** `allow`, `deny`, `attest` or the API's own names; undefined when it is none of them. */
export function parseEvaluationMode(text: string): EvaluationMode | undefined {
  return Object.hasOwn(modeAliases, text) ? modeAliases[text] : undefined;
}
