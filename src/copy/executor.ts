/**
 * The copy engine: `copyImages(client, requests, options)` copies images between registries byte for byte.
 *
 * Order of work for one image, and why:
 *  1. HEAD the source (or use its digest) and HEAD the target: equal digests mean done (a re-run costs two HEADs).
 *  2. GET the manifest tree (index → children → nested indexes), every manifest digest-verified.
 *  3. Make every blob present in the target repository: HEAD, else mount (from a repository this run already
 *     filled, or from the source when it is the same registry), else stream GET → PUT with sha256 verified on
 *     the way. Each blob is transferred once per target repository even when many images share it.
 *  4. Push manifests leaves first, each only after its blobs and children are present: the target never holds a
 *     manifest whose content is missing. `tag@digest` sources are pushed by digest, then tagged.
 *  5. Copy cosign `.sig/.att/.sbom` tags and OCI referrers of the copied digest.
 * Progress and outcomes are reported as CopyEvents; failures of one image never stop the others.
 */
import { MirrorhookError, describeError, isMirrorhookError } from '../errors.js';
import { type ImageReference, formatReference } from '../reference/index.js';
import { type RegistryClient, type RepositoryRef } from '../registry/client.js';
import { sha256Digest } from '../registry/digest.js';
import {
  type Descriptor,
  type Platform,
  blobsOf,
  formatPlatform,
  isNonDistributable,
  parseManifest,
} from '../registry/manifest.js';
import { apiHost } from '../registry/transport.js';
import { Limiter } from './limiter.js';
import { retryTransient } from './retry.js';
import { type ManifestNode, flatten, uniqueBlobs } from './tree.js';
import { type CopyRequest, cosignTags, isArtifactIndex, referrersFallbackTag, selectChildren, sourceNotFound, sourceSelector, targetTag } from './plan.js';

export interface CopyOptions {
  /** Images copied at once, and blob transfers at once across all images (default 4). */
  readonly jobs?: number;
  /** Keep only these platforms of an index (the copied digest then differs from the source's). */
  readonly platforms?: readonly Platform[];
  /** Copy cosign signature tags and OCI referrers along (default true). */
  readonly signatures?: boolean;
  /** Plan only: read both sides, write nothing. */
  readonly dryRun?: boolean;
  readonly onEvent?: (event: CopyEvent) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Stops the run: images not started fail as interrupted, and so do those in flight (give the client the same signal). */
  readonly signal?: AbortSignal;
}

export type CopyStatus = 'copied' | 'up-to-date' | 'planned' | 'failed';

export type CopyEvent =
  | { readonly type: 'start'; readonly image: string; readonly target: string }
  | { readonly type: 'plan'; readonly image: string; readonly digest: string; readonly manifests: number; readonly blobs: number; readonly bytes: number }
  | { readonly type: 'blob'; readonly image: string; readonly digest: string; readonly size: number; readonly action: BlobAction }
  | { readonly type: 'progress'; readonly image: string; readonly bytes: number }
  | { readonly type: 'manifest'; readonly image: string; readonly digest: string; readonly reference: string }
  | { readonly type: 'warning'; readonly image: string; readonly message: string }
  | { readonly type: 'done'; readonly image: string; readonly target: string; readonly status: Exclude<CopyStatus, 'failed'>; readonly digest: string; readonly bytes: number }
  | { readonly type: 'failed'; readonly image: string; readonly target: string; readonly code: string; readonly message: string };

export type BlobAction = 'exists' | 'mounted' | 'copied' | 'skipped-non-distributable' | 'would-copy';

export interface CopyResult {
  readonly source: string;
  readonly target: string;
  readonly status: CopyStatus;
  readonly digest: string | undefined;
  /** Bytes streamed from source to target for this image (blobs another image already moved count there). */
  readonly bytes: number;
  readonly error: { readonly code: string; readonly message: string } | undefined;
  readonly warnings: readonly string[];
}


interface ImageContext {
  readonly image: string;
  readonly source: RepositoryRef;
  readonly target: RepositoryRef;
  readonly warnings: string[];
  bytes: number;
}

/** Copies every request; resolves with one result per request, in request order. Never rejects for one image. */
export async function copyImages(client: RegistryClient, requests: readonly CopyRequest[], options: CopyOptions = {}): Promise<CopyResult[]> {
  const engine = new CopyEngine(client, options);
  const images = new Limiter(options.jobs ?? 4);
  return Promise.all(requests.map((request) => images.run(() => engine.copyOne(request))));
}

class CopyEngine {
  readonly #client: RegistryClient;
  readonly #options: CopyOptions;
  readonly #blobs: Limiter;
  readonly #emit: (event: CopyEvent) => void;
  readonly #sleep: (ms: number) => Promise<void>;
  /** `host/repo@digest` → the work that makes that blob present there. */
  readonly #blobWork = new Map<string, Promise<void>>();
  readonly #manifestWork = new Map<string, Promise<unknown>>();
  /** `host@digest` → a repository of that target registry that has (or is getting) the blob. */
  readonly #blobHome = new Map<string, { path: string; ready: Promise<void> }>();

  constructor(client: RegistryClient, options: CopyOptions) {
    this.#client = client;
    this.#options = options;
    this.#blobs = new Limiter(options.jobs ?? 4);
    this.#emit = options.onEvent ?? (() => undefined);
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  #throwIfInterrupted(): void {
    if (this.#options.signal?.aborted) throw interrupted();
  }

  #warn(context: ImageContext, message: string): void {
    context.warnings.push(message);
    this.#emit({ type: 'warning', image: context.image, message });
  }

  async copyOne(request: CopyRequest): Promise<CopyResult> {
    const image = formatReference(request.source);
    const tag = targetTag(request);
    const targetText = formatReference({ ...request.target, tag, digest: request.target.digest });
    const context: ImageContext = {
      image,
      source: { domain: request.source.domain, path: request.source.path },
      target: { domain: request.target.domain, path: request.target.path },
      warnings: [],
      bytes: 0,
    };
    this.#emit({ type: 'start', image, target: targetText });
    try {
      this.#throwIfInterrupted();
      const { status, digest } = await this.#copyImage(context, request.source, tag, request.target.digest);
      this.#emit({ type: 'done', image, target: targetText, status, digest, bytes: context.bytes });
      return { source: image, target: targetText, status, digest, bytes: context.bytes, error: undefined, warnings: context.warnings };
    } catch (caught) {
      const error = this.#options.signal?.aborted ? interrupted() : caught;
      const code = isMirrorhookError(error) ? error.code : 'MH_COPY_FAILED';
      const message = isMirrorhookError(error) ? error.message : `unexpected error (a bug; please report it): ${describeError(error)}`;
      this.#emit({ type: 'failed', image, target: targetText, code, message });
      return { source: image, target: targetText, status: 'failed', digest: undefined, bytes: context.bytes, error: { code, message }, warnings: context.warnings };
    }
  }

  async #copyImage(
    context: ImageContext,
    source: ImageReference,
    tag: string | undefined,
    pinnedTargetDigest: string | undefined,
  ): Promise<{ status: Exclude<CopyStatus, 'failed'>; digest: string }> {
    const client = this.#client;
    if (!this.#options.dryRun) client.willPush(context.target);
    const platforms = this.#options.platforms ?? [];
    // Both HEADs at once when the target is named by tag: a re-run costs one round trip per image, not two.
    const earlyTarget = platforms.length === 0 && source.digest === undefined && tag !== undefined ? client.headManifest(context.target, tag) : undefined;
    earlyTarget?.catch(() => undefined);
    let sourceDigest = source.digest;
    if (sourceDigest === undefined) {
      const head = await client.headManifest(context.source, sourceSelector(source));
      if (head === undefined) throw sourceNotFound(source);
      sourceDigest = head.digest;
    }
    const targetReference = tag ?? pinnedTargetDigest ?? sourceDigest;
    if (platforms.length === 0 && sourceDigest !== undefined && targetReference !== undefined) {
      const existing = await (earlyTarget ?? client.headManifest(context.target, targetReference));
      if (existing?.digest === sourceDigest) {
        this.#emit({ type: 'plan', image: context.image, digest: sourceDigest, manifests: 0, blobs: 0, bytes: 0 });
        return { status: 'up-to-date', digest: sourceDigest };
      }
    }

    let root = await this.#fetchTree(context, sourceDigest ?? sourceSelector(source), platforms);
    if (platforms.length > 0) root = this.#applyPlatformFilter(context, root, platforms);
    const existing = platforms.length > 0 ? await client.headManifest(context.target, tag ?? root.digest) : undefined;
    if (existing?.digest === root.digest) return { status: 'up-to-date', digest: root.digest };

    const nodes = flatten(root);
    const blobs = uniqueBlobs(nodes);
    this.#emit({
      type: 'plan',
      image: context.image,
      digest: root.digest,
      manifests: nodes.length,
      blobs: blobs.length,
      bytes: blobs.reduce((sum, blob) => sum + blob.size, 0),
    });
    if (pinnedTargetDigest !== undefined && pinnedTargetDigest !== root.digest) {
      throw new MirrorhookError(
        'MH_REGISTRY_DIGEST_MISMATCH',
        `target asks for ${pinnedTargetDigest} but the source is ${root.digest}`,
      );
    }

    if (this.#options.dryRun) {
      for (const blob of blobs) {
        if (isNonDistributable(blob)) continue;
        const present = await client.headBlob(context.target, blob.digest);
        this.#emit({ type: 'blob', image: context.image, digest: blob.digest, size: blob.size, action: present === undefined ? 'would-copy' : 'exists' });
      }
      return { status: 'planned', digest: root.digest };
    }

    await this.#pushNode(context, root, tag, source.digest !== undefined);
    if (this.#options.signatures !== false) {
      if (platforms.length > 0 && root.digest !== sourceDigest) {
        this.#warn(context, 'signatures are not copied with --platform: they sign the source digest, which the filtered copy does not have');
      } else {
        await this.#copyAttached(context, root.digest);
      }
    }
    return { status: 'copied', digest: root.digest };
  }

  /** GETs a manifest and, for an index, its children (those `--platform` keeps), recursively. */
  async #fetchTree(context: ImageContext, reference: string, platforms: readonly Platform[], depth = 0): Promise<ManifestNode> {
    const manifest = await retryTransient(() => this.#client.getManifest(context.source, reference), { sleep: this.#sleep, signal: this.#options.signal });
    let children: ManifestNode[] = [];
    if (manifest.parsed.kind === 'index') {
      if (depth > 4) {
        throw new MirrorhookError('MH_REGISTRY_MANIFEST_INVALID', `${context.image}: indexes nested more than 4 deep`);
      }
      const filter = depth === 0 && platforms.length > 0 && !isArtifactIndex(manifest.parsed.manifests);
      const wanted = filter ? selectChildren(manifest.parsed.manifests, platforms) : manifest.parsed.manifests;
      children = await Promise.all(wanted.map((child) => this.#fetchTree(context, child.digest, [], depth + 1)));
    }
    return { digest: manifest.digest, bytes: manifest.bytes, mediaType: manifest.mediaType, parsed: manifest.parsed, children };
  }

  /** With --platform: one match becomes the image itself; several make a smaller index (a new digest). */
  #applyPlatformFilter(context: ImageContext, root: ManifestNode, platforms: readonly Platform[]): ManifestNode {
    if (root.parsed.kind !== 'index' || isArtifactIndex(root.parsed.manifests)) {
      this.#warn(context, `--platform does not apply: ${context.image} is ${root.parsed.kind === 'index' ? 'an index of artifacts without platforms' : 'a single-platform image'}; copied as it is`);
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
        this.#warn(context, `--platform: copying the ${formatPlatform(platformChildren[0]?.platform)} manifest alone; its digest ${only.digest} differs from the source index ${root.digest}`);
        return only;
      }
    }
    const body = JSON.parse(root.bytes.toString('utf8')) as { manifests: unknown[] };
    const keptDigests = new Set(kept.map((child) => child.digest));
    body.manifests = body.manifests.filter((child) => keptDigests.has((child as { digest: string }).digest));
    const bytes = Buffer.from(JSON.stringify(body, null, 2));
    const digest = sha256Digest(bytes);
    this.#warn(context, `--platform: a new index with ${kept.length} of ${all.length} manifests; its digest ${digest} differs from the source ${root.digest}`);
    return { digest, bytes, mediaType: root.mediaType, parsed: parseManifest(bytes, root.mediaType, context.image), children: root.children };
  }

  /** Pushes a node after its blobs and children; the root gets the tag (and, for tag@digest, the digest first). */
  async #pushNode(context: ImageContext, node: ManifestNode, tag: string | undefined, byDigestFirst: boolean): Promise<void> {
    await Promise.all([
      ...blobsOf(node.parsed).map((blob) => this.#ensureBlob(context, blob)),
      ...node.children.map((child) => this.#pushNode(context, child, undefined, false)),
    ]);
    if (tag === undefined || byDigestFirst) {
      await this.#putByDigest(context, node);
      this.#emit({ type: 'manifest', image: context.image, digest: node.digest, reference: node.digest });
    }
    if (tag !== undefined) {
      await this.#client.putManifest(context.target, tag, node.bytes, node.mediaType);
      this.#emit({ type: 'manifest', image: context.image, digest: node.digest, reference: tag });
    }
  }

  /**
   * One PUT per manifest digest and target repository in a run, shared by every image that holds it (tags naming
   * the same image, platforms shared by two indexes). Distribution rewrites a manifest's link file on every PUT,
   * and an index PUT that checks its children while another PUT of one of them rewrites it is refused
   * (MANIFEST_BLOB_UNKNOWN): `copy --all-tags` of a repository whose `latest` is also `1.27` hit it.
   */
  #putByDigest(context: ImageContext, node: ManifestNode): Promise<unknown> {
    const key = `${apiHost(context.target.domain)}/${context.target.path}@${node.digest}`;
    let work = this.#manifestWork.get(key);
    if (work === undefined) {
      work = this.#client.putManifest(context.target, node.digest, node.bytes, node.mediaType);
      this.#manifestWork.set(key, work);
      work.catch(() => this.#manifestWork.delete(key));
    }
    return work;
  }

  /** Makes one blob present in the target repository; shared work across images of this run. */
  #ensureBlob(context: ImageContext, blob: Descriptor): Promise<void> {
    if (isNonDistributable(blob)) {
      this.#warn(context, `layer ${blob.digest} is non-distributable (${blob.mediaType}); not copied, pulled from its own URL by clients`);
      this.#emit({ type: 'blob', image: context.image, digest: blob.digest, size: blob.size, action: 'skipped-non-distributable' });
      return Promise.resolve();
    }
    const host = apiHost(context.target.domain);
    const key = `${host}/${context.target.path}@${blob.digest}`;
    let work = this.#blobWork.get(key);
    if (work === undefined) {
      const homeKey = `${host}@${blob.digest}`;
      const home = this.#blobHome.get(homeKey);
      work = this.#placeBlob(context, blob, home);
      if (home === undefined) this.#blobHome.set(homeKey, { path: context.target.path, ready: work });
      this.#blobWork.set(key, work);
      // A failed blob may be retried by a later image of the run.
      work.catch(() => {
        this.#blobWork.delete(key);
        if (this.#blobHome.get(homeKey)?.ready === work) this.#blobHome.delete(homeKey);
      });
    }
    return work;
  }

  async #placeBlob(context: ImageContext, blob: Descriptor, home: { path: string; ready: Promise<void> } | undefined): Promise<void> {
    const client = this.#client;
    const report = (action: BlobAction): void => this.#emit({ type: 'blob', image: context.image, digest: blob.digest, size: blob.size, action });
    if ((await client.headBlob(context.target, blob.digest)) !== undefined) return report('exists');
    let session: string | undefined;
    const mountFrom = async (fromPath: string): Promise<boolean> => {
      let result;
      try {
        result = await client.mountBlob(context.target, blob.digest, fromPath);
      } catch (error) {
        // A refused mount (no pull right on the other repository, a registry without mounts) is only a missed
        // shortcut: the blob is streamed instead.
        if (isMirrorhookError(error) && error.code !== 'MH_REGISTRY_CIRCUIT_OPEN') return false;
        throw error;
      }
      if (result.mounted) return true;
      session = result.session;
      return false;
    };
    if (home !== undefined) {
      const homeReady = await home.ready.then(
        () => true,
        () => false,
      );
      if (homeReady && (await mountFrom(home.path))) return report('mounted');
    } else if (apiHost(context.source.domain) === apiHost(context.target.domain) && (await mountFrom(context.source.path))) {
      return report('mounted');
    }
    await this.#blobs.run(() => this.#transfer(context, blob, session));
    report('copied');
  }

  /** Streams one blob source → target, retrying transient failures with a fresh upload each time. */
  async #transfer(context: ImageContext, blob: Descriptor, session: string | undefined): Promise<void> {
    let moved = 0;
    const undoProgress = (): void => {
      context.bytes -= moved;
      if (moved > 0) this.#emit({ type: 'progress', image: context.image, bytes: -moved });
      moved = 0;
    };
    await retryTransient(
      (attempt) =>
        this.#client.uploadBlob(
          context.target,
          () =>
            this.#client.getBlobStream(context.source, blob.digest, blob.size, (bytes) => {
              moved += bytes;
              context.bytes += bytes;
              this.#emit({ type: 'progress', image: context.image, bytes });
            }),
          blob.digest,
          blob.size,
          attempt === 1 && session !== undefined ? { session } : {},
        ),
      { sleep: this.#sleep, signal: this.#options.signal, onRetry: undoProgress },
    );
  }

  /** Cosign tags and OCI referrers of a copied digest, copied as images of their own. */
  async #copyAttached(context: ImageContext, digest: string): Promise<void> {
    const client = this.#client;
    // The lookups go out together; the copies follow one by one.
    const [heads, referrers] = await Promise.all([
      Promise.all(cosignTags(digest).map(async (tag) => ({ tag, head: await client.headManifest(context.source, tag) }))),
      client.getReferrers(context.source, digest),
    ]);
    for (const { tag, head } of heads) {
      if (head !== undefined) await this.#copyNested(context, tag, head.digest);
    }
    if (referrers !== undefined) {
      for (const referrer of referrers) {
        const root = await this.#fetchTree(context, referrer.digest, []);
        await this.#pushNode(context, root, undefined, false);
      }
      return;
    }
    const fallback = referrersFallbackTag(digest);
    const head = await client.headManifest(context.source, fallback);
    if (head !== undefined) await this.#copyNested(context, fallback, head.digest);
  }

  async #copyNested(context: ImageContext, tag: string, digest: string | undefined): Promise<void> {
    if (digest !== undefined && (await this.#client.headManifest(context.target, tag))?.digest === digest) return;
    const root = await this.#fetchTree(context, digest ?? tag, []);
    await this.#pushNode(context, root, tag, false);
  }
}

function interrupted(): MirrorhookError {
  return new MirrorhookError('MH_COPY_INTERRUPTED', 'stopped before this image was complete; nothing half-written is tagged, a re-run continues');
}
