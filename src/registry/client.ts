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
 * MirrorhookError with an MH_REGISTRY_ code; 404s on HEAD are `undefined`, not errors.
 */
import { type Readable, pipeline } from 'node:stream';
import { MirrorhookError } from '../errors.js';
import { type Access, mergeScopes, parseChallenge, repositoryScope } from './auth.js';
import { HostAuthenticator } from './authenticator.js';
import { type CredentialProvider, anonymousProvider } from './credentials.js';
import { failWith } from './failure.js';
import { digestWithAlgorithmOf, sha256Digest, verifyingStream } from './digest.js';
import { type Descriptor, MediaType, type ParsedManifest, manifestAccept, parseManifest } from './manifest.js';
import { parseRepositoryPage } from './repositories.js';
import { nextPageUrl, parseTagPage } from './tags.js';
import { type BlobSource, BlobUploader, type UploadChannel, uploadLocation } from './upload.js';
import {
  type HttpRequest,
  type HttpResponse,
  RegistryTransport,
  type TransportOptions,
  apiHost,
  headerValue,
  redact,
} from './transport.js';

export interface RepositoryRef {
  /** Registry host as written in references (`docker.io`, `localhost:5000`). */
  readonly domain: string;
  /** Repository path (`library/nginx`). */
  readonly path: string;
}

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
  readonly #now: () => number;
  readonly #auth: HostAuthenticator;
  readonly #pushRepos = new Set<string>();
  readonly #prepareRepository: ((repo: RepositoryRef) => Promise<void>) | undefined;
  readonly #prepared = new Map<string, Promise<void>>();

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
    this.#now = options.now ?? Date.now;
    this.#auth = new HostAuthenticator(this.transport, options.credentials ?? anonymousProvider, this.#now);
    this.#prepareRepository = options.prepareRepository;
  }

  /** Declares that we will write to `repo`: its tokens ask for pull+push from the start (one token, not two). */
  willPush(repo: RepositoryRef): void {
    this.#pushRepos.add(`${apiHost(repo.domain)}/${repo.path}`);
  }

  /** HTTP requests sent so far (all hosts, retries and token requests included). */
  get requestCount(): number {
    return this.transport.totalRequests;
  }

  async headManifest(repo: RepositoryRef, reference: string): Promise<ManifestHead | undefined> {
    const response = await this.#send(repo, 'pull', { method: 'HEAD', url: manifestPath(repo, reference), headers: { accept: manifestAccept } });
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
    const response = await this.#send(repo, 'pull', { method: 'GET', url: manifestPath(repo, reference), headers: { accept: manifestAccept } });
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
    const response = await this.#send(repo, 'push', {
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
    const response = await this.#send(repo, 'pull', { method: 'HEAD', url: blobPath(repo, digest) });
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
    const response = await this.#send(repo, 'pull', { method: 'GET', url: blobPath(repo, digest) });
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
    const response = await this.#send(repo, 'push', { method: 'POST', url, body: Buffer.alloc(0) }, [repositoryScope(fromPath, 'pull')]);
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
    await this.#ensureChallenge(repo);
    const channel: UploadChannel = {
      host: apiHost(repo.domain),
      name: where(repo),
      apiPath: `/v2/${repo.path}`,
      send: (request) => this.#send(repo, 'push', request),
      fail: (response, what) => failWith(response, what),
    };
    await this.#uploader.upload(channel, source, digest, size, options.session);
  }

  /**
   * Every tag of a repository, in the registry's order, following its `Link: <…>; rel="next"` pages. `pageSize`
   * asks for pages of that many (`?n=`); without it the registry chooses. MH_REGISTRY_NOT_FOUND: no such repository.
   */
  async listTags(repo: RepositoryRef, options: { readonly pageSize?: number } = {}): Promise<string[]> {
    const tags: string[] = [];
    const visited = new Set<string>();
    let url: string | undefined = `/v2/${repo.path}/tags/list${options.pageSize === undefined ? '' : `?n=${options.pageSize}`}`;
    while (url !== undefined) {
      const response = await this.#send(repo, 'pull', { method: 'GET', url, headers: { accept: 'application/json' } });
      if (response.statusCode !== 200) return failWith(response, `GET tags of ${where(repo)}`);
      visited.add(response.url);
      tags.push(...parseTagPage(await response.body.text(), `tags of ${where(repo)}`));
      url = nextPageUrl(headerValue(response.headers, 'link'), response.url, `tags of ${where(repo)}`);
      // A registry whose next page is one already read would keep us here for ever.
      if (url !== undefined && visited.has(url)) throw new MirrorhookError('MH_REGISTRY_HTTP', `tags of ${where(repo)}: the next page is one already read (${redact(url)})`);
    }
    return tags;
  }

  /**
   * OCI referrers of a manifest (signatures, SBOMs, attestations attached by `subject`). undefined when the
   * registry has no referrers API; callers then look for the `sha256-<hex>` fallback tag.
   */
  async getReferrers(repo: RepositoryRef, digest: string): Promise<Descriptor[] | undefined> {
    const response = await this.#send(repo, 'pull', { method: 'GET', url: `/v2/${repo.path}/referrers/${digest}`, headers: { accept: MediaType.ociIndex } });
    if (response.statusCode === 404 || response.statusCode === 400 || response.statusCode === 405) return drain(response, undefined);
    if (response.statusCode !== 200) return failWith(response, `GET referrers of ${where(repo, digest)}`);
    const bytes = Buffer.from(await response.body.arrayBuffer());
    const type = headerValue(response.headers, 'content-type') ?? '';
    if (!type.startsWith(MediaType.ociIndex)) return undefined;
    const parsed = parseManifest(bytes, MediaType.ociIndex, `referrers of ${where(repo, digest)}`);
    return parsed.kind === 'index' ? [...parsed.manifests] : undefined;
  }

  /**
   * Every repository a registry lists (`GET /v2/_catalog`, following its Link pages), for `sync:` glob sources.
   * Registries that keep their catalog to themselves (Docker Hub) answer 401/404: MH_REGISTRY_UNAUTHORIZED or _NOT_FOUND.
   */
  async listRepositories(domain: string): Promise<string[]> {
    // An empty path: the token asks for registry:catalog:* alone, not for a repository.
    const registry: RepositoryRef = { domain, path: '' };
    const repositories: string[] = [];
    const visited = new Set<string>();
    let url: string | undefined = '/v2/_catalog';
    while (url !== undefined) {
      const response = await this.#send(registry, 'pull', { method: 'GET', url, headers: { accept: 'application/json' } }, ['registry:catalog:*']);
      if (response.statusCode !== 200) return failWith(response, `GET the repository catalog of ${domain}`);
      visited.add(response.url);
      repositories.push(...parseRepositoryPage(await response.body.text(), `the repository catalog of ${domain}`));
      url = nextPageUrl(headerValue(response.headers, 'link'), response.url, `the repository catalog of ${domain}`);
      if (url !== undefined && visited.has(url)) throw new MirrorhookError('MH_REGISTRY_HTTP', `the repository catalog of ${domain}: the next page is one already read (${redact(url)})`);
    }
    return repositories;
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  /** Runs `prepareRepository` once per repository; a failure is not remembered, so a later write tries again. */
  #prepare(host: string, repo: RepositoryRef): Promise<void> {
    const prepare = this.#prepareRepository;
    if (prepare === undefined) return Promise.resolve();
    const key = `${host}/${repo.path}`;
    let ready = this.#prepared.get(key);
    if (ready === undefined) {
      ready = prepare(repo);
      this.#prepared.set(key, ready);
      ready.catch(() => this.#prepared.delete(key));
    }
    return ready;
  }

  /** Before streaming a body (which cannot be re-sent after a 401), learn how the host wants us to authenticate. */
  async #ensureChallenge(repo: RepositoryRef): Promise<void> {
    const host = apiHost(repo.domain);
    const state = this.#auth.host(host);
    if (state.probed) return;
    const response = await this.transport.send(host, { method: 'GET', url: '/v2/' });
    await response.body.dump();
    if (response.statusCode === 401) state.challenge = parseChallenge(headerValue(response.headers, 'www-authenticate'));
    state.probed = true;
  }

  /** Sends with authentication, answering one 401 challenge (new scheme, new token, or an added scope). */
  async #send(repo: RepositoryRef, access: Access, httpRequest: HttpRequest, extraScopes: readonly string[] = []): Promise<HttpResponse> {
    const host = apiHost(repo.domain);
    const state = this.#auth.host(host);
    const pushing = access === 'push' || this.#pushRepos.has(`${host}/${repo.path}`);
    if (pushing) await this.#prepare(host, repo);
    let scopes = mergeScopes([...(repo.path === '' ? [] : [repositoryScope(repo.path, pushing ? 'push' : 'pull')]), ...extraScopes]);
    const replayable = httpRequest.body === undefined || Buffer.isBuffer(httpRequest.body);
    let rejected: string | undefined;
    for (let round = 0; ; round++) {
      const authorization = await this.#auth.authorization(repo, state, scopes, rejected);
      const headers = { ...httpRequest.headers, ...(authorization === undefined ? {} : { authorization }) };
      const response = await this.transport.send(host, { ...httpRequest, headers });
      if (response.statusCode !== 401) {
        state.probed = true;
        return response;
      }
      rejected = authorization;
      const challenge = parseChallenge(headerValue(response.headers, 'www-authenticate'));
      await response.body.dump();
      const credential = await this.#auth.credential(host, state, repo.domain);
      if (challenge === undefined || round > 0 || !replayable) {
        throw new MirrorhookError(
          'MH_REGISTRY_UNAUTHORIZED',
          `${httpRequest.method} ${where(repo)}: ${credential === undefined ? `no credentials for ${repo.domain}: it needs some (a Docker config entry, credential flags, or a Pod's imagePullSecrets)` : `${repo.domain} rejected the credentials`}`,
        );
      }
      if (challenge.scheme === 'bearer' && challenge.error === 'insufficient_scope' && challenge.scope !== undefined) {
        scopes = mergeScopes([...scopes, challenge.scope]);
      }
      state.challenge = challenge;
      state.probed = true;
    }
  }

}

function manifestPath(repo: RepositoryRef, reference: string): string {
  return `/v2/${repo.path}/manifests/${reference}`;
}

function blobPath(repo: RepositoryRef, digest: string): string {
  return `/v2/${repo.path}/blobs/${digest}`;
}

function where(repo: RepositoryRef, reference?: string): string {
  const name = `${repo.domain}/${repo.path}`;
  if (reference === undefined) return name;
  return reference.includes(':') ? `${name}@${reference}` : `${name}:${reference}`;
}

async function drain<T>(response: HttpResponse, value: T): Promise<T> {
  await response.body.dump();
  return value;
}
