import type { Mapper } from '../mapping/index.js';
import { parseReference } from '../reference/index.js';
import type { RegistryClient } from '../registry/client.js';
import { Standing } from '../scan/classify.js';
import type { ClusterOccurrence } from '../scan/cluster/inventory.js';
import type { Occurrence } from '../scan/scan.js';
import type { ImageUse, MirrorPresence } from './model.js';

/** What `scan PATH…` found, as uses; skipped and invalid references are scan's to report, not the scoreboard's. */
export function usesFromFiles(occurrences: readonly Occurrence[]): ImageUse[] {
  return occurrences.flatMap((occurrence): ImageUse[] => {
    if (occurrence.skipReason !== undefined || occurrence.source === undefined || occurrence.standing === undefined) return [];
    if (occurrence.standing === Standing.invalid) return [];
    const target = occurrence.standing === Standing.mirrored ? occurrence.source : occurrence.target ?? null;
    return [{ source: occurrence.source, target, standing: occurrence.standing, origin: occurrence.format === 'dockerfile' ? 'dockerfile' : 'file' }];
  });
}

/** What `scan --cluster` found, as uses with their namespace; the mirror target comes from the same mapper. */
export function usesFromCluster(occurrences: readonly ClusterOccurrence[], mapper: Mapper): ImageUse[] {
  return occurrences.flatMap((occurrence): ImageUse[] => {
    if (occurrence.skipReason !== undefined || occurrence.source === undefined || occurrence.standing === undefined) return [];
    if (occurrence.standing === Standing.invalid) return [];
    let target: string | null = null;
    if (occurrence.standing === Standing.mirrored) target = occurrence.source;
    else {
      const decision = mapper.decide(occurrence.source);
      if (decision.action === 'rewrite' && decision.remote === undefined) target = formatTarget(decision.target);
    }
    return [{ source: occurrence.source, target, standing: occurrence.standing, origin: 'cluster', namespace: occurrence.namespace }];
  });
}

function formatTarget(reference: { domain: string; path: string; tag: string | undefined; digest: string | undefined }): string {
  return `${reference.domain}/${reference.path}${reference.tag === undefined ? '' : `:${reference.tag}`}${reference.digest === undefined ? '' : `@${reference.digest}`}`;
}

/**
 * Asks the mirror (one manifest HEAD each, a few at a time) whether it holds each target, and under which digest.
 * A target the mirror answers 404 for is absent; any other failure is thrown: a report must not call an image
 * missing because the mirror could not be reached.
 */
export async function checkMirror(targets: readonly string[], client: RegistryClient, concurrency = 8): Promise<Map<string, MirrorPresence>> {
  const unique = [...new Set(targets)];
  const presence = new Map<string, MirrorPresence>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < unique.length) {
      const target = unique[next++] as string;
      const reference = parseReference(target);
      const head = await client.headManifest({ domain: reference.domain, path: reference.path }, reference.digest ?? reference.tag ?? 'latest');
      presence.set(target, { present: head !== undefined, digest: head?.digest ?? (head === undefined ? undefined : reference.digest) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, unique.length) }, worker));
  return presence;
}
