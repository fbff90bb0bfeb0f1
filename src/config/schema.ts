import { z } from 'zod';
import { labelProblem, remoteRepositoryProblem } from '../google/repository.js';
import { Layout } from '../mapping/map.js';
import { attestorProblem, ruleKeyProblem } from '../policy/binauthz.js';
import { namePatternProblem } from '../policy/pattern.js';
import { tryParseReference } from '../reference/index.js';
import { rangeProblem } from '../sync/semver.js';

export const SwapPolicy = { exists: 'exists', always: 'always' } as const;
export type SwapPolicy = (typeof SwapPolicy)[keyof typeof SwapPolicy];

export const CopyPolicy = { background: 'background', wait: 'wait', none: 'none' } as const;
export type CopyPolicy = (typeof CopyPolicy)[keyof typeof CopyPolicy];

const globPattern = z
  .string()
  .min(1, 'a pattern cannot be empty')
  .regex(
    /^[A-Za-z0-9._\-/:[\]*?]+$/,
    'a pattern is a fully-qualified repository (docker.io/library/nginx) with * (one path part), ** (any depth) or ?',
  )
  .refine((pattern) => !pattern.includes('@'), 'a pattern names repositories, not digests: drop the @digest')
  .refine(
    (pattern) => !pattern.split('/').slice(1).some((part) => part.includes(':')),
    'a pattern names repositories, not tags: drop the :tag',
  );

export const MirrorConfigSchema = z
  .object({
    registry: z.string({ required_error: 'required: host[:port][/path] of the mirror, e.g. us-docker.pkg.dev/my-project/mirror' }),
    layout: z.enum([Layout.hostPath, Layout.path, Layout.name]).default(Layout.hostPath),
    insecure: z.boolean().default(false),
    caFile: z.string().default(''),
    // Artifact Registry (docs/adr/0051, 0052). Optional, not defaulted: absent means "not used"; src/google applies
    // the defaults (false, a stock description, no labels, no remotes, ADC).
    createRepository: z.boolean().optional(),
    repositoryDescription: z.string().max(2048, 'at most 2048 characters').optional(),
    repositoryLabels: z
      .record(z.string())
      .superRefine((labels, context) => {
        for (const [key, value] of Object.entries(labels)) {
          const message = labelProblem(key, value);
          if (message !== undefined) context.addIssue({ code: z.ZodIssueCode.custom, message, path: [key] });
        }
      })
      .optional(),
    remotes: z
      .record(z.string())
      .superRefine((remotes, context) => {
        for (const [host, repository] of Object.entries(remotes)) {
          const message = remoteRepositoryProblem(host, repository);
          if (message !== undefined) context.addIssue({ code: z.ZodIssueCode.custom, message, path: [host] });
        }
      })
      .optional(),
    googleJsonKeyFile: z.string().min(1, 'a path to a service-account key file').optional(),
  })
  .strict();

export const SourcesConfigSchema = z
  .object({
    include: z.array(globPattern).default(['**']),
    exclude: z.array(globPattern).default([]),
  })
  .strict();

const policyEvaluationMode = z.enum(['ALWAYS_ALLOW', 'ALWAYS_DENY', 'REQUIRE_ATTESTATION']);
const checked = (problem: (value: string) => string | undefined) =>
  z.string().superRefine((value, context) => {
    const message = problem(value);
    if (message !== undefined) context.addIssue({ code: z.ZodIssueCode.custom, message });
  });
const ruleMap = (ruleSet: Parameters<typeof ruleKeyProblem>[0]) =>
  z.record(policyEvaluationMode).superRefine((rules, context) => {
    for (const key of Object.keys(rules)) {
      const message = ruleKeyProblem(ruleSet, key);
      if (message !== undefined) context.addIssue({ code: z.ZodIssueCode.custom, message, path: [key] });
    }
  });

/** `mirrorhook policy binauthz`: what the Binary Authorization policy allows besides the mirror, and its rules. */
export const PolicyConfigSchema = z
  .object({
    allow: z.array(checked(namePatternProblem)).default([]),
    attestors: z.array(checked(attestorProblem)).default([]),
    clusterRules: ruleMap('clusterAdmissionRules').default({}),
    namespaceRules: ruleMap('kubernetesNamespaceAdmissionRules').default({}),
    serviceAccountRules: ruleMap('kubernetesServiceAccountAdmissionRules').default({}),
  })
  .strict();

/** The mirror catalog behind `swap: exists`: how long answers are kept and how long admission may wait for one. */
export const CatalogConfigSchema = z
  .object({
    budgetMilliseconds: z.number().int().min(0).max(5_000, 'at most 5000 ms: admission must stay fast').default(300),
    presentTtlSeconds: z.number().int().min(1).default(300),
    absentTtlSeconds: z.number().int().min(1).default(15),
    tagRefreshSeconds: z.number().int().min(60, 'at least 60 seconds: each refresh is a HEAD on the source').default(3600),
  })
  .strict();

export const AuditConfigSchema = z
  .object({
    /** Copy what audit-mode Pods use (without rewriting them), to warm the mirror before a namespace is enforced. */
    prefetch: z.boolean().default(false),
  })
  .strict();

export const CredentialsConfigSchema = z
  .object({
    /** A Docker config.json (auths, credHelpers, credsStore) for the source registries and the mirror. */
    dockerConfig: z.string().default(''),
  })
  .strict();

/** Background mirroring's use of the Kubernetes API (pull secrets, copy Leases, failure Events). */
export const KubernetesConfigSchema = z
  .object({
    /** auto: when running in a cluster (or KUBECONFIG is set); true: required; false: never. */
    enabled: z.union([z.literal('auto'), z.boolean()]).default('auto'),
    /** Namespace of the per-image copy Leases; default: the webhook's own (POD_NAMESPACE), else "mirrorhook". */
    leaseNamespace: z.string().default(''),
    /** A kubeconfig file; default: in-cluster, else KUBECONFIG / ~/.kube/config. */
    kubeconfig: z.string().default(''),
  })
  .strict();

/** `serve`'s live status page (GET /status, /status.json). */
export const StatusConfigSchema = z
  .object({
    /** false: the two routes answer 404 (the Prometheus metrics stay on /metrics). */
    enabled: z.boolean().default(true),
  })
  .strict();

const regexSource = z.string().superRefine((text, context) => {
  try {
    new RegExp(text);
  } catch (error) {
    context.addIssue({ code: z.ZodIssueCode.custom, message: `not a regular expression: ${error instanceof Error ? error.message : String(error)}` });
  }
});

/** `sync[].source`: one repository, or a registry host followed by a repository glob (`quay.io/prometheus/*`). */
const syncSource = z.string().superRefine((source, context) => {
  const problem = syncSourceProblem(source);
  if (problem !== undefined) context.addIssue({ code: z.ZodIssueCode.custom, message: problem });
});

export function syncSourceProblem(source: string): string | undefined {
  if (!/[*?]/.test(source)) {
    const parsed = tryParseReference(source);
    if (!parsed.ok) return parsed.error.message;
    if (parsed.reference.tag !== undefined || parsed.reference.digest !== undefined) return 'a source names a repository; tags are chosen by `tags:`, so drop the :tag or @digest';
    return undefined;
  }
  const host = source.split('/')[0] ?? '';
  if (/[*?]/.test(host) || !(host.includes('.') || host.includes(':') || host === 'localhost') || !source.includes('/')) {
    return 'a glob source starts with a registry host, then the repository pattern: quay.io/prometheus/* or registry.k8s.io/**';
  }
  if (!/^[a-z0-9._\-/:*?]+$/.test(source)) return 'a glob source is lowercase letters, digits, . _ - / and the wildcards * ** ?';
  return undefined;
}

/** Which tags of a repository `mirrorhook sync` keeps; every rule given must hold (see docs/configuration.md). */
export const SyncTagsConfigSchema = z
  .object({
    /** A semver range over the tags that are versions, e.g. ">=1.25 <2". */
    semver: z
      .string()
      .min(1, 'a range, e.g. ">=1.25 <2"')
      .superRefine((range, context) => {
        const message = rangeProblem(range);
        if (message !== undefined) context.addIssue({ code: z.ZodIssueCode.custom, message });
      })
      .optional(),
    /** Versions with a -prerelease part (1.2.0-rc.1) count only when true. */
    prereleases: z.boolean().default(false),
    regex: z
      .object({ include: regexSource.optional(), exclude: regexSource.optional() })
      .strict()
      .optional(),
    /** The newest N of the tags the other rules kept: by version, or by image creation time when none is a version. */
    latest: z.number().int('a whole number').min(1, 'at least 1').optional(),
  })
  .strict();

const platformText = z.string().regex(/^[a-z0-9_.-]+\/[a-z0-9_.-]+(\/[a-z0-9_.-]+)?$/i, 'os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8');

export const SyncEntryConfigSchema = z
  .object({
    source: syncSource,
    tags: SyncTagsConfigSchema.default({}),
    /** Keep only these platforms of an index (the mirrored digest then differs from the source's); default all. */
    platforms: z.array(platformText).min(1, 'leave platforms out to keep every platform').optional(),
    signatures: z.boolean().default(true),
  })
  .strict();

export const ConfigSchema = z
  .object({
    mirror: MirrorConfigSchema,
    sources: SourcesConfigSchema.default({}),
    swap: z.enum([SwapPolicy.exists, SwapPolicy.always]).default(SwapPolicy.exists),
    copy: z.enum([CopyPolicy.background, CopyPolicy.wait, CopyPolicy.none]).default(CopyPolicy.background),
    copyDeadlineSeconds: z
      .number()
      .int('a whole number of seconds')
      .min(1, 'at least 1 second')
      .max(25, 'at most 25 seconds: the copy must finish before the API server gives up on the webhook (timeoutSeconds 30 at most)')
      .default(8),
    copyJobs: z.number().int().min(1).max(32).default(2),
    catalog: CatalogConfigSchema.default({}),
    audit: AuditConfigSchema.default({}),
    credentials: CredentialsConfigSchema.default({}),
    kubernetes: KubernetesConfigSchema.default({}),
    policy: PolicyConfigSchema.optional(),
    status: StatusConfigSchema.default({}),
    /** What `mirrorhook sync` keeps current. */
    sync: z.array(SyncEntryConfigSchema).default([]),
  })
  .strict();

/** The configuration file as written (before defaults). */
export type ConfigInput = z.input<typeof ConfigSchema>;
/** The validated configuration with every default filled in. */
export type Config = z.output<typeof ConfigSchema>;
