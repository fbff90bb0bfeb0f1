/** An image as the copy engine holds it: its manifest tree (an index and its children), and the blobs it needs. */
import { type Descriptor, type ParsedManifest, blobsOf } from '../registry/manifest.js';

export interface ManifestNode {
  readonly digest: string;
  readonly bytes: Buffer;
  readonly mediaType: string;
  readonly parsed: ParsedManifest;
  readonly children: readonly ManifestNode[];
}

/** Every manifest of the tree once, parents before children. */
export function flatten(root: ManifestNode): ManifestNode[] {
  const seen = new Map<string, ManifestNode>();
  const visit = (node: ManifestNode): void => {
    if (seen.has(node.digest)) return;
    seen.set(node.digest, node);
    node.children.forEach(visit);
  };
  visit(root);
  return [...seen.values()];
}

/** Every blob the tree's manifests name, once. */
export function uniqueBlobs(nodes: readonly ManifestNode[]): Descriptor[] {
  const seen = new Map<string, Descriptor>();
  for (const node of nodes) for (const blob of blobsOf(node.parsed)) if (!seen.has(blob.digest)) seen.set(blob.digest, blob);
  return [...seen.values()];
}
