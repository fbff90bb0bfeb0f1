/**
 * The two ends of a transfer (docs/adr/0180-one-transfer-engine.md). The engine moves images from an ImageSource
 * (a registry repository, an archive or OCI layout folder) into an ImageSink (a registry repository, an archive
 * being written) and knows nothing else of either: what it can ask of them is below.
 */
import { type Readable } from 'node:stream';
import { type Manifest, type MountResult } from '../registry/client.js';
import { type Descriptor } from '../registry/manifest.js';

/** The verified bytes of one blob; `onBytes` hears of every chunk (progress). */
export type BlobOpener = (onBytes: (bytes: number) => void) => Promise<Readable>;

/** A registry repository by API host (`index.docker.io`, not `docker.io`): blobs mount only within one host. */
export interface RegistryLocation {
  readonly host: string;
  readonly path: string;
}

export interface ImageSource {
  /** For messages: `host/path` or the archive's file name. */
  readonly name: string;
  /** Set for a registry: a sink on the same host may mount blobs from here instead of streaming them. */
  readonly registry: RegistryLocation | undefined;
  /** True when a blob may be opened again after a failed attempt (a registry, a folder; not a tar stream). */
  readonly replayable: boolean;
  headManifest(reference: string): Promise<{ readonly digest: string | undefined } | undefined>;
  /** A manifest by tag or digest, digest-verified. */
  getManifest(reference: string): Promise<Manifest>;
  /** OCI referrers of a digest; undefined when the source has no referrers API (the fallback tag is tried). */
  getReferrers(digest: string): Promise<Descriptor[] | undefined>;
  /**
   * Hands each blob to `visit` with its opener, in the source's own order: a registry any order, several at once;
   * a tar archive in archive order, in one read. Rejects only for a failure of the source as a whole (a damaged
   * archive, a blob it does not hold); `visit` reports its own failures.
   */
  readBlobs(blobs: readonly Descriptor[], visit: (blob: Descriptor, open: BlobOpener) => Promise<void>): Promise<void>;
  /**
   * True when the source holds this non-distributable layer (an archive that carries a foreign layer): it is then
   * sent like any other. A registry answers false: such layers are pulled from their own URLs.
   */
  carries(blob: Descriptor): boolean;
}

export interface ImageSink {
  /** For messages and de-duplication: `host/path`, or the archive's file name. */
  readonly name: string;
  /** Set for a registry: blobs can be mounted into it from another repository of the same host. */
  readonly registry: RegistryLocation | undefined;
  /** True when a failed blob write may be tried again (a registry opens a new upload; a tar entry cannot be undone). */
  readonly retryable: boolean;
  /** Called once before anything is written (a registry may create the repository). */
  prepare(): void;
  headManifest(reference: string): Promise<{ readonly digest: string | undefined } | undefined>;
  hasBlob(blob: Descriptor): Promise<boolean>;
  /** Links a blob from another repository of the same registry; `undefined` when the sink cannot mount. */
  mountBlob(blob: Descriptor, fromPath: string): Promise<MountResult | undefined>;
  /** Writes one blob: `body` is a stream, or a function that opens it (again, for a retried upload). */
  writeBlob(blob: Descriptor, body: Readable | (() => Promise<Readable>), session: string | undefined): Promise<void>;
  /** Writes a manifest under a tag or its digest. */
  writeManifest(reference: string, manifest: { readonly digest: string; readonly bytes: Buffer; readonly mediaType: string }): Promise<void>;
}
