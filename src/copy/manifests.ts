/**
 * Manifests in a transfer: the tree read from the source (index → children → nested indexes, each digest-verified),
 * `--platform` narrowing it, and the writes into the sink, leaves first, so the sink never holds a manifest whose
 * content is missing.
 */
import { MirrorhookError } from '../errors.js';
import { sha256Digest } from '../registry/digest.js';
import { type Platform, formatPlatform, parseManifest } from '../registry/manifest.js';
import { type EngineRuntime, type ImageContext, warn } from './events.js';
import { isArtifactIndex, selectChildren } from './plan.js';
import { retryTransient } from './retry.js';
import { type ManifestNode } from './tree.js';

/** GETs a manifest and, for an index, its children (those `--platform` keeps), recursively. */
export async function fetchTree(runtime: EngineRuntime, context: ImageContext, reference: string, platforms: readonly Platform[], depth = 0): Promise<ManifestNode> {
  const manifest = await retryTransient(() => context.source.getManifest(reference), { sleep: runtime.sleep, signal: runtime.signal });
  let children: ManifestNode[] = [];
  if (manifest.parsed.kind === 'index') {
    if (depth > 4) {
      throw new MirrorhookError('MH_REGISTRY_MANIFEST_INVALID', `${context.image}: indexes nested more than 4 deep`);
    }
    const filter = depth === 0 && platforms.length > 0 && !isArtifactIndex(manifest.parsed.manifests);
    const wanted = filter ? selectChildren(manifest.parsed.manifests, platforms) : manifest.parsed.manifests;
    children = await Promise.all(wanted.map((child) => fetchTree(runtime, context, child.digest, [], depth + 1)));
  }
  return { digest: manifest.digest, bytes: manifest.bytes, mediaType: manifest.mediaType, parsed: manifest.parsed, children };
}

/** With --platform: one match becomes the image itself; several make a smaller index (a new digest). */
export function applyPlatformFilter(runtime: EngineRuntime, context: ImageContext, root: ManifestNode, platforms: readonly Platform[]): ManifestNode {
  if (root.parsed.kind !== 'index' || isArtifactIndex(root.parsed.manifests)) {
    warn(
      runtime,
      context,
      `--platform does not apply: ${context.image} is ${root.parsed.kind === 'index' ? 'an index of artifacts without platforms' : 'a single-platform image'}; copied as it is`,
    );
    return root;
  }
  const all = root.parsed.manifests;
  const kept = selectChildren(all, platforms);
  const platformChildren = kept.filter((child) => child.platform !== undefined && child.platform.os !== 'unknown');
  if (platformChildren.length === 0) {
    throw new MirrorhookError(
      'MH_COPY_NO_PLATFORM',
      `${context.image} has ${[...new Set(all.map((child) => formatPlatform(child.platform)))].join(', ')}; asked for ${platforms.map(formatPlatform).join(', ')}`,
    );
  }
  if (platformChildren.length === 1 && kept.length === 1) {
    const only = root.children.find((child) => child.digest === platformChildren[0]?.digest);
    if (only !== undefined) {
      warn(runtime, context, `--platform: copying the ${formatPlatform(platformChildren[0]?.platform)} manifest alone; its digest ${only.digest} differs from the source index ${root.digest}`);
      return only;
    }
  }
  const body = JSON.parse(root.bytes.toString('utf8')) as { manifests: unknown[] };
  const keptDigests = new Set(kept.map((child) => child.digest));
  body.manifests = body.manifests.filter((child) => keptDigests.has((child as { digest: string }).digest));
  const bytes = Buffer.from(JSON.stringify(body, null, 2));
  const digest = sha256Digest(bytes);
  warn(runtime, context, `--platform: a new index with ${kept.length} of ${all.length} manifests; its digest ${digest} differs from the source ${root.digest}`);
  return { digest, bytes, mediaType: root.mediaType, parsed: parseManifest(bytes, root.mediaType, context.image), children: root.children };
}

function writeOnce(runtime: EngineRuntime, context: ImageContext, node: ManifestNode): Promise<void> {
  const key = `${context.sink.name}@${node.digest}`;
  let work = runtime.manifestWrites.get(key);
  if (work === undefined) {
    work = context.sink.writeManifest(node.digest, node);
    runtime.manifestWrites.set(key, work);
    // A failed write may be tried again by a later image of the run.
    work.catch(() => runtime.manifestWrites.delete(key));
  }
  return work;
}

/**
 * Writes a tree whose blobs are all present, children before their index; the root gets the tag (and, with
 * `byDigestFirst`, its digest first: a `tag@digest` source). Children shared by two indexes are written once.
 */
export async function writeTree(runtime: EngineRuntime, context: ImageContext, root: ManifestNode, tag: string | undefined, byDigestFirst: boolean): Promise<void> {
  const written = new Map<string, Promise<void>>();
  const write = async (node: ManifestNode, nodeTag: string | undefined, digestFirst: boolean): Promise<void> => {
    await Promise.all(node.children.map((child) => writeChild(child)));
    if (nodeTag === undefined || digestFirst) {
      await writeOnce(runtime, context, node);
      runtime.emit({ type: 'manifest', image: context.image, digest: node.digest, reference: node.digest });
    }
    if (nodeTag !== undefined) {
      await context.sink.writeManifest(nodeTag, node);
      runtime.emit({ type: 'manifest', image: context.image, digest: node.digest, reference: nodeTag });
    }
  };
  const writeChild = (child: ManifestNode): Promise<void> => {
    let work = written.get(child.digest);
    if (work === undefined) {
      work = write(child, undefined, false);
      written.set(child.digest, work);
    }
    return work;
  };
  await write(root, tag, byDigestFirst);
}
