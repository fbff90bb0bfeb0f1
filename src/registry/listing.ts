/**
 * What a registry lists: a repository's tags, its catalog of repositories, a manifest's OCI referrers. Each
 * follows the registry's `Link: <…>; rel="next"` pages and refuses a page it has already read.
 */
import { MirrorhookError } from '../errors.js';
import { failWith } from './failure.js';
import { type Descriptor, MediaType, parseManifest } from './manifest.js';
import { parseRepositoryPage } from './repositories.js';
import { type RegistrySession, type RepositoryRef, drain, where } from './session.js';
import { nextPageUrl, parseTagPage } from './tags.js';
import { headerValue, redact } from './transport.js';

/**
 * Every tag of a repository, in the registry's order, following its `Link: <…>; rel="next"` pages. `pageSize`
 * asks for pages of that many (`?n=`); without it the registry chooses. MH_REGISTRY_NOT_FOUND: no such repository.
 */
export async function listTags(session: RegistrySession, repo: RepositoryRef, options: { readonly pageSize?: number } = {}): Promise<string[]> {
  const tags: string[] = [];
  const visited = new Set<string>();
  let url: string | undefined = `/v2/${repo.path}/tags/list${options.pageSize === undefined ? '' : `?n=${options.pageSize}`}`;
  while (url !== undefined) {
    const response = await session.send(repo, 'pull', { method: 'GET', url, headers: { accept: 'application/json' } });
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
export async function getReferrers(session: RegistrySession, repo: RepositoryRef, digest: string): Promise<Descriptor[] | undefined> {
  const response = await session.send(repo, 'pull', { method: 'GET', url: `/v2/${repo.path}/referrers/${digest}`, headers: { accept: MediaType.ociIndex } });
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
export async function listRepositories(session: RegistrySession, domain: string): Promise<string[]> {
  // An empty path: the token asks for registry:catalog:* alone, not for a repository.
  const registry: RepositoryRef = { domain, path: '' };
  const repositories: string[] = [];
  const visited = new Set<string>();
  let url: string | undefined = '/v2/_catalog';
  while (url !== undefined) {
    const response = await session.send(registry, 'pull', { method: 'GET', url, headers: { accept: 'application/json' } }, ['registry:catalog:*']);
    if (response.statusCode !== 200) return failWith(response, `GET the repository catalog of ${domain}`);
    visited.add(response.url);
    repositories.push(...parseRepositoryPage(await response.body.text(), `the repository catalog of ${domain}`));
    url = nextPageUrl(headerValue(response.headers, 'link'), response.url, `the repository catalog of ${domain}`);
    if (url !== undefined && visited.has(url)) throw new MirrorhookError('MH_REGISTRY_HTTP', `the repository catalog of ${domain}: the next page is one already read (${redact(url)})`);
  }
  return repositories;
}
