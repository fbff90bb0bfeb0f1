/**
 * Blob placement: makes every blob an image needs present in its sink, each transferred once per sink per run.
 * In three steps, so that a source read in one pass (a tar) serves every image of a batch:
 *  1. HEAD every blob in the sink, side by side;
 *  2. mount what a repository of the same registry has (or is getting) this run, or the source itself when it
 *     lives on the sink's registry;
 *  3. one read of each source for the rest, streamed into the sink with the digest verified on the way; transient
 *     failures are tried again with a fresh read and upload when both ends allow it.
 */
import { MirrorhookError, isMirrorhookError } from '../errors.js';
import { type Descriptor, isNonDistributable } from '../registry/manifest.js';
import { type BlobOpener, type ImageSource } from './endpoint.js';
import { type BlobAction, type EngineRuntime, type ImageContext, warn } from './events.js';
import { Limiter } from './limiter.js';
import { retryTransient } from './retry.js';

export interface BlobWant {
  readonly context: ImageContext;
  readonly blob: Descriptor;
}

interface Home {
  readonly path: string;
  readonly ready: Promise<void>;
}

interface Placement {
  readonly want: BlobWant;
  /** Another repository of the sink's registry that has (or is getting) the blob, to mount from. */
  readonly home: Home | undefined;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  settled: boolean;
  session?: string | undefined;
}

export class BlobPlacer {
  readonly #runtime: EngineRuntime;
  readonly #transfers: Limiter;
  /** `sink@digest` → the work that makes that blob present there. */
  readonly #work = new Map<string, Promise<void>>();
  /** `registry host@digest` → a repository of that registry that has (or is getting) the blob. */
  readonly #homes = new Map<string, Home>();

  constructor(runtime: EngineRuntime, transfersAtOnce: number) {
    this.#runtime = runtime;
    this.#transfers = new Limiter(transfersAtOnce);
  }

  /** Places every want; one promise per want, in order (shared with earlier wants of the same blob and sink). */
  place(wants: readonly BlobWant[]): Promise<void>[] {
    const fresh: Placement[] = [];
    const promises = wants.map(({ context, blob }) => {
      if (isNonDistributable(blob) && !context.source.carries(blob)) {
        warn(this.#runtime, context, `layer ${blob.digest} is non-distributable (${blob.mediaType}); not copied, pulled from its own URL by clients`);
        this.#report(context, blob, 'skipped-non-distributable');
        return Promise.resolve();
      }
      const key = `${context.sink.name}@${blob.digest}`;
      const existing = this.#work.get(key);
      if (existing !== undefined) return existing;
      const homeKey = context.sink.registry === undefined ? undefined : `${context.sink.registry.host}@${blob.digest}`;
      const home = homeKey === undefined ? undefined : this.#homes.get(homeKey);
      let settle: { resolve: () => void; reject: (error: unknown) => void } | undefined;
      const work = new Promise<void>((resolve, reject) => {
        settle = { resolve, reject };
      });
      const placement: Placement = {
        want: { context, blob },
        home,
        settled: false,
        resolve: () => {
          placement.settled = true;
          settle?.resolve();
        },
        reject: (error) => {
          placement.settled = true;
          settle?.reject(error);
        },
      };
      if (homeKey !== undefined && home === undefined && context.sink.registry !== undefined) {
        this.#homes.set(homeKey, { path: context.sink.registry.path, ready: work });
        // A failed blob may be placed by a later image of the run, and be a home then.
        work.catch(() => this.#homes.get(homeKey)?.ready === work && this.#homes.delete(homeKey));
      }
      this.#work.set(key, work);
      work.catch(() => this.#work.get(key) === work && this.#work.delete(key));
      fresh.push(placement);
      return work;
    });
    if (fresh.length > 0) {
      // #run settles every placement itself; should it throw (a bug), nothing may wait forever.
      this.#run(fresh).catch((error: unknown) => {
        for (const placement of fresh) if (!placement.settled) placement.reject(error);
      });
    }
    return promises;
  }

  #report(context: ImageContext, blob: Descriptor, action: BlobAction): void {
    this.#runtime.emit({ type: 'blob', image: context.image, digest: blob.digest, size: blob.size, action });
  }

  async #run(placements: readonly Placement[]): Promise<void> {
    const missing = await Promise.all(
      placements.map(async (placement) => {
        const { context, blob } = placement.want;
        try {
          if (!(await context.sink.hasBlob(blob))) return placement;
          this.#report(context, blob, 'exists');
          placement.resolve();
        } catch (error) {
          placement.reject(error);
        }
        return undefined;
      }),
    );
    const toRead: Placement[] = [];
    const fromHome: Promise<void>[] = [];
    const fromSource: Promise<void>[] = [];
    for (const placement of missing) {
      if (placement === undefined) continue;
      if (placement.home !== undefined) fromHome.push(this.#mountFromHome(placement, placement.home));
      else fromSource.push(this.#mountFromSource(placement).then((handled) => void (handled || toRead.push(placement))));
    }
    await Promise.all(fromSource);
    await this.#read(toRead);
    // Mounts from a home wait for that home's own placement, which may be among the reads above.
    await Promise.all(fromHome);
  }

  /** Mounts from a repository of this run; when refused (or the home failed), reads the blob from the source. */
  async #mountFromHome(placement: Placement, home: Home): Promise<void> {
    const ready = await home.ready.then(
      () => true,
      () => false,
    );
    try {
      if (ready && (await this.#mount(placement, home.path))) return;
    } catch (error) {
      placement.reject(error);
      return;
    }
    await this.#read([placement]);
  }

  /** A source on the sink's registry: link the blob instead of streaming it. False when it must be read. */
  async #mountFromSource(placement: Placement): Promise<boolean> {
    const { source, sink } = placement.want.context;
    if (source.registry === undefined || sink.registry === undefined || source.registry.host !== sink.registry.host) return false;
    try {
      return await this.#mount(placement, source.registry.path);
    } catch (error) {
      placement.reject(error);
      return true;
    }
  }

  async #mount(placement: Placement, fromPath: string): Promise<boolean> {
    const { context, blob } = placement.want;
    let result;
    try {
      result = await context.sink.mountBlob(blob, fromPath);
    } catch (error) {
      // A refused mount (no pull right on the other repository, a registry without mounts) is only a missed
      // shortcut: the blob is streamed instead.
      if (isMirrorhookError(error) && error.code !== 'MH_REGISTRY_CIRCUIT_OPEN') return false;
      throw error;
    }
    if (result === undefined) return false;
    if (result.mounted) {
      this.#report(context, blob, 'mounted');
      placement.resolve();
      return true;
    }
    placement.session = result.session;
    return false;
  }

  /** One read of each source for its placements; anything the read did not deliver fails with the read's reason. */
  async #read(placements: readonly Placement[]): Promise<void> {
    const bySource = new Map<ImageSource, Map<string, Placement[]>>();
    for (const placement of placements) {
      const { source } = placement.want.context;
      const byDigest = bySource.get(source) ?? new Map<string, Placement[]>();
      bySource.set(source, byDigest);
      byDigest.set(placement.want.blob.digest, [...(byDigest.get(placement.want.blob.digest) ?? []), placement]);
    }
    await Promise.all(
      [...bySource].map(async ([source, byDigest]) => {
        let failure: unknown;
        try {
          const blobs = [...byDigest.values()].map((group) => group[0]!.want.blob);
          await source.readBlobs(blobs, async (blob, open) => {
            for (const placement of byDigest.get(blob.digest) ?? []) {
              try {
                await this.#transfers.run(() => this.#transfer(placement, open));
                placement.resolve();
              } catch (error) {
                placement.reject(error);
                // A stream read once (a tar) cannot go on past a failed entry: the read ends here.
                if (!source.replayable) throw error;
              }
            }
          });
        } catch (error) {
          failure = error;
        }
        for (const group of byDigest.values()) {
          for (const placement of group) {
            if (!placement.settled) {
              placement.reject(failure ?? new MirrorhookError('MH_ARCHIVE_CORRUPT', `${source.name} did not deliver ${placement.want.blob.digest}`));
            }
          }
        }
      }),
    );
  }

  /** Streams one blob into the sink, trying again with a fresh read and upload when both ends allow it. */
  async #transfer(placement: Placement, open: BlobOpener): Promise<void> {
    const { context, blob } = placement.want;
    const { emit, sleep, signal } = this.#runtime;
    let moved = 0;
    const onBytes = (bytes: number): void => {
      moved += bytes;
      context.bytes += bytes;
      emit({ type: 'progress', image: context.image, bytes });
    };
    const undoProgress = (): void => {
      context.bytes -= moved;
      if (moved > 0) emit({ type: 'progress', image: context.image, bytes: -moved });
      moved = 0;
    };
    const replayable = context.source.replayable;
    await retryTransient(
      async (attempt) => {
        const body = replayable ? () => open(onBytes) : await open(onBytes);
        await context.sink.writeBlob(blob, body, attempt === 1 ? placement.session : undefined);
      },
      { sleep, signal, onRetry: undoProgress, attempts: replayable && context.sink.retryable ? 4 : 1 },
    );
    this.#report(context, blob, 'copied');
  }
}
