import { repositoryName, tryParseReference } from '../reference/index.js';
import { Standing } from './classify.js';
import type { FileScan, Occurrence } from './scan.js';

const koScheme = 'ko://';

/**
 * Marks references to images the scanned tree builds as `built`: a name a Skaffold config (any document, any
 * profile) or a Tiltfile builds, matched on the repository anywhere in the tree (skaffold.yaml at the root names
 * the images of kubernetes-manifests/), and every `ko://` reference. They are not third-party: rewrite leaves
 * them and the image list does not carry them. The first file (in scan order) that builds a name is named.
 */
export function applyBuilt(scans: readonly FileScan[]): FileScan[] {
  const builders = new Map<string, string>();
  let koConfig: string | undefined;
  for (const scan of scans) {
    if (scan.format === 'ko') koConfig ??= scan.file;
    for (const name of scan.builds ?? []) {
      const repository = repositoryOf(name);
      if (repository !== undefined && !builders.has(repository)) builders.set(repository, scan.file);
    }
  }
  return scans.map((scan) => {
    let changed = false;
    const occurrences = scan.occurrences.map((occurrence): Occurrence => {
      const builtBy = builderOf(occurrence, builders, koConfig);
      if (builtBy === undefined) return occurrence;
      changed = true;
      return {
        ...occurrence,
        standing: Standing.built,
        skipReason: undefined,
        target: undefined,
        builtBy,
        edit: { kind: 'none', reason: `built by ${builtBy}, not pulled` },
      };
    });
    return changed ? { ...scan, occurrences } : scan;
  });
}

function builderOf(occurrence: Occurrence, builders: ReadonlyMap<string, string>, koConfig: string | undefined): string | undefined {
  const reference = occurrence.reference;
  if (reference === undefined) return undefined;
  if (reference.startsWith(koScheme)) return koConfig ?? 'ko';
  if (builders.size === 0 || occurrence.standing === Standing.invalid) return undefined;
  const repository = repositoryOf(reference);
  return repository === undefined ? undefined : builders.get(repository);
}

function repositoryOf(reference: string): string | undefined {
  const parsed = tryParseReference(reference);
  return parsed.ok ? repositoryName(parsed.reference) : undefined;
}
