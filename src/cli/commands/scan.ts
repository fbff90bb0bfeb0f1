import { loadConfig } from '../../config/load.js';
import { MirrorhookError } from '../../errors.js';
import { createMapper } from '../../mapping/index.js';
import { Standing } from '../../scan/classify.js';
import { type ClusterOccurrence, inventoryFromObjects } from '../../scan/cluster/inventory.js';
import { scanPaths } from '../../scan/files.js';
import type { Occurrence } from '../../scan/scan.js';
import type { FileSkip } from '../../scan/types.js';
import { type CommandIo, formatTable, writeJsonLine } from '../command.js';
import { clusterFlag, kubeconfigFlag, outputFlag } from '../flags.js';
import { configFlag, defineCommand, flag } from '../spec.js';

const ScanOutput = { text: 'text', json: 'json', table: 'table' } as const;
type ScanOutput = (typeof ScanOutput)[keyof typeof ScanOutput];

export const scanCommand = defineCommand({
  name: 'scan',
  summary: 'list third-party image references in files (Dockerfiles, manifests, kustomize, compose, CI pipelines) or in a cluster',
  synopsis: ['mirrorhook scan [options] PATH...', 'mirrorhook scan --cluster [--kubeconfig FILE] [options]'],
  description: `Finds every image reference: Dockerfile FROM (with ARG defaults), COPY --from and RUN --mount=from;
containers, initContainers and ephemeralContainers in Kubernetes YAML/JSON of any kind (Lists, CronJobs,
Knative services, Helm-rendered output), image volumes, Tekton steps and Argo Workflows templates;
kustomization images:; Compose image:; Cloud Build steps; GitHub Actions job containers, services and
docker:// steps; ko base images. Images that Skaffold, Tilt or ko build (anywhere in the scanned tree)
are reported as built: not listed, never rewritten. Folders are walked recursively. Templated
values and files that do not parse are reported on stderr with a skip reason, never guessed.`,
  flags: [
    { ...clusterFlag, help: 'scan Pods and workload templates of every namespace instead of files' },
    { ...kubeconfigFlag, help: 'kubeconfig for --cluster (default: KUBECONFIG, ~/.kube/config, or in-cluster)' },
    flag({ name: 'include-mirrored', type: 'boolean', help: 'list every reference, also those already in the mirror or left out by sources:' }),
    configFlag,
    {
      ...outputFlag,
      help: 'text: unique fully-qualified references not in the mirror, one a line (an images.txt)\njson: one object per occurrence;  table: one row per occurrence',
    },
  ],
  examples: ['mirrorhook scan --config examples/mirrorhook.yaml examples/ > images.txt'],
  async run({ values, positionals }, io) {
    const format = parseScanOutput(values.output);
    const cluster = values.cluster === true;
    if (cluster && positionals.length > 0) throw new MirrorhookError('MH_USAGE', 'give PATHs or --cluster, not both (see mirrorhook scan --help)');
    if (!cluster && positionals.length === 0) throw new MirrorhookError('MH_USAGE', 'scan needs a PATH or --cluster (see mirrorhook scan --help)');
    if (!cluster && values.kubeconfig !== undefined) throw new MirrorhookError('MH_USAGE', '--kubeconfig only goes with --cluster');
    const { config } = await loadConfig(values.config);
    const mapper = createMapper(config);
    const includeMirrored = values['include-mirrored'] === true;

    if (cluster) {
      // The Kubernetes client is loaded only for --cluster: it costs a second of start-up that a file scan skips.
      const { loadKubeConfig } = await import('../../kube/client.js');
      const { listWorkloads } = await import('../../scan/cluster/list.js');
      const occurrences = inventoryFromObjects(await listWorkloads(loadKubeConfig(values.kubeconfig, io.env)), mapper);
      printCluster(io, format, occurrences, includeMirrored);
      return 0;
    }
    const result = scanPaths(positionals, mapper);
    const occurrences = result.files.flatMap((file) => file.occurrences);
    const skips = result.files.flatMap((file) => file.skips);
    printFiles(io, format, occurrences, skips, includeMirrored);
    return 0;
  },
});

function parseScanOutput(value: string | undefined): ScanOutput {
  if (value === undefined) return ScanOutput.text;
  if (value === 'text' || value === 'json' || value === 'table') return value;
  throw new MirrorhookError('MH_USAGE', `--output must be text, json or table, not "${value}"`);
}

/** Third-party and migratable: what goes into images.txt. */
function isListed(occurrence: { standing: Standing | undefined; skipReason?: string | undefined }, includeMirrored: boolean): boolean {
  if (occurrence.skipReason !== undefined || occurrence.standing === undefined) return false;
  if (occurrence.standing === Standing.invalid || occurrence.standing === Standing.built) return false;
  return includeMirrored || occurrence.standing === Standing.thirdParty;
}

function uniqueSources(occurrences: readonly { source: string | undefined }[]): string[] {
  return [...new Set(occurrences.flatMap((occurrence) => occurrence.source ?? []))].sort();
}

function printFiles(io: CommandIo, format: ScanOutput, occurrences: readonly Occurrence[], skips: readonly FileSkip[], includeMirrored: boolean): void {
  // One write for all the skip lines: a large tree has thousands, and each write is a system call.
  const skipped = skips.map((skip) => `mirrorhook scan: skipped ${skip.file}:${skip.line}: ${skip.skipReason}: ${skip.detail}\n`);
  // A template line helm rendered is answered by the rendered images: its `templated` skip would only be noise.
  const rendered = new Set(occurrences.filter((occurrence) => occurrence.format === 'helm-rendered').map((occurrence) => occurrence.file));
  for (const occurrence of occurrences) {
    if (occurrence.skipReason === 'templated' && rendered.has(occurrence.file)) continue;
    if (occurrence.skipReason !== undefined && occurrence.skipReason !== 'kustomize-override' && occurrence.skipReason !== 'not-deployed') {
      skipped.push(`mirrorhook scan: skipped ${occurrence.file}:${occurrence.line}: ${occurrence.skipReason}: ${occurrence.image}\n`);
    }
  }
  if (skipped.length > 0) io.stderr.write(skipped.join(''));
  // A chart's optional parts are many (cilium: a dozen): one line, the places are in --output json.
  const notDeployed = occurrences.filter((occurrence) => occurrence.skipReason === 'not-deployed');
  if (notDeployed.length > 0) {
    io.stderr.write(`mirrorhook scan: ${notDeployed.length} Helm chart images skipped as not-deployed: helm template with the default values does not deploy them\n`);
  }
  const built = occurrences.filter((occurrence) => occurrence.standing === Standing.built);
  if (built.length > 0) {
    const builders = [...new Set(built.map((occurrence) => occurrence.builtBy ?? '-'))].join(', ');
    io.stderr.write(`mirrorhook scan: ${built.length} references skipped as built (by ${builders})\n`);
  }
  const listed = occurrences.filter((occurrence) => isListed(occurrence, includeMirrored));
  if (format === 'text') {
    const sources = uniqueSources(listed);
    if (sources.length > 0) io.stdout.write(`${sources.join('\n')}\n`);
  } else if (format === 'json') {
    const shown = includeMirrored ? occurrences : occurrences.filter((occurrence) => occurrence.skipReason !== undefined || occurrence.standing === Standing.built || isListed(occurrence, false));
    for (const occurrence of shown) {
      writeJsonLine(io.stdout, {
        file: occurrence.file,
        line: occurrence.line,
        column: occurrence.column,
        start: occurrence.start,
        end: occurrence.end,
        image: occurrence.image,
        source: occurrence.source ?? null,
        kind: occurrence.kind,
        name: occurrence.name ?? null,
        container: occurrence.container ?? null,
        format: occurrence.format,
        standing: occurrence.standing ?? null,
        target: occurrence.target ?? null,
        skipReason: occurrence.skipReason ?? null,
        ...(occurrence.builtBy === undefined ? {} : { builtBy: occurrence.builtBy }),
      });
    }
    for (const skip of skips) writeJsonLine(io.stdout, { file: skip.file, line: skip.line, image: null, skipReason: skip.skipReason, detail: skip.detail });
  } else {
    io.stdout.write(
      formatTable(
        ['FILE:LINE', 'KIND', 'NAME', 'SOURCE', 'STATUS'],
        occurrences
          .filter((occurrence) => isListed(occurrence, includeMirrored) || occurrence.skipReason !== undefined || occurrence.standing === Standing.built)
          .map((occurrence) => [
            `${occurrence.file}:${occurrence.line}`,
            occurrence.kind,
            [occurrence.name, occurrence.container].filter((part) => part !== undefined).join('/') || '-',
            occurrence.source ?? occurrence.image,
            occurrence.skipReason ?? occurrence.standing ?? '-',
          ]),
      ),
    );
  }
}

function printCluster(io: CommandIo, format: ScanOutput, occurrences: readonly ClusterOccurrence[], includeMirrored: boolean): void {
  const listed = occurrences.filter((occurrence) => isListed(occurrence, includeMirrored));
  for (const occurrence of occurrences) {
    if (occurrence.skipReason !== undefined) {
      io.stderr.write(`mirrorhook scan: skipped ${occurrence.namespace}/${occurrence.kind}/${occurrence.name}: ${occurrence.skipReason}: ${occurrence.image}\n`);
    }
  }
  if (format === 'text') {
    for (const source of uniqueSources(listed)) io.stdout.write(`${source}\n`);
  } else if (format === 'json') {
    for (const occurrence of listed) {
      writeJsonLine(io.stdout, {
        namespace: occurrence.namespace,
        kind: occurrence.kind,
        name: occurrence.name,
        container: occurrence.container,
        image: occurrence.image,
        source: occurrence.source ?? null,
        standing: occurrence.standing ?? null,
      });
    }
  } else {
    io.stdout.write(
      formatTable(
        ['NAMESPACE', 'KIND', 'NAME', 'CONTAINER', 'SOURCE', 'STATUS'],
        listed.map((occurrence) => [occurrence.namespace, occurrence.kind, occurrence.name, occurrence.container, occurrence.source ?? occurrence.image, occurrence.standing ?? '-']),
      ),
    );
  }
}
