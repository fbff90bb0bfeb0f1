import { readFile } from 'node:fs/promises';
import { loadConfig } from '../../config/load.js';
import { MirrorhookError } from '../../errors.js';
import { createMapper, formatMirrorRegistry, parseMirrorRegistry } from '../../mapping/index.js';
import {
  type BinauthzPolicy,
  type EvaluationMode,
  type InventoryItem,
  type PolicyRequest,
  type RuleSet,
  Verdict,
  buildPolicy,
  formatPolicyYaml,
  parseEvaluationMode,
  policyProblems,
  readAuditLog,
  ruleKeyProblem,
  simulatePolicy,
} from '../../policy/index.js';
import { type ScanResult, scanPaths } from '../../scan/files.js';
import { Standing } from '../../scan/classify.js';
import { type CommandIo, type OutputFormat, formatTable, parseOutputFormat, writeJsonLine } from '../command.js';
import { clusterFlag, fromAuditLogsFlag, kubeconfigFlag, outputFlag } from '../flags.js';
import { defineCommand, flag } from '../spec.js';

export const policyCommand = defineCommand({
  name: 'policy',
  summary: 'Binary Authorization policy YAML (dry-run by default), its simulation, and dry-run audit log reports',
  synopsis: [
    'mirrorhook policy binauthz [--config FILE] [--enforce] [--allow PATTERN]... [--attestor NAME]...\n[--cluster-rule LOCATION.CLUSTER=MODE]... [--namespace-rule NAMESPACE=MODE]...\n[--serviceaccount-rule NAMESPACE:SA=MODE]...',
    'mirrorhook policy binauthz ... --simulate PATH...',
    'mirrorhook policy binauthz ... --simulate --cluster [--cluster-id LOCATION.CLUSTER] [--kubeconfig FILE]',
    'mirrorhook policy binauthz --from-audit-logs FILE',
  ],
  description: `Prints a Binary Authorization policy for \`gcloud container binauthz policy import\`: images in the mirror
(<mirror>/**) and the --allow patterns are allowed, Google-maintained system images too
(globalPolicyEvaluationMode: ENABLE), everything else is denied (ALWAYS_DENY, or REQUIRE_ATTESTATION when an
--attestor is given) in DRYRUN_AUDIT_LOG_ONLY mode, so violations are only logged. --enforce makes every rule
ENFORCED_BLOCK_AND_AUDIT_LOG. The policy is checked against the API's rules before it is printed.`,
  flags: [
    flag({ name: 'allow', type: 'string', multiple: true, value: 'PATTERN', help: 'also allow registry/path, exact or ending in * (one path part) or ** (any depth)' }),
    flag({ name: 'attestor', type: 'string', multiple: true, value: 'NAME', help: 'projects/PROJECT/attestors/ATTESTOR; the default rule becomes REQUIRE_ATTESTATION' }),
    flag({ name: 'cluster-rule', type: 'string', multiple: true, value: 'K=MODE', help: 'a rule for one cluster (K is location.clusterId, e.g. us-central1-a.prod)' }),
    flag({ name: 'namespace-rule', type: 'string', multiple: true, value: 'K=MODE', help: 'a rule for one namespace' }),
    flag({
      name: 'serviceaccount-rule',
      type: 'string',
      multiple: true,
      value: 'K=MODE',
      help: 'a rule for one namespace:serviceaccount\nMODE: allow, deny, attest (or ALWAYS_ALLOW, ALWAYS_DENY, REQUIRE_ATTESTATION)',
    }),
    flag({ name: 'enforce', type: 'boolean', help: 'block instead of dry-run' }),
    flag({
      name: 'simulate',
      type: 'boolean',
      help: 'evaluate the policy against every image the Kubernetes manifests and kustomizations\nat PATH... name (folders are walked as scan walks them) and list each with its verdict\n(allow or deny), where it is written and the rule that decided; changes nothing',
    }),
    {
      ...clusterFlag,
      help: 'with --simulate: the same for every image the Pods of a cluster use (per namespace\nand service account, so those rules apply)',
    },
    flag({ name: 'cluster-id', type: 'string', value: 'ID', help: 'location.clusterId of that cluster, so its clusterAdmissionRules apply' }),
    { ...kubeconfigFlag, help: 'kubeconfig for --cluster (default: KUBECONFIG, ~/.kube/config, in-cluster)' },
    {
      ...fromAuditLogsFlag,
      help: 'read exported dry-run audit log entries (gcloud logging read --format=json) and\nlist the images that violated the policy, with counts',
    },
    { ...outputFlag, help: 'text or json (the policy as one JSON object; verdicts and violations one per line)' },
  ],
  notes: `Flags add to the policy: block of the configuration (allow, attestors, clusterRules, namespaceRules,
serviceAccountRules).`,
  examples: [
    'mirrorhook policy binauthz --config examples/mirrorhook.yaml > policy.yaml',
    'gcloud container binauthz policy import policy.yaml',
    'mirrorhook policy binauthz --simulate deploy/',
    'mirrorhook policy binauthz --simulate --cluster --namespace-rule kube-system=allow',
    'gcloud logging read \'labels."imagepolicywebhook.image-policy.k8s.io/dry-run"="true"\' --format=json > dryrun.json',
    'mirrorhook policy binauthz --from-audit-logs dryrun.json',
  ],
  async run({ values, positionals }, io) {
    const [subcommand, ...rest] = positionals;
    if (subcommand !== 'binauthz') {
      throw new MirrorhookError(
        'MH_USAGE',
        subcommand === undefined
          ? 'policy needs a kind: mirrorhook policy binauthz (see mirrorhook policy --help)'
          : `unknown policy kind "${subcommand}": the only kind is binauthz`,
      );
    }
    if (rest.length > 0 && !values.simulate) {
      throw new MirrorhookError('MH_USAGE', `unexpected argument "${rest[0]}": paths go with --simulate (see mirrorhook policy --help)`);
    }
    const format = parseOutputFormat(values.output);

    const auditLog = values['from-audit-logs'];
    if (auditLog !== undefined) {
      if (values.simulate) throw new MirrorhookError('MH_USAGE', '--from-audit-logs and --simulate are two different reports: give one');
      return reportAuditLog(auditLog, format, io);
    }
    if (values.cluster && !values.simulate) throw new MirrorhookError('MH_USAGE', '--cluster goes with --simulate');
    if (values.simulate && !values.cluster && rest.length === 0) {
      throw new MirrorhookError('MH_USAGE', '--simulate needs an inventory: PATH... (manifests, Dockerfiles, folders) or --cluster');
    }
    if (values.simulate && values.cluster && rest.length > 0) {
      throw new MirrorhookError('MH_USAGE', '--simulate takes PATH... or --cluster, not both: run it twice');
    }
    if (values['cluster-id'] !== undefined && !values.simulate) throw new MirrorhookError('MH_USAGE', '--cluster-id goes with --simulate');

    const { config } = await loadConfig(values.config);
    const fromConfig = config.policy;
    const flagProblems: string[] = [];
    const clusterRules = ruleFlags('--cluster-rule', 'clusterAdmissionRules', values['cluster-rule'], flagProblems);
    const namespaceRules = ruleFlags('--namespace-rule', 'kubernetesNamespaceAdmissionRules', values['namespace-rule'], flagProblems);
    const serviceAccountRules = ruleFlags(
      '--serviceaccount-rule',
      'kubernetesServiceAccountAdmissionRules',
      values['serviceaccount-rule'],
      flagProblems,
    );
    if (flagProblems.length > 0) throw new MirrorhookError('MH_USAGE', flagProblems.join('; '));
    const request: PolicyRequest = {
      mirror: formatMirrorRegistry(parseMirrorRegistry(config.mirror.registry)),
      // Remote repositories (mirror.remotes) serve images as the mirror does.
      allow: [...Object.values(config.mirror.remotes ?? {}).map((remote) => `${remote.replace(/\/+$/, '')}/**`), ...(fromConfig?.allow ?? []), ...(values.allow ?? [])],
      attestors: [...(fromConfig?.attestors ?? []), ...(values.attestor ?? [])],
      enforce: values.enforce ?? false,
      clusterRules: { ...fromConfig?.clusterRules, ...clusterRules },
      namespaceRules: { ...fromConfig?.namespaceRules, ...namespaceRules },
      serviceAccountRules: { ...fromConfig?.serviceAccountRules, ...serviceAccountRules },
    };
    const policy = buildPolicy(request);
    const problems = policyProblems(policy);
    if (problems.length > 0) {
      throw new MirrorhookError('MH_POLICY_INVALID', `\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    }

    if (!values.simulate) {
      if (format === 'json') writeJsonLine(io.stdout, policy);
      else io.stdout.write(formatPolicyYaml(policy));
      return 0;
    }
    const clusterId = values['cluster-id'];
    if (clusterId !== undefined) {
      const problem = ruleKeyProblem('clusterAdmissionRules', clusterId);
      if (problem !== undefined) throw new MirrorhookError('MH_USAGE', `--cluster-id: ${problem}`);
    }
    let inventory: InventoryItem[];
    if (values.cluster) {
      // The Kubernetes client is heavy: loaded only when a cluster is asked for.
      const { loadKubeConfig } = await import('../../kube/client.js');
      const { listAllPods, podInventory } = await import('../../policy/cluster.js');
      inventory = podInventory(await listAllPods(loadKubeConfig(values.kubeconfig, io.env))());
    } else {
      const { items, templated, buildTime, built } = fileInventory(scanPaths(rest, createMapper(config)));
      inventory = items;
      if (buildTime > 0) io.stderr.write(`${buildTime} Dockerfile and compose references not evaluated: Binary Authorization admits Pods, not builds\n`);
      if (built > 0) io.stderr.write(`${built} references to images the repository builds not evaluated: skaffold, tilt or ko names them at deploy\n`);
      if (templated > 0) io.stderr.write(`${templated} templated references not evaluated (mirrorhook scan lists them)\n`);
    }
    reportSimulation(policy, inventory, clusterId, format, io);
    return 0;
  },
});

/** Formats whose images a cluster admits; Dockerfiles, compose and CI files name build-time and local images. */
const admittedFormats: ReadonlySet<string> = new Set(['kubernetes', 'kustomize', 'helm-rendered', 'helm-values', 'helm-template']);

/** Every image the scanned files make a cluster run, where it is written; the rest is counted, not evaluated. */
function fileInventory(scan: ScanResult): { items: InventoryItem[]; templated: number; buildTime: number; built: number } {
  const items: InventoryItem[] = [];
  let templated = 0;
  let buildTime = 0;
  let built = 0;
  const occurrences = scan.files.flatMap((file) => file.occurrences);
  // A rendered chart is evaluated once, by what helm rendered; its values and template lines name the same images.
  const rendered = new Set(occurrences.flatMap((occurrence) => (occurrence.format === 'helm-rendered' && occurrence.source !== undefined ? [occurrence.source] : [])));
  const renderedFiles = new Set(occurrences.flatMap((occurrence) => (occurrence.format === 'helm-rendered' ? [occurrence.file] : [])));
  for (const occurrence of occurrences) {
    // An image a kustomization redirects is not what is pulled; the kustomization's entry is. A values image the
    // chart does not deploy is not admitted at all.
    if (occurrence.skipReason === 'kustomize-override' || occurrence.skipReason === 'not-deployed') continue;
    if (!admittedFormats.has(occurrence.format)) buildTime += 1;
    else if (occurrence.standing === Standing.built) built += 1;
    else if (occurrence.reference === undefined) templated += renderedFiles.has(occurrence.file) ? 0 : 1;
    else if (occurrence.format.startsWith('helm-') && occurrence.format !== 'helm-rendered' && occurrence.source !== undefined && rendered.has(occurrence.source)) continue;
    else items.push({ image: occurrence.reference, location: `${occurrence.file}:${occurrence.line}` });
  }
  return { items, templated, buildTime, built };
}

/** `KEY=MODE` flags into a rule map; every bad one is added to `problems`. */
function ruleFlags(
  flag: string,
  ruleSet: RuleSet,
  entries: readonly string[] | undefined,
  problems: string[],
): Record<string, EvaluationMode> {
  const rules: Record<string, EvaluationMode> = {};
  for (const entry of entries ?? []) {
    const equals = entry.lastIndexOf('=');
    const key = equals === -1 ? '' : entry.slice(0, equals);
    const mode = equals === -1 ? undefined : parseEvaluationMode(entry.slice(equals + 1));
    if (equals === -1 || mode === undefined) {
      problems.push(`${flag} "${entry}": write KEY=MODE with MODE allow, deny or attest`);
      continue;
    }
    const keyProblem = ruleKeyProblem(ruleSet, key);
    if (keyProblem !== undefined) problems.push(`${flag}: ${keyProblem}`);
    else rules[key] = mode;
  }
  return rules;
}

function reportSimulation(
  policy: BinauthzPolicy,
  inventory: readonly InventoryItem[],
  clusterId: string | undefined,
  format: OutputFormat,
  io: CommandIo,
): void {
  const results = simulatePolicy(policy, inventory, clusterId === undefined ? {} : { clusterId });
  if (format === 'json') {
    for (const result of results) writeJsonLine(io.stdout, result);
    return;
  }
  io.stdout.write(
    formatTable(
      ['VERDICT', 'IMAGE', 'WHERE', 'RULE', 'WHY'],
      results.map((result) => [result.verdict, result.image, result.location, result.rule, result.reason]),
    ),
  );
  const denied = results.filter((result) => result.verdict === Verdict.deny).length;
  io.stderr.write(`${results.length} image uses: ${results.length - denied} allowed, ${denied} denied\n`);
}

async function reportAuditLog(file: string, format: OutputFormat, io: CommandIo): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new MirrorhookError('MH_POLICY_AUDIT_LOG', `${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      cause: error,
    });
  }
  const summary = readAuditLog(text, file);
  if (format === 'json') {
    for (const violation of summary.violations) writeJsonLine(io.stdout, violation);
  } else {
    io.stdout.write(
      formatTable(
        ['COUNT', 'IMAGE', 'NAMESPACES', 'LAST SEEN', 'DENIED BY'],
        summary.violations.map((violation) => [
          String(violation.count),
          violation.image,
          violation.namespaces.join(',') || '-',
          violation.lastSeen ?? '-',
          violation.rules.join('; '),
        ]),
      ),
    );
  }
  const unparsed = summary.unparsed === 0 ? '' : `, ${summary.unparsed} dry-run entries named no image (not counted)`;
  // `[]` is a real answer only for the period and project the query covered: say so rather than imply "all clear".
  const empty = summary.entries === 0 ? ` (the export is empty: nothing matched the query; gcloud logging read covers the last day unless --freshness is given)` : '';
  io.stderr.write(`${summary.entries} log entries read, ${summary.violations.length} images violated the policy${unparsed}${empty}\n`);
  return 0;
}
