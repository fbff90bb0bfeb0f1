/** What a transfer reports: the options it runs with, its events (progress) and its per-image results. */
import { type Platform } from '../registry/manifest.js';
import { type ImageSink, type ImageSource } from './endpoint.js';

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

/** One image in flight: where from, where to, and what it has reported so far. */
export interface ImageContext {
  readonly image: string;
  readonly source: ImageSource;
  readonly sink: ImageSink;
  readonly warnings: string[];
  bytes: number;
}

/** The engine's ambient parts, shared by its pieces. */
export interface EngineRuntime {
  readonly emit: (event: CopyEvent) => void;
  readonly sleep: (ms: number) => Promise<void>;
  readonly signal: AbortSignal | undefined;
  /**
   * Manifests written by digest in this run, by sink and digest: each is written once, whichever images hold it
   * (tags naming the same image, platforms shared by two indexes). Distribution rewrites a manifest's link file on
   * every PUT, and an index PUT that checks its children while another PUT rewrites one of them is refused
   * (MANIFEST_BLOB_UNKNOWN): `copy --all-tags` of a repository whose `latest` is also `1.27` hit it.
   */
  readonly manifestWrites: Map<string, Promise<void>>;
}

export function warn(runtime: EngineRuntime, context: ImageContext, message: string): void {
  context.warnings.push(message);
  runtime.emit({ type: 'warning', image: context.image, message });
}
