/**
 * RegistryClient: the OCI distribution API as the copy engine, the webhook's background copy and `push` use it.
 *
 *   const client = new RegistryClient({ credentials: dockerConfigProvider({ env: process.env }) });
 *   const repo = { domain: 'localhost:5000', path: 'library/app' };
 *   const head = await client.headManifest(repo, 'v1');                 // undefined when absent
 *   const manifest = await client.getManifest(repo, 'v1');              // exact bytes, digest verified
 *   await client.uploadBlob(target, client.getBlobStream(repo, d), d, size);  // streamed, sha256 checked
 *   await client.putManifest(target, 'v1', manifest.bytes, manifest.mediaType);
 *   await client.close();
 *
 * Repositories are `{ domain, path }` (an ImageReference fits). Auth is automatic: anonymous, Basic, or the Bearer
 * token flow (tokens cached per scope until they expire; `willPush` asks for pull+push from the first request
 * so one token serves a whole copy; a scope is added when the registry answers `insufficient_scope`).
 * Credentials come from the pluggable `credentials` provider, asked once per host (again once a credential's
 * `expiresAt` has passed). Every failure is a
 * MirrorhookError with an MH_REGISTRY_ code (a RegistryError, with the status and the registry's error codes, when
 * the registry answered with one); 404s on HEAD are `undefined`, not errors. The authenticated request is
 * session.ts; tags, catalog and referrers are listing.ts; chunked uploads upload.ts.
 */
import { type Readable, pipeline } from 'node:stream';
import { MirrorhookError } from '../errors.js';
import { repositoryScope } from './auth.js';
import { type CredentialProvider, anonymousProvider } from './credentials.js';
import { failWith } from './failure.js';
import { digestWithAlgorithmOf, sha256Digest, verifyingStream } from './digest.js';
import { getReferrers, listRepositories, listTags } from './listing.js';
import { type Descriptor, type ParsedManifest, manifestAccept, parseManifest } from './manifest.js';
import { RegistrySession, type RepositoryRef, drain, where } from './session.js';
import { type BlobSource, BlobUploader, type UploadChannel, uploadLocation } from './upload.js';
import { RegistryTransport, type TransportOptions, apiHost, headerValue } from './transport.js';

export type { RepositoryRef } from './session.js';

export interface RegistryClientOptions extends TransportOptions {
  readonly credentials?: CredentialProvider;
  /**
   * Called once per repository before the first write to it (and before reads of a repository declared with
   * `willPush`): where a registry needs the repository to exist first (Artifact Registry), it is made here.
   */
  readonly prepareRepository?: (repo: RepositoryRef) => Promise<void>;
  /** Refuse manifests larger than this (default 4 MiB, the OCI limit registries apply). */
  readonly maxManifestBytes?: number;
  /** Chunk size for chunked uploads when the registry does not ask for more (default 16 MiB). */
  readonly chunkSize?: number;
  /**
   * Blobs larger than this are uploaded in chunks, so an interrupted upload resumes from the registry's offset
   * instead of starting again (default: never; `copy` sets 64 MiB; see docs/adr/0130-resumable-uploads.md).
   */
  readonly chunkedAbove?: number;
}

export interface ManifestHead {
  readonly digest: string | undefined;
  readonly mediaType: string | undefined;
  readonly size: number | undefined;
}

export interface Manifest {
  /** The bytes exactly as the registry served them. */
  readonly bytes: Buffer;
  readonly mediaType: string;
  readonly digest: string;
  readonly parsed: ParsedManifest;
}

export type MountResult = { readonly mounted: true } | { readonly mounted: false; readonly session: string };

export type { BlobSource } from './upload.js';

export class RegistryClient {
  readonly transport: RegistryTransport;
  readonly #maxManifestBytes: number;
  readonly #uploader: BlobUploader;
  readonly #session: RegistrySession;

  constructor(options: RegistryClientOptions = {}) {
    this.transport = new RegistryTransport(options);
    this.#maxManifestBytes = options.maxManifestBytes ?? 4 * 1024 * 1024;
    this.#uploader = new BlobUploader({
      chunkSize: options.chunkSize ?? 16 * 1024 * 1024,
      // Streaming by default: chunks are held in memory, which the webhook's small memory limit cannot spare.
      chunkedAbove: options.chunkedAbove ?? Number.POSITIVE_INFINITY,
      maxResumes: 5,
      sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    });
    this.#session = new RegistrySession(this.transport, {
      credentials: options.credentials ?? anonymousProvider,
      prepareRepository: options.prepareRepository,
      now: options.now ?? Date.now,
    });
  }

  /** Declares that we will write to `repo`: its tokens ask for pull+push from the start (one token, not two). */
  willPush(repo: RepositoryRef): void {
    this.#session.willPush(repo);
  }

  /** HTTP requests sent so far (all hosts, retries and token requests included). */
  get requestCount(): number {
    return this.transport.totalRequests;
  }

  async headManifest(repo: RepositoryRef, reference: string): Promise<ManifestHead | undefined> {
    const response = await this.#session.send(repo, 'pull', { method: 'HEAD', url: manifestPath(repo, reference), headers: { accept: manifestAccept } });
    if (response.statusCode === 404) return await drain(response, undefined);
    if (response.statusCode !== 200) return failWith(response, `HEAD manifest ${where(repo, reference)}`);
    await response.body.dump();
    const length = headerValue(response.headers, 'content-length');
    return {
      digest: headerValue(response.headers, 'docker-content-digest'),
      mediaType: headerValue(response.headers, 'content-type')?.split(';')[0]?.trim(),
      size: length === undefined ? undefined : Number(length),
    };
  }

  /**
   * GETs a manifest, keeps its bytes, and verifies them: against the digest asked for, and against
   * Docker-Content-Digest. Throws MH_REGISTRY_NOT_FOUND, MH_REGISTRY_SCHEMA1, MH_REGISTRY_DIGEST_MISMATCH.
   */
  async getManifest(repo: RepositoryRef, reference: string): Promise<Manifest> {
    const host = apiHost(repo.domain);
    const limit = this.transport.rateLimit(host);
    if (limit !== undefined && limit.remaining <= 0) {
      throw new MirrorhookError(
        'MH_REGISTRY_RATE_LIMITED',
        `${repo.domain} reports no pulls left${limit.windowSeconds === undefined ? '' : ` in its ${Math.round(limit.windowSeconds / 3600)} h window`}; authenticate or wait for the window to pass`,
      );
    }
    const response = await this.#session.send(repo, 'pull', { method: 'GET', url: manifestPath(repo, reference), headers: { accept: manifestAccept } });
    if (response.statusCode !== 200) return failWith(response, `GET manifest ${where(repo, reference)}`);
    const declared = Number(headerValue(response.headers, 'content-length') ?? '0');
    if (declared > this.#maxManifestBytes) {
      response.body.destroy();
      throw new MirrorhookError('MH_REGISTRY_MANIFEST_INVALID', `${where(repo, reference)} is ${declared} bytes, over the ${this.#maxManifestBytes}-byte limit`);
    }
    const bytes = Buffer.from(await response.body.arrayBuffer());
    const headerType = headerValue(response.headers, 'content-type');
    // Digests first: bytes damaged in transit are a digest mismatch (worth a retry), not an invalid manifest.
    const digest = sha256Digest(bytes);
    if (reference.includes(':') && digestWithAlgorithmOf(reference, bytes) !== reference) {
      throw new MirrorhookError('MH_REGISTRY_DIGEST_MISMATCH', `${where(repo, reference)}: the registry served a manifest hashing to ${digestWithAlgorithmOf(reference, bytes)}`);
    }
    const served = headerValue(response.headers, 'docker-content-digest');
    if (served !== undefined && served.startsWith('sha256:') && served !== digest) {
      throw new MirrorhookError('MH_REGISTRY_DIGEST_MISMATCH', `${where(repo, reference)}: Docker-Content-Digest says ${served}, the bytes hash to ${digest}`);
    }
    const parsed = parseManifest(bytes, headerType, where(repo, reference));
    return { bytes, mediaType: parsed.mediaType, digest: reference.includes(':') ? reference : digest, parsed };
  }

  /** PUTs manifest bytes under a tag or digest; returns the digest, checked against the registry's answer. */
  async putManifest(repo: RepositoryRef, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const digest = sha256Digest(bytes);
    const response = await this.#session.send(repo, 'push', {
      method: 'PUT',
      url: manifestPath(repo, reference),
      headers: { 'content-type': mediaType },
      body: bytes,
    });
    if (response.statusCode !== 201 && response.statusCode !== 200) return failWith(response, `PUT manifest ${where(repo, reference)}`);
    await response.body.dump();
    const stored = headerValue(response.headers, 'docker-content-digest');
    if (stored !== undefined && stored.startsWith('sha256:') && stored !== digest) {
      throw new MirrorhookError('MH_REGISTRY_DIGEST_MISMATCH', `${where(repo, reference)}: the registry stored ${stored} for bytes hashing to ${digest}`);
    }
    return digest;
  }

  /** The blob's size when the repository has it, undefined when not. */
  async headBlob(repo: RepositoryRef, digest: string): Promise<number | undefined> {
    const response = await this.#session.send(repo, 'pull', { method: 'HEAD', url: blobPath(repo, digest) });
    if (response.statusCode === 404) return drain(response, undefined);
    if (response.statusCode !== 200) return failWith(response, `HEAD blob ${where(repo, digest)}`);
    await response.body.dump();
    const length = headerValue(response.headers, 'content-length');
    return length === undefined ? 0 : Number(length);
  }

  /**
   * Streams a blob. The stream fails with MH_REGISTRY_DIGEST_MISMATCH, before it ends, when the content or its
   * length is wrong, so a consumer that commits on a clean end never commits bad bytes.
   */
  async getBlobStream(repo: RepositoryRef, digest: string, size?: number, onBytes?: (bytes: number) => void): Promise<Readable> {
    const response = await this.#session.send(repo, 'pull', { method: 'GET', url: blobPath(repo, digest) });
    if (response.statusCode !== 200) return failWith(response, `GET blob ${where(repo, digest)}`);
    const verifier = verifyingStream(digest, size, `blob ${where(repo, digest)}`, onBytes);
    pipeline(response.body, verifier, () => {
      // errors reach the consumer through the verifier
    });
    return verifier;
  }

  /** Small blobs (configs) into memory, verified. */
  async getBlob(repo: RepositoryRef, digest: string, size?: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.getBlobStream(repo, digest, size)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /**
   * Asks the registry to link a blob from another repository of the same registry. Not mounted: the registry
   * opened an upload session instead, which `uploadBlob` can use.
   */
  async mountBlob(repo: RepositoryRef, digest: string, fromPath: string): Promise<MountResult> {
    const url = `/v2/${repo.path}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromPath)}`;
    const response = await this.#session.send(repo, 'push', { method: 'POST', url, body: Buffer.alloc(0) }, [repositoryScope(fromPath, 'pull')]);
    if (response.statusCode === 201) return drain(response, { mounted: true });
    if (response.statusCode === 202) {
      await response.body.dump();
      return { mounted: false, session: uploadLocation(response, where(repo)) };
    }
    return failWith(response, `mount ${digest} from ${fromPath} into ${where(repo)}`);
  }

  /**
   * Uploads a blob whose digest and size are known: one POST and one streamed PUT, or chunked PATCHes for blobs
   * over `chunkedAbove` and when the registry refuses a monolithic upload (413) or asks for a minimum chunk length.
   * A chunk cut off midway is resumed from the offset the registry reports. Pass a function as `source` to allow
   * the chunked retry after a refused monolithic PUT. Nothing is committed unless every byte arrived and the digest
   * matched (the registry verifies `?digest=` on the final PUT; `source` streams verify too).
   */
  async uploadBlob(repo: RepositoryRef, source: BlobSource, digest: string, size: number, options: { session?: string } = {}): Promise<void> {
    await this.#session.ensureChallenge(repo);
    const channel: UploadChannel = {
      host: apiHost(repo.domain),
      name: where(repo),
      apiPath: `/v2/${repo.path}`,
      send: (request) => this.#session.send(repo, 'push', request),
      fail: (response, what) => failWith(response, what),
    };
    await this.#uploader.upload(channel, source, digest, size, options.session);
  }

  /**
   * Every tag of a repository, in the registry's order, following its Link pages; `pageSize` asks for pages of
   * that many. MH_REGISTRY_NOT_FOUND: no such repository.
   */
  listTags(repo: RepositoryRef, options: { readonly pageSize?: number } = {}): Promise<string[]> {
    return listTags(this.#session, repo, options);
  }

  /** OCI referrers of a manifest; undefined when the registry has no referrers API (use the `sha256-<hex>` tag). */
  getReferrers(repo: RepositoryRef, digest: string): Promise<Descriptor[] | undefined> {
    return getReferrers(this.#session, repo, digest);
  }

  /** Every repository a registry lists (`GET /v2/_catalog`), for `sync:` glob sources. */
  listRepositories(domain: string): Promise<string[]> {
    return listRepositories(this.#session, domain);
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

}

function manifestPath(repo: RepositoryRef, reference: string): string {
  return `/v2/${repo.path}/manifests/${reference}`;
}

function blobPath(repo: RepositoryRef, digest: string): string {
  return `/v2/${repo.path}/blobs/${digest}`;
}
