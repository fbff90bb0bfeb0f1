import { sep } from 'node:path';
import type { Mapper } from '../../mapping/index.js';
import { repositoryName, tryParseReference } from '../../reference/index.js';
import { type FileScan, type Occurrence, place } from '../scan.js';
import { ScanSkipReason } from '../types.js';

/**
 * Holds what the default values files say to what `helm template` rendered from them, so the scan never lists an
 * image the chart does not deploy. Templates decide the final name, and real charts bend it: metrics-server adds a
 * `v` to the appVersion tag, cert-manager joins `imageRegistry`, `imageNamespace` and `name`. A values image whose
 * repository was rendered under one reference takes that reference (its repository span stays the place rewrite
 * changes); one whose repository was not rendered at all is `not-deployed`. The default `values.yaml` files are
 * held to the default rendering, an alternative values file (`values-prod.yaml`) to the rendering with it.
 */
export function reconcileValues(scans: FileScan[], chartFolder: string, renderedSources: readonly string[], mapper: Mapper, valuesFile?: string): void {
  const rendered = new Set(renderedSources);
  const byRepository = new Map<string, Set<string>>();
  for (const source of rendered) {
    const repository = repositoryOf(source);
    if (repository !== undefined) byRepository.set(repository, (byRepository.get(repository) ?? new Set()).add(source));
  }
  const folder = toPosix(chartFolder);
  scans.forEach((scan, position) => {
    if (scan.format !== 'helm-values') return;
    if (valuesFile === undefined ? !isDefaultValues(toPosix(scan.file), folder) : scan.file !== valuesFile) return;
    const occurrences = scan.occurrences.map((occurrence): Occurrence => {
      if (occurrence.source === undefined || occurrence.skipReason !== undefined || rendered.has(occurrence.source)) return occurrence;
      const repository = repositoryOf(occurrence.source);
      const candidates = [...(repository === undefined ? [] : (byRepository.get(repository) ?? []))];
      const [only] = candidates;
      if (candidates.length === 1 && only !== undefined) {
        return place({ ...occurrence, reference: only }, occurrence.file, occurrence.format, occurrence, mapper);
      }
      return {
        ...occurrence,
        skipReason: ScanSkipReason.notDeployed,
        edit: { kind: 'none', reason: 'helm template with the default values does not deploy it (disabled, or named differently by the templates)' },
      };
    });
    scans[position] = { ...scan, occurrences };
  });
}

/**
 * A template of a rendered chart that rendered no image (with any values file) deploys none of its templated `image:` lines with the
 * default values (a component turned off): those lines are `not-deployed`, not a `templated` unknown.
 */
export function markUnrenderedTemplates(scans: FileScan[], chartFolder: string): void {
  const folder = toPosix(chartFolder);
  scans.forEach((scan, position) => {
    if (scan.format !== 'helm-template' || !toPosix(scan.file).startsWith(`${folder}/`)) return;
    if (scan.occurrences.some((occurrence) => occurrence.format === 'helm-rendered')) return;
    const occurrences = scan.occurrences.map((occurrence): Occurrence => (occurrence.skipReason === ScanSkipReason.templated ? { ...occurrence, skipReason: ScanSkipReason.notDeployed } : occurrence));
    scans[position] = { ...scan, occurrences };
  });
}

/** `values.yaml` of the chart or of a subchart vendored under its `charts/`: the files `helm template` used. */
function isDefaultValues(file: string, folder: string): boolean {
  if (!file.startsWith(`${folder}/`)) return false;
  return /^(charts\/[^/]+\/)*values\.ya?ml$/.test(file.slice(folder.length + 1));
}

function repositoryOf(source: string): string | undefined {
  const parsed = tryParseReference(source);
  return parsed.ok ? repositoryName(parsed.reference) : undefined;
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}
