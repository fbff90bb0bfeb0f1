/**
 * The transfer engine (docs/adr/0180-one-transfer-engine.md): moves images from an ImageSource into an ImageSink,
 * byte for byte. `copy`, `push`, `pull`, `sync` and the webhook's background copies all run through it.
 *
 * Order of work for a batch of images, and why:
 *  1. Per image: HEAD the source (or use its known digest) and HEAD the target: equal digests mean done (a re-run
 *     costs two HEADs). Else GET the manifest tree, every manifest digest-verified.
 *  2. Make every blob of the batch present in its sink (blobs.ts): HEADs side by side, mounts, then one read of
 *     each source, each blob verified on the way and transferred once per sink even when many images share it.
 *  3. Per image, in order: write manifests leaves first (the sink never holds a manifest whose content is missing;
 *     `tag@digest` sources are written by digest, then tagged), then cosign `.sig/.att/.sbom` tags and OCI
 *     referrers of the written digest.
 * `copyImages` runs each image as its own batch, several at once; an archive is one batch, so it is read once.
 * Progress and outcomes are reported as CopyEvents; failures of one image never stop the others.
 */
import { MirrorhookError, describeError, isMirrorhookError } from '../errors.js';
import { formatReference } from '../reference/index.js';
import { type RegistryClient } from '../registry/client.js';
import { isNonDistributable } from '../registry/manifest.js';
import { BlobPlacer } from './blobs.js';
import { type ImageSink, type ImageSource } from './endpoint.js';
import { type CopyOptions, type CopyResult, type CopyStatus, type EngineRuntime, type ImageContext, warn } from './events.js';
import { Limiter } from './limiter.js';
import { applyPlatformFilter, fetchTree, writeTree } from './manifests.js';
import { type CopyRequest, cosignTags, referrersFallbackTag, sourceNotFound, sourceSelector, targetTag } from './plan.js';
import { registrySink, registrySource } from './registry-endpoint.js';
import { type ManifestNode, flatten, uniqueBlobs } from './tree.js';

export type { BlobAction, CopyEvent, CopyOptions, CopyResult, CopyStatus } from './events.js';

/** One image to transfer: where from and to, and how it is named on either side. */
export interface TransferJob {
  /** Shown in events and results: the source's name for the image. */
  readonly image: string;
  readonly target: string;
  readonly source: ImageSource;
  readonly sink: ImageSink;
  /** The tag or digest the source is read by. */
  readonly selector: string;
  /** The source's digest when known up front (a `@digest` reference, an archive). */
  readonly sourceDigest: string | undefined;
  /** The tag written in the sink; undefined: by digest only. */
  readonly tag: string | undefined;
  /** A digest the target names: the source must be that image. */
  readonly pinnedDigest: string | undefined;
  /** Write the root by digest, then by the tag (a `tag@digest` source). */
  readonly byDigestFirst: boolean;
  /** False: transfer even when the target tag already names the source digest (push reports every blob). */
  readonly skipUpToDate: boolean;
  readonly notFound: () => MirrorhookError;
}

export interface TransferOutcome {
  readonly result: CopyResult;
  /** What failed the image, as thrown (for callers that rethrow it); undefined on success. */
  readonly cause: unknown;
}

/** Copies every request between registries; one result per request, in request order. Never rejects for one image. */
export async function copyImages(client: RegistryClient, requests: readonly CopyRequest[], options: CopyOptions = {}): Promise<CopyResult[]> {
  const engine = new TransferEngine(options);
  const images = new Limiter(options.jobs ?? 4);
  return Promise.all(requests.map((request) => images.run(async () => (await engine.run([registryJob(client, request)]))[0]!.result)));
}

/** The job that copies one request between registries. */
export function registryJob(client: RegistryClient, request: CopyRequest): TransferJob {
  const tag = targetTag(request);
  return {
    image: formatReference(request.source),
    target: formatReference({ ...request.target, tag, digest: request.target.digest }),
    source: registrySource(client, { domain: request.source.domain, path: request.source.path }),
    sink: registrySink(client, { domain: request.target.domain, path: request.target.path }),
    selector: sourceSelector(request.source),
    sourceDigest: request.source.digest,
    tag,
    pinnedDigest: request.target.digest,
    byDigestFirst: request.source.digest !== undefined,
    skipUpToDate: true,
    notFound: () => sourceNotFound(request.source),
  };
}

type Resolved = { readonly done: true; readonly status: 'up-to-date' | 'planned'; readonly digest: string } | { readonly done: false; readonly root: ManifestNode; readonly sourceDigest: string | undefined };

export class TransferEngine {
  readonly #options: CopyOptions;
  readonly #runtime: EngineRuntime;
  readonly #placer: BlobPlacer;

  constructor(options: CopyOptions) {
    this.#options = options;
    this.#runtime = {
      emit: options.onEvent ?? (() => undefined),
      sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      signal: options.signal,
      manifestWrites: new Map(),
    };
    this.#placer = new BlobPlacer(this.#runtime, options.jobs ?? 4);
  }

  /** Transfers one batch: every image planned, then every blob placed, then manifests image by image. */
  async run(jobs: readonly TransferJob[]): Promise<TransferOutcome[]> {
    const contexts = jobs.map((job): ImageContext => ({ image: job.image, source: job.source, sink: job.sink, warnings: [], bytes: 0 }));
    const resolved = await Promise.all(
      jobs.map(async (job, index) => {
        this.#runtime.emit({ type: 'start', image: job.image, target: job.target });
        try {
          this.#throwIfInterrupted();
          if (!this.#options.dryRun) job.sink.prepare();
          return await this.#resolve(job, contexts[index]!);
        } catch (error) {
          return { failed: error };
        }
      }),
    );
    const placed = resolved.map((outcome, index) => {
      if ('failed' in outcome || outcome.done) return Promise.resolve();
      const context = contexts[index]!;
      return Promise.all(this.#placer.place(uniqueBlobs(flatten(outcome.root)).map((blob) => ({ context, blob })))).then(() => undefined);
    });
    for (const promise of placed) promise.catch(() => undefined);
    const outcomes: TransferOutcome[] = [];
    for (const [index, job] of jobs.entries()) {
      const context = contexts[index]!;
      const outcome = resolved[index]!;
      try {
        if ('failed' in outcome) throw outcome.failed;
        let status: Exclude<CopyStatus, 'failed'>;
        let digest: string;
        if (outcome.done) ({ status, digest } = outcome);
        else {
          await placed[index];
          await this.#finish(job, context, outcome.root, outcome.sourceDigest);
          status = 'copied';
          digest = outcome.root.digest;
        }
        this.#runtime.emit({ type: 'done', image: job.image, target: job.target, status, digest, bytes: context.bytes });
        outcomes.push({ result: { source: job.image, target: job.target, status, digest, bytes: context.bytes, error: undefined, warnings: context.warnings }, cause: undefined });
      } catch (caught) {
        const error = this.#options.signal?.aborted ? interrupted() : caught;
        const code = isMirrorhookError(error) ? error.code : 'MH_COPY_FAILED';
        const message = isMirrorhookError(error) ? error.message : `unexpected error (a bug; please report it): ${describeError(error)}`;
        this.#runtime.emit({ type: 'failed', image: job.image, target: job.target, code, message });
        const result: CopyResult = { source: job.image, target: job.target, status: 'failed', digest: undefined, bytes: context.bytes, error: { code, message }, warnings: context.warnings };
        outcomes.push({ result, cause: error });
      }
    }
    return outcomes;
  }

  #throwIfInterrupted(): void {
    if (this.#options.signal?.aborted) throw interrupted();
  }

  async #resolve(job: TransferJob, context: ImageContext): Promise<Resolved> {
    const { source, sink, tag } = job;
    const platforms = this.#options.platforms ?? [];
    const checkTarget = job.skipUpToDate && platforms.length === 0;
    // Both HEADs at once when the target is named by tag: a re-run costs one round trip per image, not two.
    const earlyTarget = checkTarget && job.sourceDigest === undefined && tag !== undefined ? sink.headManifest(tag) : undefined;
    earlyTarget?.catch(() => undefined);
    let sourceDigest = job.sourceDigest;
    if (sourceDigest === undefined) {
      const head = await source.headManifest(job.selector);
      if (head === undefined) throw job.notFound();
      sourceDigest = head.digest;
    }
    const targetReference = tag ?? job.pinnedDigest ?? sourceDigest;
    if (checkTarget && sourceDigest !== undefined && targetReference !== undefined) {
      const existing = await (earlyTarget ?? sink.headManifest(targetReference));
      if (existing?.digest === sourceDigest) {
        this.#runtime.emit({ type: 'plan', image: context.image, digest: sourceDigest, manifests: 0, blobs: 0, bytes: 0 });
        return { done: true, status: 'up-to-date', digest: sourceDigest };
      }
    }

    let root = await fetchTree(this.#runtime, context, sourceDigest ?? job.selector, platforms);
    if (platforms.length > 0) root = applyPlatformFilter(this.#runtime, context, root, platforms);
    const existing = platforms.length > 0 ? await sink.headManifest(tag ?? root.digest) : undefined;
    if (existing?.digest === root.digest) return { done: true, status: 'up-to-date', digest: root.digest };

    const nodes = flatten(root);
    const blobs = uniqueBlobs(nodes);
    this.#runtime.emit({ type: 'plan', image: context.image, digest: root.digest, manifests: nodes.length, blobs: blobs.length, bytes: blobs.reduce((sum, blob) => sum + blob.size, 0) });
    if (job.pinnedDigest !== undefined && job.pinnedDigest !== root.digest) {
      throw new MirrorhookError('MH_REGISTRY_DIGEST_MISMATCH', `target asks for ${job.pinnedDigest} but the source is ${root.digest}`);
    }
    if (this.#options.dryRun) {
      for (const blob of blobs) {
        if (isNonDistributable(blob) && !source.carries(blob)) continue;
        const present = await sink.hasBlob(blob);
        this.#runtime.emit({ type: 'blob', image: context.image, digest: blob.digest, size: blob.size, action: present ? 'exists' : 'would-copy' });
      }
      return { done: true, status: 'planned', digest: root.digest };
    }
    return { done: false, root, sourceDigest };
  }

  /** With every blob present: the manifests, then what is attached to the written digest. */
  async #finish(job: TransferJob, context: ImageContext, root: ManifestNode, sourceDigest: string | undefined): Promise<void> {
    await writeTree(this.#runtime, context, root, job.tag, job.byDigestFirst);
    if (this.#options.signatures === false) return;
    if ((this.#options.platforms ?? []).length > 0 && root.digest !== sourceDigest) {
      warn(this.#runtime, context, 'signatures are not copied with --platform: they sign the source digest, which the filtered copy does not have');
    } else {
      await this.#copyAttached(context, root.digest);
    }
  }

  /** A tree placed and written on its own (an attached artifact). */
  async #transferTree(context: ImageContext, root: ManifestNode, tag: string | undefined): Promise<void> {
    await Promise.all(this.#placer.place(uniqueBlobs(flatten(root)).map((blob) => ({ context, blob }))));
    await writeTree(this.#runtime, context, root, tag, false);
  }

  /** Cosign tags and OCI referrers of a written digest, transferred as images of their own. */
  async #copyAttached(context: ImageContext, digest: string): Promise<void> {
    const { source } = context;
    // The lookups go out together; the copies follow one by one.
    const [heads, referrers] = await Promise.all([
      Promise.all(cosignTags(digest).map(async (tag) => ({ tag, head: await source.headManifest(tag) }))),
      source.getReferrers(digest),
    ]);
    for (const { tag, head } of heads) {
      if (head !== undefined) await this.#copyNested(context, tag, head.digest);
    }
    if (referrers !== undefined) {
      for (const referrer of referrers) await this.#transferTree(context, await fetchTree(this.#runtime, context, referrer.digest, []), undefined);
      return;
    }
    const fallback = referrersFallbackTag(digest);
    const head = await source.headManifest(fallback);
    if (head !== undefined) await this.#copyNested(context, fallback, head.digest);
  }

  async #copyNested(context: ImageContext, tag: string, digest: string | undefined): Promise<void> {
    if (digest !== undefined && (await context.sink.headManifest(tag))?.digest === digest) return;
    await this.#transferTree(context, await fetchTree(this.#runtime, context, digest ?? tag, []), tag);
  }
}

function interrupted(): MirrorhookError {
  return new MirrorhookError('MH_COPY_INTERRUPTED', 'stopped before this image was complete; nothing half-written is tagged, a re-run continues');
}
